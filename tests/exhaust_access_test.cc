// The access-c exhaust space (replay/exhaust_access.cc): its flag words and
// legal count are access.c's; each point is the walk access.c sets up, and the
// reference gives what access.c itself expects there; ref and kvm agree on it
// (here on a deterministic sample: the whole space runs from ci/test with the
// release binary); and the mutants it can expose are caught. Also the exhaust
// loop's bookkeeping (chunks, skipping, threads) on a small view of the space.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "model/kvm/kvm_mmu.h"
#include "model/kvm/mutants.h"
#include "model/reference.h"
#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/exhaust_spaces.h"

namespace {

namespace ac = mmucheck::access_c;
using mmu::u32;
using mmu::u64;

constexpr u64 kSize = u64{1} << ac::kIndexBits;

bool has(u32 flags, ac::Flag f) { return flags & ac::mask(f); }

// Every 257th point (257 is odd, so the low flag bits take every value):
// about 74 000 legal points of the 19 M.
constexpr u64 kStride = 257;

TEST(AccessC, IsRegisteredWithOnePointPerFlagWord) {
  const auto* s = mmucheck::find_space("access-c");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->size, kSize);
  EXPECT_EQ(ac::kIndexBits, 28u);
  ASSERT_NE(mmucheck::find_space("access-c-smep"), nullptr);
  // Indices count through the flag words in order, never setting a masked flag.
  u32 prev = ac::flags_of(0);
  EXPECT_EQ(prev, 0u);
  for (u64 i = 1; i < kSize; i += 4099) {
    const u32 f = ac::flags_of(i);
    EXPECT_GT(f, prev);
    EXPECT_EQ(f & ac::kMaskedFlags, 0u);
    prev = f;
  }
  EXPECT_EQ(ac::flags_of(kSize - 1), ((u32{1} << ac::flag_count) - 1) & ~ac::kMaskedFlags);
  EXPECT_EQ(ac::describe(ac::mask(ac::pde_present) | ac::mask(ac::access_write) | ac::mask(ac::cr0_wp)),
            "pde.p write cr0.wp");
}

// access.c on a host with MAXPHYADDR 37..51, PKU, and no forced emulation runs
// 19 169 280 combinations; before it skipped CR4.SMEP, 28 753 920.
TEST(AccessC, LegalCountIsAccessCs) {
  u64 legal = 0, legal_smep = 0;
  for (u64 i = 0; i < kSize; ++i) {
    const u32 f = ac::flags_of(i);
    legal += ac::legal(f);
    legal_smep += ac::legal(f, /*smep_tested=*/true);
  }
  EXPECT_EQ(legal, 19'169'280u);
  EXPECT_EQ(legal_smep, 28'753'920u);
}

// next_candidate never skips a legal point and lands on one.
TEST(AccessC, NextCandidateSkipsOnlyIllegalPoints) {
  for (const char* name : {"access-c", "access-c-smep"}) {
    const auto* s = mmucheck::find_space(name);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->next_candidate);
    const bool smep = std::string(name) == "access-c-smep";
    u64 legal = 0;
    for (u64 i = 0; i < kSize;) {
      if (ac::legal(ac::flags_of(i), smep)) {
        ++legal;
        ++i;
        continue;
      }
      const u64 next = s->next_candidate(i);
      ASSERT_GT(next, i);
      if (next < kSize) {
        ASSERT_TRUE(ac::legal(ac::flags_of(next), smep)) << name << " " << next;
      }
      // The points skipped are illegal (checked in full where the jump is short).
      if (next - i < 4096) {
        for (u64 j = i + 1; j < std::min(next, kSize); ++j) ASSERT_FALSE(ac::legal(ac::flags_of(j), smep)) << j;
      }
      i = next;
    }
    EXPECT_EQ(legal, smep ? 28'753'920u : 19'169'280u) << name;
  }
}

// The walk of one point, read back from the case.
TEST(AccessC, BuildsTheWalkAccessCSetsUp) {
  using namespace mmu;
  Case c;
  const u32 f = ac::mask(ac::pde_present) | ac::mask(ac::pde_writable) | ac::mask(ac::pde_user) |
                ac::mask(ac::pte_present) | ac::mask(ac::pte_user) | ac::mask(ac::pte_pkey) |
                ac::mask(ac::access_user) | ac::mask(ac::access_write) | ac::mask(ac::efer_nx) |
                ac::mask(ac::cr4_pke) | ac::mask(ac::pkru_wd);
  ac::build(f, c);
  EXPECT_FALSE(validate(c));
  EXPECT_EQ(paging_mode(c.cpu), PagingMode::level4);
  EXPECT_EQ(c.cpu.cpl, 3u);
  EXPECT_EQ(c.cpu.cr4 & (cr4::PKE | cr4::SMEP | cr4::SMAP), cr4::PKE);
  EXPECT_EQ(c.cpu.pkru, 0x38u);  // key 1: WD; key 2: AD and WD
  EXPECT_EQ(c.access.addr, ac::kLinear);
  EXPECT_EQ(c.access.kind, AccessKind::write);
  ASSERT_EQ(c.memory.entries().size(), 4u);
  const auto& e = c.memory.entries();
  EXPECT_EQ(e[0].value, ac::kPdpt | 0x27);                        // PML4E: P W U A
  EXPECT_EQ(e[1].value, ac::kPd | 0x27);                          // PDPTE: P W U A
  EXPECT_EQ(e[2].value, ac::kPt | (u64{2} << 59) | 0x7);          // PDE: P W U, key 2 (ignored)
  EXPECT_EQ(e[3].value, ac::kDataPage | (u64{1} << 59) | 0x5);    // PTE: P U, key 1
  // The same case whatever the Case held before.
  Case d;
  d.name = "something else";
  d.memory.set(0x5000, 1);
  d.cpu.cr0 = 0;
  ac::build(f, d);
  EXPECT_EQ(mmucheck::case_to_json(c).dump(), mmucheck::case_to_json(d).dump());
  d.history.push_back(d.cpu);  // the same layout, but a history: rebuilt from scratch
  ac::build(f, d);
  EXPECT_TRUE(d.history.empty());
  EXPECT_EQ(mmucheck::case_to_json(c).dump(), mmucheck::case_to_json(d).dump());
}

// access.c's own expectation for a point (its ac_emulate_access, restated):
// whether the access faults, and the error code it expects.
struct Expected {
  bool fault = false;
  u64 error_code = 0;
};

Expected access_c_expects(u32 f) {
  using mmu::pferr::ID;
  using mmu::pferr::P;
  using mmu::pferr::PK;
  using mmu::pferr::RSVD;
  using mmu::pferr::U;
  using mmu::pferr::W;
  Expected x;
  u64 err = P | (has(f, ac::access_user) ? U : 0) | (has(f, ac::access_write) ? W : 0) |
            (has(f, ac::access_fetch) ? ID : 0);
  auto finish = [&] {
    if (!has(f, ac::efer_nx) && !has(f, ac::cr4_smep)) err &= ~ID;
    x.error_code = x.fault ? err : 0;
    return x;
  };
  auto entry_fault = [&](bool present) {
    x.fault = true;
    if (present) err |= RSVD;
    else err &= ~P;
    return finish();
  };
  const bool nx_rsvd = !has(f, ac::efer_nx);
  if (!has(f, ac::pde_present) || has(f, ac::pde_bit51) || has(f, ac::pde_bit36) || has(f, ac::pde_bit13) ||
      (has(f, ac::pde_nx) && nx_rsvd))
    return entry_fault(has(f, ac::pde_present));
  bool writable = !has(f, ac::pdpte_read_only) && has(f, ac::pde_writable);
  bool user = has(f, ac::pde_user);
  bool exec = !has(f, ac::pde_nx);
  if (!has(f, ac::pde_pse)) {
    if (!has(f, ac::pte_present) || has(f, ac::pte_bit51) || has(f, ac::pte_bit36) || (has(f, ac::pte_nx) && nx_rsvd))
      return entry_fault(has(f, ac::pte_present));
    writable = writable && has(f, ac::pte_writable);
    user = user && has(f, ac::pte_user);
    exec = exec && !has(f, ac::pte_nx);
  }
  // A supervisor write ignores R/W when CR0.WP = 0.
  const bool write_ok_anyway = !has(f, ac::cr0_wp) && !has(f, ac::access_user);
  if (has(f, ac::access_user) && !user) x.fault = true;
  if (has(f, ac::access_write) && !writable && !write_ok_anyway) x.fault = true;
  if (has(f, ac::access_fetch) && !exec) x.fault = true;
  if (has(f, ac::access_fetch) && user && has(f, ac::cr4_smep)) x.fault = true;
  if (user && !has(f, ac::access_fetch) && has(f, ac::pte_pkey) && has(f, ac::cr4_pke)) {
    if (has(f, ac::pkru_ad) || (has(f, ac::access_write) && has(f, ac::pkru_wd) && !write_ok_anyway)) {
      x.fault = true;
      err |= PK;
    }
  }
  return finish();
}

// The leaf entry after the reference's required writes.
u64 leaf_after(const mmu::Case& c, const mmu::Verdict& v, u32 f) {
  const u64 at = c.memory.entries()[has(f, ac::pde_pse) ? 2 : 3].addr;
  u64 value = c.memory.read(at);
  for (const mmu::Write& w : v.outcome.writes)
    if (w.space == mmu::Space::guest && w.addr == at) value = w.value;
  return value;
}

template <typename Fn>
void for_each_sampled_point(const char* space_name, Fn fn) {
  const auto* s = mmucheck::find_space(space_name);
  ASSERT_NE(s, nullptr);
  mmu::Case c;
  for (u64 i = 0; i < s->size; i += kStride)
    if (s->make(i, c)) fn(i, ac::flags_of(i), c);
}

// The reference, on the walk this space builds, gives what access.c expects:
// the same fault/no fault and error code, and on success A (and D for a
// write) set in the leaf. This checks the space's construction as much as the
// reference.
TEST(AccessC, ReferenceGivesWhatAccessCExpects) {
  for (const char* space : {"access-c", "access-c-smep"}) {
    u64 points = 0, faults = 0, pk = 0, rsvd = 0;
    for_each_sampled_point(space, [&](u64 i, u32 f, const mmu::Case& c) {
      ++points;
      ASSERT_FALSE(mmu::validate(c)) << i;
      const mmu::Verdict v = mmu::reference::evaluate(c);
      const Expected x = access_c_expects(f);
      const bool fault = v.outcome.kind == mmu::OutcomeKind::page_fault;
      ASSERT_EQ(v.outcome.kind == mmu::OutcomeKind::ok || fault, true) << i;
      ASSERT_EQ(fault, x.fault) << space << " point " << i << " (" << ac::describe(f) << ")";
      if (fault) {
        ++faults;
        pk += (v.outcome.error_code & mmu::pferr::PK) != 0;
        rsvd += (v.outcome.error_code & mmu::pferr::RSVD) != 0;
        ASSERT_EQ(v.outcome.error_code, x.error_code) << space << " point " << i << " (" << ac::describe(f) << ")";
      } else {
        EXPECT_EQ(v.outcome.pa, ac::kDataPage);
        const u64 leaf = leaf_after(c, v, f);
        EXPECT_TRUE(leaf & mmu::bit(5)) << i;
        if (has(f, ac::access_write)) {
          EXPECT_TRUE(leaf & mmu::bit(6)) << i;
        }
      }
    });
    EXPECT_GT(points, 70000u) << space;
    EXPECT_GT(faults, points / 4) << space;
    EXPECT_GT(pk, 100u) << space;
    EXPECT_GT(rsvd, 1000u) << space;
  }
}

// AC_ACCESS_TWICE: the point is the second access, after a supervisor read
// that set A where it got through; without that read's effect it is the same
// point as the one without the flag.
TEST(AccessC, TwiceIsTheAccessAfterAFirstRead) {
  mmu::Case once, twice;
  const u32 base = ac::mask(ac::pde_present) | ac::mask(ac::pte_present) | ac::mask(ac::pte_writable) |
                   ac::mask(ac::pde_writable) | ac::mask(ac::access_write);
  ac::build(base, once);
  ac::build(base | ac::mask(ac::access_twice), twice);
  EXPECT_EQ(once.memory.entries()[2].value | 0x20, twice.memory.entries()[2].value);  // PDE.A
  EXPECT_EQ(once.memory.entries()[3].value | 0x20, twice.memory.entries()[3].value);  // PTE.A
  // A first read that faults (not-present PTE) sets A only in the PDE it used.
  ac::build(base & ~ac::mask(ac::pte_present), once);
  ac::build((base & ~ac::mask(ac::pte_present)) | ac::mask(ac::access_twice), twice);
  EXPECT_EQ(once.memory.entries()[2].value | 0x20, twice.memory.entries()[2].value);
  EXPECT_EQ(once.memory.entries()[3].value, twice.memory.entries()[3].value);
}

// ref vs kvm on the sample (the whole space: ci/test, release build). The
// documented findings (docs/kvm.md) are 32-bit paging only, so none applies.
TEST(AccessC, RefAndKvmAgreeOnTheSample) {
  for (const char* space : {"access-c", "access-c-smep"}) {
    const auto ref = mmucheck::make_engine("ref");
    const auto kvm = mmucheck::make_engine("kvm");
    u64 compared = 0;
    for_each_sampled_point(space, [&](u64 i, u32 f, const mmu::Case& c) {
      ASSERT_FALSE(kvm->unsupported(c));
      ++compared;
      mmu::Verdict r, k;
      ref->evaluate_into(c, r);
      kvm->evaluate_into(c, k);
      ASSERT_TRUE(mmu::accepts(r, k.outcome))
          << space << " point " << i << " (" << ac::describe(f) << "): " << mmucheck::case_to_json(c).dump();
    });
    EXPECT_GT(compared, 70000u);
  }
}

// Which registered mutants access-c exposes. It is a 4-level, Intel, SMAP-off,
// guest-only walk without 1-GByte pages or CPU-state history, so it catches
// the fetch error code and the leaf-access bugs, and cannot see the others.
const std::map<std::string, bool>& expected_caught() {
  static const std::map<std::string, bool> m{
      {"pfec-keeps-fetch", true},                   // fetch faults with EFER.NX = 0, no SMEP
      {"inherited-access-from-leaf-parent", true},  // PTE stricter than its PDE
      {"smap-ignores-implicit", false},             // no SMAP, no implicit accesses
      {"amd-bit8-on-pdpe", false},                  // Intel only
      {"bit7-ignores-large-page-support", false},   // no PDPTE with bit 7
      {"pt32-pse-mask-without-pse", false},         // 32-bit paging only
      {"smap-andnot-wp-role", false},               // needs history (and SMAP)
      {"no-reset-on-smap-pke", false},              // needs history
      {"stale-cr0-wp", false},                      // needs history
      {"walk-below-level-1", false},                // EPT only
      {"stale-last-nonleaf-nested-ept", false},     // EPT only
      {"ept-qual-acc-order", false},                // EPT only
      {"shadow-nx-from-guest", false},              // rendered on EPT
      {"ept-read-not-tracked", false},              // EPT only
      {"ept-rwx0-present", false},                  // EPT only
      {"mbec-xu-by-cpl", false},                    // EPT (MBEC) only
      {"rsvd-pfec-disables-smap", false},           // no SMAP
      {"pse36-fixed-bits", false},                  // 32-bit paging only
  };
  return m;
}

TEST(AccessC, CatchesTheMutantsItCanExpose) {
  const auto ref = mmucheck::make_engine("ref");
  const auto kvm = mmucheck::make_engine("kvm");
  std::vector<std::pair<std::string, std::unique_ptr<mmucheck::Engine>>> mutants;
  for (const auto& m : mmu::kvm::mutants())
    mutants.emplace_back(std::string(m.name), mmucheck::make_engine("kvm:" + std::string(m.name)));
  std::vector<u64> caught(mutants.size());
  for (const char* space : {"access-c", "access-c-smep"}) {
    for_each_sampled_point(space, [&](u64, u32, const mmu::Case& c) {
      mmu::Verdict r, v;
      ref->evaluate_into(c, r);
      kvm->evaluate_into(c, v);
      if (!mmu::accepts(r, v.outcome)) return;  // a divergence of mainline, not a mutant's
      for (std::size_t m = 0; m < mutants.size(); ++m) {
        if (mutants[m].second->unsupported(c)) continue;
        mutants[m].second->evaluate_into(c, v);
        caught[m] += !mmu::accepts(r, v.outcome);
      }
    });
  }
  std::size_t n_caught = 0;
  for (std::size_t m = 0; m < mutants.size(); ++m) {
    const std::string& name = mutants[m].first;
    n_caught += caught[m] > 0;
    std::cout << "access-c: kvm:" << name << (caught[m] ? " caught on " + std::to_string(caught[m]) + " sampled points" : " not caught") << "\n";
    const auto it = expected_caught().find(name);
    if (it == expected_caught().end()) {
      std::cout << "  (kvm:" << name << " is not classified for access-c in " << __FILE__ << ")\n";
      continue;
    }
    EXPECT_EQ(caught[m] > 0, it->second) << "kvm:" << name << (it->second ? " survives" : " is now caught by") << " access-c";
  }
  EXPECT_GE(n_caught, 2u);
}

// ---- the exhaust loop on a 2^20-point view of access-c ----

// Point i of the view is access-c point i * 257 (wrapping), so it mixes all flags.
bool view_make(u64 i, mmu::Case& c) { return mmucheck::find_space("access-c")->make((i * 257) % kSize, c); }

class FixedEngine final : public mmucheck::Engine {
 public:
  std::string_view name() const override { return "fixed"; }
  std::string_view description() const override { return "every access translates to 0"; }
  mmu::Verdict evaluate(const mmu::Case&, mmu::Trace*) const override { return {}; }
};

TEST(ExhaustLoop, CountsAndFirstDivergencesDoNotDependOnJobsOrChunks) {
  const mmucheck::ExhaustSpace view{"view", "", u64{1} << 16, view_make};
  const auto ref = mmucheck::make_engine("ref");
  const auto mutant = mmucheck::make_engine("kvm:inherited-access-from-leaf-parent");
  const auto base = mmucheck::exhaust(view, *ref, *mutant, {.jobs = 1});
  EXPECT_EQ(base.points, view.size);
  EXPECT_EQ(base.points, base.illegal + base.unsupported + base.compared);
  ASSERT_EQ(base.first.size(), 5u);
  for (unsigned jobs : {1u, 2u, 3u}) {
    for (u64 chunk : {u64{1}, u64{77}, u64{4096}}) {
      const auto r = mmucheck::exhaust(view, *ref, *mutant, {.jobs = jobs, .chunk = chunk});
      EXPECT_EQ(r.points, base.points);
      EXPECT_EQ(r.illegal, base.illegal);
      EXPECT_EQ(r.compared, base.compared);
      EXPECT_EQ(r.divergences, base.divergences);
      ASSERT_EQ(r.first.size(), base.first.size());
      for (std::size_t k = 0; k < r.first.size(); ++k) EXPECT_EQ(r.first[k].first, base.first[k].first);
    }
  }
}

TEST(ExhaustLoop, SkippingCountsEverySkippedPointAsIllegal) {
  const auto* s = mmucheck::find_space("access-c");
  ASSERT_NE(s, nullptr);
  const FixedEngine fixed;
  // The first 2^20 points (PTE and PDE flags, bit 13, read-only PDPTE, PKRU
  // without PKE: whole illegal blocks, key, user) and a window from user
  // fetches into fetch-and-write (all illegal), with and without next_candidate.
  for (u64 offset : {u64{0}, (u64{3} << 21) - (u64{1} << 19)}) {
    mmucheck::ExhaustSpace with{"with", "", u64{1} << 20,
                                [s, offset](u64 i, mmu::Case& c) { return s->make(offset + i, c); },
                                [s, offset](u64 i) { return s->next_candidate(offset + i) - offset; }};
    mmucheck::ExhaustSpace without = with;
    without.next_candidate = nullptr;
    const auto a = mmucheck::exhaust(with, fixed, fixed, {.jobs = 2, .chunk = 1000});
    const auto b = mmucheck::exhaust(without, fixed, fixed, {.jobs = 2, .chunk = 1000});
    EXPECT_EQ(a.points, u64{1} << 20);
    EXPECT_EQ(a.points, b.points);
    EXPECT_EQ(a.illegal, b.illegal);
    EXPECT_EQ(a.compared, b.compared);
    EXPECT_GT(a.compared, 0u);
    EXPECT_EQ(a.divergences, 0u);
  }
}

}  // namespace
