// The bug zoo: every mutant of the mainline kvm engine is caught by the corpus
// (it diverges from the reference on a case where mainline does not), and the
// registry is well formed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "model/kvm/kvm_mmu.h"
#include "model/kvm/mutants.h"
#include "model/reference.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "tests/test_util.h"

namespace {

std::vector<std::pair<std::string, mmu::Case>> corpus_cases() {
  std::vector<std::pair<std::string, mmu::Case>> out;
  for (const auto& de : std::filesystem::recursive_directory_iterator(MMUCHECK_SOURCE_DIR "/corpus")) {
    if (de.path().extension() != ".json") continue;
    std::ifstream in(de.path());
    mmu::Case c = mmucheck::case_from_json(nlohmann::json::parse(in)).kase;
    if (mmucheck::make_engine("kvm")->unsupported(c)) continue;  // outside the engine
    out.emplace_back(de.path().filename().string(), std::move(c));
  }
  return out;
}

TEST(BugZoo, RegistryIsWellFormed) {
  std::set<std::string_view> names;
  for (const auto& m : mmu::kvm::mutants()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_FALSE(m.description.empty()) << m.name;
    EXPECT_NE(mmu::kvm::find_mutant(m.name), nullptr);
  }
  EXPECT_EQ(mmu::kvm::find_mutant("no-such-bug"), nullptr);
}

TEST(BugZoo, EveryMutantIsCaughtByTheCorpus) {
  const auto cases = corpus_cases();
  ASSERT_GT(cases.size(), 100u);
  const mmu::kvm::MmuAlgorithm mainline;
  for (const auto& m : mmu::kvm::mutants()) {
    const auto mutant = m.make();
    std::vector<std::string> caught;
    for (const auto& [name, c] : cases) {
      const mmu::Verdict ref = mmu::reference::evaluate(c);
      if (!mmu::accepts(ref, mainline.walk(c, nullptr).outcome)) continue;  // a known finding, not the mutant
      if (!mmu::accepts(ref, mutant->walk(c, nullptr).outcome)) caught.push_back(name);
    }
    if (m.name == "pse36-fixed-bits") {  // mainline's own behaviour: it diverges only where mainline does
      EXPECT_TRUE(caught.empty()) << "kvm:" << m.name << " should equal mainline";
      continue;
    }
    EXPECT_FALSE(caught.empty()) << "kvm:" << m.name << " survives the whole corpus";
    if (!caught.empty()) std::cout << "kvm:" << m.name << " caught by " << caught.size() << " cases, e.g. " << caught.front() << "\n";
  }
}

}  // namespace

// ---- exhaust: ref vs kvm point by point, and the mutants each space catches --
namespace {

using mmutest::is_id_finding;
using mmutest::is_pse36_finding;

// Every point of `space_name` where kvm differs from the reference must be
// `known`; returns (points compared, known divergences).
std::pair<mmu::u64, mmu::u64> expect_only_known(std::string_view space_name,
                                                bool (*known)(const mmu::Case&, const mmu::Verdict&, const mmu::Outcome&)) {
  const auto* space = mmucheck::find_space(space_name);
  EXPECT_NE(space, nullptr) << space_name;
  if (!space) return {0, 0};
  const auto ref = mmucheck::make_engine("ref");
  const auto kvm = mmucheck::make_engine("kvm");
  mmu::Case c;
  mmu::u64 compared = 0, found = 0;
  for (mmu::u64 i = 0; i < space->size; ++i) {
    if (!space->make(i, c) || kvm->unsupported(c)) continue;
    ++compared;
    const mmu::Verdict r = ref->evaluate(c, nullptr);
    const mmu::Outcome k = kvm->evaluate(c, nullptr).outcome;
    if (mmu::accepts(r, k)) continue;
    const bool is_known = known(c, r, k);
    EXPECT_TRUE(is_known) << space_name << " point " << i << ": " << mmucheck::case_to_json(c).dump();
    if (!is_known) break;
    ++found;
  }
  return {compared, found};
}

// Each named mutant diverges on more points of the space than mainline does.
void expect_caught(std::string_view space_name, std::initializer_list<const char*> mutants) {
  const auto* space = mmucheck::find_space(space_name);
  ASSERT_NE(space, nullptr);
  const auto ref = mmucheck::make_engine("ref");
  const auto mainline = mmucheck::exhaust(*space, *ref, *mmucheck::make_engine("kvm"), {.jobs = 2});
  for (const char* name : mutants) {
    const auto r = mmucheck::exhaust(*space, *ref, *mmucheck::make_engine(name), {.jobs = 2});
    EXPECT_GT(r.divergences, mainline.divergences) << name << " survives the " << space_name << " space";
    EXPECT_EQ(r.points, space->size);
  }
}

TEST(Exhaust, PermissionSpaceKvmDiffersOnlyInTheKnownIdFinding) {
  const auto [compared, known] = expect_only_known("permissions", is_id_finding);
  EXPECT_GT(compared, 100000u);
  EXPECT_GT(known, 0u) << "the finding is in this space";
}

TEST(Exhaust, PermissionSpaceCatchesThePermissionMutants) {
  expect_caught("permissions", {"kvm:smap-ignores-implicit", "kvm:pfec-keeps-fetch", "kvm:inherited-access-from-leaf-parent"});
}

TEST(Exhaust, ReservedBitSpaceKvmDiffersOnlyInThePse36Finding) {
  const auto [compared, known] = expect_only_known("reserved-bits", is_pse36_finding);
  EXPECT_GT(compared, 1000000u);
  EXPECT_GT(known, 0u);
}

TEST(Exhaust, ReservedBitSpaceCatchesTheReservedBitMutants) {
  expect_caught("reserved-bits", {"kvm:amd-bit8-on-pdpe", "kvm:bit7-ignores-large-page-support", "kvm:pt32-pse-mask-without-pse"});
}

// A pkru_mask that forgets CR0.WP for supervisor writes: the protection-key
// space must catch it (and mainline must agree with the reference there).
class PkruIgnoresWp final : public mmu::kvm::MmuAlgorithm {
  void update_pkru_bitmask(const mmu::kvm::CpuRole& role, mmu::kvm::Tables& t) const override {
    mmu::kvm::CpuRole always_wp = role;
    always_wp.cr0_wp = true;
    MmuAlgorithm::update_pkru_bitmask(always_wp, t);
  }
};

TEST(Exhaust, ProtectionKeySpace) {
  const auto* space = mmucheck::find_space("protection-keys");
  ASSERT_NE(space, nullptr);
  const auto ref = mmucheck::make_engine("ref");
  const auto kvm = mmucheck::make_engine("kvm");
  const mmucheck::ExhaustResult r = mmucheck::exhaust(*space, *ref, *kvm, {.jobs = 2});
  EXPECT_EQ(r.divergences, 0u);
  EXPECT_GT(r.compared, 100000u);
  const PkruIgnoresWp broken;
  mmu::Case c;
  mmu::u64 pk_faults = 0, caught = 0;
  for (mmu::u64 i = 0; i < space->size; ++i) {
    if (!space->make(i, c) || kvm->unsupported(c)) continue;
    const mmu::Verdict v = ref->evaluate(c, nullptr);
    pk_faults += v.outcome.kind == mmu::OutcomeKind::page_fault && (v.outcome.error_code & mmu::pferr::PK);
    caught += !mmu::accepts(v, broken.walk(c, nullptr).outcome);
  }
  EXPECT_GT(pk_faults, 1000u) << "the space reaches protection-key faults";
  EXPECT_GT(caught, 0u) << "a pkru_mask without CR0.WP survives the space";
}

}  // namespace
