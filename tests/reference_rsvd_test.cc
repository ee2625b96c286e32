// Reserved bits, mode by mode and level by level (SDM vol. 3A 4.3-4.5, the
// entry-format tables, and 4.7): a reserved bit in a present entry ends the
// walk with #PF whose error code has P = 1 and RSVD = 1 (plus the bits that
// describe the access); in PAE paging a reserved bit in a present PDPTE is a #GP
// when the PDPTEs are loaded.
#include <gtest/gtest.h>

#include <string>

#include "model/rules.h"
#include "tests/test_util.h"

namespace mmutest {
namespace {

using mmu::Rule;
using mmu::Trace;
namespace pferr = mmu::pferr;

constexpr u64 kRsvd = pferr::P | pferr::RSVD;

// A user-accessible, writable leaf at each level (4-KByte, 2-MByte, 1-GByte).
u64 leaf_for(unsigned level) {
  switch (level) {
    case 1: return 0x0123'4000 | P | RW | US;
    case 2: return 0x0140'0000 | PS | P | RW | US;
    default: return 0x8000'0000 | PS | P | RW | US;
  }
}

struct Acc {
  AccessKind kind;
  unsigned cpl;
  u64 access_bits;  // W / U / I/D as the SDM reports them for this access (4.7)
};

// The accesses every reserved-bit rule is tried with. `id` says whether a fetch
// reports I/D (CR4.SMEP = 1 or CR4.PAE = EFER.NXE = 1).
std::vector<Acc> accesses(bool id) {
  return {Acc{AccessKind::read, 0, 0}, Acc{AccessKind::write, 0, pferr::W}, Acc{AccessKind::read, 3, pferr::U},
          Acc{AccessKind::write, 3, pferr::W | pferr::U}, Acc{AccessKind::fetch, 0, id ? pferr::ID : 0},
          Acc{AccessKind::fetch, 3, pferr::U | (id ? pferr::ID : 0)}};
}

// Expects a reserved-bit #PF decided by `rule`, with A optional in the entries
// above the faulting one (e[0..i-1], PAE PDPTEs excluded).
void ExpectRsvd(const Walk& w, const std::vector<u64>& e, unsigned i, u64 ec, Rule rule) {
  Trace t;
  const Verdict v = w.run(&t);
  EXPECT_TRUE(IsPf(v, ec, w.c.access.addr));
  EXPECT_EQ(rule_info(t.decided_by).id, rule_info(rule).id);
  std::vector<Write> optional;
  for (unsigned j = 0; j < i; ++j) {
    if (w.mode() == PagingMode::pae && j == 0) continue;
    if (!(w.get(e[j]) & A)) optional.push_back(gw(e[j], w.get(e[j]) | A));
  }
  EXPECT_EQ(to_vec(v.optional_writes), optional) << describe(v);
}

std::string where(PagingMode m, unsigned leaf_level, unsigned level, unsigned b) {
  return std::string(mode_name(m)) + " leaf level " + std::to_string(leaf_level) + ", entry level " +
         std::to_string(level) + ", bit " + std::to_string(b);
}

// ---- 4-level and 5-level paging (4.5) ------------------------------------------

// Tables 4-14..4-20: bits 51:M are reserved in every entry (M = MAXPHYADDR).
TEST(RsvdIa32e, PhysicalAddressBits51toM_EveryLevelEveryPageSize_SDM_4_5) {
  unsigned n = 0;
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    const unsigned top = levels(m);
    for (unsigned maxphy : {36u, 40u, 46u, 51u}) {
      for (unsigned leaf_level : {1u, 2u, 3u}) {
        for (unsigned level = top; level >= leaf_level; --level) {
          for (unsigned b = maxphy; b <= 51; ++b) {
            SCOPED_TRACE(where(m, leaf_level, level, b) + " M " + std::to_string(maxphy));
            const Acc acc = accesses(true)[n++ % 6];
            Walk w(m, maxphy);
            const auto e = w.map(va_for(m), leaf_for(leaf_level), leaf_level);
            w.or_bits(e[top - level], bit(b));
            w.access(va_for(m), acc.kind, acc.cpl);
            ExpectRsvd(w, e, top - level, kRsvd | acc.access_bits, Rule::rsvd_phys);
          }
        }
      }
    }
  }
}

TEST(RsvdIa32e, MaxPhyAddrMinus1IsAnAddressBitNotReserved_SDM_4_5) {
  for (unsigned maxphy : {36u, 46u}) {
    SCOPED_TRACE(maxphy);
    Walk w(PagingMode::level4, maxphy);
    w.map(kVa4, bit(maxphy - 1) | P);
    w.access(kVa4);
    EXPECT_TRUE(IsOk(w.run(), bit(maxphy - 1) | 0xABC, 4096));
  }
}

TEST(RsvdIa32e, MaxPhyAddr52LeavesNoPhysicalReservedBits_Bits62to52Ignored_SDM_4_5) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    for (unsigned leaf_level : {1u, 2u, 3u}) {
      SCOPED_TRACE(std::string(mode_name(m)) + " leaf " + std::to_string(leaf_level));
      Walk w(m, 52);
      // Bits 62:52 ignored everywhere (62:59 are the protection key in a leaf; CR4.PKE = 0).
      w.map(va_for(m), leaf_for(leaf_level) | bits(62, 52), leaf_level, P | RW | US | bits(62, 52));
      w.access(va_for(m), AccessKind::write, 3);
      EXPECT_EQ(w.run().outcome.kind, OutcomeKind::ok);
    }
  }
}

// 4.5: bit 63 (XD) is reserved in every entry when IA32_EFER.NXE = 0.
TEST(RsvdIa32e, Bit63WithoutNXE_EveryLevel_SDM_4_5) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    const unsigned top = levels(m);
    for (unsigned leaf_level : {1u, 2u, 3u}) {
      for (unsigned level = top; level >= leaf_level; --level) {
        // NXE = 0 and SMEP = 0: a fetch does not report I/D.
        for (const Acc& acc : accesses(false)) {
          SCOPED_TRACE(where(m, leaf_level, level, 63) + " " + kind_name(acc.kind) + " cpl " + std::to_string(acc.cpl));
          Walk w(m);
          w.c.cpu.efer &= ~mmu::efer::NXE;
          const auto e = w.map(va_for(m), leaf_for(leaf_level), leaf_level);
          w.or_bits(e[top - level], XD);
          w.access(va_for(m), acc.kind, acc.cpl);
          ExpectRsvd(w, e, top - level, kRsvd | acc.access_bits, Rule::rsvd_xd);
        }
        // With NXE = 1 the same bit is XD: data accesses pass.
        SCOPED_TRACE(where(m, leaf_level, level, 63) + " NXE = 1");
        Walk w(m);
        const auto e = w.map(va_for(m), leaf_for(leaf_level), leaf_level);
        w.or_bits(e[top - level], XD);
        w.access(va_for(m), AccessKind::write);
        EXPECT_EQ(w.run().outcome.kind, OutcomeKind::ok);
      }
    }
  }
}

TEST(RsvdIa32e, Bit63WithoutNXEFetchWithSMEPReportsID_SDM_4_7) {
  Walk w(PagingMode::level4);
  w.c.cpu.efer &= ~mmu::efer::NXE;
  w.c.cpu.cr4 |= mmu::cr4::SMEP;
  const auto e = w.map(kVa4, 0x5000 | P | XD);
  w.access(kVa4, AccessKind::fetch);
  ExpectRsvd(w, e, 3, kRsvd | pferr::ID, Rule::rsvd_xd);
}

// Tables 4-14 and 4-15: PS (bit 7) is reserved in a PML5E and a PML4E.
TEST(RsvdIa32e, PSInPML4EAndPML5E_SDM_4_5_Tables4_14_4_15) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    const unsigned top = levels(m);
    for (unsigned level = top; level >= 4; --level) {
      for (bool gb : {true, false}) {
        SCOPED_TRACE(where(m, 1, level, 7) + (gb ? " pdpe1gb" : ""));
        Walk w(m);
        if (!gb) w.c.cpu.features.remove(Feature::pdpe1gb);
        const auto e = w.map(va_for(m), leaf_for(1));
        w.or_bits(e[top - level], PS);
        w.access(va_for(m));
        ExpectRsvd(w, e, top - level, kRsvd, Rule::rsvd_ps_nonleaf);
      }
    }
  }
}

// 4.1.4 / Table 4-16: a PDPTE with PS = 1 maps a 1-GByte page only when
// CPUID.80000001H:EDX.Page1GB = 1; otherwise PS is reserved.
TEST(RsvdIa32e, PDPTEPSWithoutPdpe1gb_SDM_4_1_4_Table4_16) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    for (const Acc& acc : accesses(true)) {
      SCOPED_TRACE(std::string(mode_name(m)) + " " + kind_name(acc.kind) + " cpl " + std::to_string(acc.cpl));
      Walk w(m);
      w.c.cpu.features.remove(Feature::pdpe1gb);
      const auto e = w.map(va_for(m), leaf_for(3), 3);
      w.access(va_for(m), acc.kind, acc.cpl);
      ExpectRsvd(w, e, levels(m) - 3, kRsvd | acc.access_bits, Rule::rsvd_ps_1g);
    }
  }
  // The same entry with Page1GB reported is a 1-GByte page.
  Walk w(PagingMode::level4);
  w.map(kVa4, leaf_for(3), 3);
  w.access(kVa4);
  EXPECT_TRUE(IsOk(w.run(), 0x8000'0000 | (kVa4 & (G1 - 1)), G1));
}

TEST(RsvdIa32e, PDEPSNeedsNoFeature_SDM_4_5_Table4_18) {
  Walk w(PagingMode::level4);
  w.c.cpu.features.remove(Feature::pdpe1gb).remove(Feature::pse).remove(Feature::pse36);
  w.map(kVa4, leaf_for(2), 2);
  w.access(kVa4);
  EXPECT_TRUE(IsOk(w.run(), 0x0140'0000 | (kVa4 & (M2 - 1)), M2));
}

// Tables 4-16 and 4-18: 1-GByte page bits 29:13 and 2-MByte page bits 20:13
// are reserved; bit 12 is PAT.
TEST(RsvdIa32e, LargePageAlignmentBits_SDM_4_5_Tables4_16_4_18) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    for (unsigned leaf_level : {2u, 3u}) {
      const unsigned hi = leaf_level == 2 ? 20 : 29;
      for (unsigned b = 12; b <= hi + 1; ++b) {
        SCOPED_TRACE(where(m, leaf_level, leaf_level, b));
        Walk w(m);
        const auto e = w.map(va_for(m), leaf_for(leaf_level) | bit(b), leaf_level);
        const u64 va = va_for(m) & ~bit(12);  // bit 12 clear: a PAT bit taken as address would show
        w.access(va, AccessKind::write, 3);
        const u64 size = leaf_level == 2 ? M2 : G1;
        if (b == 12) {
          EXPECT_TRUE(IsOk(w.run(), (leaf_for(leaf_level) & bits(45, 21)) | (va & (size - 1)), size));
        } else if (b == hi + 1) {
          // The lowest address bit of the page: not reserved.
          EXPECT_TRUE(IsOk(w.run(), ((leaf_for(leaf_level) | bit(b)) & bits(45, 21)) | (va & (size - 1)), size));
        } else {
          ExpectRsvd(w, e, levels(m) - leaf_level, kRsvd | pferr::W | pferr::U, Rule::rsvd_large_align);
        }
      }
    }
  }
}

// AMD APM vol. 2 5.3.3: bit 8 of a PML4E (and PML5E) must be zero on AMD
// processors; Intel ignores it. It is not reserved at lower levels.
TEST(RsvdIa32e, AmdBit8InPML4EAndPML5EOnly_AMD_APM_5_3_3) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    const unsigned top = levels(m);
    for (unsigned leaf_level : {1u, 2u, 3u}) {
      for (unsigned level = top; level >= leaf_level; --level) {
        for (mmu::Vendor vendor : {mmu::Vendor::amd, mmu::Vendor::intel}) {
          const bool amd = vendor == mmu::Vendor::amd;
          SCOPED_TRACE(where(m, leaf_level, level, 8) + (amd ? " AMD" : " Intel"));
          Walk w(m);
          w.c.cpu.vendor = vendor;
          const auto e = w.map(va_for(m), leaf_for(leaf_level), leaf_level);
          w.or_bits(e[top - level], G);
          w.access(va_for(m), AccessKind::read, 3);
          if (amd && level >= 4)
            ExpectRsvd(w, e, top - level, kRsvd | pferr::U, Rule::rsvd_amd_bit8);
          else
            EXPECT_EQ(w.run().outcome.kind, OutcomeKind::ok);
        }
      }
    }
  }
}

TEST(RsvdIa32e, PTEBit7IsPATNotReserved_SDM_4_5_Table4_20) {
  Walk w(PagingMode::level4);
  w.map(kVa4, 0x5000 | bit(7) | P);
  w.access(kVa4);
  EXPECT_TRUE(IsOk(w.run(), 0x5ABC, 4096));
}

TEST(RsvdIa32e, ReservedBitAboveANotPresentEntryWins_SDM_4_7) {
  Walk w(PagingMode::level4);
  const auto e = w.map(kVa4, leaf_for(1));
  w.or_bits(e[1], bit(50));  // PDPTE
  w.set(e[2], 0);             // PDE not present
  w.access(kVa4);
  ExpectRsvd(w, e, 1, kRsvd, Rule::rsvd_phys);
}

TEST(RsvdIa32e, ReservedBitWinsOverPermissionAndProtectionKey_SDM_4_7) {
  // A user write to a read-only supervisor page whose key forbids access, but
  // the PTE has a reserved bit: the walk never completes, so neither the
  // access rights nor the key are evaluated; RSVD is reported, PK is not.
  Walk w(PagingMode::level4);
  w.c.cpu.cr4 |= mmu::cr4::PKE | mmu::cr4::PKS;
  w.c.cpu.pkru = 0xFFFF'FFFF;
  w.c.cpu.pkrs = 0xFFFF'FFFF;
  const auto e = w.map(kVa4, 0x5000 | P | pkey(3) | bit(47), 1, P);
  w.access(kVa4, AccessKind::write, 3);
  ExpectRsvd(w, e, 3, kRsvd | pferr::W | pferr::U, Rule::rsvd_phys);
}

// ---- PAE paging (4.4) ----------------------------------------------------------

// 4.4.1 / Table 4-8: PDPTE bits 2:1, 8:5 and 63:M are reserved; a present
// PDPTE with one of them set makes the load of the PDPTEs (MOV to CR3) #GP.
TEST(RsvdPae, PDPTEReservedBitsAreGPAtLoad_SDM_4_4_1_Table4_8) {
  for (unsigned maxphy : {36u, 46u, 52u}) {
    std::vector<unsigned> rsvd = {1, 2, 5, 6, 7, 8};
    for (unsigned b = maxphy; b <= 63; ++b) rsvd.push_back(b);
    for (unsigned b : rsvd) {
      for (u64 index : {2, 0}) {  // the PDPTE this access uses, and one it does not
        for (bool nxe : {true, false}) {
          SCOPED_TRACE("M " + std::to_string(maxphy) + " bit " + std::to_string(b) + " PDPTE " +
                       std::to_string(index) + (nxe ? " NXE" : ""));
          Walk w(PagingMode::pae, maxphy);
          if (!nxe) w.c.cpu.efer &= ~mmu::efer::NXE;
          w.map(kVaPae, 0x5000 | P | RW | US);
          if (index == 0) w.set(0x1000, 0x0020'0000 | P);
          w.or_bits(0x1000 + 8 * index, bit(b));
          w.access(kVaPae, AccessKind::write, 3);
          Trace t;
          EXPECT_TRUE(IsGp(w.run(&t), GpReason::pdpte_reserved));
          EXPECT_EQ(t.decided_by, Rule::pdpte_load_reserved);
        }
      }
    }
  }
}

TEST(RsvdPae, PDPTEIgnoredAndCacheBitsAreNotReserved_SDM_4_4_1_Table4_8) {
  for (u64 extra : {PWT, PCD, bits(11, 9), bit(45)}) {
    SCOPED_TRACE(hex(extra));
    Walk w(PagingMode::pae);
    const auto e = w.map(kVaPae, 0x5000 | P);
    if (extra == bit(45)) {
      // Bit 45 < M = 46: an address bit. Point the PDPTE at a directory up there.
      const u64 pd = w.get(e[0]) & bits(45, 12);
      const u64 pde = w.get(e[1]);
      w.set(e[0], (pd | bit(45)) | P);
      w.set((pd | bit(45)) + (e[1] - pd), pde);
    } else {
      w.or_bits(e[0], extra);
    }
    w.access(kVaPae);
    EXPECT_TRUE(IsOk(w.run(), 0x5ABC, 4096));
  }
}

// Tables 4-9..4-11: PDE and PTE bits 62:M are reserved (through bit 62 even
// when M = 52, unlike 4-level paging where 62:52 are ignored).
TEST(RsvdPae, PDEAndPTEBits62toM_SDM_4_4_2_Tables4_9_to_4_11) {
  unsigned n = 0;
  for (unsigned maxphy : {36u, 46u, 52u}) {
    for (unsigned leaf_level : {1u, 2u}) {
      for (unsigned level = 2; level >= leaf_level; --level) {
        for (unsigned b = maxphy; b <= 62; ++b) {
          SCOPED_TRACE(where(PagingMode::pae, leaf_level, level, b) + " M " + std::to_string(maxphy));
          const Acc acc = accesses(true)[n++ % 6];
          Walk w(PagingMode::pae, maxphy);
          const auto e = w.map(kVaPae, leaf_for(leaf_level), leaf_level);
          w.or_bits(e[3 - level], bit(b));
          w.access(kVaPae, acc.kind, acc.cpl);
          ExpectRsvd(w, e, 3 - level, kRsvd | acc.access_bits, Rule::rsvd_pae_high);
        }
      }
    }
  }
}

TEST(RsvdPae, Bit63WithoutNXEInPDEAndPTE_SDM_4_4_2) {
  for (unsigned leaf_level : {1u, 2u}) {
    for (unsigned level = 2; level >= leaf_level; --level) {
      for (const Acc& acc : accesses(false)) {
        SCOPED_TRACE(where(PagingMode::pae, leaf_level, level, 63) + " " + kind_name(acc.kind));
        Walk w(PagingMode::pae);
        w.c.cpu.efer &= ~mmu::efer::NXE;
        const auto e = w.map(kVaPae, leaf_for(leaf_level), leaf_level);
        w.or_bits(e[3 - level], XD);
        w.access(kVaPae, acc.kind, acc.cpl);
        ExpectRsvd(w, e, 3 - level, kRsvd | acc.access_bits, Rule::rsvd_xd);
      }
      Walk w(PagingMode::pae);
      const auto e = w.map(kVaPae, leaf_for(leaf_level), leaf_level);
      w.or_bits(e[3 - level], XD);
      w.access(kVaPae, AccessKind::write, 3);
      EXPECT_EQ(w.run().outcome.kind, OutcomeKind::ok);
    }
  }
}

TEST(RsvdPae, TwoMBytePageBits20to13_SDM_4_4_2_Table4_9) {
  for (unsigned b = 12; b <= 21; ++b) {
    SCOPED_TRACE(b);
    Walk w(PagingMode::pae);
    const auto e = w.map(kVaPae, leaf_for(2) | bit(b), 2);
    w.access(kVaPae & ~bit(12), AccessKind::read, 3);
    if (b == 12 || b == 21)
      EXPECT_TRUE(IsOk(w.run(), ((leaf_for(2) | bit(b)) & bits(45, 21)) | 0x0ABC, M2));
    else
      ExpectRsvd(w, e, 1, kRsvd | pferr::U, Rule::rsvd_large_align);
  }
}

// ---- 32-bit paging (4.3) ------------------------------------------------------

// Table 4-4: a 4-MByte PDE reserves bits 21:(M-19), M = min(MAXPHYADDR, 40)
// with PSE-36 (CPUID.01H:EDX.PSE-36) and 32 without it.
TEST(Rsvd32, PSE36BitsDependOnMaxPhyAddr_SDM_4_3_Table4_4) {
  struct Row {
    bool pse36;
    unsigned maxphy;
    unsigned lowest_reserved;
  };
  for (const Row& r : {Row{true, 32, 13}, Row{true, 33, 14}, Row{true, 36, 17}, Row{true, 39, 20},
                       Row{true, 40, 21}, Row{true, 46, 21}, Row{true, 52, 21}, Row{false, 46, 13},
                       Row{false, 40, 13}}) {
    for (unsigned b = 13; b <= 21; ++b) {
      SCOPED_TRACE(std::string(r.pse36 ? "PSE-36" : "no PSE-36") + " M " + std::to_string(r.maxphy) + " bit " +
                   std::to_string(b));
      Walk w(PagingMode::bit32, r.maxphy);
      w.c.cpu.cr4 |= mmu::cr4::PSE;
      if (!r.pse36) w.c.cpu.features.remove(Feature::pse36);
      const auto e = w.map(kVa32, 0x0AC0'0000 | bit(b) | PS | P | RW | US, 2);
      w.access(kVa32, AccessKind::write, 3);
      if (b >= r.lowest_reserved) {
        // 32-bit paging: a fetch never reports I/D without SMEP, so W|U only.
        ExpectRsvd(w, e, 0, kRsvd | pferr::W | pferr::U, Rule::rsvd_pse36);
      } else {
        EXPECT_TRUE(IsOk(w.run(), (u64{1} << (b - 13 + 32)) | 0x0AC0'0000 | 0x01ABC, M4));
      }
    }
  }
}

TEST(Rsvd32, PSEClearMakesBits21to13PartOfThePageTableAddress_SDM_4_3) {
  Walk w(PagingMode::bit32);
  const u64 pt = 0x003F'E000;  // bits 21:13 set
  w.set(0x1000 + 4 * (kVa32 >> 22), pt | PS | P | RW | US);
  w.set(pt + 4 * ((kVa32 >> 12) & 0x3FF), 0x0777'7000 | P | RW | US);
  w.access(kVa32, AccessKind::write, 3);
  EXPECT_TRUE(IsOk(w.run(), 0x0777'7ABC, 4096));
}

TEST(Rsvd32, PDEAndPTEWithoutPSHaveNoReservedBits_SDM_4_3_Tables4_5_4_6) {
  for (unsigned maxphy : {32u, 46u}) {
    SCOPED_TRACE(maxphy);
    Walk w(PagingMode::bit32, maxphy);
    w.c.cpu.cr4 |= mmu::cr4::PSE;
    const u64 pde = 0xFFFF'FFFF & ~PS;  // table at 0xFFFFF000
    w.set(0x1000 + 4 * (kVa32 >> 22), pde);
    w.set(0xFFFF'F000 + 4 * ((kVa32 >> 12) & 0x3FF), 0xFFFF'FFFF);
    w.access(kVa32, AccessKind::write, 3);
    EXPECT_TRUE(IsOk(w.run(), 0xFFFF'FABC, 4096));
  }
}

// ---- the error code (4.7) -----------------------------------------------------

TEST(RsvdErrorCode, AlwaysPAndRSVDPlusTheAccessBits_SDM_4_7) {
  struct Row {
    AccessKind kind;
    unsigned cpl;
    bool implicit;
    bool shadow_stack;
    u64 ec;
  };
  for (const Row& r : {Row{AccessKind::read, 0, false, false, 0x09}, Row{AccessKind::write, 0, false, false, 0x0B},
                       Row{AccessKind::read, 3, false, false, 0x0D}, Row{AccessKind::write, 3, false, false, 0x0F},
                       Row{AccessKind::fetch, 0, false, false, 0x19}, Row{AccessKind::fetch, 3, false, false, 0x1D},
                       Row{AccessKind::read, 3, true, false, 0x09}, Row{AccessKind::write, 3, true, false, 0x0B},
                       Row{AccessKind::read, 1, false, false, 0x09}, Row{AccessKind::write, 2, false, false, 0x0B},
                       Row{AccessKind::read, 0, false, true, 0x49}, Row{AccessKind::write, 3, false, true, 0x4F}}) {
    for (PagingMode m : {PagingMode::pae, PagingMode::level4, PagingMode::level5}) {
      SCOPED_TRACE(std::string(mode_name(m)) + " " + kind_name(r.kind) + " cpl " + std::to_string(r.cpl) +
                   (r.implicit ? " implicit" : "") + (r.shadow_stack ? " shadow-stack" : ""));
      Walk w(m);
      w.c.cpu.cr4 |= mmu::cr4::CET;
      const auto e = w.map(va_for(m), 0x5000 | P | D | US, 1);
      w.or_bits(e.back(), bit(51));
      w.access(va_for(m), r.kind, r.cpl, r.implicit, r.shadow_stack);
      const Verdict v = w.run();
      EXPECT_TRUE(IsPf(v, r.ec, va_for(m)));
    }
  }
}

}  // namespace
}  // namespace mmutest
