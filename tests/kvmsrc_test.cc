// kvm-src: KVM's own functions, compiled from the build's Linux tree
// (kvmsrc/), against the kvm engine that re-implements them (model/kvm).
//  - the tables for every guest-paging role and every nested-EPT role are
//    equal, or differ exactly as docs/kvm-src.md ("Differences from the kvm
//    engine") explains, and each explained difference still occurs;
//  - the kernel's is_last_gpte, PSE-36 delta and permission_fault() give the
//    kvm engine's answers on their whole input domain (on the kernel's tables);
//  - mmucheck prove on kvm-src: every theorem proved but the findings listed
//    in docs/kvm-src.md, each replaying as the known divergence;
//  - no kernel WARN_ON fires.
// Without a tree (kvm-src absent) the tests are skipped, except when the build
// was configured from Debian's tarball (the default): then kvm-src must be there.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "kvmsrc/kvmsrc.h"
#include "model/kvm/kvm_mmu.h"
#include "replay/case_reader.h"
#include "replay/engine.h"
#include "replay/known.h"
#include "smt/prove.h"

namespace {

using mmu::u64;
using mmu::kvm::CpuRole;
using mmu::kvm::EptRole;

#define REQUIRE_KVMSRC()                                                                       \
  do {                                                                                         \
    if (!mmu::kvmsrc::status().available) GTEST_SKIP() << mmu::kvmsrc::status().reason;       \
  } while (0)

TEST(KvmSrc, BuiltWhereDebianKernelSourceIsInstalled) {
  const auto& s = mmu::kvmsrc::status();
  // Configured from the default tarball (ci/setup installs it): it must fit.
  // A tree named with -DMMUCHECK_KERNEL_SRC may not: then the build warned.
  if (s.default_tarball) {
    EXPECT_TRUE(s.available) << "kvm-src is absent although configured from the default tarball: " << s.reason;
  }
  if (s.available) {
    EXPECT_FALSE(s.version.empty());
    EXPECT_NE(s.kernel_functions.find("update_permission_bitmask"), std::string_view::npos);
    EXPECT_NE(s.kernel_functions.find("permission_fault"), std::string_view::npos);
    ASSERT_TRUE(mmucheck::make_engine("kvm-src"));
  } else {
    EXPECT_FALSE(mmucheck::make_engine("kvm-src"));
    EXPECT_FALSE(mmucheck::absent_engines().empty());
  }
}

// Every guest-paging role: paging off, 32-bit, PAE, 4-level, 5-level; EFER.NXE,
// CR0.WP, CR4.PSE/SMEP/SMAP/PKE; vendor, CPUID 1-GByte pages and PSE-36;
// MAXPHYADDR 32..52.
std::vector<CpuRole> all_roles() {
  std::vector<CpuRole> roles;
  for (unsigned mode = 0; mode < 5; ++mode)
    for (unsigned bits = 0; bits < 512; ++bits)
      for (unsigned m = 32; m <= 52; ++m) {
        mmu::CpuState c;
        c.cr0 = mmu::cr0::PE | (mode ? mmu::cr0::PG : 0) | ((bits & 2) ? mmu::cr0::WP : 0);
        c.cr4 = (mode >= 2 ? mmu::cr4::PAE : 0) | (mode == 4 ? mmu::cr4::LA57 : 0) | ((bits & 4) ? mmu::cr4::PSE : 0) |
                ((bits & 8) ? mmu::cr4::SMEP : 0) | ((bits & 16) ? mmu::cr4::SMAP : 0) | ((bits & 32) ? mmu::cr4::PKE : 0);
        c.efer = ((bits & 1) ? mmu::efer::NXE : 0) | (mode >= 3 ? mmu::efer::LME | mmu::efer::LMA : 0);
        c.vendor = (bits & 64) ? mmu::Vendor::amd : mmu::Vendor::intel;
        c.features = {};
        if (bits & 128) c.features.add(mmu::Feature::pdpe1gb);
        if (bits & 256) c.features.add(mmu::Feature::pse36);
        c.maxphyaddr = m;
        roles.push_back(mmu::kvm::cpu_role(c));
      }
  return roles;
}

std::vector<EptRole> all_ept_roles() {
  std::vector<EptRole> roles;
  for (unsigned level : {4u, 5u})
    for (unsigned bits = 0; bits < 32; ++bits)
      for (unsigned m = 32; m <= 52; ++m) {
        EptRole r;
        r.level = level;
        r.ad = bits & 1;
        r.exec_only = bits & 2;
        r.mbec = bits & 4;
        r.pages_2m = bits & 8;
        r.pages_1g = bits & 16;
        r.maxphyaddr = m;
        roles.push_back(r);
      }
  return roles;
}

std::string describe(const CpuRole& r) {
  return "level " + std::to_string(r.level) + (r.efer_nx ? " nx" : "") + (r.cr0_wp ? " wp" : "") +
         (r.cr4_pse ? " pse" : "") + (r.cr4_smep ? " smep" : "") + (r.cr4_smap ? " smap" : "") +
         (r.cr4_pke ? " pke" : "") + (r.amd ? " amd" : "") + (r.gbpages ? " 1g" : "") + (r.pse36 ? " pse36" : "") +
         " M=" + std::to_string(r.maxphyaddr);
}

// The documented differences (docs/kvm-src.md, "Differences from the kvm
// engine"), each recognised exactly. Returns its id, or "" when unexplained.
std::string explain(const CpuRole& r, const std::string& field, u64 kernel, u64 ours, bool tdp) {
  // tdp-gbpages-from-host (kvm-src-tdp): guest_can_use_gbpages() asks the host.
  if (tdp && r.level >= 4 && !r.gbpages && (field == "rsvd[0][2]" || field == "rsvd[1][2]") &&
      kernel == (ours & ~mmu::bit(7)) && kernel != ours)
    return "tdp-gbpages-from-host";
  // pse36-always: 6.1's is_cpuid_PSE36() returns 1.
  if (field == "rsvd[1][1]" && r.level == 2 && r.cr4_pse && !r.pse36 && kernel == mmu::bits(21, 17) &&
      ours == mmu::bits(21, 13))
    return "pse36-always";
  // pae-pdpte-mask-in-walk-table: the kernel keeps the PDPTE load mask in
  // [0][2] too; the kvm engine only in pdptr_rsvd. The walk never reads [0][2] in PAE.
  if (field == "rsvd[0][2]" && r.level == 3 && kernel == (ours | mmu::bits(8, 5) | mmu::bits(2, 1)))
    return "pae-pdpte-mask-in-walk-table";
  // paging-off-no-tables: reset_guest_paging_metadata() builds nothing with
  // CR0.PG = 0; the kvm engine builds permissions anyway. Nothing reads them.
  if (r.level == 0 && field.starts_with("permissions") && kernel == 0) return "paging-off-no-tables";
  return "";
}

class KvmSrcTables : public testing::TestWithParam<bool> {};

TEST_P(KvmSrcTables, EqualTheKvmEngineForEveryRoleOrDifferAsDocumented) {
  REQUIRE_KVMSRC();
  const bool tdp = GetParam();
  const auto src = mmu::kvmsrc::make_algorithm(tdp);
  const mmu::kvm::MmuAlgorithm ours;
  std::map<std::string, unsigned> explained;
  unsigned unexplained = 0, roles = 0;
  for (const CpuRole& r : all_roles()) {
    ++roles;
    const auto k = src->build(r), o = ours.build(r);
    auto check = [&](const std::string& field, u64 kv, u64 ov) {
      if (kv == ov) return;
      const std::string why = explain(r, field, kv, ov, tdp);
      if (why.empty()) {
        if (++unexplained <= 10)
          ADD_FAILURE() << describe(r) << ": " << field << " kernel " << std::hex << kv << " kvm engine " << ov;
      } else {
        ++explained[why];
      }
    };
    for (unsigned i = 0; i < 16; ++i) check("permissions[" + std::to_string(i) + "]", k.permissions[i], o.permissions[i]);
    check("pkru_mask", k.pkru_mask, o.pkru_mask);
    for (unsigned ps = 0; ps < 2; ++ps)
      for (unsigned l = 0; l < 5; ++l)
        check("rsvd[" + std::to_string(ps) + "][" + std::to_string(l) + "]", k.rsvd_bits_mask[ps][l],
              o.rsvd_bits_mask[ps][l]);
    check("pdptr_rsvd", k.pdptr_rsvd, o.pdptr_rsvd);
  }
  EXPECT_EQ(roles, 5u * 512u * 21u);
  EXPECT_EQ(unexplained, 0u);
  // Each documented difference still occurs (else docs/kvm-src.md is stale).
  for (const char* id : {"pse36-always", "pae-pdpte-mask-in-walk-table", "paging-off-no-tables"})
    EXPECT_GT(explained[id], 0u) << id << " no longer occurs: update docs/kvm-src.md";
  EXPECT_EQ(explained["tdp-gbpages-from-host"] > 0, tdp);
  EXPECT_EQ(mmu::kvmsrc::kernel_warnings(), 0u);
}

INSTANTIATE_TEST_SUITE_P(KvmSrc, KvmSrcTables, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& i) { return i.param ? "Tdp" : "ShadowPaging"; });

// Equal everywhere: the kvm engine models KVM's single EPT huge-page level
// (ept-1g-cap-allows-2m-pages), found in this code first.
TEST(KvmSrcEptTables, EqualTheKvmEngineForEveryRole) {
  REQUIRE_KVMSRC();
  const auto src = mmu::kvmsrc::make_algorithm();
  const mmu::kvm::MmuAlgorithm ours;
  for (const EptRole& r : all_ept_roles()) {
    const auto k = src->build_ept(r), o = ours.build_ept(r);
    SCOPED_TRACE("EPT level " + std::to_string(r.level) + " M=" + std::to_string(r.maxphyaddr) +
                 (r.exec_only ? " exec-only" : "") + (r.pages_2m ? " 2m" : "") + (r.pages_1g ? " 1g" : ""));
    EXPECT_EQ(k.permissions, o.permissions);
    EXPECT_EQ(k.bad_mt_xwr, o.bad_mt_xwr);
    for (unsigned ps = 0; ps < 2; ++ps)
      for (unsigned l = 0; l < 5; ++l)
        EXPECT_EQ(k.rsvd_bits_mask[ps][l], o.rsvd_bits_mask[ps][l]) << "[" << ps << "][" << l << "]";
  }
}

TEST(KvmSrcLookups, LastLevelAndPse36DeltaAsTheKvmEngine) {
  REQUIRE_KVMSRC();
  const auto src = mmu::kvmsrc::make_algorithm();
  const mmu::kvm::MmuAlgorithm ours;
  for (const CpuRole& r : all_roles()) {
    if (r.maxphyaddr != 36 || r.level == 0) continue;  // neither depends on MAXPHYADDR
    for (unsigned level = 1; level <= r.level; ++level)
      for (u64 ps : {u64{0}, mmu::bit(7)}) {
        const u64 gpte = 1 | ps | 0x12345000;
        EXPECT_EQ(src->is_last_gpte(r, level, gpte), ours.is_last_gpte(r, level, gpte)) << describe(r) << " level " << level;
      }
    if (r.level == 2)
      for (u64 pde : {u64{0x00400083}, u64{0x0041e083}, u64{0xffc1e083}}) {
        // 6.1 adds PDE bits 16:13 as PA 35:32 whatever CPUID says (pse36-always).
        const u64 expected = r.pse36 ? ours.pse36_gfn_delta(r, pde) : mmu::field(pde, 16, 13) << 32;
        EXPECT_EQ(src->pse36_gfn_delta(r, pde), expected) << describe(r);
      }
  }
  for (const EptRole& r : all_ept_roles())
    for (unsigned level = 1; level <= r.level; ++level)
      for (u64 ps : {u64{0}, mmu::bit(7)})
        EXPECT_EQ(src->is_last_ept_gpte(r, level, 7 | ps), ours.is_last_ept_gpte(r, level, 7 | ps));
}

// permission_fault() depends on the role only through the tables: every
// table-relevant role, every ACC value, every access (W, U, F, implicit),
// EFLAGS.AC, and PKRU AD/WD for a few keys.
TEST(KvmSrcLookups, PermissionFaultAsTheKvmEngineOnTheWholeDomain) {
  REQUIRE_KVMSRC();
  const auto src = mmu::kvmsrc::make_algorithm();
  const mmu::kvm::MmuAlgorithm ours;
  unsigned calls = 0, faults = 0, pk = 0;
  for (const CpuRole& r : all_roles()) {
    if (r.maxphyaddr != 46 || r.amd || r.gbpages || r.pse36 || r.cr4_pse) continue;
    const auto t = src->build(r);
    mmu::CpuState cpu;
    for (unsigned acc = 0; acc < 8; ++acc)
      for (unsigned a = 0; a < 16; ++a) {
        const u64 access = ((a & 1) ? mmu::kvm::PFERR_WRITE : 0) | ((a & 2) ? mmu::kvm::PFERR_USER : 0) |
                           ((a & 4) ? mmu::kvm::PFERR_FETCH : 0) | ((a & 8) ? mmu::kvm::PFERR_IMPLICIT : 0);
        if ((access & mmu::kvm::PFERR_WRITE) && (access & mmu::kvm::PFERR_FETCH)) continue;
        for (bool ac : {false, true})
          for (unsigned key : {0u, 7u, 15u})
            for (unsigned adwd = 0; adwd < 4; ++adwd) {
              cpu.rflags = mmu::rflags::FIXED1 | (ac ? mmu::rflags::AC : 0);
              cpu.pkru = adwd << (2 * key);
              const u64 k = src->permission_fault(r, t, cpu, acc, key, access);
              const u64 o = ours.permission_fault(r, t, cpu, acc, key, access);
              ++calls;
              faults += k != 0;
              pk += (k & mmu::kvm::PFERR_PK) != 0;
              if (k != o) {
                ADD_FAILURE() << describe(r) << " acc " << acc << " access " << std::hex << access << " ac " << ac
                              << " key " << key << " pkru " << cpu.pkru << ": kernel " << k << " kvm engine " << o;
                return;
              }
            }
      }
  }
  EXPECT_GT(calls, 100000u);
  EXPECT_GT(faults, 0u);
  EXPECT_GT(pk, 0u);
  EXPECT_EQ(mmu::kvmsrc::kernel_warnings(), 0u);
}

// The findings in the real 6.1 code (docs/kvm-src.md, "Results"): every
// theorem is proved but these, which are known (allow-listed) and replay as
// the known divergence.
class KvmSrcProve : public testing::TestWithParam<const char*> {};

TEST_P(KvmSrcProve, EveryTheoremProvedButTheDocumentedFindings) {
  REQUIRE_KVMSRC();
  const std::string engine = GetParam();
  std::string error;
  const auto s = smt::subject(engine, error);
  ASSERT_TRUE(s) << error;
  std::map<std::string, std::set<std::string>> known{{"T3-reserved-bits", {"pse36-fixed-bits"}},
                                                     {"T4-ept-misconfig", {"ept-1g-cap-allows-2m-pages"}},
                                                     {"T7-error-code", {"id-in-32bit-paging"}}};
  if (engine == "kvm-src-tdp") known["T3-reserved-bits"].insert("1g-page-without-cpuid-support");
  const auto results = smt::prove(*s, {});
  EXPECT_EQ(results.size(), smt::theorems_for(*s).size());
  const auto ref = mmucheck::make_engine("ref");
  const auto src = mmucheck::make_engine(engine);
  for (const auto& r : results) {
    SCOPED_TRACE(r.name + ": " + r.detail);
    if (auto k = known.find(r.name); k != known.end()) {
      EXPECT_EQ(r.status, smt::Status::known);
      EXPECT_EQ(std::set<std::string>(r.known.begin(), r.known.end()), k->second);
      ASSERT_TRUE(r.counterexample) << r.case_error;
      const mmu::Verdict vr = ref->evaluate(*r.counterexample, nullptr);
      const mmu::Verdict vk = src->evaluate(*r.counterexample, nullptr);
      EXPECT_FALSE(mmu::accepts(vr, vk.outcome)) << "the counterexample does not diverge";
      const auto* kd = mmucheck::known_divergence("ref", engine, *r.counterexample, vr, vk);
      ASSERT_TRUE(kd) << "the counterexample is not recognised by the allow-list";
      EXPECT_TRUE(k->second.count(std::string(kd->id))) << kd->id;
    } else {
      EXPECT_EQ(r.status, smt::Status::proved);
      EXPECT_TRUE(r.notes.empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(KvmSrc, KvmSrcProve, testing::Values("kvm-src", "kvm-src-tdp"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param) == "kvm-src" ? "ShadowPaging" : "Tdp";
                         });

// The minimal cases of the findings (corpus/, docs/kvm-src.md): the
// reference gives the SDM's outcome, kvm-src diverges (the kvm engine too
// where it models the finding), and the allow-list names the finding.
TEST(KvmSrcFindings, MinimalCasesAreTheKnownFindings) {
  REQUIRE_KVMSRC();
  struct Finding {
    const char* file;
    const char* engine;
    std::string id;
  };
  const Finding cases[] = {
      {"corpus/guest_walk/kvm-src-6.1-pse36-without-cpuid.json", "kvm-src", "pse36-fixed-bits"},
      {"corpus/ept_walk/kvm-src-6.1-ept-1g-cap-2m-page.json", "kvm-src", "ept-1g-cap-allows-2m-pages"},
      {"corpus/guest_walk/kvm-src-6.1-tdp-1g-without-cpuid.json", "kvm-src-tdp", "1g-page-without-cpuid-support"}};
  const auto ref = mmucheck::make_engine("ref"), kvm = mmucheck::make_engine("kvm");
  for (const auto& [file, engine, id] : cases) {
    SCOPED_TRACE(file);
    const auto src = mmucheck::make_engine(engine);
    const std::string path = std::string(MMUCHECK_SOURCE_DIR) + "/" + file;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    mmucheck::CaseReader reader(in, path);
    mmucheck::CaseRecord rec;
    ASSERT_TRUE(reader.next(rec) && rec.file) << rec.error;
    const mmu::Case& c = rec.file->kase;
    const mmu::Verdict vr = ref->evaluate(c, nullptr), vk = kvm->evaluate(c, nullptr), vs = src->evaluate(c, nullptr);
    if (id == "ept-1g-cap-allows-2m-pages") {
      // The kvm engine models this one (KVM's single EPT huge-page level).
      const auto* kk = mmucheck::known_divergence("ref", "kvm", c, vr, vk);
      ASSERT_TRUE(kk);
      EXPECT_EQ(kk->id, id);
    } else {
      EXPECT_TRUE(mmu::accepts(vr, vk.outcome));
    }
    EXPECT_FALSE(mmu::accepts(vr, vs.outcome));
    const auto* k = mmucheck::known_divergence("ref", engine, c, vr, vs);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->id, id);
    // The kvm-src entries do not excuse the kvm engine.
    if (id != "pse36-fixed-bits" && id != "ept-1g-cap-allows-2m-pages") {
      EXPECT_FALSE(mmucheck::known_divergence("ref", "kvm", c, vr, vs));
    }
    // kvm-src (shadow paging) has the TDP finding's case right.
    if (std::string(engine) == "kvm-src-tdp") {
      EXPECT_TRUE(mmu::accepts(vr, mmucheck::make_engine("kvm-src")->evaluate(c, nullptr).outcome));
    }
  }
}

}  // namespace
