// Replay: one case through several engines, compared, with walk traces, as
// text for a person or JSON for tools.
//
//   auto r = mmucheck::replay_case(file, engines);
//   std::cout << mmucheck::render_text(r, "corpus/x.json");
//   return r.agree ? 0 : 1;
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "replay/case_json.h"
#include "replay/engine.h"

namespace mmucheck {

struct EngineRun {
  std::string engine;
  std::optional<std::string> unsupported;  // set: the engine did not evaluate the case
  mmu::Verdict verdict;
  mmu::Trace trace;
  bool agrees = true;  // with the baseline (see ReplayResult)
  // When it does not agree: the allow-list finding that explains it (replay/known.h).
  std::optional<std::string> known;
};

struct ReplayResult {
  CaseFile file;
  std::vector<EngineRun> runs;
  // The baseline is the case's "expect" when present, else the first engine
  // that evaluated it. The reference must equal an expectation exactly
  // (including its optional writes); other engines must give an outcome the
  // baseline allows. A divergence the allow-list explains (a documented
  // finding about KVM) is reported as known and does not clear `agree`.
  bool agree = true;
};

// Two verdicts allow exactly the same outcomes.
bool same_verdict(const mmu::Verdict& a, const mmu::Verdict& b);

ReplayResult replay_case(const CaseFile& f, std::span<const Engine* const> engines);

std::string describe_outcome(const mmu::Outcome& o);  // one line, e.g. "page_fault ec=0x7 cr2=0x1000"
std::string render_text(const ReplayResult& r, std::string_view source, bool color);

// The tables mainline KVM builds for the case's CPU role, in struct kvm_mmu's
// layout (permissions[16], pkru_mask, rsvd_bits_mask[2][5]), with the role.
std::string render_kvm_tables(const mmu::Case& c);
nlohmann::json render_json(const ReplayResult& r, std::string_view source);

}  // namespace mmucheck
