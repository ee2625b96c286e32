// Access rights (SDM vol. 3A 4.6.1) and the page-fault error code (4.7):
// U/S and R/W combined over every paging-structure entry used, CR0.WP,
// execute-disable with EFER.NXE, SMEP, SMAP with EFLAGS.AC / implicit accesses
// / CPL, and the exact error code, including when I/D is reported.
#include <gtest/gtest.h>

#include <string>

#include "model/rules.h"
#include "tests/test_util.h"

namespace mmutest {
namespace {

using mmu::Rule;
using mmu::Trace;
namespace pferr = mmu::pferr;

// ---- U/S and R/W over every level, CR0.WP (4.6.1) --------------------------

struct MatrixParam {
  PagingMode mode;
  unsigned leaf_level;
};

class RightsMatrix : public ::testing::TestWithParam<MatrixParam> {};

// Every combination of U/S and R/W in the entries used (PAE PDPTEs carry
// neither), CR0.WP = 0/1, and each kind of access:
//  - a user-mode address has U/S = 1 in every entry; else it is supervisor-mode;
//  - an address is writable only with R/W = 1 in every entry;
//  - user-mode accesses need a user-mode address; user writes need a writable one;
//  - supervisor writes need a writable address only when CR0.WP = 1;
//  - (no SMEP, SMAP, XD here) supervisor reads and fetches always pass.
// A passing access sets A in each entry and, for writes, D in the leaf (4.8).
TEST_P(RightsMatrix, UserSupervisorAndReadWriteCombineOverAllLevels_CR0WP_SDM_4_6_1) {
  const auto [mode, leaf_level] = GetParam();
  const unsigned top = levels(mode);
  const unsigned first = mode == PagingMode::pae ? 1 : 0;  // index of the first entry with U/S, R/W
  const unsigned n = top - leaf_level + 1 - first;
  const bool id = mode != PagingMode::bit32;  // EFER.NXE = 1 with CR4.PAE = 1
  unsigned mismatches = 0, checked = 0;
  std::string report;
  for (unsigned us = 0; us < (1u << n); ++us) {
    for (unsigned rw = 0; rw < (1u << n); ++rw) {
      for (bool wp : {false, true}) {
        for (AccessKind kind : {AccessKind::read, AccessKind::write, AccessKind::fetch}) {
          for (unsigned cpl : {0u, 3u}) {
            Page pg(mode, P | RW | US, leaf_level);
            if (!wp) pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
            for (unsigned k = 0; k < n; ++k) {
              const u64 addr = pg.e[first + k];
              pg.w.set(addr, (pg.w.get(addr) & ~(US | RW)) | ((us >> k) & 1 ? US : 0) | ((rw >> k) & 1 ? RW : 0));
            }
            const bool user_addr = us == (1u << n) - 1;
            const bool writable = rw == (1u << n) - 1;
            const bool user = cpl == 3, write = kind == AccessKind::write, fetch = kind == AccessKind::fetch;
            bool allowed = true;
            if (user && !user_addr) allowed = false;
            if (write && user && !writable) allowed = false;
            if (write && !user && wp && !writable) allowed = false;
            const u64 ec = pferr::P | (write ? pferr::W : 0) | (user ? pferr::U : 0) | (fetch && id ? pferr::ID : 0);
            const std::vector<Write> writes = pg.ad_writes(write);
            const Verdict v = pg.run(kind, cpl);
            ++checked;
            const auto r = allowed ? IsOk(v, pg.pa(), pg.size(), writes) : IsPf(v, ec, pg.va());
            if (!r) {
              if (++mismatches <= 5)
                report += "US mask " + std::to_string(us) + " RW mask " + std::to_string(rw) + " WP " +
                          std::to_string(wp) + " " + kind_name(kind) + " CPL " + std::to_string(cpl) + ": " +
                          r.message() + "\n";
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << checked << " cases; first ones:\n" << report;
}

std::string matrix_name(const ::testing::TestParamInfo<MatrixParam>& info) {
  const char* m = info.param.mode == PagingMode::bit32    ? "Bit32"
                  : info.param.mode == PagingMode::pae    ? "Pae"
                  : info.param.mode == PagingMode::level4 ? "Level4"
                                                          : "Level5";
  const char* size = info.param.leaf_level == 1 ? "Page4K" : info.param.leaf_level == 2 ? "LargePage" : "Page1G";
  return std::string(m) + size;
}

INSTANTIATE_TEST_SUITE_P(Modes, RightsMatrix,
                         ::testing::Values(MatrixParam{PagingMode::bit32, 1}, MatrixParam{PagingMode::bit32, 2},
                                           MatrixParam{PagingMode::pae, 1}, MatrixParam{PagingMode::pae, 2},
                                           MatrixParam{PagingMode::level4, 1}, MatrixParam{PagingMode::level4, 2},
                                           MatrixParam{PagingMode::level4, 3}, MatrixParam{PagingMode::level5, 1},
                                           MatrixParam{PagingMode::level5, 3}),
                         matrix_name);

TEST(UserSupervisor, UserReadOfSupervisorPageIsP_U_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    Page pg(m, P | RW);  // leaf U/S = 0
    Trace t;
    pg.w.access(pg.va(), AccessKind::read, 3);
    EXPECT_TRUE(IsPf(pg.w.run(&t), pferr::P | pferr::U, pg.va()));
    EXPECT_EQ(t.decided_by, Rule::perm_user_supervisor);
  }
}

TEST(UserSupervisor, UpperLevelUSClearMakesSupervisorAddress_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    Page pg(m, P | RW | US, 1, P | RW);  // U/S = 0 above the leaf
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), pferr::P | pferr::W | pferr::U, pg.va()));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
  }
}

TEST(UserSupervisor, CPL1And2AreSupervisorMode_SDM_4_6) {
  for (unsigned cpl : {0u, 1u, 2u}) {
    SCOPED_TRACE(cpl);
    Page pg(PagingMode::level4, P);  // supervisor, read-only
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, cpl), pg.pa(), 4096));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, cpl), pferr::P | pferr::W, pg.va()));
  }
}

TEST(UserSupervisor, ImplicitAccessAtCPL3IsSupervisorMode_SDM_4_6) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    Page pg(m, P);  // supervisor, read-only
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 3, /*implicit=*/true), pg.pa(), 4096));
    // CR0.WP = 1: a supervisor write to a read-only page faults; U = 0 in the error code.
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3, true), pferr::P | pferr::W, pg.va()));
  }
}

TEST(ReadWrite, UserWriteToReadOnlyFaultsWhateverCR0WP_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    for (bool wp : {true, false}) {
      SCOPED_TRACE(std::string(mode_name(m)) + (wp ? " WP=1" : " WP=0"));
      Page pg(m, P | US);
      if (!wp) pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
      Trace t;
      pg.w.access(pg.va(), AccessKind::write, 3);
      EXPECT_TRUE(IsPf(pg.w.run(&t), pferr::P | pferr::W | pferr::U, pg.va()));
      EXPECT_EQ(t.decided_by, Rule::perm_user_write);
      EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 3), pg.pa(), 4096));
    }
  }
}

TEST(ReadWrite, SupervisorWriteToReadOnlyNeedsCR0WP_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    for (u64 us : {u64{0}, US}) {  // supervisor-mode and user-mode addresses alike
      SCOPED_TRACE(std::string(mode_name(m)) + (us ? " user page" : " supervisor page"));
      Page pg(m, P | us);
      Trace t;
      pg.w.access(pg.va(), AccessKind::write, 0);
      EXPECT_TRUE(IsPf(pg.w.run(&t), pferr::P | pferr::W, pg.va()));
      EXPECT_EQ(t.decided_by, Rule::perm_sup_write_wp);
      pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
      EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096, pg.ad_writes(true)));
    }
  }
}

TEST(ReadWrite, ReadOnlyInAnUpperEntryOnly_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    Page pg(m, P | RW | US, 1, P | US);  // R/W = 0 above the leaf
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), pferr::P | pferr::W | pferr::U, pg.va()));
    EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), pferr::P | pferr::W, pg.va()));
  }
}

TEST(ReadWrite, FetchesIgnoreRW_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    Page pg(m, P | US, 1, P | US);
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 3), pg.pa(), 4096));
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 0), pg.pa(), 4096));
  }
}

// ---- execute-disable (4.6.1) ------------------------------------------------

TEST(ExecuteDisable, XDAtAnyLevelForbidsFetchesWithNXE_SDM_4_6_1) {
  struct Row {
    PagingMode mode;
    unsigned leaf_level;
  };
  for (const Row& r : {Row{PagingMode::pae, 1}, Row{PagingMode::pae, 2}, Row{PagingMode::level4, 1},
                       Row{PagingMode::level4, 2}, Row{PagingMode::level4, 3}, Row{PagingMode::level5, 1}}) {
    const unsigned top = levels(r.mode);
    const unsigned first = r.mode == PagingMode::pae ? 1 : 0;  // PAE PDPTE: bit 63 reserved
    for (unsigned i = first; i <= top - r.leaf_level; ++i) {
      SCOPED_TRACE(std::string(mode_name(r.mode)) + " leaf level " + std::to_string(r.leaf_level) + " XD in entry " +
                   std::to_string(i));
      Page pg(r.mode, P | RW | US, r.leaf_level);
      pg.w.or_bits(pg.e[i], XD);
      Trace t;
      pg.w.access(pg.va(), AccessKind::fetch, 0);
      EXPECT_TRUE(IsPf(pg.w.run(&t), pferr::P | pferr::ID, pg.va()));
      EXPECT_EQ(t.decided_by, Rule::perm_xd);
      EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 3), pferr::P | pferr::U | pferr::ID, pg.va()));
      EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 3), pg.pa(), pg.size()));
      EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), pg.size()));
    }
  }
}

TEST(ExecuteDisable, Bit32PagingHasNoXD_FetchAllowedWithNXE_SDM_4_3_4_6_1) {
  // 32-bit paging has 4-byte entries and no XD bit: with EFER.NXE = 1 fetches
  // are still allowed from any present page (and I/D is not reported).
  Page pg(PagingMode::bit32, P | RW | US);
  pg.w.c.cpu.efer |= mmu::efer::NXE;
  EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 3), pg.pa(), 4096));
  EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 0), pg.pa(), 4096));
  pg.w.set(pg.e.back(), 0);
  EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 3), pferr::U, pg.va()));
}

TEST(ExecuteDisable, XDAndSupervisorPageTogether_SDM_4_7) {
  Page pg(PagingMode::level4, P | RW | XD);
  EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 3), pferr::P | pferr::U | pferr::ID, pg.va()));
}

// ---- SMEP (4.6.1) -----------------------------------------------------------

TEST(Smep, SupervisorFetchFromUserPageFaults_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    SCOPED_TRACE(mode_name(m));
    Page pg(m, P | RW | US);
    pg.w.c.cpu.cr4 |= mmu::cr4::SMEP;
    Trace t;
    pg.w.access(pg.va(), AccessKind::fetch, 0);
    EXPECT_TRUE(IsPf(pg.w.run(&t), pferr::P | pferr::ID, pg.va()));  // SMEP = 1: I/D in every mode
    EXPECT_EQ(t.decided_by, Rule::perm_smep);
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 3), pg.pa(), 4096));  // user fetch: not SMEP's business
    EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));   // data: not SMEP's business
    EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
    pg.w.c.cpu.cr4 &= ~mmu::cr4::SMEP;
    EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 0), pg.pa(), 4096));
  }
}

TEST(Smep, OnlyUserModeAddresses_USClearAtAnyLevelIsSupervisor_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    const unsigned first = m == PagingMode::pae ? 1 : 0;
    for (unsigned i = first; i < levels(m); ++i) {
      SCOPED_TRACE(std::string(mode_name(m)) + " U/S = 0 in entry " + std::to_string(i));
      Page pg(m, P | RW | US);
      pg.w.c.cpu.cr4 |= mmu::cr4::SMEP;
      pg.w.clear_bits(pg.e[i], US);
      EXPECT_TRUE(IsOk(pg.run(AccessKind::fetch, 0), pg.pa(), 4096));
    }
  }
}

TEST(Smep, SMEPAndXDTogether_SDM_4_7) {
  Page pg(PagingMode::level4, P | US | XD);
  pg.w.c.cpu.cr4 |= mmu::cr4::SMEP;
  EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 0), pferr::P | pferr::ID, pg.va()));
}

// ---- SMAP (4.6.1) -----------------------------------------------------------

struct SmapRow {
  AccessKind kind;
  unsigned cpl;
  bool implicit;
  bool ac;
  bool faults;
  u64 ec;
};

// Supervisor-mode data accesses to user-mode addresses with CR4.SMAP = 1:
// explicit ones (CPL < 3) pass only with EFLAGS.AC = 1; implicit ones (any CPL)
// never pass; user-mode accesses (CPL 3, explicit) are not affected.
TEST(Smap, DataAccessToUserPage_ACImplicitAndCPL_SDM_4_6_1) {
  const SmapRow rows[] = {
      {AccessKind::read, 0, false, false, true, pferr::P},
      {AccessKind::write, 0, false, false, true, pferr::P | pferr::W},
      {AccessKind::read, 0, false, true, false, 0},
      {AccessKind::write, 0, false, true, false, 0},
      {AccessKind::read, 1, false, true, false, 0},
      {AccessKind::write, 2, false, true, false, 0},
      {AccessKind::read, 2, false, false, true, pferr::P},
      {AccessKind::read, 0, true, true, true, pferr::P},
      {AccessKind::write, 0, true, true, true, pferr::P | pferr::W},
      {AccessKind::read, 0, true, false, true, pferr::P},
      {AccessKind::read, 3, true, true, true, pferr::P},
      {AccessKind::write, 3, true, false, true, pferr::P | pferr::W},
      {AccessKind::read, 3, false, false, false, 0},
      {AccessKind::write, 3, false, false, false, 0},
      {AccessKind::fetch, 0, false, false, false, 0},  // fetches: SMEP's rule, not SMAP's
  };
  for (PagingMode m : kPagingModes) {
    for (const SmapRow& r : rows) {
      SCOPED_TRACE(std::string(mode_name(m)) + " " + kind_name(r.kind) + " CPL " + std::to_string(r.cpl) +
                   (r.implicit ? " implicit" : " explicit") + (r.ac ? " AC=1" : " AC=0"));
      Page pg(m, P | RW | US);
      pg.w.c.cpu.cr4 |= mmu::cr4::SMAP;
      if (r.ac) pg.w.c.cpu.rflags |= mmu::rflags::AC;
      pg.w.access(pg.va(), r.kind, r.cpl, r.implicit);
      Trace t;
      const Verdict v = pg.w.run(&t);
      if (r.faults) {
        EXPECT_TRUE(IsPf(v, r.ec, pg.va()));
        EXPECT_EQ(t.decided_by, Rule::perm_smap);
      } else {
        EXPECT_TRUE(IsOk(v, pg.pa(), 4096));
      }
      // Without CR4.SMAP every one of these passes.
      pg.w.c.cpu.cr4 &= ~mmu::cr4::SMAP;
      EXPECT_TRUE(IsOk(pg.w.run(), pg.pa(), 4096));
    }
  }
}

TEST(Smap, SupervisorPagesAreNotAffected_SDM_4_6_1) {
  for (PagingMode m : kPagingModes) {
    const unsigned first = m == PagingMode::pae ? 1 : 0;
    for (unsigned i = first; i < levels(m); ++i) {
      SCOPED_TRACE(std::string(mode_name(m)) + " U/S = 0 in entry " + std::to_string(i));
      Page pg(m, P | RW | US);
      pg.w.c.cpu.cr4 |= mmu::cr4::SMAP;
      pg.w.clear_bits(pg.e[i], US);
      EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));
      EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0, true), pg.pa(), 4096));
    }
  }
}

TEST(Smap, ACDoesNotOverrideCR0WPOnReadOnlyUserPage_SDM_4_6_1) {
  Page pg(PagingMode::level4, P | US);
  pg.w.c.cpu.cr4 |= mmu::cr4::SMAP;
  pg.w.c.cpu.rflags |= mmu::rflags::AC;
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), pferr::P | pferr::W, pg.va()));
  pg.w.c.cpu.cr0 &= ~mmu::cr0::WP;
  EXPECT_TRUE(IsOk(pg.run(AccessKind::write, 0), pg.pa(), 4096));
  pg.w.c.cpu.rflags &= ~mmu::rflags::AC;
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), pferr::P | pferr::W, pg.va()));
}

// ---- the I/D flag (4.7) -------------------------------------------------------

// I/D is 1 only for instruction fetches, and only when CR4.SMEP = 1 or
// (CR4.PAE = 1 and IA32_EFER.NXE = 1); for every kind of fault.
TEST(ErrorCodeID, OnlyForFetchesWithSMEPOrPAEAndNXE_SDM_4_7) {
  for (PagingMode m : kPagingModes) {
    for (bool nxe : {false, true}) {
      for (bool smep : {false, true}) {
        const bool id = smep || (m != PagingMode::bit32 && nxe);
        SCOPED_TRACE(std::string(mode_name(m)) + (nxe ? " NXE" : "") + (smep ? " SMEP" : ""));
        auto setup = [&](Page& pg) {
          if (nxe) pg.w.c.cpu.efer |= mmu::efer::NXE;
          else pg.w.c.cpu.efer &= ~mmu::efer::NXE;
          if (smep) pg.w.c.cpu.cr4 |= mmu::cr4::SMEP;
        };
        {  // not present
          Page pg(m, 0);
          setup(pg);
          EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 0), id ? pferr::ID : 0, pg.va()));
          EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 3), pferr::U | (id ? pferr::ID : 0), pg.va()));
          EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 0), 0, pg.va()));
          EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), pferr::W | pferr::U, pg.va()));
        }
        {  // protection: user fetch from a supervisor page
          Page pg(m, P | RW);
          setup(pg);
          EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 3), pferr::P | pferr::U | (id ? pferr::ID : 0), pg.va()));
          EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3), pferr::P | pferr::U, pg.va()));
        }
      }
    }
  }
}

TEST(ErrorCodeID, NeverForDataAccesses_SDM_4_7) {
  Page pg(PagingMode::level4, P | US | XD);
  pg.w.c.cpu.cr4 |= mmu::cr4::SMEP | mmu::cr4::SMAP;
  EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 0), pferr::P, pg.va()));                 // SMAP
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), pferr::P | pferr::W | pferr::U, pg.va()));  // read-only
}

// ---- exact error codes for combined violations (4.7) --------------------------

TEST(ErrorCode, CombinedViolationsGiveOneErrorCode_SDM_4_7) {
  Page pg(PagingMode::level4, P | XD);  // supervisor, read-only, execute-disable
  pg.w.c.cpu.cr4 |= mmu::cr4::SMEP | mmu::cr4::SMAP;
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 3), 0x7, pg.va()));
  EXPECT_TRUE(IsPf(pg.run(AccessKind::read, 3), 0x5, pg.va()));
  EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 3), 0x15, pg.va()));
  EXPECT_TRUE(IsPf(pg.run(AccessKind::fetch, 0), 0x11, pg.va()));
  EXPECT_TRUE(IsPf(pg.run(AccessKind::write, 0), 0x3, pg.va()));
  EXPECT_TRUE(IsOk(pg.run(AccessKind::read, 0), pg.pa(), 4096));
}

}  // namespace
}  // namespace mmutest
