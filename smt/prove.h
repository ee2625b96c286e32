// `mmucheck prove` as a library: the named theorems about KVM-style tables
// and about the SDM rules themselves, proved with Z3. This header does not
// include Z3 (code outside smt/ never does).
//
// The tables under proof are the ones the project's C++ engine (model/kvm)
// builds, for every role of a finite role space (smt/roles.h); the theorems
// compare the engine's table lookups with the SDM rules encoded in
// smt/rules.h, for all inputs. A refutation comes back as a concrete case
// that `mmucheck replay --engines ref,ENGINE` shows diverging.
//
//   std::string error;
//   auto s = smt::subject("kvm:amd-bit8-on-pdpe", error);
//   for (const smt::TheoremResult& r : smt::prove(*s, {}))
//     std::cout << r.name << " " << smt::status_name(r.status) << "\n";
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/case.h"
#include "model/kvm/kvm_mmu.h"

namespace smt {

struct TheoremInfo {
  std::string_view name;   // --theorem NAME
  std::string_view about;  // "kvm": the mainline-layout tables (kvm, kvm:MUTANT); "kvm-3.14"; "rules": the SDM rules alone
  std::string_view title;  // one line
  std::string_view sdm;    // the SDM sections the rule side comes from
};
std::span<const TheoremInfo> theorems();
const TheoremInfo* find_theorem(std::string_view name);

// The allow-list: where mainline KVM is known to differ from the SDM. A
// theorem refuted only inside such a region is reported "known", with the
// counterexample; one refuted outside it is "refuted".
struct KnownFinding {
  std::string_view id;
  std::string_view theorem;
  std::string_view region;  // where, in the theorem's terms
  std::string_view reason;  // why it is allowed, and where it is documented
};
std::span<const KnownFinding> known_findings();

// What a proof is about: an engine of the KVM family.
struct Subject {
  std::string engine;  // as --engine names it: kvm, kvm:MUTANT, kvm-3.14
  std::shared_ptr<const mmu::kvm::MmuAlgorithm> algorithm;
  bool kvm314 = false;  // the 3.14 tables (theorems about "kvm-3.14")
};
// nullopt, with `error` saying why, when `engine` is not a KVM-style engine.
std::optional<Subject> subject(std::string_view engine, std::string& error);
// The theorems that apply to `s`, in order.
std::vector<const TheoremInfo*> theorems_for(const Subject& s);

enum class Status { proved, refuted, known, unknown };
std::string_view status_name(Status s);

// One solver query a theorem asked.
struct QueryRecord {
  std::string label;      // "all inputs", "outside the allow-list"
  std::string verdict;    // proved, refuted, unknown
  double seconds = 0;
  std::string smt2_path;  // with --emit-smt2
};

struct TheoremResult {
  std::string name;
  Status status = Status::unknown;
  double seconds = 0;        // building the encoding (tables included) and solving
  double solve_seconds = 0;  // in the solver
  std::vector<std::string> known;  // status known: the allow-list entries the refutation falls in
  std::string detail;              // refuted/known: the counterexample in words; unknown: the solver's reason
  std::optional<mmu::Case> counterexample;
  std::string case_error;          // why the counterexample could not be made a valid case, if so
  std::vector<std::string> notes;  // e.g. an allow-list entry that no longer reproduces
  std::vector<QueryRecord> queries;
};

struct ProveOptions {
  std::vector<std::string> only;  // theorem names; empty: every theorem that applies
  std::string emit_smt2_dir;      // write every query as SMT-LIB2 (QF_BV) here
  unsigned timeout_ms = 120000;   // per query
};

// Throws std::invalid_argument for a theorem name that is unknown or does not
// apply to `s`, and std::runtime_error when --emit-smt2 cannot be written.
std::vector<TheoremResult> prove(const Subject& s, const ProveOptions& o);

}  // namespace smt
