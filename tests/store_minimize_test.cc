// The divergence store, divergence signatures and minimisation, and stopping
// an exhaustive run early (what `mmucheck campaign` builds on).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/minimize.h"
#include "replay/store.h"

namespace {

mmu::Case load(const std::string& rel) {
  std::ifstream in(std::string(MMUCHECK_SOURCE_DIR) + "/" + rel);
  return mmucheck::case_from_json(nlohmann::json::parse(in)).kase;
}

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("mmucheck-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(Signature, NoneWhenTheEnginesAgreeOrTheAllowListExplains) {
  const auto ref = mmucheck::make_engine("ref"), kvm = mmucheck::make_engine("kvm");
  EXPECT_FALSE(mmucheck::divergence_signature(load("corpus/bug_zoo/stale-cr0-wp.json"), *ref, *kvm));
  std::string known;
  EXPECT_FALSE(mmucheck::divergence_signature(load("corpus/bug_zoo/pse36-fixed-bits.json"), *ref, *kvm, &known));
  EXPECT_EQ(known, "pse36-fixed-bits");
}

TEST(Minimize, KeepsTheSignatureAndALegalCaseAndShrinks) {
  const auto ref = mmucheck::make_engine("ref");
  for (const char* m : {"stale-cr0-wp", "inherited-access-from-leaf-parent", "ept-qual-acc-order"}) {
    const auto mutant = mmucheck::make_engine(std::string("kvm:") + m);
    const mmu::Case c = load(std::string("corpus/bug_zoo/") + m + ".json");
    const auto sig = mmucheck::divergence_signature(c, *ref, *mutant);
    ASSERT_TRUE(sig) << m;
    const mmucheck::MinimizeResult r = mmucheck::minimize(c, *ref, *mutant);
    EXPECT_FALSE(mmu::validate(r.kase)) << m;
    EXPECT_EQ(mmucheck::divergence_signature(r.kase, *ref, *mutant), sig) << m;
    EXPECT_EQ(r.signature, *sig);
    EXPECT_GT(r.kept, 0u) << m << ": the generated cases carry bits that do not matter";
    EXPECT_LE(r.kase.memory.entries().size(), c.memory.entries().size()) << m;
  }
}

TEST(Store, DeduplicatesBySignaturePersistsAndRefusesACorruptIndex) {
  const auto dir = fresh_dir("store");
  const mmu::Case c = load("corpus/bug_zoo/stale-cr0-wp.json");
  {
    mmucheck::DivergenceStore store(dir);
    EXPECT_TRUE(store.record("sig A", "ref,kvm:x", c, [&] { return c; }));
    EXPECT_FALSE(store.record("sig A", "ref,kvm:x", c, [&] { return c; }));
    EXPECT_TRUE(store.record("sig B", "ref,kvm:x", c, [&] { return c; }));
    EXPECT_TRUE(store.set_status("d0002", "known", "a reason"));
    EXPECT_FALSE(store.set_status("d0099", "fixed", ""));
  }
  mmucheck::DivergenceStore again(dir);
  ASSERT_EQ(again.entries().size(), 2u);
  EXPECT_EQ(again.entries()[0].count, 2u);
  EXPECT_EQ(again.entries()[1].status, "known");
  EXPECT_TRUE(std::filesystem::exists(dir / again.entries()[0].minimized_file));
  { std::ofstream(dir / "index.json") << "{ not json"; }
  EXPECT_THROW(mmucheck::DivergenceStore{dir}, std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(ExhaustStop, StopsBetweenChunksAndSaysSo) {
  const auto ref = mmucheck::make_engine("ref"), kvm = mmucheck::make_engine("kvm");
  const mmucheck::ExhaustSpace* space = mmucheck::find_space("permissions");
  ASSERT_NE(space, nullptr);
  mmucheck::ExhaustOptions o;
  o.chunk = 1000;
  unsigned calls = 0;
  o.stop = [&] { return ++calls > 3; };  // three chunks, then stop (one thread)
  const mmucheck::ExhaustResult r = mmucheck::exhaust(*space, *ref, *kvm, o);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.points, 3000u);
  o.stop = nullptr;
  EXPECT_TRUE(mmucheck::exhaust(*space, *ref, *kvm, o).complete);
}

}  // namespace
