// An emulator oracle against the reference: every case through a probe runner
// in batches, each observed outcome compared with the reference's verdict
// (docs/hardware.md, "What is compared"), divergences the known-deviation list
// explains counted as known, hangs and crashes attributed to their case.
//
//   mmucheck::probe::Runner r(mmucheck::probe::Emulator::qemu);
//   auto rep = mmucheck::probe::compare_with_reference(r, cases);
//   std::cout << mmucheck::probe::report_text(rep);
//   return rep.diverge + rep.hang + rep.crash + rep.unexpected ? 1 : 0;
#pragma once
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/case.h"
#include "model/outcome.h"
#include "replay/probe_runner.h"

namespace mmucheck::probe {

struct Finding {
  std::size_t index = 0;       // into the cases compared
  std::string kind;            // "diverge", "unexpected", "hang", "crash"
  std::string detail;
  mmu::Verdict reference;
  mmu::Outcome observed;       // diverge: what the emulator did
};

struct OracleReport {
  std::string engine;
  std::size_t cases = 0, compared = 0, agree = 0, known = 0, diverge = 0, unexpected = 0, hang = 0, crash = 0,
              unsupported = 0;
  std::map<std::string, std::size_t> known_by_id, unsupported_by_reason;
  // compared cases by access ("shadow-stack write", "implicit read", "fetch",
  // ...) and the reference's outcome kind: what the comparison exercised
  std::map<std::string, std::map<std::string, std::size_t>> compared_by_access;
  std::vector<Finding> findings;
  std::vector<std::pair<std::size_t, std::string>> known_cases;  // index, deviation ids ("a+b")
  double seconds = 0;
  RunStats stats;
  bool failed() const { return diverge + unexpected + hang + crash > 0; }
};

OracleReport compare_with_reference(Runner& runner, std::span<const mmu::Case* const> cases);
std::string report_text(const OracleReport& r, std::size_t max_findings = 20);
nlohmann::json report_json(const OracleReport& r);

}  // namespace mmucheck::probe
