// The bug zoo: every mutant of the mainline kvm engine is caught by the corpus
// (it diverges from the reference on a case where mainline does not), and the
// registry is well formed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "model/kvm/mutants.h"
#include "model/reference.h"
#include "replay/case_json.h"

namespace {

std::vector<std::pair<std::string, mmu::Case>> corpus_cases() {
  std::vector<std::pair<std::string, mmu::Case>> out;
  for (const auto& de : std::filesystem::recursive_directory_iterator(MMUCHECK_SOURCE_DIR "/corpus")) {
    if (de.path().extension() != ".json") continue;
    std::ifstream in(de.path());
    mmu::Case c = mmucheck::case_from_json(nlohmann::json::parse(in)).kase;
    if (c.ept || (c.cpu.cr4 & mmu::cr4::PKS) || c.access.shadow_stack) continue;  // outside the engine
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
    EXPECT_FALSE(caught.empty()) << "kvm:" << m.name << " survives the whole corpus";
    if (!caught.empty()) std::cout << "kvm:" << m.name << " caught by " << caught.size() << " cases, e.g. " << caught.front() << "\n";
  }
}

}  // namespace
