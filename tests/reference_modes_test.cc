// The reference walker's translations, mode by mode (SDM vol. 3A 4.1-4.5):
// paging off, 32-bit paging (4-KByte, 4-MByte, PS ignored without CR4.PSE,
// PSE-36), PAE paging (PDPTE loading, 4-KByte and 2-MByte pages), 4-level and
// 5-level paging (4-KByte, 2-MByte, 1-GByte pages, canonical addresses),
// not-present entries at every level, and how the physical address is formed.
#include <gtest/gtest.h>

#include "model/rules.h"
#include "tests/test_util.h"

namespace mmutest {
namespace {

using mmu::Rule;
using mmu::StepKind;
using mmu::Trace;
namespace pferr = mmu::pferr;

u64 idx9(u64 va, unsigned level) { return (va >> (12 + 9 * (level - 1))) & 0x1FF; }

// ---- paging off (4.1.1) -------------------------------------------------

TEST(ModeNone, LinearAddressIsPhysicalAddress_SDM_4_1_1) {
  for (AccessKind k : {AccessKind::read, AccessKind::write, AccessKind::fetch}) {
    SCOPED_TRACE(kind_name(k));
    Case c = make_case(PagingMode::none);
    c.memory.set(0x1000, 0xFFFF'FFFF'FFFF'FFFE);  // whatever memory holds is never read
    c.access = {.addr = 0xFEDC'BA98, .kind = k};
    Trace t;
    const Verdict v = eval(c, &t);
    EXPECT_TRUE(IsOk(v, 0xFEDC'BA98, 4096, {}));
    EXPECT_EQ(t.decided_by, Rule::mode_none);
    EXPECT_TRUE(t.steps.empty());
  }
}

TEST(ModeNone, CR4PAEAndLA57AndUserModeIrrelevantWhenCR0PGClear_SDM_4_1_1) {
  Case c = make_case(PagingMode::none);
  c.cpu.cr4 = mmu::cr4::PAE | mmu::cr4::LA57 | mmu::cr4::SMAP | mmu::cr4::SMEP;
  c.cpu.cpl = 3;
  c.access = {.addr = 0xFFFF'FFFF, .kind = AccessKind::write};
  ASSERT_EQ(mmu::paging_mode(c.cpu), PagingMode::none);
  EXPECT_TRUE(IsOk(eval(c), 0xFFFF'FFFF, 4096, {}));
}

TEST(ModeNone, RealModeCR0PEClear_SDM_4_1_1) {
  Case c = make_case(PagingMode::none);
  c.cpu.cr0 = mmu::cr0::ET;
  c.access = {.addr = 0x000F'FFF0, .kind = AccessKind::fetch};
  EXPECT_TRUE(IsOk(eval(c), 0x000F'FFF0, 4096, {}));
}

// ---- 32-bit paging (4.3) ---------------------------------------------------

TEST(Bit32, FourKBytePage_EntryAddressesAndPA_SDM_4_3_Figure4_2) {
  Walk w(PagingMode::bit32);
  const auto e = w.map(kVa32, 0x0ABC'D000 | P | RW | US);
  // PDE at CR3[31:12] + 4 * va[31:22]; PTE at PDE[31:12] + 4 * va[21:12].
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], 0x1000u + 4 * 0x301);
  EXPECT_EQ(e[1], (w.get(e[0]) & 0xFFFF'F000) + 4 * 0x001);
  w.access(kVa32);
  EXPECT_TRUE(IsOk(w.run(), 0x0ABC'DABC, 4096, {gw(e[0], w.get(e[0]) | A), gw(e[1], 0x0ABC'D000 | P | RW | US | A)}));
}

TEST(Bit32, CR3LowBitsIgnored_SDM_4_3_Table4_3) {
  Walk w(PagingMode::bit32);
  w.c.cpu.cr3 |= 0x18;  // PWT, PCD
  const auto e = w.map(kVa32, 0x0ABC'D000 | P);
  EXPECT_EQ(e[0], 0x1C04u);
  w.access(kVa32);
  EXPECT_TRUE(IsOk(w.run(), 0x0ABC'DABC, 4096));
}

TEST(Bit32, FourMBytePageWithCR4PSE_SDM_4_3_Table4_4) {
  Walk w(PagingMode::bit32);
  w.c.cpu.cr4 |= mmu::cr4::PSE;
  const auto e = w.map(kVa32, 0x0AC0'0000 | PS | P | RW, 2);
  ASSERT_EQ(e.size(), 1u);
  w.access(kVa32);
  Trace t;
  // PA 31:22 from the PDE, 21:0 from the linear address.
  EXPECT_TRUE(IsOk(w.run(&t), 0x0AC0'0000 | 0x01ABC, M4, {gw(e[0], 0x0AC0'0000 | PS | P | RW | A)}));
  EXPECT_EQ(t.steps.size(), 1u);
  EXPECT_EQ(t.steps.back().rule, Rule::leaf_4m);
}

TEST(Bit32, PDEPSIgnoredWithoutCR4PSE_SDM_4_3) {
  for (bool has_pse_feature : {true, false}) {
    SCOPED_TRACE(has_pse_feature ? "pse reported" : "pse not reported");
    Walk w(PagingMode::bit32);
    if (!has_pse_feature) w.c.cpu.features.remove(Feature::pse);
    // The PDE has PS = 1 but CR4.PSE = 0: it references a page table.
    const auto e = w.map(kVa32, 0x0ABC'D000 | P | RW, 1, P | RW | US | PS);
    w.access(kVa32);
    Trace t;
    EXPECT_TRUE(IsOk(w.run(&t), 0x0ABC'DABC, 4096, {gw(e[0], w.get(e[0]) | A), gw(e[1], 0x0ABC'D000 | P | RW | A)}));
    EXPECT_TRUE(t.fired.test(static_cast<unsigned>(Rule::ps_ignored_no_pse)));
    EXPECT_EQ(t.steps.back().rule, Rule::leaf_4k);
  }
}

TEST(Bit32, SamePDEIsPageTableWithoutPSEAndFourMBytePageWithPSE_SDM_4_3) {
  // The same PDE (a 4-MByte-aligned "table" address) with and without CR4.PSE.
  Walk w(PagingMode::bit32);
  const u64 pde_addr = 0x1000 + 4 * (kVa32 >> 22);
  w.set(pde_addr, 0x0040'0000 | PS | P | RW);
  w.set(0x0040'0000 + 4 * ((kVa32 >> 12) & 0x3FF), 0x0777'7000 | P | RW);
  w.access(kVa32);
  EXPECT_TRUE(IsOk(w.run(), 0x0777'7ABC, 4096));
  w.c.cpu.cr4 |= mmu::cr4::PSE;
  EXPECT_TRUE(IsOk(w.run(), 0x0040'0000 | (kVa32 & (M4 - 1)), M4));
}

TEST(Bit32, PSE36_PDEBits20to13AreAddressBits39to32_SDM_4_3_Table4_4) {
  struct Row {
    unsigned maxphyaddr;
    u64 pde_high;  // value placed in PDE bits 20:13
    u64 pa_high;   // expected PA bits (M-1):32
  };
  // M = min(MAXPHYADDR, 40): PDE bits (M-20):13 give PA bits (M-1):32.
  for (const Row& r : {Row{40, 0xAB, 0xAB}, Row{52, 0xAB, 0xAB}, Row{46, 0xFF, 0xFF}, Row{36, 0x0B, 0x0B},
                       Row{33, 0x01, 0x01}}) {
    SCOPED_TRACE("MAXPHYADDR " + std::to_string(r.maxphyaddr));
    Walk w(PagingMode::bit32, r.maxphyaddr);
    w.c.cpu.cr4 |= mmu::cr4::PSE;
    const u64 pde = 0x0AC0'0000 | (r.pde_high << 13) | PS | P;
    w.map(kVa32, pde, 2);
    w.access(kVa32);
    EXPECT_TRUE(IsOk(w.run(), (r.pa_high << 32) | 0x0AC0'0000 | 0x01ABC, M4));
  }
}

TEST(Bit32, FourKBytePTEReachesOnly32Bits_SDM_4_3) {
  Walk w(PagingMode::bit32, 52);
  w.map(kVa32, 0xFFFF'F000 | P);
  w.access(kVa32);
  EXPECT_TRUE(IsOk(w.run(), 0xFFFF'FABC, 4096));
}

// ---- PAE paging (4.4) ---------------------------------------------------------

TEST(Pae, FourKBytePage_PDPTFromCR3Bits31to5_SDM_4_4) {
  Walk w(PagingMode::pae, 46, /*cr3=*/0x1020);
  const auto e = w.map(kVaPae, 0x12'3456'7000 | P | RW | US);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], 0x1020u + 8 * 2);  // PDPTE selected by va[31:30]
  EXPECT_EQ(e[1], (w.get(e[0]) & bits(45, 12)) + 8 * 2);
  EXPECT_EQ(e[2], (w.get(e[1]) & bits(45, 12)) + 8 * 1);
  w.access(kVaPae);
  Trace t;
  // PAE reaches physical addresses above 4 GBytes; the PDPTE is not written.
  EXPECT_TRUE(IsOk(w.run(&t), 0x12'3456'7ABC, 4096,
                   {gw(e[1], w.get(e[1]) | A), gw(e[2], 0x12'3456'7000 | P | RW | US | A)}));
  unsigned loads = 0;
  for (const auto& s : t.steps) loads += s.kind == StepKind::pdpte_load;
  EXPECT_EQ(loads, 4u);
  EXPECT_EQ(t.steps.back().rule, Rule::leaf_4k);
}

TEST(Pae, CR3Bits4to0Ignored_SDM_4_4_1) {
  Walk w(PagingMode::pae, 46, 0x1020);
  w.c.cpu.cr3 |= 0x18;
  const auto e = w.map(kVaPae, 0x0555'5000 | P);
  EXPECT_EQ(e[0], 0x1030u);
  w.access(kVaPae);
  EXPECT_TRUE(IsOk(w.run(), 0x0555'5ABC, 4096));
}

TEST(Pae, TwoMBytePage_SDM_4_4_2_Table4_9) {
  Walk w(PagingMode::pae);
  const auto e = w.map(kVaPae, 0x12'3440'0000 | PS | P | RW, 2);
  ASSERT_EQ(e.size(), 2u);
  w.access(kVaPae);
  Trace t;
  EXPECT_TRUE(IsOk(w.run(&t), 0x12'3440'0000 | 0x1ABC, M2, {gw(e[1], 0x12'3440'0000 | PS | P | RW | A)}));
  EXPECT_EQ(t.steps.back().rule, Rule::leaf_2m);
}

TEST(Pae, EachPDPTEMapsOneGigabyteQuarter_SDM_4_4_1) {
  Walk w(PagingMode::pae);
  const u64 vas[4] = {0x0000'1000, 0x4000'2000, 0x8000'3000, 0xC000'4000};
  for (unsigned i = 0; i < 4; ++i) w.map(vas[i], (0x10'0000'0000 + (u64{i} << 20)) | P);
  for (unsigned i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    w.access(vas[i] | 0x123);
    EXPECT_TRUE(IsOk(w.run(), (0x10'0000'0000 + (u64{i} << 20)) | 0x123, 4096));
  }
}

TEST(Pae, NotPresentPDPTEsAreNotCheckedAtLoad_SDM_4_4_1) {
  Walk w(PagingMode::pae);
  w.map(kVaPae, 0x0555'5000 | P);
  // PDPTE 0, 1 and 3 are not present; every other bit is set (reserved ones included).
  for (u64 i : {0, 1, 3}) w.set(0x1000 + 8 * i, ~P);
  w.access(kVaPae);
  EXPECT_TRUE(IsOk(w.run(), 0x0555'5ABC, 4096));
}

TEST(Pae, AllFourPDPTEsAreLoadedWithCR3_SDM_4_4_1) {
  // A reserved bit in a present PDPTE that this access does not use still
  // faults (#GP at PDPTE load), for each of the other three.
  for (u64 i : {0, 1, 3}) {
    SCOPED_TRACE(i);
    Walk w(PagingMode::pae);
    w.map(kVaPae, 0x0555'5000 | P);
    w.set(0x1000 + 8 * i, 0x0020'0000 | P | RW);  // bit 1 reserved in a PDPTE
    w.access(kVaPae);
    EXPECT_TRUE(IsGp(w.run(), GpReason::pdpte_reserved));
  }
}

// ---- 4-level paging (4.5) -------------------------------------------------------

TEST(Level4, FourKBytePage_EntryAddressesAndPA_SDM_4_5_Figure4_8) {
  Walk w(PagingMode::level4);
  const auto e = w.map(kVa4, 0x3F'1234'5000 | P | RW | US);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0], 0x1000 + 8 * idx9(kVa4, 4));
  for (unsigned i = 1; i < 4; ++i) EXPECT_EQ(e[i], (w.get(e[i - 1]) & bits(45, 12)) + 8 * idx9(kVa4, 4 - i));
  w.access(kVa4);
  Trace t;
  EXPECT_TRUE(IsOk(w.run(&t), 0x3F'1234'5ABC, 4096,
                   {gw(e[0], w.get(e[0]) | A), gw(e[1], w.get(e[1]) | A), gw(e[2], w.get(e[2]) | A),
                    gw(e[3], 0x3F'1234'5000 | P | RW | US | A)}));
  ASSERT_EQ(t.steps.size(), 4u);
  EXPECT_EQ(t.steps[0].name, "PML4E");
  EXPECT_EQ(t.steps[3].name, "PTE");
  EXPECT_EQ(t.steps.back().rule, Rule::leaf_4k);
}

TEST(Level4, TwoMBytePage_SDM_4_5_Table4_18) {
  Walk w(PagingMode::level4);
  const auto e = w.map(kVa4, 0x3F'1220'0000 | PS | P | RW, 2);
  ASSERT_EQ(e.size(), 3u);
  w.access(kVa4);
  Trace t;
  EXPECT_TRUE(IsOk(w.run(&t), 0x3F'123E'FABC, M2,
                   {gw(e[0], w.get(e[0]) | A), gw(e[1], w.get(e[1]) | A), gw(e[2], 0x3F'1220'0000 | PS | P | RW | A)}));
  EXPECT_EQ(t.steps.back().rule, Rule::leaf_2m);
}

TEST(Level4, OneGBytePageWithPdpe1gb_SDM_4_5_Table4_16) {
  Walk w(PagingMode::level4);
  const auto e = w.map(kVa4, 0x3F'4000'0000 | PS | P | RW, 3);
  ASSERT_EQ(e.size(), 2u);
  w.access(kVa4);
  Trace t;
  EXPECT_TRUE(IsOk(w.run(&t), 0x3F'4000'0000 | (kVa4 & (G1 - 1)), G1,
                   {gw(e[0], w.get(e[0]) | A), gw(e[1], 0x3F'4000'0000 | PS | P | RW | A)}));
  EXPECT_EQ(t.steps.back().rule, Rule::leaf_1g);
}

TEST(Level4, CR3ControlBitsAndPCIDIgnored_SDM_4_5_Table4_12_4_13) {
  for (u64 low : {u64{0x18}, u64{0xABC}}) {
    SCOPED_TRACE(hex(low));
    Walk w(PagingMode::level4);
    if (low == 0xABC) w.c.cpu.cr4 |= mmu::cr4::PCIDE;
    w.c.cpu.cr3 |= low;
    const auto e = w.map(kVa4, 0x0777'7000 | P);
    EXPECT_EQ(e[0], 0x1000 + 8 * idx9(kVa4, 4));
    w.access(kVa4);
    EXPECT_TRUE(IsOk(w.run(), 0x0777'7ABC, 4096));
  }
}

TEST(Level4, KernelHalfAddress_SDM_4_5) {
  Walk w(PagingMode::level4);
  constexpr u64 va = 0xFFFF'8000'0012'3456;
  const auto e = w.map(va, 0x0777'7000 | P);
  EXPECT_EQ(e[0], 0x1000u + 8 * 256);
  w.access(va);
  EXPECT_TRUE(IsOk(w.run(), 0x0777'7456, 4096));
}

// ---- 5-level paging (4.5) -------------------------------------------------------

TEST(Level5, FourKBytePage_FiveEntries_SDM_4_5_Figure4_8) {
  Walk w(PagingMode::level5);
  const auto e = w.map(kVa5, 0x3F'1234'5000 | P | RW);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0], 0x1000 + 8 * idx9(kVa5, 5));
  for (unsigned i = 1; i < 5; ++i) EXPECT_EQ(e[i], (w.get(e[i - 1]) & bits(45, 12)) + 8 * idx9(kVa5, 5 - i));
  w.access(kVa5, AccessKind::write);
  Trace t;
  EXPECT_TRUE(IsOk(w.run(&t), 0x3F'1234'5ABC, 4096,
                   {gw(e[0], w.get(e[0]) | A), gw(e[1], w.get(e[1]) | A), gw(e[2], w.get(e[2]) | A),
                    gw(e[3], w.get(e[3]) | A), gw(e[4], 0x3F'1234'5000 | P | RW | A | D)}));
  ASSERT_EQ(t.steps.size(), 5u);
  EXPECT_EQ(t.steps[0].name, "PML5E");
}

TEST(Level5, TwoMByteAndOneGBytePages_SDM_4_5) {
  {
    Walk w(PagingMode::level5);
    const auto e = w.map(kVa5, 0x3F'1220'0000 | PS | P, 2);
    ASSERT_EQ(e.size(), 4u);
    w.access(kVa5);
    EXPECT_TRUE(IsOk(w.run(), 0x3F'1220'0000 | (kVa5 & (M2 - 1)), M2));
  }
  {
    Walk w(PagingMode::level5);
    const auto e = w.map(kVa5, 0x3F'4000'0000 | PS | P, 3);
    ASSERT_EQ(e.size(), 3u);
    w.access(kVa5);
    EXPECT_TRUE(IsOk(w.run(), 0x3F'4000'0000 | (kVa5 & (G1 - 1)), G1));
  }
}

TEST(Level5, AddressAbove47BitsTranslates_SDM_4_5) {
  // 0x0000'8000'0000'0000 is non-canonical with 4-level paging, canonical with 5-level.
  constexpr u64 va = 0x0000'8000'0000'0123;
  Walk w(PagingMode::level5);
  w.map(va, 0x0666'6000 | P);
  w.access(va);
  EXPECT_TRUE(IsOk(w.run(), 0x0666'6123, 4096));
}

// ---- canonical addresses (3.3.7.1, 4.5) ----------------------------------------

TEST(Canonical, Level4NonCanonicalIsGeneralProtection_SDM_3_3_7_1) {
  for (u64 va : {u64{0x0000'8000'0000'0000}, u64{0xFFFF'7FFF'FFFF'FFFF}, u64{0x0001'0000'0000'0000},
                 u64{0x8000'0000'0000'0000}, u64{0x00AB'CDEF'1234'5ABC}, u64{0x7FFF'FFFF'FFFF'F000}}) {
    for (AccessKind k : {AccessKind::read, AccessKind::write, AccessKind::fetch}) {
      SCOPED_TRACE(hex(va) + " " + kind_name(k));
      Walk w(PagingMode::level4);
      w.map(va & bits(47, 0), 0x5000 | P | RW | US);  // whatever is mapped, the walk never starts
      w.access(va, k, 3);
      Trace t;
      EXPECT_TRUE(IsGp(w.run(&t), GpReason::non_canonical));
      EXPECT_TRUE(t.steps.empty());
      EXPECT_EQ(t.decided_by, Rule::addr_canonical);
    }
  }
}

TEST(Canonical, Level4CanonicalBoundaries_SDM_3_3_7_1) {
  for (u64 va : {u64{0x0000'7FFF'FFFF'FFFF}, u64{0xFFFF'8000'0000'0000}, u64{0xFFFF'FFFF'FFFF'FFFF}, u64{0}}) {
    SCOPED_TRACE(hex(va));
    Walk w(PagingMode::level4);
    w.access(va);
    // Canonical: the walk starts and finds an empty PML4 (not present, error code 0).
    EXPECT_TRUE(IsPf(w.run(), 0, va));
  }
}

TEST(Canonical, Level5UsesBit56_SDM_4_5) {
  for (u64 va : {u64{0x0100'0000'0000'0000}, u64{0xFE00'0000'0000'0000}, u64{0x8000'0000'0000'0000},
                 u64{0xFEFF'FFFF'FFFF'FFFF}}) {
    SCOPED_TRACE(hex(va));
    Walk w(PagingMode::level5);
    w.access(va, AccessKind::write);
    EXPECT_TRUE(IsGp(w.run(), GpReason::non_canonical));
  }
  for (u64 va : {u64{0x00FF'FFFF'FFFF'FFFF}, u64{0xFF00'0000'0000'0000}, u64{0x0000'8000'0000'0000},
                 u64{0xFFFF'0000'0000'0000}}) {
    SCOPED_TRACE(hex(va));
    Walk w(PagingMode::level5);
    w.access(va, AccessKind::write);
    EXPECT_TRUE(IsPf(w.run(), pferr::W, va));
  }
}

// ---- not-present entries (4.7) ------------------------------------------------

struct NotPresentCase {
  PagingMode mode;
  u64 va;
};

class NotPresent : public ::testing::TestWithParam<NotPresentCase> {};

// P = 0 at any level ends the walk: #PF with P = 0 in the error code, CR2 the
// linear address; every other bit of the entry is ignored (even reserved ones).
TEST_P(NotPresent, AtEveryLevel_ErrorCodeHasNoP_SDM_4_7) {
  const auto [mode, va] = GetParam();
  const unsigned top = levels(mode);
  const u64 garbage = mode == PagingMode::bit32 ? 0xFFFF'FFFE : ~P;
  for (unsigned level = top; level >= 1; --level) {
    struct Acc {
      AccessKind kind;
      unsigned cpl;
      u64 ec;
    };
    const bool id = mode != PagingMode::bit32;  // EFER.NXE = 1 with CR4.PAE = 1
    for (const Acc& acc : {Acc{AccessKind::read, 0, 0}, Acc{AccessKind::write, 0, pferr::W},
                           Acc{AccessKind::read, 3, pferr::U}, Acc{AccessKind::write, 3, pferr::W | pferr::U},
                           Acc{AccessKind::fetch, 0, id ? pferr::ID : 0},
                           Acc{AccessKind::fetch, 3, pferr::U | (id ? pferr::ID : 0)}}) {
      SCOPED_TRACE("level " + std::to_string(level) + " " + kind_name(acc.kind) + " cpl " + std::to_string(acc.cpl));
      Walk w(mode);
      const auto e = w.map(va, 0x0555'5000 | P | RW | US);
      const unsigned i = top - level;
      w.set(e[i], garbage);
      w.access(va | 0x10, acc.kind, acc.cpl);
      Trace t;
      const Verdict v = w.run(&t);
      EXPECT_TRUE(IsPf(v, acc.ec, va | 0x10));
      EXPECT_EQ(t.decided_by, Rule::walk_not_present);
      // Entries above the not-present one may get A (PAE PDPTEs never do).
      std::vector<Write> optional;
      for (unsigned j = 0; j < i; ++j)
        if (!(mode == PagingMode::pae && j == 0)) optional.push_back(gw(e[j], w.get(e[j]) | A));
      EXPECT_EQ(to_vec(v.optional_writes), optional) << describe(v);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, NotPresent,
                         ::testing::Values(NotPresentCase{PagingMode::bit32, kVa32},
                                           NotPresentCase{PagingMode::pae, kVaPae},
                                           NotPresentCase{PagingMode::level4, kVa4},
                                           NotPresentCase{PagingMode::level5, kVa5}),
                         [](const auto& p) {
                           switch (p.param.mode) {
                             case PagingMode::bit32: return std::string("Bit32");
                             case PagingMode::pae: return std::string("Pae");
                             case PagingMode::level4: return std::string("Level4");
                             default: return std::string("Level5");
                           }
                         });

TEST(NotPresentLeaf, LargePagePDENotPresentIgnoresPS_SDM_4_7) {
  Walk w(PagingMode::level4);
  const auto e = w.map(kVa4, 0x3F'1220'0000 | PS | P, 2);
  w.set(e[2], (0x3F'1220'0000 | PS | bits(20, 13)) & ~P);  // reserved bits too, but P = 0
  w.access(kVa4, AccessKind::write);
  EXPECT_TRUE(IsPf(w.run(), pferr::W, kVa4));
}

// ---- the physical address (4.3-4.5) ------------------------------------------

TEST(PhysicalAddress, LeafIgnoredAndControlBitsDoNotChangePA_SDM_4_5_Table4_20) {
  Walk w(PagingMode::level4);
  // G, PAT, PCD, PWT, bits 11:9, 58:52 (ignored), 62:59 (protection key, CR4.PKE = 0), XD.
  const u64 flags = P | RW | US | PWT | PCD | bit(7) | G | bits(11, 9) | bits(58, 52) | pkey(0xF) | XD;
  w.map(kVa4, 0x3F'1234'5000 | flags);
  w.access(kVa4);
  EXPECT_TRUE(IsOk(w.run(), 0x3F'1234'5ABC, 4096));
}

TEST(PhysicalAddress, NonLeafIgnoredBitsDoNotChangeTheNextTable_SDM_4_5_Tables4_14_to_4_19) {
  for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
    SCOPED_TRACE(mode_name(m));
    Walk w(m);
    // Bits 62:52, 11:8 and 6 are ignored in non-leaf entries (Intel).
    const u64 upper = P | RW | US | bits(62, 52) | bits(11, 8) | D;
    const u64 va = m == PagingMode::level5 ? kVa5 : kVa4;
    w.map(va, 0x0123'4000 | P, 1, upper);
    w.access(va);
    EXPECT_TRUE(IsOk(w.run(), 0x0123'4ABC, 4096));
  }
}

TEST(PhysicalAddress, FrameUsesBitsUpToMaxPhyAddrMinus1_SDM_4_1_4) {
  for (unsigned m : {36u, 39u, 46u, 52u}) {
    SCOPED_TRACE(m);
    const u64 frame = bits(m - 1, 12);
    {
      Walk w(PagingMode::level4, m);
      w.map(kVa4, frame | P);
      w.access(kVa4);
      EXPECT_TRUE(IsOk(w.run(), frame | 0xABC, 4096));
    }
    {
      Walk w(PagingMode::level4, m);
      w.map(kVa4, bits(m - 1, 21) | PS | P, 2);
      w.access(kVa4);
      EXPECT_TRUE(IsOk(w.run(), bits(m - 1, 21) | (kVa4 & (M2 - 1)), M2));
    }
    {
      Walk w(PagingMode::pae, m);
      w.map(kVaPae, frame | P);
      w.access(kVaPae);
      EXPECT_TRUE(IsOk(w.run(), frame | 0xABC, 4096));
    }
  }
}

TEST(PhysicalAddress, LargePagePATBit12IsNotAnAddressBit_SDM_4_3_4_4_2_4_5) {
  // Linear-address bit 12 is 0, so a PAT bit taken for an address bit would show in the PA.
  {
    Walk w(PagingMode::level4);
    w.map(kVa4, 0x3F'1220'0000 | PAT_LARGE | PS | P, 2);
    w.access(kVa4 & ~bit(12));
    EXPECT_TRUE(IsOk(w.run(), 0x3F'1220'0000 | (kVa4 & (M2 - 1) & ~bit(12)), M2));
  }
  {
    Walk w(PagingMode::level5);
    w.map(kVa5, 0x3F'4000'0000 | PAT_LARGE | PS | P, 3);
    w.access(kVa5 & ~bit(12));
    EXPECT_TRUE(IsOk(w.run(), 0x3F'4000'0000 | (kVa5 & (G1 - 1) & ~bit(12)), G1));
  }
  {
    Walk w(PagingMode::pae);
    w.map(kVaPae, 0x12'3440'0000 | PAT_LARGE | PS | P, 2);
    w.access(kVaPae & ~bit(12));
    EXPECT_TRUE(IsOk(w.run(), 0x12'3440'0ABC, M2));
  }
  {
    Walk w(PagingMode::bit32);
    w.c.cpu.cr4 |= mmu::cr4::PSE;
    w.map(kVa32, 0x0AC0'0000 | PAT_LARGE | PS | P, 2);
    w.access(kVa32 & ~bit(12));
    EXPECT_TRUE(IsOk(w.run(), 0x0AC0'0ABC, M4));
  }
}

}  // namespace
}  // namespace mmutest
