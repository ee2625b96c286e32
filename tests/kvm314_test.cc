// The kvm-3.14 engine: its tables against the SDM rule for chosen roles, walks
// that show where 3.14 and the SDM part, what the engine leaves unsupported,
// and every exhaust space point by point against the reference, where every
// divergence must be one of the documented findings (docs/kvm.md): mainline's,
// or the allow-list's kvm-3.14 entries (replay/known.cc).
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "model/kvm/kvm314.h"
#include "model/kvm/kvm_mmu.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/known.h"
#include "tests/test_util.h"

namespace {

using mmu::kvm::CpuRole;
using mmu::kvm::Kvm314Algorithm;
using namespace mmutest;

CpuRole role(unsigned level, bool wp, bool smep, bool efer_nx, unsigned maxphyaddr = 46) {
  CpuRole r;
  r.level = level;
  r.has_4_byte_gpte = level == 2;
  r.efer_lma = level >= 4;
  r.cr0_wp = wp;
  r.cr4_smep = smep;
  r.efer_nx = efer_nx;
  r.maxphyaddr = maxphyaddr;
  return r;
}

// SDM 4.6 (without SMAP and protection keys), for one access (pfec bits W, U,
// F) to a page whose combined rights are `acc` (ACC_EXEC, ACC_WRITE, ACC_USER).
bool sdm_faults(const CpuRole& r, u64 pfec, unsigned acc) {
  const bool user = pfec & mmu::kvm::PFERR_USER, write = pfec & mmu::kvm::PFERR_WRITE,
             fetch = pfec & mmu::kvm::PFERR_FETCH;
  const bool page_user = acc & mmu::kvm::ACC_USER, page_write = acc & mmu::kvm::ACC_WRITE,
             page_exec = acc & mmu::kvm::ACC_EXEC;
  const bool xd_applies = r.efer_nx && r.level >= 3;  // 4.6: XD needs PAE/4-level paging and EFER.NXE
  if (user && !page_user) return true;                       // user access to a supervisor page
  if (write && !page_write && (user || r.cr0_wp)) return true;  // supervisor writes: only with CR0.WP
  if (fetch && xd_applies && !page_exec) return true;
  if (fetch && !user && page_user && r.cr4_smep) return true;  // SMEP
  return false;
}

// ---- (a) the tables against the SDM rule ----------------------------------

TEST(Kvm314Tables, PermissionsFollowTheSdmWithoutSmap) {
  unsigned roles = 0;
  for (unsigned level : {2u, 3u, 4u})
    for (bool wp : {false, true})
      for (bool smep : {false, true})
        for (bool nx : {false, true}) {
          const CpuRole r = role(level, wp, smep, nx);
          const auto perms = mmu::kvm::permissions_314(r, /*ept=*/false);
          ++roles;
          for (unsigned index = 0; index < 16; ++index)
            for (unsigned acc = 0; acc < 8; ++acc) {
              const u64 pfec = u64{index} << 1;
              const bool faults = (perms[index] >> acc) & 1;
              EXPECT_EQ(faults, sdm_faults(r, pfec & ~mmu::kvm::PFERR_RSVD, acc))
                  << "level " << level << " wp " << wp << " smep " << smep << " nx " << nx << " pfec " << hex(pfec)
                  << " acc " << acc;
            }
          // No SMAP override: the RSVD slot of the index changes nothing.
          for (unsigned index = 0; index < 16; ++index) EXPECT_EQ(perms[index], perms[index & ~4u]);
        }
  EXPECT_EQ(roles, 24u);
}

TEST(Kvm314Tables, EptPermissionsNeverCheckReads) {
  const auto perms = mmu::kvm::permissions_314(role(4, true, true, false), /*ept=*/true);
  for (unsigned index = 0; index < 16; ++index)
    for (unsigned acc = 0; acc < 8; ++acc) {
      const u64 pfec = u64{index} << 1;
      const bool want = ((pfec & mmu::kvm::PFERR_FETCH) && !(acc & mmu::kvm::ACC_EXEC)) ||
                        ((pfec & mmu::kvm::PFERR_WRITE) && !(acc & mmu::kvm::ACC_WRITE));
      EXPECT_EQ((perms[index] >> acc) & 1, want ? 1 : 0) << "pfec " << hex(pfec) << " acc " << acc;
    }
}

TEST(Kvm314Tables, NoProtectionKeys) {
  const Kvm314Algorithm k;
  CpuRole r = role(4, true, false, true);
  r.cr4_pke = true;
  EXPECT_EQ(k.build(r).pkru_mask, 0u);
  r.cr0_wp = false;
  EXPECT_EQ(k.build(r).pkru_mask, 0u);
}

// 32-bit paging: SDM 4.3 reserves, in a 4-MByte PDE, bits 21:(M-19) with
// M = min(MAXPHYADDR, 40) under PSE-36 and 21:13 without it; 3.14 always
// takes 21:17 (finding 2), and nothing without CR4.PSE, where bit 7 is ignored.
TEST(Kvm314Tables, ReservedBits32Bit) {
  const Kvm314Algorithm k;
  for (bool pse36 : {false, true})
    for (unsigned m : {32u, 36u, 40u, 46u}) {
      CpuRole r = role(2, true, false, true, m);
      r.pse36 = pse36;
      r.cr4_pse = true;
      const auto t = k.tables(r);
      EXPECT_EQ(t.rsvd_bits_mask[1][1], bits(21, 17)) << "pse36 " << pse36 << " M " << m;
      EXPECT_EQ(t.rsvd_bits_mask[0][1] | t.rsvd_bits_mask[0][0] | t.rsvd_bits_mask[1][0], 0u);
      if (pse36 && m == 36) {
        EXPECT_EQ(t.rsvd_bits_mask[1][1], bits(21, m - 19)) << "where 3.14 and the SDM agree";
      }
      r.cr4_pse = false;
      EXPECT_EQ(k.tables(r).rsvd_bits_mask[1][1], 0u);
    }
}

// PAE: SDM 4.4.1 PDPTE 63:M, 8:5, 2:1 reserved; 3.14 checks 63:M, 8:7, 2:1.
// PDE/PTE: 62:M, plus 63 without EFER.NXE; 2-MByte PDE adds 20:13.
TEST(Kvm314Tables, ReservedBitsPae) {
  const Kvm314Algorithm k;
  for (bool nx : {false, true}) {
    const CpuRole r = role(3, true, false, nx, 36);
    const auto t = k.tables(r);
    const u64 xd = nx ? 0 : bit(63);
    EXPECT_EQ(t.rsvd_bits_mask[0][2], bits(63, 36) | bits(8, 7) | bits(2, 1));
    EXPECT_EQ(t.rsvd_bits_mask[0][2] & bits(6, 5), 0u) << "3.14 leaves PDPTE bits 6:5 unchecked";
    EXPECT_EQ(t.rsvd_bits_mask[0][1], xd | bits(62, 36));
    EXPECT_EQ(t.rsvd_bits_mask[0][0], xd | bits(62, 36));
    EXPECT_EQ(t.rsvd_bits_mask[1][1], xd | bits(62, 36) | bits(20, 13));
    EXPECT_EQ(t.rsvd_bits_mask[1][0], t.rsvd_bits_mask[0][0]);
    EXPECT_EQ(k.build(r).pdptr_rsvd, t.rsvd_bits_mask[0][2]);
  }
}

// 4-level: SDM 4.5 reserves 51:M everywhere, 63 without EFER.NXE, PS in a
// PML4E, 29:13 in a 1-GByte PDPTE, 20:13 in a 2-MByte PDE; PDPTE PS without
// 1-GByte pages; AMD adds bit 8 of a PML4E. 3.14 reserves bit 8 of every PML4E
// and non-leaf PDPTE, for both vendors, and never PDPTE PS.
TEST(Kvm314Tables, ReservedBits4Level) {
  const Kvm314Algorithm k;
  for (bool nx : {false, true})
    for (bool amd : {false, true})
      for (bool gbpages : {false, true}) {
        CpuRole r = role(4, true, false, nx, 46);
        r.amd = amd;
        r.gbpages = gbpages;
        const auto t = k.tables(r);
        const u64 xd = nx ? 0 : bit(63), high = bits(51, 46);
        EXPECT_EQ(t.rsvd_bits_mask[0][3], xd | high | bits(8, 7));
        EXPECT_EQ(t.rsvd_bits_mask[1][3], t.rsvd_bits_mask[0][3]);
        EXPECT_EQ(t.rsvd_bits_mask[0][2], xd | high | bits(8, 7));
        EXPECT_EQ(t.rsvd_bits_mask[1][2], xd | high | bits(29, 13)) << "no PS check without 1-GByte pages";
        EXPECT_EQ(t.rsvd_bits_mask[0][1], xd | high);
        EXPECT_EQ(t.rsvd_bits_mask[1][1], xd | high | bits(20, 13));
        EXPECT_EQ(t.rsvd_bits_mask[0][0], xd | high);
        EXPECT_EQ(t.rsvd_bits_mask[1][0], xd | high);
        // The mainline layout the walker reads: the same, and nothing at level 5.
        const auto m = k.build(r).rsvd_bits_mask;
        for (unsigned ps = 0; ps < 2; ++ps) {
          for (unsigned level = 0; level < 4; ++level) EXPECT_EQ(m[ps][level], t.rsvd_bits_mask[ps][level]);
          EXPECT_EQ(m[ps][4], 0u);
        }
      }
}

// SDM 4.3-4.5: level 1 maps a page; PS = 1 maps a page at level 2 with PAE or
// 4-level paging or with CR4.PSE, and at level 3 in 4-level paging (given
// 1-GByte pages); a PML4E's PS is reserved.
TEST(Kvm314Tables, LastPteBitmap) {
  CpuRole r32 = role(2, true, false, false);
  EXPECT_EQ(mmu::kvm::last_pte_bitmap_314(r32), 0x11);
  r32.cr4_pse = true;
  EXPECT_EQ(mmu::kvm::last_pte_bitmap_314(r32), 0x31);
  EXPECT_EQ(mmu::kvm::last_pte_bitmap_314(role(3, true, false, true)), 0x31);
  EXPECT_EQ(mmu::kvm::last_pte_bitmap_314(role(4, true, false, true)), 0x71);

  const Kvm314Algorithm k;
  for (const CpuRole& r : {r32, role(3, true, false, true), role(4, true, false, true)})
    for (unsigned level = 1; level <= (r.level == 3 ? 2u : r.level); ++level)
      for (bool ps : {false, true}) {
        const bool sdm_last = level == 1 || (ps && (level == 2 || (level == 3 && r.level == 4)));
        EXPECT_EQ(k.is_last_gpte(r, level, ps ? PS : 0), sdm_last) << "level " << level << " ps " << ps;
        EXPECT_EQ(k.tables(r).last_pte_bitmap, mmu::kvm::last_pte_bitmap_314(r));
      }
  // Without CR4.PSE, a 32-bit PDE's bit 7 is ignored.
  r32.cr4_pse = false;
  EXPECT_FALSE(k.is_last_gpte(r32, 2, PS));
}

TEST(Kvm314Tables, ErrorCodeAddsFetchOnlyWithMmuNxOrSmep) {
  const Kvm314Algorithm k;
  const u64 fetch = mmu::kvm::PFERR_FETCH, p = mmu::kvm::PFERR_PRESENT;
  EXPECT_EQ(k.fault_error_code(role(2, true, false, true), p, fetch), p) << "32-bit: mmu->nx is false";
  EXPECT_EQ(k.fault_error_code(role(2, true, true, true), p, fetch), p | fetch);
  EXPECT_EQ(k.fault_error_code(role(3, true, false, true), p, fetch), p | fetch);
  EXPECT_EQ(k.fault_error_code(role(4, true, false, false), p, fetch), p);
  EXPECT_EQ(k.fault_error_code(role(4, true, false, false), 0, mmu::kvm::PFERR_WRITE | mmu::kvm::PFERR_USER),
            mmu::kvm::PFERR_WRITE | mmu::kvm::PFERR_USER);
}

TEST(Kvm314Tables, PermissionFaultIgnoresAcAndPkru) {
  const Kvm314Algorithm k;
  CpuRole r = role(4, true, false, true);
  const auto t = k.build(r);
  mmu::CpuState cpu;
  cpu.rflags = mmu::rflags::FIXED1 | mmu::rflags::AC;
  cpu.pkru = ~u32{0};
  const unsigned user_rw = mmu::kvm::ACC_USER | mmu::kvm::ACC_WRITE | mmu::kvm::ACC_EXEC;
  EXPECT_EQ(k.permission_fault(r, t, cpu, user_rw, 5, mmu::kvm::PFERR_WRITE | mmu::kvm::PFERR_USER), 0u);
  EXPECT_EQ(k.permission_fault(r, t, cpu, mmu::kvm::ACC_EXEC, 0, mmu::kvm::PFERR_USER), mmu::kvm::PFERR_PRESENT);
}

// ---- walks: where 3.14 and the SDM agree or part ---------------------------

const auto& engine314() {
  static const auto e = mmucheck::make_engine("kvm-3.14");
  return *e;
}

mmu::Outcome run314(const Case& c) { return engine314().evaluate(c, nullptr).outcome; }

TEST(Kvm314Walk, SupervisorWritesFollowCr0Wp) {
  for (bool wp : {false, true}) {
    Page pg(PagingMode::level4, P);  // a read-only supervisor page
    if (!wp) pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
    pg.w.access(pg.va(), AccessKind::write, 0);
    const Verdict ref = pg.w.run();
    const mmu::Outcome k = run314(pg.w.c);
    EXPECT_TRUE(mmu::accepts(ref, k)) << describe(ref) << " vs " << describe(k);
    EXPECT_EQ(k.kind, wp ? OutcomeKind::page_fault : OutcomeKind::ok);
    if (wp) {
      EXPECT_EQ(k.error_code, mmu::pferr::P | mmu::pferr::W);
    }
  }
}

TEST(Kvm314Walk, NoIdBitIn32BitPagingWithoutSmep) {
  Page pg(PagingMode::bit32, P | RW);  // supervisor page
  pg.w.c.cpu.efer |= mmu::efer::NXE;
  pg.w.access(pg.va(), AccessKind::fetch, 3);
  const Verdict ref = pg.w.run();
  EXPECT_TRUE(IsPf(ref, mmu::pferr::P | mmu::pferr::U, pg.va()));
  EXPECT_EQ(run314(pg.w.c).error_code, mmu::pferr::P | mmu::pferr::U) << "3.14 agrees with the SDM";
  EXPECT_EQ(mmucheck::make_engine("kvm")->evaluate(pg.w.c, nullptr).outcome.error_code,
            mmu::pferr::P | mmu::pferr::U | mmu::pferr::ID)
      << "mainline sets I/D here (finding 1)";
}

TEST(Kvm314Walk, SmepAndXdFetches) {
  Page user(PagingMode::pae, P | RW | US);
  user.w.c.cpu.cr4 |= mmu::cr4::SMEP;
  user.w.access(user.va(), AccessKind::fetch, 0);
  EXPECT_EQ(run314(user.w.c).error_code, mmu::pferr::P | mmu::pferr::ID);
  EXPECT_TRUE(mmu::accepts(user.w.run(), run314(user.w.c)));

  Page xd(PagingMode::level4, P | RW | XD);
  xd.w.access(xd.va(), AccessKind::fetch, 0);
  EXPECT_EQ(run314(xd.w.c).error_code, mmu::pferr::P | mmu::pferr::ID);
  EXPECT_TRUE(mmu::accepts(xd.w.run(), run314(xd.w.c)));
}

TEST(Kvm314Walk, OneGigabytePageWithoutCpuidSupport) {
  Page pg(PagingMode::level4, P | RW, /*level=*/3);
  pg.w.c.cpu.features.remove(Feature::pdpe1gb);
  pg.w.access(pg.va(), AccessKind::read, 0);
  EXPECT_TRUE(IsPf(pg.w.run(), mmu::pferr::P | mmu::pferr::RSVD, pg.va())) << "SDM: PS reserved";
  const mmu::Outcome k = run314(pg.w.c);
  EXPECT_EQ(k.kind, OutcomeKind::ok) << "3.14 maps the 1-GByte page: " << describe(k);
  EXPECT_EQ(k.pa, pg.pa());
}

TEST(Kvm314Walk, Bit8OfNonLeafEntriesOnIntel) {
  Page pg(PagingMode::level4, P | RW);
  pg.w.or_bits(pg.e[1], bit(8));  // the PDPTE, which points to a page directory
  pg.w.access(pg.va(), AccessKind::read, 0);
  EXPECT_EQ(pg.w.run().outcome.kind, OutcomeKind::ok) << "SDM: ignored";
  EXPECT_EQ(run314(pg.w.c).error_code, mmu::pferr::P | mmu::pferr::RSVD);
}

TEST(Kvm314Walk, PaePdpteBits6To5NotChecked) {
  Page pg(PagingMode::pae, P | RW);
  pg.w.or_bits(pg.e[0], bit(5));
  pg.w.access(pg.va(), AccessKind::read, 0);
  EXPECT_TRUE(IsGp(pg.w.run(), GpReason::pdpte_reserved));
  EXPECT_EQ(run314(pg.w.c).kind, OutcomeKind::ok);
}

TEST(Kvm314Engine, ReportsWhat314DidNotHaveAsUnsupported) {
  const auto& e = engine314();
  EXPECT_EQ(e.name(), "kvm-3.14");
  Page pg(PagingMode::level4, P | RW);
  pg.w.access(pg.va(), AccessKind::read, 0);
  EXPECT_FALSE(e.unsupported(pg.w.c));
  auto with = [&](auto change) {
    Case c = pg.w.c;
    change(c);
    return e.unsupported(c).has_value();
  };
  EXPECT_TRUE(with([](Case& c) { c.cpu.cr4 |= mmu::cr4::SMAP; }));
  EXPECT_TRUE(with([](Case& c) { c.cpu.cr4 |= mmu::cr4::PKE; }));
  EXPECT_TRUE(with([](Case& c) { c.cpu.cr4 |= mmu::cr4::PKS; }));
  EXPECT_TRUE(with([](Case& c) { c.cpu.cr4 |= mmu::cr4::LA57; }));
  EXPECT_TRUE(with([](Case& c) { c.access.shadow_stack = true; }));
  EXPECT_TRUE(with([](Case& c) { c.ept.emplace(); }));
  bool listed = false;
  for (const auto& n : mmucheck::engine_names()) listed |= n == "kvm-3.14";
  EXPECT_TRUE(listed);
}

// ---- (b) every exhaust space: ref vs kvm-3.14 point by point ---------------

// A divergence is explained by a mainline finding (the helpers kvm_mutants_test
// uses) or by one of the allow-list's kvm-3.14 entries (replay/known.cc).
using Finding = bool (*)(const Case&, const Verdict&, const mmu::Outcome&);
constexpr std::pair<const char*, Finding> kMainlineFindings[] = {
    {"id-32bit (mainline finding 1)", is_id_finding},
    {"pse36 (mainline finding 2)", is_pse36_finding},
};

const char* explain(const Case& c, const Verdict& r, const mmu::Outcome& k) {
  for (const auto& [name, is] : kMainlineFindings)
    if (is(c, r, k)) return name;
  for (const mmucheck::KnownDivergence& d : mmucheck::known_divergences())
    if (d.engine == "kvm-3.14" && d.explains(c, r, k)) return d.id.data();
  return nullptr;
}

struct Scan {
  u64 supported = 0, unsupported = 0;
  std::map<std::string, u64> found;  // divergences per finding
  std::vector<std::string> unknown;  // the first few unexplained divergences, as case JSON
};

// Every legal point of `space_name` through ref and kvm-3.14, on two threads.
Scan scan(std::string_view space_name) {
  Scan total;
  const auto* space = mmucheck::find_space(space_name);
  EXPECT_NE(space, nullptr) << space_name;
  if (!space) return total;
  const auto ref = mmucheck::make_engine("ref");
  const auto& k314 = engine314();
  std::mutex lock;
  auto work = [&](unsigned job, unsigned jobs) {
    Scan s;
    Case c;
    for (u64 i = job; i < space->size; i += jobs) {
      if (!space->make(i, c)) continue;
      if (k314.unsupported(c)) {
        ++s.unsupported;
        continue;
      }
      ++s.supported;
      const Verdict r = ref->evaluate(c, nullptr);
      const mmu::Outcome k = k314.evaluate(c, nullptr).outcome;
      if (mmu::accepts(r, k)) continue;
      const char* finding = explain(c, r, k);
      if (finding) ++s.found[finding];
      if (!finding && s.unknown.size() < 3)
        s.unknown.push_back("point " + std::to_string(i) + ": " + mmucheck::case_to_json(c).dump());
    }
    std::lock_guard<std::mutex> g(lock);
    total.supported += s.supported;
    total.unsupported += s.unsupported;
    for (const auto& [name, n] : s.found) total.found[name] += n;
    total.unknown.insert(total.unknown.end(), s.unknown.begin(), s.unknown.end());
  };
  std::thread other(work, 1, 2);
  work(0, 2);
  other.join();
  std::cout << space_name << ": " << total.supported << " supported points compared, " << total.unsupported
            << " unsupported";
  for (const auto& [name, n] : total.found) std::cout << ", " << name << ": " << n;
  std::cout << "\n";
  return total;
}

u64 found(const Scan& s, const char* prefix) {
  u64 n = 0;
  for (const auto& [name, count] : s.found) n += name.starts_with(prefix) ? count : 0;
  return n;
}

TEST(Kvm314Exhaust, PermissionSpaceAgreesWithTheReference) {
  const Scan s = scan("permissions");
  EXPECT_GT(s.supported, 50000u);
  EXPECT_GT(s.unsupported, 0u) << "CR4.SMAP points";
  EXPECT_TRUE(s.unknown.empty()) << s.unknown.front();
  EXPECT_TRUE(s.found.empty()) << "3.14 has neither the I/D finding nor any other divergence here";
}

TEST(Kvm314Exhaust, ReservedBitSpaceDiffersOnlyInDocumentedFindings) {
  const Scan s = scan("reserved-bits");
  EXPECT_GT(s.supported, 500000u);
  EXPECT_TRUE(s.unknown.empty()) << s.unknown.front();
  EXPECT_GT(found(s, "pse36"), 0u);
  EXPECT_EQ(found(s, "id-32bit"), 0u);
  unsigned entries = 0;
  for (const mmucheck::KnownDivergence& d : mmucheck::known_divergences())
    if (d.engine == "kvm-3.14") {
      ++entries;
      EXPECT_GT(found(s, d.id.data()), 0u) << d.id << ": the space reaches every kvm-3.14 finding";
    }
  EXPECT_EQ(entries, 3u);
}

TEST(Kvm314Exhaust, ProtectionKeySpaceAgreesWhereKeysAreOff) {
  const Scan s = scan("protection-keys");
  EXPECT_GT(s.supported, 5000u);
  EXPECT_GT(s.unsupported, s.supported) << "CR4.PKE, CR4.PKS and 5-level points";
  EXPECT_TRUE(s.unknown.empty()) << s.unknown.front();
  EXPECT_TRUE(s.found.empty());
}

// Cases with earlier vCPU states: 3.14 rebuilt its MMU context on every change
// of the role bits it had (CR0.PG/WP, CR4.PAE/PSE/SMEP, EFER.NX/LMA), as the
// mainline needs_reset() the engine inherits does.
TEST(Kvm314Exhaust, RoleTransitionSpaceAgreesWhereSupported) {
  const Scan s = scan("role-transitions");
  EXPECT_GT(s.supported, 10000u);
  EXPECT_TRUE(s.unknown.empty()) << s.unknown.front();
  EXPECT_TRUE(s.found.empty());
}

}  // namespace
