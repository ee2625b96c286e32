// Accessed and dirty flags (SDM vol. 3A 4.8) and how outcomes are compared
// (mmu::accepts, docs/case-format.md):
//  - a translation sets A in every paging-structure entry it uses (PAE PDPTEs
//    have no A flag and are never written), and D in the leaf on a write;
//  - flags already set are not written again;
//  - a walk that faults may or may not have set A in the entries it used before
//    the fault: the reference lists those updates as optional_writes, never D;
//  - accepts(v, o): o has v's kind and fields, and its writes are v's required
//    writes in order, interleaved with any subset of v's optional writes.
#include <gtest/gtest.h>

#include <string>

#include "model/rules.h"
#include "tests/test_util.h"

namespace mmutest {
namespace {

using mmu::Outcome;
using mmu::Rule;
using mmu::Trace;
namespace pferr = mmu::pferr;

struct Row {
  PagingMode mode;
  unsigned leaf_level;
};
const Row kRows[] = {{PagingMode::bit32, 1}, {PagingMode::bit32, 2}, {PagingMode::pae, 1},
                     {PagingMode::pae, 2},   {PagingMode::level4, 1}, {PagingMode::level4, 2},
                     {PagingMode::level4, 3}, {PagingMode::level5, 1}, {PagingMode::level5, 2},
                     {PagingMode::level5, 3}};

std::string name(const Row& r) { return std::string(mode_name(r.mode)) + " leaf level " + std::to_string(r.leaf_level); }

// ---- successful translations --------------------------------------------------

TEST(Accessed, SetInEveryEntryUsedTopDown_NotD_SDM_4_8) {
  for (const Row& r : kRows) {
    for (AccessKind k : {AccessKind::read, AccessKind::fetch}) {
      SCOPED_TRACE(name(r) + " " + kind_name(k));
      Page pg(r.mode, P | RW | US, r.leaf_level);
      std::vector<Write> want;
      for (unsigned j = r.mode == PagingMode::pae ? 1 : 0; j < pg.e.size(); ++j)
        want.push_back(gw(pg.e[j], pg.w.get(pg.e[j]) | A));
      Trace t;
      pg.w.access(pg.va(), k, 3);
      EXPECT_TRUE(IsOk(pg.w.run(&t), pg.pa(), pg.size(), want));
      EXPECT_TRUE(t.fired.test(static_cast<unsigned>(Rule::ad_accessed)));
      EXPECT_FALSE(t.fired.test(static_cast<unsigned>(Rule::ad_dirty)));
    }
  }
}

TEST(Dirty, WriteSetsDInTheLeafOnly_SDM_4_8) {
  for (const Row& r : kRows) {
    SCOPED_TRACE(name(r));
    Page pg(r.mode, P | RW | US, r.leaf_level);
    std::vector<Write> want;
    for (unsigned j = r.mode == PagingMode::pae ? 1 : 0; j < pg.e.size(); ++j) {
      const bool leaf = j + 1 == pg.e.size();
      // Bit 6 of a non-leaf entry is ignored: a write does not set it there.
      want.push_back(gw(pg.e[j], pg.w.get(pg.e[j]) | A | (leaf ? D : 0)));
    }
    Trace t;
    pg.w.access(pg.va(), AccessKind::write, 3);
    EXPECT_TRUE(IsOk(pg.w.run(&t), pg.pa(), pg.size(), want));
    EXPECT_TRUE(t.fired.test(static_cast<unsigned>(Rule::ad_dirty)));
  }
}

TEST(Accessed, AlreadySetFlagsAreNotWrittenAgain_SDM_4_8) {
  for (const Row& r : kRows) {
    SCOPED_TRACE(name(r));
    const u64 upper_a = P | RW | US | A;  // (a PAE PDPTE gets P only)
    {  // everything already accessed and dirty: nothing to write
      Page pg(r.mode, P | RW | US | A | D, r.leaf_level, upper_a);
      EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), pg.size(), {}));
      EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), pg.size(), {}));
    }
    {  // A everywhere, D clear: a read writes nothing, a write only the leaf's D
      Page pg(r.mode, P | RW | US | A, r.leaf_level, upper_a);
      EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), pg.size(), {}));
      EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), pg.size(), {gw(pg.leaf(), pg.w.get(pg.leaf()) | D)}));
    }
  }
}

TEST(Accessed, OnlyEntriesLackingAAreWritten_SDM_4_8) {
  Page pg(PagingMode::level5, P | RW | US | A);
  pg.w.or_bits(pg.e[1], A);  // PML4E already accessed
  pg.w.or_bits(pg.e[3], A);  // PDE already accessed
  EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 3), pg.pa(), 4096,
                   {gw(pg.e[0], pg.w.get(pg.e[0]) | A), gw(pg.e[2], pg.w.get(pg.e[2]) | A),
                    gw(pg.e[4], pg.w.get(pg.e[4]) | D)}));
}

TEST(Accessed, WrittenValueKeepsEveryOtherBit_SDM_4_8) {
  Page pg(PagingMode::level4, P | RW | US | G | PWT | PCD | bit(7) | bits(58, 52) | pkey(9) | bits(11, 9), 1,
          P | RW | US | bits(62, 52) | bits(11, 8));
  const Verdict v = pg.run(AccessKind::write, 3);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok) << describe(v);
  ASSERT_EQ(v.outcome.writes.size(), 4u);
  for (unsigned j = 0; j < 4; ++j) {
    EXPECT_EQ(v.outcome.writes[j].addr, pg.e[j]);
    EXPECT_EQ(v.outcome.writes[j].value, pg.w.get(pg.e[j]) | A | (j == 3 ? D : 0));
    EXPECT_EQ(v.outcome.writes[j].space, mmu::Space::guest);
  }
}

TEST(Accessed, PaePDPTEsAreNeverWritten_SDM_4_8) {
  for (unsigned leaf_level : {1u, 2u}) {
    for (AccessKind k : {AccessKind::read, AccessKind::write, AccessKind::fetch}) {
      SCOPED_TRACE(std::to_string(leaf_level) + " " + kind_name(k));
      Page pg(PagingMode::pae, P | RW | US, leaf_level);
      const Verdict v = pg.run(k, 3);
      ASSERT_EQ(v.outcome.kind, OutcomeKind::ok) << describe(v);
      for (const Write& w : v.outcome.writes) EXPECT_NE(w.addr, pg.e[0]) << describe(v);
      EXPECT_EQ(v.outcome.writes.size(), 3u - leaf_level);
    }
  }
}

TEST(Accessed, Bit32EntriesStay32Bits_SDM_4_8) {
  Page pg(PagingMode::bit32, P | RW | US | 0xF00, 1, P | RW | US | 0xF00);
  pg.w.set(pg.leaf(), 0xFFFF'F000 | P | RW | US | 0xF00);
  EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 3), 0xFFFF'FABC, 4096,
                   {gw(pg.e[0], pg.w.get(pg.e[0]) | A), gw(pg.e[1], 0xFFFF'FF67)}));
}

// A recursive mapping: PML4[0x1ED] points back at the PML4, so a walk can use
// the same entry at several levels. Once its A flag is set it is not set again:
// each entry is written once, with every flag the walk sets in it.
TEST(Accessed, EntryUsedAtSeveralLevelsIsWrittenOnce_SDM_4_8) {
  constexpr u64 kSelf = 0x1000 + 8 * 0x1ED, kOther = 0x1000 + 8 * 5;
  constexpr u64 kSelfValue = 0x1000 | P | RW | US;
  auto va = [](u64 i4, u64 i3, u64 i2, u64 i1) {
    return mmu::sign_extend((i4 << 39) | (i3 << 30) | (i2 << 21) | (i1 << 12) | 0x123, 47);
  };
  {  // PML4E, PDPTE and PDE are the self entry; the PTE is PML4[5]
    Walk w(PagingMode::level4);
    w.set(kSelf, kSelfValue);
    w.set(kOther, 0x0777'7000 | P | RW | US);
    w.access(va(0x1ED, 0x1ED, 0x1ED, 5), AccessKind::write, 3);
    EXPECT_TRUE(IsOk(w.run(), 0x0777'7123, 4096, {gw(kSelf, kSelfValue | A), gw(kOther, 0x0777'7000 | P | RW | US | A | D)}));
  }
  {  // the self entry at all four levels: it is its own PTE (A and D in one update)
    Walk w(PagingMode::level4);
    w.set(kSelf, kSelfValue);
    w.access(va(0x1ED, 0x1ED, 0x1ED, 0x1ED), AccessKind::write, 3);
    EXPECT_TRUE(IsOk(w.run(), 0x1123, 4096, {gw(kSelf, kSelfValue | A | D)}));
  }
  {  // a fault below it: the self entry's A update is one optional write, not three
    Walk w(PagingMode::level4);
    w.set(kSelf, kSelfValue);
    w.access(va(0x1ED, 0x1ED, 0x1ED, 6), AccessKind::read, 3);
    const Verdict v = w.run();
    EXPECT_TRUE(IsPf(v, pferr::U, v.outcome.cr2));
    EXPECT_EQ(to_vec(v.optional_writes), std::vector<Write>{gw(kSelf, kSelfValue | A)}) << describe(v);
  }
}

TEST(Accessed, PagingOffAndGPWriteNothing_SDM_4_8) {
  {
    Case c = make_case(PagingMode::none);
    c.access = {.addr = 0x1000, .kind = AccessKind::write};
    EXPECT_TRUE(IsOk(eval(c), 0x1000, 4096, {}));
  }
  {
    Walk w(PagingMode::level4);
    w.access(0x8000'0000'0000'0000, AccessKind::write);
    EXPECT_TRUE(IsGp(w.run(), GpReason::non_canonical));  // IsGp: no writes, no optional writes
  }
  {
    Page pg(PagingMode::pae, P | RW | US);
    pg.w.or_bits(pg.e[0], bit(5));  // PDPTE bit 5 (where A would be) is reserved
    EXPECT_TRUE(IsGp(pg.run(AccessKind::read, 0), GpReason::pdpte_reserved));
  }
}

// ---- faulting walks: A optional, D never ------------------------------------------

std::vector<Write> a_updates(const Page& pg, unsigned upto) {
  std::vector<Write> out;
  for (unsigned j = pg.m == PagingMode::pae ? 1 : 0; j < upto; ++j)
    if (!(pg.w.get(pg.e[j]) & A)) out.push_back(gw(pg.e[j], pg.w.get(pg.e[j]) | A));
  return out;
}

TEST(AccessedOnFault, NotPresentLeafLeavesAOptionalAbove_SDM_4_8) {
  for (const Row& r : kRows) {
    SCOPED_TRACE(name(r));
    Page pg(r.mode, RW | US, r.leaf_level);  // leaf not present
    Trace t;
    pg.w.access(pg.va(), AccessKind::write, 3);
    const Verdict v = pg.w.run(&t);
    EXPECT_TRUE(IsPf(v, pferr::W | pferr::U, pg.va()));
    EXPECT_EQ(to_vec(v.optional_writes), a_updates(pg, pg.e.size() - 1)) << describe(v);
    if (pg.e.size() > (r.mode == PagingMode::pae ? 2u : 1u)) {
      EXPECT_TRUE(t.fired.test(static_cast<unsigned>(Rule::ad_fault_open)));
    }
  }
}

TEST(AccessedOnFault, AlreadyAccessedEntriesAreNotListed_SDM_4_8) {
  Page pg(PagingMode::level4, 0);
  pg.w.or_bits(pg.e[0], A);
  pg.w.or_bits(pg.e[2], A);
  const Verdict v = pg.run(AccessKind::read, 0);
  EXPECT_TRUE(IsPf(v, 0, pg.va()));
  EXPECT_EQ(to_vec(v.optional_writes), std::vector<Write>{gw(pg.e[1], pg.w.get(pg.e[1]) | A)}) << describe(v);
}

TEST(AccessedOnFault, ReservedBitEntryItselfIsNotListed_SDM_4_8) {
  Page pg(PagingMode::level4, P | RW | US);
  pg.w.or_bits(pg.e[2], bit(48));  // PDE reserved (M = 46)
  const Verdict v = pg.run(AccessKind::write, 0);
  EXPECT_TRUE(IsPf(v, pferr::P | pferr::RSVD | pferr::W, pg.va()));
  EXPECT_EQ(to_vec(v.optional_writes), a_updates(pg, 2)) << describe(v);
}

TEST(AccessedOnFault, PermissionFaultMayAccessEveryEntryButNeverDirties_SDM_4_8) {
  struct Fault {
    const char* what;
    PagingMode mode;
    u64 leaf;
    AccessKind kind;
    unsigned cpl;
    u64 cr4;
    u64 ec;
  };
  const Fault faults[] = {
      {"user write to read-only page", PagingMode::level4, P | US, AccessKind::write, 3, 0, 0x7},
      {"supervisor write, CR0.WP", PagingMode::pae, P, AccessKind::write, 0, 0, 0x3},
      {"user read of supervisor page", PagingMode::bit32, P | RW, AccessKind::read, 3, 0, 0x5},
      {"SMAP", PagingMode::level5, P | RW | US, AccessKind::write, 0, mmu::cr4::SMAP, 0x3},
      {"SMEP", PagingMode::level4, P | RW | US, AccessKind::fetch, 0, mmu::cr4::SMEP, 0x11},
      {"XD", PagingMode::level4, P | RW | US | XD, AccessKind::fetch, 3, 0, 0x15},
      {"PKRU.AD", PagingMode::level4, P | RW | US | pkey(1), AccessKind::write, 3, mmu::cr4::PKE, 0x27},
  };
  for (const Fault& f : faults) {
    SCOPED_TRACE(f.what);
    Page pg(f.mode, f.leaf);
    pg.w.c.cpu.cr4 |= f.cr4;
    pg.w.c.cpu.pkru = 0x4;  // AD for key 1
    const Verdict v = pg.run(f.kind, f.cpl);
    EXPECT_TRUE(IsPf(v, f.ec, pg.va()));
    // The walk completed: every entry used, leaf included, may have A; none gets D.
    EXPECT_EQ(to_vec(v.optional_writes), a_updates(pg, pg.e.size())) << describe(v);
    for (const Write& w : v.optional_writes) EXPECT_EQ(w.value & D, pg.w.get(w.addr) & D);
  }
}

// ---- mmu::accepts --------------------------------------------------------------

Outcome with_writes(Outcome o, std::initializer_list<Write> ws) {
  o.writes.clear();
  for (const Write& w : ws) o.writes.push(w);
  return o;
}

TEST(Accepts, OkOutcomeNeedsExactlyTheRequiredWritesInOrder) {
  Page pg(PagingMode::level4, P | RW | US);
  const Verdict v = pg.run(AccessKind::write, 3);
  ASSERT_EQ(v.outcome.writes.size(), 4u);
  const Write w0 = v.outcome.writes[0], w1 = v.outcome.writes[1], w2 = v.outcome.writes[2], w3 = v.outcome.writes[3];
  EXPECT_TRUE(mmu::accepts(v, v.outcome));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {w0, w1, w2})));          // missing D/A on the leaf
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {w1, w0, w2, w3})));      // reordered
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {w0, w1, w2, w3, w3})));  // repeated
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {w0, w1, w2, gw(w3.addr, w3.value & ~D)})));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {})));
  Outcome other = v.outcome;
  other.pa ^= 0x1000;
  EXPECT_FALSE(mmu::accepts(v, other));
  other = v.outcome;
  other.page_size = M2;
  EXPECT_FALSE(mmu::accepts(v, other));
  other = v.outcome;
  other.kind = OutcomeKind::page_fault;
  EXPECT_FALSE(mmu::accepts(v, other));
}

TEST(Accepts, FaultAcceptsAnySubsetOfOptionalAWrites) {
  Page pg(PagingMode::level4, RW | US);  // PTE not present: PML4E, PDPTE, PDE optional
  const Verdict v = pg.run(AccessKind::write, 3);
  ASSERT_TRUE(IsPf(v, pferr::W | pferr::U, pg.va()));
  ASSERT_EQ(v.optional_writes.size(), 3u);
  const Write o0 = v.optional_writes[0], o1 = v.optional_writes[1], o2 = v.optional_writes[2];
  EXPECT_TRUE(mmu::accepts(v, v.outcome));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {o0, o1, o2})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {o0})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {o1})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {o0, o2})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {o2, o1, o0})));  // a subset is a set: order free
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {o0, o0})));      // each at most once
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {gw(o2.addr, o2.value | D)})));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {gw(pg.leaf(), pg.w.get(pg.leaf()) | A)})));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {Write{mmu::Space::ept, o0.addr, o0.value}})));
  Outcome other = v.outcome;
  other.error_code |= pferr::P;
  EXPECT_FALSE(mmu::accepts(v, other));
  other = v.outcome;
  other.cr2 ^= 1;
  EXPECT_FALSE(mmu::accepts(v, other));
  other = v.outcome;
  other.kind = OutcomeKind::general_protection;
  EXPECT_FALSE(mmu::accepts(v, other));
}

TEST(Accepts, RequiredWritesInterleaveWithOptionalOnes) {
  Verdict v;
  v.outcome.kind = OutcomeKind::ok;
  v.outcome.pa = 0x5000;
  v.outcome.page_size = 4096;
  const Write r1 = gw(0x1000, 0x2027), r2 = gw(0x2000, 0x3067), o1 = gw(0x4000, 0x21);
  v.outcome.writes.push(r1);
  v.outcome.writes.push(r2);
  v.optional_writes.push(o1);
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {r1, r2})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {o1, r1, r2})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {r1, o1, r2})));
  EXPECT_TRUE(mmu::accepts(v, with_writes(v.outcome, {r1, r2, o1})));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {r2, r1})));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {r1, o1})));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {r1, o1, o1, r2})));
}

TEST(Accepts, GeneralProtectionComparesTheReason) {
  Walk w(PagingMode::level4);
  w.access(0x8000'0000'0000'0000);
  const Verdict v = w.run();
  ASSERT_TRUE(IsGp(v, GpReason::non_canonical));
  EXPECT_TRUE(mmu::accepts(v, v.outcome));
  Outcome other = v.outcome;
  other.gp_reason = GpReason::pdpte_reserved;
  EXPECT_FALSE(mmu::accepts(v, other));
  EXPECT_FALSE(mmu::accepts(v, with_writes(v.outcome, {gw(0x1000, 0x21)})));
}

}  // namespace
}  // namespace mmutest
