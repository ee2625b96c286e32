#include "replay/probe_compare.h"

#include <fmt/format.h>

#include <cstdlib>
#include <regex>

#include "model/reference.h"
#include "replay/case_json.h"
#include "replay/probe_known.h"
#include "replay/replay.h"

namespace mmucheck::probe {
namespace {

std::string access_class(const mmu::Access& a) {
  const std::string_view kind = mmu::access_kind_name(a.kind);
  if (a.shadow_stack) return fmt::format("shadow-stack {}", kind);
  if (a.implicit) return fmt::format("implicit {}", kind);
  return std::string(kind);
}

}  // namespace

OracleReport compare_with_reference(Runner& runner, std::span<const mmu::Case* const> cases) {
  OracleReport rep;
  rep.engine = std::string(runner_engine_name(runner));
  rep.cases = cases.size();
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<CaseResult> res = runner.run(cases);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.stats = runner.stats();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& r = res[i];
    if (r.status == CaseResult::Status::unsupported) {
      ++rep.unsupported;
      // group reasons that differ only in numbers
      static const std::regex number("0x[0-9a-fA-F]+|\\b[0-9]+\\b");
      const std::string reason = std::regex_replace(r.detail, number, "N");
      ++rep.unsupported_by_reason[reason];
      continue;
    }
    ++rep.compared;
    mmu::Trace trace;
    const mmu::Verdict ref = mmu::reference::evaluate(*cases[i], &trace);
    ++rep.compared_by_access[access_class(cases[i]->access)][std::string(mmu::outcome_kind_name(ref.outcome.kind))];
    if (r.status == CaseResult::Status::hang || r.status == CaseResult::Status::crash) {
      const bool hang = r.status == CaseResult::Status::hang;
      ++(hang ? rep.hang : rep.crash);
      rep.findings.push_back({i, hang ? "hang" : "crash", r.detail, ref, {}});
      continue;
    }
    mmu::Outcome observed = r.outcome;
    if (r.status == CaseResult::Status::unexpected) {
      observed = mmu::Outcome{};
      observed.kind = mmu::OutcomeKind::general_protection;  // the placeholder the engines use
    }
    // EPT cases: the observed writes come from two tables read back after the
    // access; their interleaving is not observable (see ordered_like).
    const bool ok = accepts_observed(*cases[i], ref, observed);
    if (r.status == CaseResult::Status::ok && ok) {
      ++rep.agree;
      continue;
    }
    // MMUCHECK_PROBE_NO_KNOWN: compare without the allow-list (tests show it matters)
    static const bool no_known = std::getenv("MMUCHECK_PROBE_NO_KNOWN") != nullptr;
    const auto known = no_known ? std::vector<const KnownDeviation*>{}
                                : explain(runner_engine_name(runner), *cases[i], ref, trace, observed);
    if (!known.empty()) {
      ++rep.known;
      std::string ids;
      for (const auto* k : known) ids += (ids.empty() ? "" : "+") + std::string(k->id);
      ++rep.known_by_id[ids];
      rep.known_cases.emplace_back(i, ids);
      continue;
    }
    if (r.status == CaseResult::Status::unexpected) {
      ++rep.unexpected;
      rep.findings.push_back({i, "unexpected", r.detail, ref, {}});
    } else {
      ++rep.diverge;
      rep.findings.push_back({i, "diverge", "", ref, observed});
    }
  }
  return rep;
}

std::string report_text(const OracleReport& r, std::size_t max_findings) {
  std::string s = fmt::format(
      "{}: {} cases, {} compared with the reference: {} agree, {} known deviations, {} diverge, {} unexpected, {} hang, "
      "{} crash; {} unsupported\n",
      r.engine, r.cases, r.compared, r.agree, r.known, r.diverge, r.unexpected, r.hang, r.crash, r.unsupported);
  s += fmt::format("time: {:.2f} s, {} boots, {:.0f} cases/s run\n", r.seconds, r.stats.boots,
                   r.seconds > 0 ? static_cast<double>(r.stats.cases_run) / r.seconds : 0.0);
  if (!r.known_by_id.empty()) {
    s += "known deviations:\n";
    for (const auto& [id, n] : r.known_by_id) s += fmt::format("  {:<60} {}\n", id, n);
  }
  if (!r.compared_by_access.empty()) {
    s += "compared, by access (the reference's outcome):\n";
    for (const auto& [access, kinds] : r.compared_by_access) {
      std::string line;
      for (const auto& [kind, n] : kinds) line += fmt::format("{}{} {}", line.empty() ? "" : ", ", kind, n);
      s += fmt::format("  {:<22} {}\n", access, line);
    }
  }
  if (!r.unsupported_by_reason.empty()) {
    s += "unsupported:\n";
    for (const auto& [why, n] : r.unsupported_by_reason) s += fmt::format("  {:<100} {}\n", why.substr(0, 100), n);
  }
  std::size_t shown = 0;
  for (const Finding& f : r.findings) {
    if (shown++ == max_findings) {
      s += fmt::format("... {} more\n", r.findings.size() - max_findings);
      break;
    }
    s += fmt::format("case #{}: {}: ", f.index, f.kind);
    if (f.kind == "diverge")
      s += fmt::format("{} says {}, the reference {}\n", r.engine, describe_outcome(f.observed),
                       verdict_to_json(f.reference).dump());
    else
      s += f.detail + "\n";
  }
  return s;
}

nlohmann::json report_json(const OracleReport& r) {
  nlohmann::json j{{"engine", r.engine},       {"cases", r.cases},         {"compared", r.compared},
                   {"agree", r.agree},         {"known", r.known},         {"diverge", r.diverge},
                   {"unexpected", r.unexpected}, {"hang", r.hang},         {"crash", r.crash},
                   {"unsupported", r.unsupported}, {"seconds", r.seconds}, {"boots", r.stats.boots},
                   {"cases_run", r.stats.cases_run}};
  j["known_by_id"] = r.known_by_id;
  j["unsupported_by_reason"] = r.unsupported_by_reason;
  j["compared_by_access"] = r.compared_by_access;
  nlohmann::json fs = nlohmann::json::array();
  for (const Finding& f : r.findings) {
    nlohmann::json x{{"index", f.index}, {"kind", f.kind}, {"detail", f.detail}, {"reference", verdict_to_json(f.reference)}};
    if (f.kind == "diverge") x["observed"] = outcome_to_json(f.observed);
    fs.push_back(x);
  }
  j["findings"] = fs;
  nlohmann::json kc = nlohmann::json::array();
  for (const auto& [i, ids] : r.known_cases) kc.push_back({{"index", i}, {"known", ids}});
  j["known_cases"] = kc;
  return j;
}

}  // namespace mmucheck::probe
