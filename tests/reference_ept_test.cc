// EPT and nested walks (SDM vol. 3C 29.3, Table 28-7): each test names the
// rule it checks and fails when that rule is wrong.
#include <gtest/gtest.h>

#include "model/builder.h"
#include "model/reference.h"
#include "model/validate.h"

namespace {

using namespace mmu;

constexpr u64 R = 1, W = 2, X = 4, RWX = 7, WB = 6 << 3, EA = bit(8), ED = bit(9), XU = bit(10), PS = bit(7);
constexpr u64 kRoot = 0x5000;

// Guest paging off: the access address is the guest-physical address.
Case pure_ept(u64 gpa, AccessKind kind, std::initializer_list<EptFeature> features = {}, bool ad = false) {
  Case c;
  c.cpu.cr0 = cr0::PE | cr0::ET;
  c.cpu.maxphyaddr = 46;
  c.access = {gpa, kind, false, false};
  EptState e;
  e.eptp = kRoot | eptp::WB | eptp::WALK4 | (ad ? eptp::AD : 0);
  for (EptFeature f : features) e.features.add(f);
  c.ept = e;
  return c;
}

Verdict eval(const Case& c) {
  auto err = validate(c);
  EXPECT_FALSE(err) << (err ? err->field + ": " + err->message : "");
  return reference::evaluate(c);
}

u64 qual(const Verdict& v) {
  EXPECT_EQ(v.outcome.kind, OutcomeKind::ept_violation);
  return v.outcome.qualification;
}

constexpr u64 kGpa = 0x3234;

TEST(EptTranslate, FourKilobytePage_3C_29_3_2) {
  Case c = pure_ept(kGpa, AccessKind::read);
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | WB, 1, {RWX, RWX, RWX});
  Verdict v = eval(c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  EXPECT_EQ(v.outcome.pa, 0x9234u);
  EXPECT_EQ(v.outcome.gpa, kGpa);
  EXPECT_EQ(v.outcome.page_size, 4096u);
  EXPECT_EQ(v.outcome.ept_page_size, 4096u);
  EXPECT_TRUE(v.outcome.writes.empty()) << "no EPT A/D without EPTP bit 6";
}

TEST(EptTranslate, LargePagesNeedTheCapability_3C_29_3_2) {
  const u64 gpa = 0x40123456;  // 1-GByte frame 1
  Case c = pure_ept(gpa, AccessKind::read, {EptFeature::pages_1g});
  EptChainBuilder(*c.ept).map(gpa, 0x80000000 | PS | RWX | WB, 3, {RWX});
  Verdict v = eval(c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  EXPECT_EQ(v.outcome.pa, 0x80123456u);
  EXPECT_EQ(v.outcome.ept_page_size, u64{1} << 30);
  c.ept->features.remove(EptFeature::pages_1g);
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ept_misconfig) << "ept.rsvd-ps";

  Case d = pure_ept(gpa, AccessKind::read, {EptFeature::pages_2m});
  EptChainBuilder(*d.ept).map(gpa, 0x80000000 | PS | RWX | WB, 2, {RWX, RWX});
  v = eval(d);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  EXPECT_EQ(v.outcome.pa, 0x80003456u | (gpa & 0x1fffff));
  EXPECT_EQ(v.outcome.ept_page_size, u64{2} << 20);
  d.ept->features.remove(EptFeature::pages_2m);
  EXPECT_EQ(eval(d).outcome.kind, OutcomeKind::ept_misconfig);
}

TEST(EptTranslate, FiveLevelEpt) {
  const u64 gpa = (u64{1} << 48) | kGpa;
  Case c = pure_ept(gpa, AccessKind::read, {EptFeature::level5});
  c.cpu.maxphyaddr = 52;
  c.cpu.cr0 |= cr0::PG;  // 4-level guest would need long mode; use a 5-level guest? keep paging off:
  c.cpu.cr0 &= ~cr0::PG;
  c.access.addr = kGpa;  // guest paging off: addresses are 32 bits
  c.ept->eptp = kRoot | eptp::WB | eptp::WALK5;
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | WB, 1, {RWX, RWX, RWX, RWX});
  Verdict v = eval(c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  EXPECT_EQ(v.outcome.pa, 0x9234u);
  c.ept->features.remove(EptFeature::level5);
  ASSERT_TRUE(validate(c));
  EXPECT_EQ(validate(c)->field, "ept.eptp");
}

TEST(EptNotPresent, EachLevelClearsTheRightsBits_3C_Table_28_7) {
  for (unsigned missing = 1; missing <= 4; ++missing) {
    Case c = pure_ept(kGpa, AccessKind::write);
    auto addrs = EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | WB, 1, {RWX, RWX, RWX});
    c.ept->memory.set(addrs[4 - missing], 0);
    Verdict v = eval(c);
    EXPECT_EQ(qual(v), eptq::WRITE | eptq::GLA_VALID | eptq::TRANSLATED) << "level " << missing;
    EXPECT_EQ(v.outcome.gpa, kGpa);
    EXPECT_EQ(v.outcome.gla, kGpa);
  }
}

TEST(EptMisconfig, WriteWithoutRead_3C_29_3_3_1) {
  for (u64 xwr : {u64{2}, u64{6}}) {
    Case c = pure_ept(kGpa, AccessKind::read);
    EptChainBuilder(*c.ept).map(kGpa, 0x9000 | xwr | WB, 1, {RWX, RWX, RWX});
    Verdict v = eval(c);
    EXPECT_EQ(v.outcome.kind, OutcomeKind::ept_misconfig) << xwr;
    EXPECT_EQ(v.outcome.gpa, kGpa);
  }
}

TEST(EptMisconfig, ExecuteOnlyNeedsTheCapability_3C_29_3_3_1) {
  Case c = pure_ept(kGpa, AccessKind::fetch);
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | X | WB, 1, {RWX, RWX, RWX});
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ept_misconfig);
  c.ept->features.add(EptFeature::exec_only);
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ok);
  c.access.kind = AccessKind::read;  // execute-only: reads violate, with X reported
  EXPECT_EQ(qual(eval(c)), eptq::READ | eptq::EXECUTABLE | eptq::GLA_VALID | eptq::TRANSLATED);
}

TEST(EptMisconfig, UserExecuteOnlyUnderMbec) {
  Case c = pure_ept(kGpa, AccessKind::read, {EptFeature::mbec});
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | XU | WB, 1, {RWX | XU, RWX | XU, RWX | XU});
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ept_misconfig) << "XU-only is execute-only";
  c.ept->features.add(EptFeature::exec_only);
  EXPECT_EQ(qual(eval(c)), eptq::READ | eptq::USER_EXECUTABLE | eptq::GLA_VALID | eptq::TRANSLATED);
  c.ept->features.remove(EptFeature::mbec);
  EXPECT_EQ(qual(eval(c)), eptq::READ | eptq::GLA_VALID | eptq::TRANSLATED) << "without MBEC bit 10 is ignored: not present";
}

TEST(EptMisconfig, ReservedBitsPerLevel_3C_29_3_2) {
  struct Case_ { unsigned level; u64 bad; };
  const Case_ cases[] = {{4, bit(3)}, {4, bit(7)}, {3, bit(6)}, {2, bit(3)}, {4, bit(46)}, {1, bit(51)}, {3, bit(50)}};
  for (const auto& k : cases) {
    Case c = pure_ept(kGpa, AccessKind::read);
    auto addrs = EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | WB, 1, {RWX, RWX, RWX});
    const u64 at = addrs[4 - k.level];
    c.ept->memory.set(at, c.ept->memory.read(at) | k.bad);
    EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ept_misconfig) << "level " << k.level << " bit " << k.bad;
  }
  // Bits below MAXPHYADDR are address bits, and leaf bits 6:3 are memory type/IPAT, not reserved.
  Case c = pure_ept(kGpa, AccessKind::read);
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | bit(45) | RWX | WB | bit(6), 1, {RWX, RWX, RWX});
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ok);
}

TEST(EptMisconfig, LargePageAlignment_3C_29_3_2) {
  const u64 gpa = 0x40123456;
  Case c = pure_ept(gpa, AccessKind::read, {EptFeature::pages_1g, EptFeature::pages_2m});
  EptChainBuilder(*c.ept).map(gpa, 0x80000000 | bit(12) | PS | RWX | WB, 3, {RWX});
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ept_misconfig);
  Case d = pure_ept(gpa, AccessKind::read, {EptFeature::pages_2m});
  EptChainBuilder(*d.ept).map(gpa, 0x80000000 | bit(20) | PS | RWX | WB, 2, {RWX, RWX});
  EXPECT_EQ(eval(d).outcome.kind, OutcomeKind::ept_misconfig);
}

TEST(EptMisconfig, LeafMemoryType_3C_29_3_3_1) {
  for (u64 mt = 0; mt < 8; ++mt) {
    Case c = pure_ept(kGpa, AccessKind::read);
    EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | (mt << 3), 1, {RWX, RWX, RWX});
    const bool bad = mt == 2 || mt == 3 || mt == 7;
    EXPECT_EQ(eval(c).outcome.kind, bad ? OutcomeKind::ept_misconfig : OutcomeKind::ok) << "memory type " << mt;
  }
}

TEST(EptMisconfig, TakesPrecedenceOverMissingRights) {
  // A read-denied upper level, then a misconfigured leaf: misconfiguration wins,
  // since rights are checked once the walk completes.
  Case c = pure_ept(kGpa, AccessKind::read, {EptFeature::exec_only});
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | (u64{2} << 3), 1, {X, RWX, RWX});
  EXPECT_EQ(eval(c).outcome.kind, OutcomeKind::ept_misconfig);
}

TEST(EptViolation, RightsAreAndedOverLevels_3C_29_3_3_2) {
  struct K { AccessKind kind; u64 upper; u64 leaf; u64 expect; };
  const K ks[] = {
      {AccessKind::write, R | X, RWX, eptq::WRITE | eptq::READABLE | eptq::EXECUTABLE},
      {AccessKind::fetch, RWX, R | W, eptq::FETCH | eptq::READABLE | eptq::WRITABLE},
      {AccessKind::read, RWX, X, eptq::READ | eptq::EXECUTABLE},
  };
  for (const K& k : ks) {
    Case c = pure_ept(kGpa, k.kind, {EptFeature::exec_only});
    EptChainBuilder(*c.ept).map(kGpa, 0x9000 | k.leaf | WB, 1, {RWX, k.upper, RWX});
    EXPECT_EQ(qual(eval(c)), k.expect | eptq::GLA_VALID | eptq::TRANSLATED) << static_cast<int>(k.kind);
  }
}

TEST(EptViolation, UndefinedBitsAreDeclared_3C_Table_28_7) {
  Case c = pure_ept(kGpa, AccessKind::write);
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | R | WB, 1, {RWX, RWX, RWX});
  Verdict v = eval(c);
  EXPECT_EQ(v.qualification_dont_care & eptq::USER_EXECUTABLE, eptq::USER_EXECUTABLE) << "bit 6 without MBEC";
  EXPECT_EQ(v.qualification_dont_care & bits(11, 9), bits(11, 9)) << "bits 11:9 without advanced information";
  Outcome other = v.outcome;
  other.qualification |= eptq::USER_EXECUTABLE;
  EXPECT_TRUE(accepts(v, other));
  other.qualification |= eptq::READABLE ^ eptq::READABLE;  // no-op: READABLE is defined
  other.qualification &= ~eptq::READABLE;
  EXPECT_FALSE(accepts(v, other)) << "bit 3 is defined";
}

TEST(EptAd, AccessedOnEveryEntryDirtyOnLeafForWrites_3C_29_3_5) {
  Case c = pure_ept(kGpa, AccessKind::read, {EptFeature::ad}, /*ad=*/true);
  auto addrs = EptChainBuilder(*c.ept).map(kGpa, 0x9000 | RWX | WB, 1, {RWX, RWX | EA, RWX});
  Verdict v = eval(c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  ASSERT_EQ(v.outcome.writes.size(), 3u) << "the PDPTE already has A";
  EXPECT_EQ(v.outcome.writes[0], (Write{Space::ept, addrs[0], c.ept->memory.read(addrs[0]) | EA}));
  EXPECT_EQ(v.outcome.writes[1], (Write{Space::ept, addrs[2], c.ept->memory.read(addrs[2]) | EA}));
  EXPECT_EQ(v.outcome.writes[2], (Write{Space::ept, addrs[3], c.ept->memory.read(addrs[3]) | EA}));
  c.access.kind = AccessKind::write;
  v = eval(c);
  EXPECT_EQ(v.outcome.writes[2], (Write{Space::ept, addrs[3], c.ept->memory.read(addrs[3]) | EA | ED}));
  c.ept->eptp &= ~eptp::AD;
  EXPECT_TRUE(eval(c).outcome.writes.empty());
}

TEST(EptAd, FaultingTranslationMayOrMayNotSetA) {
  Case c = pure_ept(kGpa, AccessKind::write, {EptFeature::ad}, true);
  EptChainBuilder(*c.ept).map(kGpa, 0x9000 | R | WB, 1, {RWX, RWX, RWX});
  Verdict v = eval(c);
  EXPECT_TRUE(v.outcome.writes.empty());
  EXPECT_EQ(v.optional_writes.size(), 4u);
}

// ---- nested: a 4-level guest under EPT ---------------------------------------

struct Nested {
  Case c;
  std::vector<u64> guest;  // guest entry GPAs, top first
  u64 va = 0x7fff'0000'1234;
};

// Guest tables at GPAs 0x1000.. (ChainBuilder allocates from 0x100000 after the
// top table); EPT identity-maps every page the guest uses, at 4 KiB, RWX.
Nested nested(AccessKind kind, u64 guest_flags = 0x7, std::initializer_list<EptFeature> f = {}, bool ad = false) {
  Nested n;
  n.c = pure_ept(0, kind, f, ad);
  n.c.cpu.cr0 = cr0::PE | cr0::ET | cr0::PG | cr0::WP;
  n.c.cpu.cr4 = cr4::PAE;
  n.c.cpu.efer = efer::LME | efer::LMA;
  n.c.cpu.cpl = 3;
  n.c.access.addr = n.va;
  ChainBuilder b(n.c, 0x1000, 0x2000);
  n.guest = b.map(n.va, 0x7000 | guest_flags, 1, {0x7, 0x7, 0x7});
  EptChainBuilder eb(*n.c.ept);
  for (u64 gpa : {0x1000, 0x2000, 0x3000, 0x4000, 0x7000})
    eb.map(gpa, (0x100000 + gpa) | RWX | WB, 1, {RWX, RWX, RWX});
  return n;
}

u64 ept_leaf_addr(const Case& c, u64 gpa) {
  u64 table = c.ept->eptp & bits(51, 12);
  for (unsigned level = 4; level > 1; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    table = c.ept->memory.read(table + field(gpa, shift + 8, shift) * 8) & bits(51, 12);
  }
  return table + field(gpa, 20, 12) * 8;
}

TEST(Nested, TranslatesEveryGuestAccess_3C_29_3_2) {
  Nested n = nested(AccessKind::read, 0x27);  // leaf A already set
  for (u64 g : n.guest) n.c.memory.set(g, n.c.memory.read(g) | 0x20);
  Verdict v = eval(n.c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  EXPECT_EQ(v.outcome.gpa, 0x7234u);
  EXPECT_EQ(v.outcome.pa, 0x107234u);
  EXPECT_TRUE(v.outcome.writes.empty());
}

TEST(Nested, ViolationOnAGuestPagingStructureRead_3C_Table_28_7_bit8) {
  Nested n = nested(AccessKind::read);
  n.c.ept->memory.set(ept_leaf_addr(n.c, 0x3000), 0);  // the guest PD's page
  Verdict v = eval(n.c);
  EXPECT_EQ(qual(v), eptq::READ | eptq::GLA_VALID) << "bit 8 = 0: a paging-structure access";
  EXPECT_EQ(v.outcome.gpa, n.guest[2]);
  EXPECT_EQ(v.outcome.gla, n.va);
}

TEST(Nested, GuestFaultBeforeFinalAccess) {
  Nested n = nested(AccessKind::write, 0x5);  // guest PTE read-only: user write #PF
  n.c.ept->memory.set(ept_leaf_addr(n.c, 0x7000), 0);  // and the final page not mapped in EPT
  Verdict v = eval(n.c);
  EXPECT_EQ(v.outcome.kind, OutcomeKind::page_fault);
  EXPECT_EQ(v.outcome.error_code, pferr::P | pferr::W | pferr::U);
}

TEST(Nested, FinalAccessViolationCarriesLinearInfo_3C_Table_28_7_bits_9_11) {
  Nested n = nested(AccessKind::write, 0x5, {EptFeature::advinfo});
  n.c.cpu.cpl = 0;
  n.c.cpu.cr0 &= ~cr0::WP;  // supervisor write to a read-only guest page is allowed
  const u64 leaf = ept_leaf_addr(n.c, 0x7000);
  n.c.ept->memory.set(leaf, n.c.ept->memory.read(leaf) & ~W);
  Verdict v = eval(n.c);
  EXPECT_EQ(qual(v), eptq::WRITE | eptq::READABLE | eptq::EXECUTABLE | eptq::GLA_VALID | eptq::TRANSLATED |
                         eptq::USER_LINEAR);
  EXPECT_EQ(v.qualification_dont_care & bits(11, 9), 0u);
  n.c.ept->features.remove(EptFeature::advinfo);
  EXPECT_EQ(eval(n.c).qualification_dont_care & bits(11, 9), bits(11, 9));
}

TEST(Nested, EptAdMakesPagingStructureAccessesWrites_3C_29_3_3_2) {
  Nested n = nested(AccessKind::read, 0x7, {EptFeature::ad}, true);
  const u64 pt_leaf = ept_leaf_addr(n.c, 0x4000);
  n.c.ept->memory.set(pt_leaf, n.c.ept->memory.read(pt_leaf) & ~W);  // guest page table read-only in EPT
  Verdict v = eval(n.c);
  EXPECT_EQ(qual(v), eptq::READ | eptq::WRITE | eptq::READABLE | eptq::EXECUTABLE | eptq::GLA_VALID);
  n.c.ept->eptp &= ~eptp::AD;  // without A/D the read passes; the guest's A update is then a write
  v = eval(n.c);
  EXPECT_EQ(qual(v), eptq::WRITE | eptq::READABLE | eptq::EXECUTABLE | eptq::GLA_VALID);
  EXPECT_EQ(v.qualification_dont_care & eptq::READ, eptq::READ) << "read-modify-write: bit 0 implementation-specific";
  EXPECT_EQ(v.outcome.gpa, n.guest[3]);
}

TEST(Nested, EptAdSetsDirtyForGuestTablePages_3C_29_3_5) {
  Nested n = nested(AccessKind::read, 0x7, {EptFeature::ad}, true);
  Verdict v = eval(n.c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ok);
  const u64 pt_leaf = ept_leaf_addr(n.c, 0x4000), page_leaf = ept_leaf_addr(n.c, 0x7000);
  auto find = [&](u64 addr) -> u64 {
    for (const Write& w : v.outcome.writes)
      if (w.space == Space::ept && w.addr == addr) return w.value;
    return 0;
  };
  EXPECT_EQ(find(pt_leaf) & (EA | ED), EA | ED) << "guest page-table page: accessed as a write";
  EXPECT_EQ(find(page_leaf) & (EA | ED), EA) << "the data page is only read";
  unsigned guest_writes = 0;
  for (const Write& w : v.outcome.writes) guest_writes += w.space == Space::guest;
  EXPECT_EQ(guest_writes, 4u) << "guest A on every level";
}

TEST(Nested, MbecUserExecuteFollowsTheGuestUserBit) {
  for (const bool user_page : {true, false}) {
    Nested n = nested(AccessKind::fetch, user_page ? 0x7 : 0x3, {EptFeature::mbec});
    n.c.cpu.cpl = 0;  // supervisor fetch: SMEP is off, so a user page may be fetched
    // XU must be set at every EPT level (it is ANDed like R/W/X): set it on the
    // upper levels of every chain, and make the data page's leaf R + XU only.
    std::vector<std::pair<u64, u64>> all(n.c.ept->memory.entries().size());
    for (std::size_t i = 0; i < all.size(); ++i)
      all[i] = {n.c.ept->memory.entries()[i].addr, n.c.ept->memory.entries()[i].value};
    for (const auto& [addr, value] : all) n.c.ept->memory.set(addr, value | XU);
    const u64 leaf = ept_leaf_addr(n.c, 0x7000);
    n.c.ept->memory.set(leaf, (n.c.ept->memory.read(leaf) & ~(X | W)) | XU);  // readable, user-execute only
    Verdict v = eval(n.c);
    if (user_page) {
      EXPECT_EQ(v.outcome.kind, OutcomeKind::ok) << "user-mode linear address: XU decides, not CPL";
    } else {
      EXPECT_EQ(qual(v) & (eptq::FETCH | eptq::EXECUTABLE | eptq::USER_EXECUTABLE),
                eptq::FETCH | eptq::USER_EXECUTABLE) << "supervisor-mode linear address: X decides";
    }
  }
}

TEST(Nested, MbecUserExecuteIsAndedOverLevels) {
  Nested n = nested(AccessKind::fetch, 0x7, {EptFeature::mbec});
  std::vector<std::pair<u64, u64>> all;
  for (const auto& e : n.c.ept->memory.entries()) all.emplace_back(e.addr, e.value);
  for (const auto& [addr, value] : all) n.c.ept->memory.set(addr, value | XU);
  ASSERT_EQ(eval(n.c).outcome.kind, OutcomeKind::ok);
  // Clear XU in the EPT PML4E only: the data page's leaf still has it.
  const u64 pml4e = (n.c.ept->eptp & bits(51, 12)) + field(0x7000, 47, 39) * 8;
  n.c.ept->memory.set(pml4e, n.c.ept->memory.read(pml4e) & ~XU);
  Verdict v = eval(n.c);
  ASSERT_EQ(v.outcome.kind, OutcomeKind::ept_violation) << "the first guest-table access already needs nothing but R";
  EXPECT_EQ(v.outcome.gpa, 0x7234u) << "only the user-mode fetch needs XU";
  EXPECT_EQ(qual(v) & (eptq::FETCH | eptq::USER_EXECUTABLE | eptq::EXECUTABLE), eptq::FETCH | eptq::EXECUTABLE);
}

TEST(Nested, PaePdpteLoadIsAReadWithoutLinearAddress_3C_29_3_3_2) {
  Case c = pure_ept(0, AccessKind::read, {EptFeature::ad}, true);
  c.cpu.cr0 = cr0::PE | cr0::ET | cr0::PG;
  c.cpu.cr4 = cr4::PAE;
  c.cpu.cr3 = 0x1000;
  c.access.addr = 0x1234;
  c.memory.set(0x1000, 0x2001);
  EptChainBuilder eb(*c.ept);
  eb.map(0x1000, 0x101000 | R | WB, 1, {RWX, RWX, RWX});  // read-only PDPT page: fine for a load
  Verdict v = eval(c);
  EXPECT_EQ(v.outcome.kind, OutcomeKind::ept_violation) << "the PD at 0x2000 is unmapped";
  EXPECT_EQ(v.outcome.gpa, 0x2000u);
  c.ept->memory.set(ept_leaf_addr(c, 0x1000), 0);  // now the PDPT page itself
  v = eval(c);
  EXPECT_EQ(qual(v), eptq::READ) << "a read, GLA not valid, even with EPT A/D";
  EXPECT_EQ(v.outcome.gpa, 0x1000u);
}

TEST(Nested, OrderOfGuestUpdateAndFinalAccessIsOpen) {
  Nested n = nested(AccessKind::read);
  const u64 pt_leaf = ept_leaf_addr(n.c, 0x4000), page_leaf = ept_leaf_addr(n.c, 0x7000);
  n.c.ept->memory.set(pt_leaf, n.c.ept->memory.read(pt_leaf) & ~W);
  n.c.ept->memory.set(page_leaf, 0);
  Verdict v = eval(n.c);
  EXPECT_EQ(v.outcome.gpa, n.guest[3]) << "A update first";
  ASSERT_EQ(v.alternatives.size(), 1u);
  EXPECT_EQ(v.alternatives[0].outcome.gpa, 0x7234u);
  EXPECT_TRUE(accepts(v, v.alternatives[0].outcome));
}

TEST(Nested, AUpdateWhileWalkingIsAnAlternativeToALaterExit) {
  // EPT A/D off; the PML4 page is read-only in EPT and PML4E.A = 0; the PDPT
  // page is not mapped. Setting A level by level exits at the PML4E's update
  // (a write); setting it at the end exits at the PDPT read.
  Nested n = nested(AccessKind::read);
  const u64 pml4_leaf = ept_leaf_addr(n.c, 0x1000);
  n.c.ept->memory.set(pml4_leaf, n.c.ept->memory.read(pml4_leaf) & ~W);
  n.c.ept->memory.set(ept_leaf_addr(n.c, 0x2000), 0);
  Verdict v = eval(n.c);
  EXPECT_EQ(qual(v), eptq::READ | eptq::GLA_VALID);
  EXPECT_EQ(v.outcome.gpa, n.guest[1]);
  ASSERT_EQ(v.alternatives.size(), 1u);
  const Verdict& alt = v.alternatives[0];
  EXPECT_EQ(alt.outcome.gpa, n.guest[0]);
  EXPECT_EQ(alt.outcome.qualification, eptq::WRITE | eptq::READABLE | eptq::EXECUTABLE | eptq::GLA_VALID);
  EXPECT_TRUE(alt.qualification_dont_care & eptq::READ) << "read-modify-write: bit 0 is implementation-specific";
  Outcome with_read = alt.outcome;
  with_read.qualification |= eptq::READ;  // kvm-unit-tests sees RD|WR on hardware here
  EXPECT_TRUE(accepts(v, with_read));
}

TEST(Nested, GuestDirtyMayPrecedeAFinalAccessViolation) {
  Nested n = nested(AccessKind::write);  // PTE D = 0
  n.c.cpu.cpl = 0;
  const u64 page_leaf = ept_leaf_addr(n.c, 0x7000);
  n.c.ept->memory.set(page_leaf, n.c.ept->memory.read(page_leaf) & ~W);
  Verdict v = eval(n.c);
  EXPECT_EQ(qual(v) & eptq::TRANSLATED, eptq::TRANSLATED);
  Outcome with_d = v.outcome;
  with_d.writes.push({Space::guest, n.guest[3], n.c.memory.read(n.guest[3]) | 0x60});
  EXPECT_TRUE(accepts(v, with_d)) << "the guest's A/D update may come before the final translation";
}

TEST(EptValidate, Eptp) {
  Case c = pure_ept(kGpa, AccessKind::read);
  EXPECT_FALSE(validate(c));
  c.ept->eptp = kRoot | 1 | eptp::WALK4;  // WC is not a valid EPT paging-structure memory type
  EXPECT_TRUE(validate(c));
  c.ept->eptp = kRoot | eptp::WB | (u64{2} << 3);  // 3-level
  EXPECT_TRUE(validate(c));
  c.ept->eptp = kRoot | eptp::WB | eptp::WALK4 | eptp::AD;
  EXPECT_TRUE(validate(c)) << "A/D without the capability";
  c.ept->features.add(EptFeature::ad);
  EXPECT_FALSE(validate(c));
  c.ept->eptp |= bit(10);
  EXPECT_TRUE(validate(c));
}

}  // namespace
