#include "tools/prove_cmd.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/replay.h"
#include "smt/prove.h"

namespace mmucheck {
namespace {

namespace fs = std::filesystem;

std::string file_name(std::string_view engine, std::string_view theorem) {
  std::string s = std::string(engine) + "-" + std::string(theorem) + ".json";
  for (char& c : s)
    if (c == ':' || c == '/') c = '_';
  return s;
}

// Runs the counterexample through ref and the engine under proof: a
// refutation must show up as a divergence there.
std::string replay_check(const mmu::Case& c, const std::string& engine) {
  const auto ref = make_engine("ref");
  const auto eng = make_engine(engine);
  if (!eng) return "not replayed: no engine " + engine;
  std::vector<const Engine*> engines{ref.get(), eng.get()};
  const ReplayResult r = replay_case(CaseFile{c, std::nullopt}, engines);
  if (r.runs[1].unsupported) return "not replayed: " + engine + " does not model it (" + *r.runs[1].unsupported + ")";
  if (r.runs[1].known) return "replay: a known divergence (" + *r.runs[1].known + ")";
  if (r.agree) return "DOES NOT DIVERGE under replay (ref and " + engine + " agree): the counterexample is not faithful";
  return fmt::format("replay diverges: ref {} / {} {}", describe_outcome(r.runs[0].verdict.outcome), engine,
                     describe_outcome(r.runs[1].verdict.outcome));
}

}  // namespace

CLI::App* add_prove_command(CLI::App& app, ProveCli& opt) {
  auto* p = app.add_subcommand("prove",
                               "Prove the KVM-style tables equal the SDM rules (Z3); a refutation is written as a case");
  p->add_option("--engine", opt.engine, "kvm, kvm:MUTANT or kvm-3.14")->capture_default_str();
  p->add_option("--theorem", opt.theorems, "Only these theorems (repeat, or comma separated)")->delimiter(',');
  p->add_option("--emit-smt2", opt.emit_smt2, "Write every query as SMT-LIB2 (QF_BV) under DIR/ENGINE/");
  p->add_option("--out", opt.out, "Directory for counterexample cases (JSON, replayable)");
  p->add_option("--timeout", opt.timeout_s, "Seconds per solver query")->check(CLI::Range(1u, 3600u))->capture_default_str();
  p->add_flag("--json", opt.json, "One JSON object per theorem, then a summary object");
  p->add_flag("--list", opt.list, "List the theorems for the engine and the allow-list, prove nothing");
  return p;
}

int run_prove(const ProveCli& opt) {
  std::string error;
  const auto subject = smt::subject(opt.engine, error);
  if (!subject) {
    std::cerr << "mmucheck prove: " << error << "\n";
    return 2;
  }
  if (opt.list) {
    for (const smt::TheoremInfo* t : smt::theorems_for(*subject))
      std::cout << fmt::format("{:<30} {:<8} {} [SDM {}]\n", t->name, t->about, t->title, t->sdm);
    std::cout << "\nallow-list (known findings of mainline KVM):\n";
    for (const smt::KnownFinding& k : smt::known_findings())
      std::cout << fmt::format("  {:<18} {}: {}\n    {}\n", k.id, k.theorem, k.region, k.reason);
    return 0;
  }
  if (!opt.out.empty()) {
    std::error_code ec;
    fs::create_directories(opt.out, ec);
    if (ec || !fs::is_directory(opt.out)) {
      std::cerr << fmt::format("mmucheck prove: --out {}: cannot create the directory\n", opt.out);
      return 2;
    }
  }
  smt::ProveOptions po;
  po.only = opt.theorems;
  po.emit_smt2_dir = opt.emit_smt2;
  po.timeout_ms = opt.timeout_s * 1000;
  std::vector<smt::TheoremResult> results;
  try {
    results = smt::prove(*subject, po);
  } catch (const std::invalid_argument& e) {
    std::cerr << "mmucheck prove: " << e.what() << "\n";
    return 2;
  }

  unsigned counts[4] = {};
  double total = 0;
  int status = 0;
  for (const smt::TheoremResult& r : results) {
    ++counts[static_cast<unsigned>(r.status)];
    total += r.seconds;
    if (r.status == smt::Status::refuted || r.status == smt::Status::unknown) status = 1;
    std::string written, replay;
    if (r.counterexample) {
      replay = replay_check(*r.counterexample, opt.engine);
      if (!opt.out.empty()) {
        written = (fs::path(opt.out) / file_name(opt.engine, r.name)).string();
        std::ofstream f(written + ".tmp");
        f << case_to_json(*r.counterexample).dump(2) << "\n";
        f.close();
        fs::rename(written + ".tmp", written);
      }
    }
    if (opt.json) {
      nlohmann::json j{{"theorem", r.name},       {"engine", opt.engine},          {"status", smt::status_name(r.status)},
                       {"seconds", r.seconds},    {"solve_seconds", r.solve_seconds}};
      if (!r.known.empty()) j["known"] = r.known;
      if (!r.detail.empty()) j["detail"] = r.detail;
      if (r.counterexample) {
        j["counterexample"] = case_to_json(*r.counterexample);
        j["replay"] = replay;
      }
      if (!r.case_error.empty()) j["case_error"] = r.case_error;
      if (!written.empty()) j["written"] = written;
      if (!r.notes.empty()) j["notes"] = r.notes;
      nlohmann::json q = nlohmann::json::array();
      for (const auto& qr : r.queries) {
        nlohmann::json e{{"query", qr.label}, {"verdict", qr.verdict}, {"seconds", qr.seconds}};
        if (!qr.smt2_path.empty()) e["smt2"] = qr.smt2_path;
        q.push_back(e);
      }
      j["queries"] = q;
      std::cout << j.dump() << std::endl;
      continue;
    }
    std::cout << fmt::format("{:<30} {:<8} {:7.3f} s\n", r.name, smt::status_name(r.status), r.seconds);
    if (!r.known.empty()) {
      std::string ids;
      for (const auto& k : r.known) ids += (ids.empty() ? "" : ", ") + k;
      std::cout << "    allow-list: " << ids << "\n";
    }
    if (!r.detail.empty()) std::cout << "    " << r.detail << "\n";
    if (!replay.empty()) std::cout << "    " << replay << "\n";
    if (!r.case_error.empty()) std::cout << "    " << r.case_error << "\n";
    if (!written.empty()) std::cout << "    wrote " << written << "\n";
    else if (r.counterexample) std::cout << "    case: " << case_to_json(*r.counterexample).dump() << "\n";
    for (const auto& n : r.notes) std::cout << "    note: " << n << "\n";
  }
  const std::string summary = fmt::format("{}: {} proved, {} known, {} refuted, {} unknown in {:.2f} s", opt.engine,
                                          counts[0], counts[2], counts[1], counts[3], total);
  if (opt.json)
    std::cout << nlohmann::json{{"engine", opt.engine}, {"proved", counts[0]}, {"known", counts[2]},
                                {"refuted", counts[1]}, {"unknown", counts[3]}, {"seconds", total}}
                     .dump()
              << std::endl;
  else std::cout << summary << "\n";
  return status;
}

}  // namespace mmucheck
