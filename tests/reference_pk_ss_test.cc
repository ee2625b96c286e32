// Protection keys (SDM vol. 3A 4.6.2, error code 4.7) and CET shadow-stack
// accesses (4.6.1 with CR4.CET; Vol. 1 ch. 17 / CET shadow-stack pages).
//
// Protection keys: 4-level and 5-level paging only; the key is bits 62:59 of the
// leaf entry; data accesses only (fetches are exempt). PKRU governs user-mode
// addresses (CR4.PKE), IA32_PKRS supervisor-mode addresses (CR4.PKS).
//   ADi = 1: no data access.
//   WDi = 1: no user-mode write, and no supervisor-mode write when CR0.WP = 1.
// The PK error-code flag is 1 whenever the key forbids the access (4.7), even
// when another rule also forbids it.
//
// Shadow-stack pages: leaf R/W = 0 and D = 1, R/W = 1 in every other entry.
// Shadow-stack accesses need a shadow-stack page of their own privilege.
#include <gtest/gtest.h>

#include <string>

#include "model/rules.h"
#include "tests/test_util.h"

namespace mmutest {
namespace {

using mmu::Rule;
using mmu::Trace;
namespace pferr = mmu::pferr;
namespace cr4 = mmu::cr4;

constexpr u32 ad(unsigned k) { return u32{1} << (2 * k); }
constexpr u32 wd(unsigned k) { return u32{1} << (2 * k + 1); }

constexpr u64 kPK = pferr::P | pferr::PK;

// ---- PKRU on user-mode addresses ------------------------------------------------

TEST(Pku, AccessDisableForbidsEveryDataAccessToUserPage_SDM_4_6_2) {
  for (unsigned key = 0; key < 16; ++key) {
    SCOPED_TRACE("key " + std::to_string(key));
    Page pg(PagingMode::level4, P | RW | US | pkey(key));
    pg.w.c.cpu.cr4 |= cr4::PKE;
    pg.w.c.cpu.pkru = ad(key);
    Trace t;
    pg.w.access(pg.va(), AccessKind::read, 3);
    EXPECT_TRUE(IsPf(pg.w.run(&t), kPK | pferr::U, pg.va()));
    EXPECT_EQ(t.decided_by, Rule::pk_ad);
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), kPK | pferr::U | pferr::W, pg.va()));
    // Supervisor-mode data accesses to user-mode addresses obey PKRU too.
    EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 0), kPK, pg.va()));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), kPK | pferr::W, pg.va()));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3, /*implicit=*/true), kPK, pg.va()));
    // Instruction fetches are not subject to protection keys.
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 3), pg.pa(), 4096));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 0), pg.pa(), 4096));
    // Every other key's bits set, this key's clear: allowed.
    pg.w.c.cpu.pkru = ~(ad(key) | wd(key));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 3), pg.pa(), 4096, pg.ad_writes(true)));
  }
}

TEST(Pku, WriteDisableForbidsUserWrites_SupervisorWritesOnlyWithCR0WP_SDM_4_6_2) {
  for (unsigned key : {0u, 7u, 15u}) {
    SCOPED_TRACE("key " + std::to_string(key));
    Page pg(PagingMode::level4, P | RW | US | pkey(key));
    pg.w.c.cpu.cr4 |= cr4::PKE;
    pg.w.c.cpu.pkru = wd(key);
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 3), pg.pa(), 4096));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));
    Trace t;
    pg.w.access(pg.va(), AccessKind::write, 3);
    EXPECT_TRUE(IsPf(pg.w.run(&t), kPK | pferr::U | pferr::W, pg.va()));
    EXPECT_EQ(t.decided_by, Rule::pk_wd);
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), kPK | pferr::W, pg.va()));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3, true), kPK | pferr::W, pg.va()));
    pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), kPK | pferr::U | pferr::W, pg.va()));  // user: WP irrelevant
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 3, true), pg.pa(), 4096));
  }
}

TEST(Pku, CR4PKEClearIgnoresPKRU_SDM_4_6_2) {
  Page pg(PagingMode::level4, P | RW | US | pkey(9));
  pg.w.c.cpu.pkru = 0xFFFF'FFFF;
  EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 3), pg.pa(), 4096));
  EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));
}

TEST(Pku, PKRUDoesNotGovernSupervisorPages_SDM_4_6_2) {
  for (unsigned i = 0; i < 4; ++i) {  // U/S = 0 at any one level makes a supervisor-mode address
    SCOPED_TRACE(i);
    Page pg(PagingMode::level4, P | RW | US | pkey(1));
    pg.w.c.cpu.cr4 |= cr4::PKE;
    pg.w.c.cpu.pkru = 0xFFFF'FFFF;
    pg.w.clear_bits(pg.e[i], US);
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));
  }
}

TEST(Pku, KeyComesFromTheLeafEntryOnly_SDM_4_6_2) {
  for (unsigned leaf_level : {1u, 2u, 3u}) {
    for (PagingMode m : {PagingMode::level4, PagingMode::level5}) {
      SCOPED_TRACE(std::string(mode_name(m)) + " leaf level " + std::to_string(leaf_level));
      // Upper entries carry key 5 in bits 62:59 (ignored there), the leaf key 2.
      Page pg(m, P | RW | US | pkey(2), leaf_level, P | RW | US | pkey(5));
      pg.w.c.cpu.cr4 |= cr4::PKE;
      pg.w.c.cpu.pkru = ad(5) | wd(5);
      EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 3), pg.pa(), pg.size()));
      pg.w.c.cpu.pkru = ad(2);
      EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3), kPK | pferr::U, pg.va()));
    }
  }
}

TEST(Pku, OnlyIn4LevelAnd5LevelPaging_SDM_4_6_2) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    const bool has_pk = m == PagingMode::level4 || m == PagingMode::level5;
    Page pg(m, P | RW | US);  // key 0 (PAE: bits 62:59 are reserved below M = 59)
    pg.w.c.cpu.cr4 |= cr4::PKE | cr4::PKS;
    pg.w.c.cpu.pkru = 0xFFFF'FFFF;
    pg.w.c.cpu.pkrs = 0xFFFF'FFFF;
    const Verdict v = pg.run(AccessKind::read, 3);
    if (has_pk) EXPECT_TRUE(IsPf(v, kPK | pferr::U, pg.va()));
    else EXPECT_TRUE(IsOk(v, pg.pa(), 4096));
    // Supervisor-mode address under PKS.
    pg.w.clear_bits(pg.leaf(), US);
    const Verdict s = pg.run(AccessKind::read, 0);
    if (has_pk) EXPECT_TRUE(IsPf(s, kPK, pg.va()));
    else EXPECT_TRUE(IsOk(s, pg.pa(), 4096));
  }
}

TEST(Pku, PKFlagAlongsideAnotherViolation_SDM_4_7) {
  struct Row {
    const char* what;
    u64 leaf;      // leaf flags (key 4)
    u32 pkru;
    bool wp;
    AccessKind kind;
    unsigned cpl;
    u64 ec;
  };
  const Row rows[] = {
      {"user write, read-only page, WD", P | US, wd(4), true, AccessKind::write, 3, kPK | pferr::U | pferr::W},
      {"user write, read-only page, WP=0, WD", P | US, wd(4), false, AccessKind::write, 3, kPK | pferr::U | pferr::W},
      {"user write, read-only page, no key bits", P | US, wd(3) | ad(5), true, AccessKind::write, 3,
       pferr::P | pferr::U | pferr::W},
      {"user write, read-only page, AD", P | US, ad(4), true, AccessKind::write, 3, kPK | pferr::U | pferr::W},
      {"supervisor write, read-only user page, WP=1, WD", P | US, wd(4), true, AccessKind::write, 0,
       kPK | pferr::W},
      {"supervisor write, read-only user page, WP=1, AD", P | US, ad(4), true, AccessKind::write, 0,
       kPK | pferr::W},
      {"user fetch, XD page, AD: fetches carry no PK", P | US | XD, ad(4), true, AccessKind::fetch, 3,
       pferr::P | pferr::U | pferr::ID},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.what);
    Page pg(PagingMode::level4, r.leaf | pkey(4));
    pg.w.c.cpu.cr4 |= cr4::PKE;
    pg.w.c.cpu.pkru = r.pkru;
    if (!r.wp) pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
    EXPECT_TRUE(IsPf(pg.run(r.kind, r.cpl), r.ec, pg.va()));
  }
}

TEST(Pku, PKFlagAlongsideSMAP_SDM_4_7) {
  Page pg(PagingMode::level4, P | RW | US | pkey(6));
  pg.w.c.cpu.cr4 |= cr4::PKE | cr4::SMAP;
  pg.w.c.cpu.pkru = ad(6);
  EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 0), kPK, pg.va()));
  pg.w.c.cpu.pkru = 0;
  EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 0), pferr::P, pg.va()));
}

TEST(Pku, NoPKFlagWhenTheWalkDoesNotComplete_SDM_4_7) {
  Page pg(PagingMode::level4, P | RW | US | pkey(4));
  pg.w.c.cpu.cr4 |= cr4::PKE;
  pg.w.c.cpu.pkru = ad(4) | ad(0);
  pg.w.set(pg.leaf(), (P | RW | US | pkey(4)) & ~P);
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), pferr::W | pferr::U, pg.va()));
  pg.w.set(pg.leaf(), 0x5000 | P | RW | US | pkey(4) | bit(50));
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), pferr::P | pferr::RSVD | pferr::W | pferr::U, pg.va()));
}

TEST(Pku, LargePagesCarryTheKeyInTheirLeaf_SDM_4_6_2) {
  for (unsigned leaf_level : {2u, 3u}) {
    SCOPED_TRACE(leaf_level);
    Page pg(PagingMode::level5, P | RW | US | pkey(11), leaf_level);
    pg.w.c.cpu.cr4 |= cr4::PKE;
    pg.w.c.cpu.pkru = wd(11);
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), kPK | pferr::U | pferr::W, pg.va()));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 3), pg.pa(), pg.size()));
  }
}

// ---- IA32_PKRS on supervisor-mode addresses ------------------------------------

TEST(Pks, AccessDisableOnSupervisorPage_SDM_4_6_2) {
  for (unsigned key : {0u, 3u, 15u}) {
    SCOPED_TRACE("key " + std::to_string(key));
    Page pg(PagingMode::level4, P | RW | pkey(key));  // supervisor-mode address
    pg.w.c.cpu.cr4 |= cr4::PKS;
    pg.w.c.cpu.pkrs = ad(key);
    Trace t;
    pg.w.access(pg.va(), AccessKind::read, 0);
    EXPECT_TRUE(IsPf(pg.w.run(&t), kPK, pg.va()));
    EXPECT_EQ(t.decided_by, Rule::pk_ad);
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), kPK | pferr::W, pg.va()));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3, true), kPK, pg.va()));
    // A user access to a supervisor page is already forbidden; the key adds PK.
    EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3), kPK | pferr::U, pg.va()));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 0), pg.pa(), 4096));
    pg.w.c.cpu.pkrs = ~(ad(key) | wd(key));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3), pferr::P | pferr::U, pg.va()));
  }
}

TEST(Pks, WriteDisableOnSupervisorPageNeedsCR0WP_SDM_4_6_2) {
  Page pg(PagingMode::level4, P | RW | pkey(8));
  pg.w.c.cpu.cr4 |= cr4::PKS;
  pg.w.c.cpu.pkrs = wd(8);
  EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));
  Trace t;
  pg.w.access(pg.va(), AccessKind::write, 0);
  EXPECT_TRUE(IsPf(pg.w.run(&t), kPK | pferr::W, pg.va()));
  EXPECT_EQ(t.decided_by, Rule::pk_wd);
  // A user write is a user-mode access: WD applies whatever CR0.WP.
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), kPK | pferr::U | pferr::W, pg.va()));
  pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
  EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), kPK | pferr::U | pferr::W, pg.va()));
}

TEST(Pks, EachRegisterGovernsItsOwnAddresses_SDM_4_6_2) {
  // PKRS never applies to user-mode addresses, PKRU never to supervisor-mode ones.
  Page user(PagingMode::level4, P | RW | US | pkey(1));
  user.w.c.cpu.cr4 |= cr4::PKS | cr4::PKE;
  user.w.c.cpu.pkrs = 0xFFFF'FFFF;
  EXPECT_TRUE(IsOk(user.run(AccessKind::write, 3), user.pa(), 4096));
  Page sup(PagingMode::level4, P | RW | pkey(1));
  sup.w.c.cpu.cr4 |= cr4::PKS | cr4::PKE;
  sup.w.c.cpu.pkru = 0xFFFF'FFFF;
  EXPECT_TRUE(IsOk(sup.run(AccessKind::write, 0), sup.pa(), 4096));
  // CR4.PKS = 0: IA32_PKRS ignored.
  sup.w.c.cpu.cr4 &= ~cr4::PKS;
  sup.w.c.cpu.pkrs = 0xFFFF'FFFF;
  EXPECT_TRUE(IsOk(sup.run(AccessKind::write, 0), sup.pa(), 4096));
}

TEST(Pks, SupervisorAddressViaUpperLevelUSClear_SDM_4_6_2) {
  Page pg(PagingMode::level4, P | RW | US | pkey(2), 1, P | RW);  // leaf U/S = 1, upper U/S = 0
  pg.w.c.cpu.cr4 |= cr4::PKS | cr4::PKE;
  pg.w.c.cpu.pkrs = ad(2);
  EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 0), kPK, pg.va()));
}

// ---- CET shadow-stack accesses ---------------------------------------------------

constexpr u64 kSsLeaf = P | D;  // R/W = 0, D = 1

struct SsPage : Page {
  SsPage(PagingMode mode, u64 leaf_flags, unsigned level = 1, u64 upper = P | RW | US)
      : Page(mode, leaf_flags, level, upper) {
    w.c.cpu.cr4 |= cr4::CET;  // requires CR0.WP = 1 (make_case sets it) and CPUID shstk
  }
  Verdict ss(AccessKind k, unsigned cpl) { return run(k, cpl, false, true); }
};

TEST(ShadowStack, AccessToShadowStackPageOfOwnPrivilege_SDM_4_6_1_CET) {
  for (PagingMode m : kPagingModes) {
    for (unsigned cpl : {0u, 3u}) {
      SCOPED_TRACE(std::string(mode_name(m)) + " CPL " + std::to_string(cpl));
      SsPage pg(m, kSsLeaf | (cpl == 3 ? US : 0));
      Trace t;
      pg.w.access(pg.va(), AccessKind::write, cpl, false, true);
      // R/W = 0 in the leaf does not stop shadow-stack writes; D is already 1.
      EXPECT_TRUE(IsOk(pg.w.run(&t), pg.pa(), 4096, pg.ad_writes(true)));
      EXPECT_EQ(t.decided_by, Rule::access_ok);
      EXPECT_TRUE(IsOk(pg.ss(AccessKind::read, cpl), pg.pa(), 4096, pg.ad_writes(false)));
    }
  }
}

TEST(ShadowStack, LargeShadowStackPages_SDM_4_6_1_CET) {
  for (unsigned leaf_level : {2u, 3u}) {
    SCOPED_TRACE(leaf_level);
    SsPage pg(PagingMode::level4, kSsLeaf | US, leaf_level);
    EXPECT_TRUE(IsOk(pg.ss(AccessKind::write, 3), pg.pa(), pg.size()));
  }
}

TEST(ShadowStack, NonShadowStackPagesFault_SDM_4_6_1_CET) {
  struct Row {
    const char* what;
    u64 leaf;
  };
  for (PagingMode m : kPagingModes) {
    for (const Row& r : {Row{"writable leaf", P | RW | D}, Row{"read-only leaf with D = 0", P},
                         Row{"writable leaf with D = 0", P | RW}}) {
      for (unsigned cpl : {0u, 3u}) {
        for (AccessKind k : {AccessKind::read, AccessKind::write}) {
          SCOPED_TRACE(std::string(mode_name(m)) + " " + r.what + " CPL " + std::to_string(cpl) + " " + kind_name(k));
          SsPage pg(m, r.leaf | (cpl == 3 ? US : 0));
          Trace t;
          pg.w.access(pg.va(), k, cpl, false, true);
          const u64 ec = pferr::P | pferr::SS | (cpl == 3 ? pferr::U : 0) | (k == AccessKind::write ? pferr::W : 0);
          EXPECT_TRUE(IsPf(pg.w.run(&t), ec, pg.va()));
          EXPECT_EQ(t.decided_by, Rule::perm_ss_page);
        }
      }
    }
  }
}

TEST(ShadowStack, ReadOnlyUpperEntryIsNotAShadowStackPage_SDM_4_6_1_CET) {
  for (PagingMode m : kPagingModes) {
    const unsigned first = m == PagingMode::pae ? 1 : 0;  // PAE PDPTEs have no R/W
    for (unsigned i = first; i + 1 < levels(m); ++i) {
      SCOPED_TRACE(std::string(mode_name(m)) + " R/W = 0 in entry " + std::to_string(i));
      SsPage pg(m, kSsLeaf);
      pg.w.clear_bits(pg.e[i], RW);
      EXPECT_TRUE(IsPf(pg.ss(AccessKind::write, 0), pferr::P | pferr::W | pferr::SS, pg.va()));
      EXPECT_TRUE(IsPf(pg.ss(AccessKind::read, 0), pferr::P | pferr::SS, pg.va()));
    }
  }
}

TEST(ShadowStack, PrivilegeMismatchFaults_EvenWithSMAPOffOrAC_SDM_4_6_1_CET) {
  for (PagingMode m : kPagingModes) {
    for (bool ac : {false, true}) {
      SCOPED_TRACE(std::string(mode_name(m)) + (ac ? " AC=1" : " AC=0"));
      {  // supervisor shadow-stack access to a user shadow-stack page
        SsPage pg(m, kSsLeaf | US);
        if (ac) pg.w.c.cpu.rflags |= mmu::rflags::AC;
        Trace t;
        pg.w.access(pg.va(), AccessKind::write, 0, false, true);
        EXPECT_TRUE(IsPf(pg.w.run(&t), pferr::P | pferr::W | pferr::SS, pg.va()));
        EXPECT_EQ(t.decided_by, Rule::perm_ss_mode);
        EXPECT_TRUE(IsPf(pg.ss(AccessKind::read, 0), pferr::P | pferr::SS, pg.va()));
      }
      {  // user shadow-stack access to a supervisor shadow-stack page
        SsPage pg(m, kSsLeaf);
        if (ac) pg.w.c.cpu.rflags |= mmu::rflags::AC;
        EXPECT_TRUE(IsPf(pg.ss(AccessKind::write, 3), pferr::P | pferr::W | pferr::U | pferr::SS, pg.va()));
        EXPECT_TRUE(IsPf(pg.ss(AccessKind::read, 3), pferr::P | pferr::U | pferr::SS, pg.va()));
      }
    }
  }
}

TEST(ShadowStack, OrdinaryAccessesSeeAShadowStackPageAsReadOnly_SDM_4_6_1_CET) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    SsPage user(m, kSsLeaf | US);
    EXPECT_TRUE(IsOk(user.run(AccessKind::read, 3), user.pa(), 4096));
    EXPECT_TRUE(IsPf(user.run(AccessKind::write, 3), pferr::P | pferr::W | pferr::U, user.va()));
    SsPage sup(m, kSsLeaf);
    EXPECT_TRUE(IsOk(sup.run(AccessKind::read, 0), sup.pa(), 4096));
    EXPECT_TRUE(IsPf(sup.run(AccessKind::write, 0), pferr::P | pferr::W, sup.va()));  // CR0.WP = 1 under CET
  }
}

TEST(ShadowStack, NotPresentReportsSS_SDM_4_7) {
  SsPage pg(PagingMode::level4, 0);
  EXPECT_TRUE(IsPf(pg.ss(AccessKind::write, 0), pferr::W | pferr::SS, pg.va()));
  EXPECT_TRUE(IsPf(pg.ss(AccessKind::read, 3), pferr::U | pferr::SS, pg.va()));
}

TEST(ShadowStack, XDDoesNotApplyToShadowStackAccesses_SDM_4_6_1_CET) {
  SsPage pg(PagingMode::level4, kSsLeaf | US | XD);
  EXPECT_TRUE(IsOk(pg.ss(AccessKind::write, 3), pg.pa(), 4096));
}

TEST(ShadowStack, ProtectionKeyADAppliesWDDoesNot_SDM_4_6_2_CET) {
  {
    SsPage pg(PagingMode::level4, kSsLeaf | US | pkey(7));
    pg.w.c.cpu.cr4 |= cr4::PKE;
    pg.w.c.cpu.pkru = wd(7);
    EXPECT_TRUE(IsOk(pg.ss(AccessKind::write, 3), pg.pa(), 4096));
    pg.w.c.cpu.pkru = ad(7);
    EXPECT_TRUE(IsPf(pg.ss(AccessKind::read, 3), kPK | pferr::U | pferr::SS, pg.va()));
    EXPECT_TRUE(IsPf(pg.ss(AccessKind::write, 3), kPK | pferr::U | pferr::W | pferr::SS, pg.va()));
  }
  {
    SsPage pg(PagingMode::level4, kSsLeaf | pkey(7));
    pg.w.c.cpu.cr4 |= cr4::PKS;
    pg.w.c.cpu.pkrs = wd(7);
    EXPECT_TRUE(IsOk(pg.ss(AccessKind::write, 0), pg.pa(), 4096));
    pg.w.c.cpu.pkrs = ad(7);
    EXPECT_TRUE(IsPf(pg.ss(AccessKind::write, 0), kPK | pferr::W | pferr::SS, pg.va()));
  }
}

}  // namespace
}  // namespace mmutest
