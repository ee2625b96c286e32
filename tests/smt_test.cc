// The SMT layer: the theorems about the kvm engine's tables (smt/prove.h),
// the bug zoo refuted theorem by theorem with counterexamples that replay as
// divergences, and the `smt` engine against the reference.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "model/kvm/mutants.h"
#include "model/reference.h"
#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/replay.h"
#include "smt/prove.h"

namespace smt {
// gtest prints Status values by name.
void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }
}  // namespace smt

namespace {

using Statuses = std::map<std::string, smt::Status>;

// What mainline KVM is allowed to show: the documented findings.
const std::map<std::string, std::string> kMainlineKnown{
    {"T3-reserved-bits", "pse36-fixed-bits"},
    {"T7-error-code", "id-in-32bit-paging"},
    {"T4-ept-misconfig", "ept-1g-cap-allows-2m-pages"},
};

// For every bug-zoo mutant: the theorems it breaks. Every other theorem must
// prove (or stay "known" as for mainline).
const std::map<std::string, std::set<std::string>> kBreaks{
    {"smap-ignores-implicit", {"T1-permissions"}},
    {"pfec-keeps-fetch", {"T7-error-code"}},
    {"amd-bit8-on-pdpe", {"T3-reserved-bits"}},
    {"bit7-ignores-large-page-support", {"T3-reserved-bits"}},
    {"pt32-pse-mask-without-pse", {"T3-reserved-bits"}},
    {"inherited-access-from-leaf-parent", {"T1-permissions"}},
    {"stale-last-nonleaf-nested-ept", {"T5e-ept-last-level"}},
    {"walk-below-level-1", {"T5e-ept-last-level"}},
    {"smap-andnot-wp-role", {"T10-context-reset"}},
    {"no-reset-on-smap-pke", {"T10-context-reset"}},
    {"stale-cr0-wp", {"T10-context-reset"}},
    {"ept-qual-acc-order", {"T9-ept-qualification"}},
    {"shadow-nx-from-guest", {"T4-ept-misconfig"}},
    {"ept-read-not-tracked", {"T8-ept-permissions"}},
    {"ept-rwx0-present", {"T8-ept-permissions"}},
    {"rsvd-pfec-disables-smap", {"T1-permissions"}},
    // Mainline's own PSE-36 behaviour registered as a mutant: nothing beyond
    // the allow-list.
    {"pse36-fixed-bits", {}},
    {"mbec-xu-by-cpl", {"T8-ept-permissions"}},
};

// The counterexample must show up as a divergence between ref and `engine`.
void expect_replays_diverging(const smt::TheoremResult& r, const std::string& engine) {
  ASSERT_TRUE(r.counterexample) << engine << " " << r.name << ": no case (" << r.case_error << ")";
  const mmu::Case& c = *r.counterexample;
  ASSERT_FALSE(mmu::validate(c)) << mmucheck::case_to_json(c).dump();
  // Through JSON and back, as `mmucheck replay FILE` would read it.
  const mmucheck::CaseFile f = mmucheck::case_from_json(mmucheck::case_to_json(c));
  const auto ref = mmucheck::make_engine("ref");
  const auto eng = mmucheck::make_engine(engine);
  ASSERT_TRUE(eng);
  const std::vector<const mmucheck::Engine*> engines{ref.get(), eng.get()};
  const mmucheck::ReplayResult rr = mmucheck::replay_case(f, engines);
  ASSERT_FALSE(rr.runs[1].unsupported) << *rr.runs[1].unsupported;
  if (r.status == smt::Status::known) {
    // Replay's allow-list (replay/known.h) recognises it as one of the findings.
    ASSERT_TRUE(rr.runs[1].known) << mmucheck::case_to_json(c).dump();
    EXPECT_NE(std::find(r.known.begin(), r.known.end(), *rr.runs[1].known), r.known.end()) << *rr.runs[1].known;
    return;
  }
  EXPECT_FALSE(rr.agree) << engine << " " << r.name << ": the counterexample does not diverge: "
                         << mmucheck::case_to_json(c).dump() << "\n" << r.detail;
  EXPECT_FALSE(rr.runs[1].known) << "a refutation outside the allow-list is explained by replay's: " << *rr.runs[1].known;
}

std::vector<smt::TheoremResult> prove(const std::string& engine) {
  std::string error;
  const auto s = smt::subject(engine, error);
  EXPECT_TRUE(s) << error;
  if (!s) return {};
  return smt::prove(*s, {});
}

TEST(Prove, MainlineProvesEveryTheoremButTheAllowList) {
  const auto results = prove("kvm");
  std::string error;
  ASSERT_EQ(results.size(), smt::theorems_for(*smt::subject("kvm", error)).size());
  for (const auto& r : results) {
    SCOPED_TRACE(r.name + ": " + r.detail);
    if (auto k = kMainlineKnown.find(r.name); k != kMainlineKnown.end()) {
      EXPECT_EQ(r.status, smt::Status::known);
      EXPECT_EQ(r.known, std::vector<std::string>{k->second});
      expect_replays_diverging(r, "kvm");
    } else {
      EXPECT_EQ(r.status, smt::Status::proved);
      EXPECT_TRUE(r.notes.empty());
    }
  }
}

// The 3.14 tables on the features 3.14 models: its findings (docs/kvm.md,
// "The 3.14 form") are the only refutations, each one still reproduces.
TEST(Prove, Kvm314ProvesEveryTheoremButItsFindings) {
  const auto results = prove("kvm-3.14");
  std::set<std::string> names;
  for (const auto& r : results) {
    SCOPED_TRACE(r.name + ": " + r.detail);
    names.insert(r.name);
    EXPECT_EQ(r.name.rfind("T", 0) == 0, r.name.rfind("T6-", 0) == 0) << "only T6 theorems are about kvm-3.14";
    if (r.name == "T6-reserved-bits") {
      EXPECT_EQ(r.status, smt::Status::known);
      EXPECT_EQ(std::set<std::string>(r.known.begin(), r.known.end()),
                (std::set<std::string>{"pse36-fixed-bits", "nonleaf-bit8-every-vendor", "1g-page-without-cpuid-support",
                                       "pae-pdpte-bits-6-5-unchecked"}));
      expect_replays_diverging(r, "kvm-3.14");
    } else {
      EXPECT_EQ(r.status, smt::Status::proved);
    }
  }
  EXPECT_TRUE(names.count("T6-permissions") && names.count("T6-last-level") && names.count("T6-error-code"));
}

TEST(Prove, EveryMutantHasItsExpectedTheorems) {
  for (const auto& m : mmu::kvm::mutants())
    EXPECT_TRUE(kBreaks.count(std::string(m.name))) << "kvm:" << m.name << ": say which theorems it breaks in kBreaks";
}

class MutantProof : public testing::TestWithParam<std::string> {};

TEST_P(MutantProof, RefutesExactlyTheTheoremsItBreaks) {
  const std::string engine = "kvm:" + GetParam();
  const std::set<std::string>& breaks = kBreaks.at(GetParam());
  std::set<std::string> refuted;
  // Every theorem about the engine's tables (the I* invariants are about the
  // rules alone: mainline's run covers them).
  std::string error;
  const auto subject = smt::subject(engine, error);
  ASSERT_TRUE(subject) << error;
  smt::ProveOptions options;
  for (const smt::TheoremInfo* t : smt::theorems_for(*subject))
    if (t->about == "kvm") options.only.emplace_back(t->name);
  ASSERT_GE(options.only.size(), 10u);
  for (const auto& r : smt::prove(*subject, options)) {
    SCOPED_TRACE(engine + " " + r.name + ": " + r.detail);
    ASSERT_NE(r.status, smt::Status::unknown);
    if (r.status == smt::Status::refuted) {
      refuted.insert(r.name);
      expect_replays_diverging(r, engine);
    } else if (auto k = kMainlineKnown.find(r.name); k != kMainlineKnown.end() && !breaks.count(r.name)) {
      EXPECT_EQ(r.status, smt::Status::known);
    } else {
      EXPECT_EQ(r.status, smt::Status::proved);
    }
  }
  EXPECT_EQ(refuted, breaks);
}

std::vector<std::string> mutant_names() {
  std::vector<std::string> v;
  for (const auto& m : mmu::kvm::mutants()) v.emplace_back(m.name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(BugZoo, MutantProof, testing::ValuesIn(mutant_names()),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(Prove, OnlyNamedTheorems) {
  std::string error;
  const auto s = smt::subject("kvm", error);
  ASSERT_TRUE(s);
  const auto r = smt::prove(*s, {.only = {"T2-pkru", "I1-errcode-rsvd-pk-carry-p"}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "T2-pkru");
  EXPECT_EQ(r[0].status, smt::Status::proved);
  EXPECT_THROW(smt::prove(*s, {.only = {"T99-nothing"}}), std::invalid_argument);
}

TEST(Prove, BadSubjects) {
  std::string error;
  EXPECT_FALSE(smt::subject("ref", error));
  EXPECT_NE(error.find("kvm"), std::string::npos);
  EXPECT_FALSE(smt::subject("kvm:no-such-bug", error));
  EXPECT_NE(error.find("no-such-bug"), std::string::npos);
}

TEST(Prove, EverySmtQueryIsWrittenWithItsVerdict) {
  const std::string dir = testing::TempDir() + "/mmucheck-smt2";
  std::filesystem::remove_all(dir);
  std::string error;
  const auto s = smt::subject("kvm", error);
  const auto r = smt::prove(*s, {.only = {"T3-reserved-bits", "T2-pkru"}, .emit_smt2_dir = dir});
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[1].name, "T3-reserved-bits");  // in registry order
  // T3: one query per MAXPHYADDR 32..52, and for those refuted inside the
  // allow-list (PSE-36: MAXPHYADDR != 36) the query outside it.
  // and one asking whether the allow-list entry still reproduces.
  ASSERT_EQ(r[1].queries.size(), 21u + 20u + 1u);
  EXPECT_EQ(r[1].queries.back().label, "allow-list entry pse36-fixed-bits reproduces");
  for (const auto& q : r[1].queries) {
    std::ifstream f(q.smt2_path);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("(set-logic QF_BV)"), std::string::npos) << q.smt2_path;
    EXPECT_NE(text.find("(check-sat)"), std::string::npos) << q.smt2_path;
    EXPECT_NE(text.find(q.verdict == "proved" ? "; z3: unsat" : "; z3: sat"), std::string::npos) << q.smt2_path;
  }
  EXPECT_EQ(r[1].queries[0].label, "maxphyaddr=32");
  EXPECT_EQ(r[1].queries[0].verdict, "refuted");
  EXPECT_EQ(r[1].queries[1].verdict, "proved");
  EXPECT_EQ(r[0].queries.size(), 1u);
}

// ---- the smt engine ----------------------------------------------------------

std::vector<std::pair<std::string, mmu::Case>> corpus() {
  std::vector<std::pair<std::string, mmu::Case>> out;
  for (const auto& de : std::filesystem::recursive_directory_iterator(MMUCHECK_SOURCE_DIR "/corpus")) {
    if (de.path().extension() != ".json") continue;
    std::ifstream in(de.path());
    out.emplace_back(de.path().filename().string(), mmucheck::case_from_json(nlohmann::json::parse(in)).kase);
  }
  return out;
}

TEST(SmtEngine, AgreesWithTheReferenceOnTheCorpus) {
  const auto smt_engine = mmucheck::make_engine("smt");
  ASSERT_TRUE(smt_engine);
  unsigned compared = 0, unsupported = 0;
  for (const auto& [name, c] : corpus()) {
    if (smt_engine->unsupported(c)) {
      ++unsupported;
      continue;
    }
    ++compared;
    const mmu::Verdict ref = mmu::reference::evaluate(c);
    mmu::Trace trace;
    const mmu::Verdict v = smt_engine->evaluate(c, &trace);
    EXPECT_TRUE(mmu::accepts(ref, v.outcome)) << name << ": smt " << mmucheck::describe_outcome(v.outcome) << ", ref "
                                              << mmucheck::describe_outcome(ref.outcome);
    // Where the reference leaves A updates open, so does the encoding's walker.
    EXPECT_TRUE(mmu::accepts(v, ref.outcome)) << name;
  }
  EXPECT_GT(compared, 200u);
  EXPECT_GT(unsupported, 0u) << "EPT cases are outside the smt engine";
}

// A sample of each exhaust space the smt engine models: the encoding and the
// reference walker (both read from the SDM) give the same verdicts.
TEST(SmtEngine, AgreesWithTheReferenceOnSampledSpaces) {
  const auto smt_engine = mmucheck::make_engine("smt");
  for (const auto& [name, stride] : std::vector<std::pair<std::string, mmu::u64>>{
           {"permissions", 211}, {"reserved-bits", 2003}, {"protection-keys", 257}}) {
    const mmucheck::ExhaustSpace* space = mmucheck::find_space(name);
    ASSERT_NE(space, nullptr) << name;
    mmu::Case c;
    unsigned compared = 0;
    for (mmu::u64 i = 0; i < space->size; i += stride) {
      if (!space->make(i, c) || smt_engine->unsupported(c)) continue;
      ++compared;
      const mmu::Verdict ref = mmu::reference::evaluate(c);
      const mmu::Verdict v = smt_engine->evaluate(c, nullptr);
      ASSERT_TRUE(mmu::accepts(ref, v.outcome) && mmu::accepts(v, ref.outcome))
          << name << " point " << i << ": smt " << mmucheck::describe_outcome(v.outcome) << ", ref "
          << mmucheck::describe_outcome(ref.outcome) << "\n" << mmucheck::case_to_json(c).dump();
    }
    EXPECT_GT(compared, 400u) << name;
  }
}

TEST(SmtEngine, NamesTheDecidingRule) {
  const auto smt_engine = mmucheck::make_engine("smt");
  mmu::Case c;
  c.cpu.features = mmu::FeatureSet::all();
  c.cpu.cr0 |= mmu::cr0::PG | mmu::cr0::WP;
  c.cpu.cr4 = mmu::cr4::PAE | mmu::cr4::SMAP;
  c.cpu.efer = mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
  c.cpu.cr3 = 0x1000;
  c.access.addr = 0x400000;
  c.memory.set(0x1000, 0x2007);
  c.memory.set(0x2000, 0x3007);
  c.memory.set(0x3010, 0x4007);
  c.memory.set(0x4000, 0x5007);  // a user page, read by the supervisor: SMAP
  ASSERT_FALSE(mmu::validate(c));
  mmu::Trace trace;
  const mmu::Verdict v = smt_engine->evaluate(c, &trace);
  EXPECT_EQ(v.outcome.kind, mmu::OutcomeKind::page_fault);
  EXPECT_EQ(v.outcome.error_code, mmu::pferr::P);
  EXPECT_EQ(trace.decided_by, mmu::Rule::perm_smap);
  c.cpu.rflags |= mmu::rflags::AC;  // an explicit access with AC = 1: allowed
  EXPECT_EQ(smt_engine->evaluate(c, nullptr).outcome.kind, mmu::OutcomeKind::ok);
  c.memory.set(0x4000, 0x5007 | mmu::bit(51));  // reserved with MAXPHYADDR 46
  EXPECT_EQ(smt_engine->evaluate(c, &trace).outcome.error_code, mmu::pferr::P | mmu::pferr::RSVD);
  EXPECT_EQ(trace.decided_by, mmu::Rule::rsvd_phys);
}

}  // namespace
