// mmucheck: the command line. A thin main over the libraries; see
// `mmucheck --help` and docs/cli.md. Exit codes: 0 success / engines agree,
// 1 divergence, 2 bad input or usage (every message names file, line, field).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "model/kvm/mutants.h"
#include "model/rules.h"
#include "replay/case_reader.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/replay.h"
#include "tools/campaign_cmd.h"
#include "tools/decode_cmd.h"
#include "tools/oracle_cmd.h"
#include "tools/prove_cmd.h"

namespace {

namespace fs = std::filesystem;
using mmucheck::CaseReader;
using mmucheck::CaseRecord;

constexpr int kExitOk = 0, kExitDiverge = 1, kExitBadInput = 2;

std::vector<std::unique_ptr<mmucheck::Engine>> load_engines(const std::vector<std::string>& names) {
  std::vector<std::unique_ptr<mmucheck::Engine>> engines;
  for (const std::string& n : names) {
    auto e = mmucheck::make_engine(n);
    if (!e) {
      for (const auto& [absent, why] : mmucheck::absent_engines())
        if (absent == n) throw CLI::ValidationError("--engine", fmt::format("engine '{}' is absent from this build: {}", n, why));
      std::string known;
      for (const auto& k : mmucheck::engine_names()) known += (known.empty() ? "" : ", ") + k;
      throw CLI::ValidationError("--engine", fmt::format("unknown engine '{}' (known: {})", n, known));
    }
    engines.push_back(std::move(e));
  }
  return engines;
}

// Files named on the command line; directories are searched for *.json.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, int& status) {
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& de : fs::recursive_directory_iterator(in, ec))
        if (de.is_regular_file() && de.path().extension() == ".json") found.push_back(de.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (in == "-" || fs::exists(in, ec)) {
      files.push_back(in);
    } else {
      std::cerr << fmt::format("{}: no such file or directory\n", in);
      status = kExitBadInput;
    }
  }
  return files;
}

// Opens a case file; on failure says why (missing, a directory, unreadable).
bool open_case_file(const std::string& path, std::ifstream& file) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::cerr << fmt::format("{}: is a directory, not a case file\n", path);
    return false;
  }
  file.open(path);
  if (!file) {
    std::cerr << fmt::format("{}: cannot open\n", path);
    return false;
  }
  return true;
}

// Engines that boot an emulator per run (qemu, bochs, kvm-hw) get every case
// of the input in one batch; the output is the same, one line per record.
int run_eval_batched(const mmucheck::Engine& e, CaseReader& reader, bool with_trace) {
  std::vector<CaseRecord> records;
  for (CaseRecord rec; reader.next(rec);) records.push_back(std::move(rec));
  std::vector<const mmu::Case*> cases;
  for (const CaseRecord& r : records)
    if (r.file) cases.push_back(&r.file->kase);
  const auto answers = e.evaluate_batch(cases);
  int status = kExitOk;
  std::size_t k = 0;
  for (const CaseRecord& rec : records) {
    if (!rec.file) {
      std::cerr << rec.error << "\n";
      std::cout << nlohmann::json{{"error", rec.error}, {"line", rec.line}}.dump() << std::endl;
      status = kExitBadInput;
      continue;
    }
    const auto& a = answers[k++];
    if (a.unsupported) {
      std::cout << nlohmann::json{{"unsupported", *a.unsupported}, {"engine", std::string(e.name())}}.dump() << std::endl;
      continue;
    }
    nlohmann::json out = mmucheck::verdict_to_json(a.verdict);
    if (!a.note.empty()) out["note"] = a.note;
    if (with_trace) out["trace"] = nullptr;  // an emulator gives no walk trace
    std::cout << out.dump() << std::endl;
  }
  return status;
}

int run_eval(const std::string& engine_name, const std::string& input, bool with_trace) {
  auto engines = load_engines({engine_name});
  std::ifstream file;
  if (input != "-" && !open_case_file(input, file)) return kExitBadInput;
  std::istream& in = input == "-" ? std::cin : file;
  CaseReader reader(in, input == "-" ? "<stdin>" : input);
  int status = kExitOk;
  if (engines.front()->prefers_batches()) return run_eval_batched(*engines.front(), reader, with_trace);
  for (CaseRecord rec; reader.next(rec);) {
    if (!rec.file) {
      std::cerr << rec.error << "\n";
      // Keep output aligned with input: one line per record, errors included.
      std::cout << nlohmann::json{{"error", rec.error}, {"line", rec.line}}.dump() << std::endl;
      status = kExitBadInput;
      continue;
    }
    const mmucheck::Engine& e = *engines.front();
    if (auto why = e.unsupported(rec.file->kase)) {
      std::cout << nlohmann::json{{"unsupported", *why}, {"engine", std::string(e.name())}}.dump() << std::endl;
      continue;
    }
    mmu::Trace trace;
    nlohmann::json out = mmucheck::verdict_to_json(e.evaluate(rec.file->kase, with_trace ? &trace : nullptr));
    if (with_trace) out["trace"] = mmucheck::trace_to_json(trace);
    std::cout << out.dump() << std::endl;
  }
  return status;
}

struct ReplayOptions {
  std::vector<std::string> inputs;
  std::vector<std::string> engines{"ref"};
  bool json = false;
  bool summary = false;
  std::string color = "auto";
};

int run_replay(const ReplayOptions& opt) {
  auto owned = load_engines(opt.engines);
  std::vector<const mmucheck::Engine*> engines;
  for (const auto& e : owned) engines.push_back(e.get());
  const bool color = opt.color == "always" || (opt.color == "auto" && isatty(STDOUT_FILENO));

  int status = kExitOk;
  const std::vector<std::string> files = expand_inputs(opt.inputs, status);
  if (files.empty()) {
    std::cerr << "mmucheck replay: no case files found (directories are searched for *.json)\n";
    return kExitBadInput;
  }
  // Emulator engines (qemu, bochs, kvm-hw) boot once per batch: give them
  // every case first; replay_case() then finds the answers in their cache.
  if (std::any_of(engines.begin(), engines.end(), [](const auto* e) { return e->prefers_batches(); })) {
    std::vector<mmu::Case> all;
    for (const std::string& path : files) {
      std::error_code ec;
      if (path == "-" || !fs::is_regular_file(path, ec)) continue;  // the loop below reports it
      std::ifstream file(path);
      CaseReader reader(file, path);
      for (CaseRecord rec; reader.next(rec);)
        if (rec.file) all.push_back(rec.file->kase);
    }
    std::vector<const mmu::Case*> ptrs;
    for (const auto& c : all) ptrs.push_back(&c);
    for (const auto* e : engines)
      if (e->prefers_batches()) e->evaluate_batch(ptrs);
  }
  unsigned n_cases = 0, n_agree = 0, n_diverge = 0, n_bad = 0, n_unsupported = 0;
  std::map<std::string, unsigned> by_outcome, by_rule;
  for (const std::string& path : files) {
    std::ifstream file;
    if (path != "-" && !open_case_file(path, file)) {
      status = kExitBadInput;
      ++n_bad;
      continue;
    }
    CaseReader reader(path == "-" ? std::cin : file, path == "-" ? "<stdin>" : path);
    for (CaseRecord rec; reader.next(rec);) {
      if (!rec.file) {
        std::cerr << rec.error << "\n";
        status = kExitBadInput;
        ++n_bad;
        continue;
      }
      ++n_cases;
      auto r = mmucheck::replay_case(*rec.file, engines);
      bool unsupported = false;
      for (const auto& run : r.runs) unsupported |= run.unsupported.has_value();
      if (unsupported) ++n_unsupported;
      if (r.agree) ++n_agree;
      else ++n_diverge;
      if (!r.agree && status == kExitOk) status = kExitDiverge;
      for (const auto& run : r.runs) {
        if (run.unsupported) continue;
        ++by_outcome[std::string(mmu::outcome_kind_name(run.verdict.outcome.kind))];
        ++by_rule[std::string(mmu::rule_info(run.trace.decided_by).id)];
        break;
      }
      if (opt.json) std::cout << mmucheck::render_json(r, path).dump() << std::endl;
      else if (!opt.summary || !r.agree) std::cout << mmucheck::render_text(r, path, color) << std::endl;
    }
  }
  if (opt.summary) {
    std::string engines_list;
    for (const auto& e : opt.engines) engines_list += (engines_list.empty() ? "" : ", ") + e;
    std::cout << fmt::format("replayed {} cases from {} files on [{}]: {} agree, {} diverge, {} bad input; "
                             "{} unsupported by some engine (compared on the others)\n",
                             n_cases, files.size(), engines_list, n_agree, n_diverge, n_bad, n_unsupported);
    std::cout << "outcomes:";
    for (const auto& [k, v] : by_outcome) std::cout << fmt::format(" {}={}", k, v);
    std::cout << "\ndeciding rules:\n";
    for (const auto& [k, v] : by_rule) std::cout << fmt::format("  {:<28}{}\n", k, v);
  }
  return status;
}

int run_tables(const std::string& path) {
  std::ifstream file;
  if (!open_case_file(path, file)) return kExitBadInput;
  CaseReader reader(file, path);
  int status = kExitOk;
  for (CaseRecord rec; reader.next(rec);) {
    if (!rec.file) {
      std::cerr << rec.error << "\n";
      status = kExitBadInput;
      continue;
    }
    std::cout << mmucheck::render_kvm_tables(rec.file->kase);
  }
  return status;
}

struct ExhaustCli {
  std::string space;
  std::vector<std::string> engines{"ref", "kvm"};
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  std::string out;
  bool json = false;
};

// {"finding id": points} for the divergences the allow-list explains.
nlohmann::json known_json(const mmucheck::ExhaustResult& r) {
  nlohmann::json known = nlohmann::json::object();
  for (const auto& [id, n] : r.known) known[std::string(id)] = n;
  return known;
}

int run_exhaust(const ExhaustCli& opt) {
  const mmucheck::ExhaustSpace* space = mmucheck::find_space(opt.space);
  if (!space) {
    std::string known;
    for (const auto& s : mmucheck::exhaust_spaces()) known += (known.empty() ? "" : ", ") + std::string(s.name);
    std::cerr << fmt::format("mmucheck exhaust: unknown space '{}' (known: {})\n", opt.space, known);
    return kExitBadInput;
  }
  if (opt.engines.size() != 2) throw CLI::ValidationError("--engines", "exhaust compares exactly two engines: A,B");
  auto engines = load_engines(opt.engines);
  if (!opt.out.empty()) fs::create_directories(opt.out);  // fail before the run, not after it
  const bool tty = isatty(STDERR_FILENO);
  mmucheck::ExhaustOptions eo;
  eo.jobs = opt.jobs;
  eo.progress = [&](mmu::u64 done) {
    if (tty) std::cerr << fmt::format("\r{}: {}/{} points ({:.0f}%)", space->name, done, space->size, 100.0 * done / space->size);
  };
  const auto r = mmucheck::exhaust(*space, *engines[0], *engines[1], eo);
  if (tty) std::cerr << "\r\x1b[K";
  std::vector<std::string> written;
  if (!opt.out.empty()) {
    for (const auto& [index, c] : r.first) {
      mmu::Case named = c;
      named.name = fmt::format("exhaust {} point {}: {} vs {}", space->name, index, opt.engines[0], opt.engines[1]);
      const std::string path = fmt::format("{}/{}-{}.json", opt.out, space->name, index);
      std::ofstream f(path + ".tmp");
      f << mmucheck::case_to_json(named).dump(2) << "\n";
      f.close();
      std::filesystem::rename(path + ".tmp", path);  // never a half-written case
      written.push_back(path);
    }
  }
  if (opt.json) {
    nlohmann::json first = nlohmann::json::array();
    for (const auto& [index, c] : r.first) first.push_back({{"index", index}, {"case", mmucheck::case_to_json(c)}});
    std::cout << nlohmann::json{{"space", std::string(space->name)}, {"engines", opt.engines}, {"points", r.points},
                                {"illegal", r.illegal}, {"unsupported", r.unsupported}, {"compared", r.compared},
                                {"divergences", r.divergences}, {"seconds", r.seconds},
                                {"points_per_second", r.seconds > 0 ? r.points / r.seconds : 0.0}, {"jobs", opt.jobs},
                                {"known", known_json(r)}, {"first", first}, {"written", written}}
                     .dump()
              << std::endl;
  } else {
    std::cout << fmt::format("space {} ({} points): {} compared, {} illegal, {} unsupported, {} divergences "
                             "between {} and {} in {:.2f} s ({:.1f} M points/s, {} jobs)\n",
                             space->name, r.points, r.compared, r.illegal, r.unsupported, r.divergences,
                             opt.engines[0], opt.engines[1], r.seconds, r.points / r.seconds / 1e6, opt.jobs);
    for (const auto& [id, n] : r.known)
      std::cout << fmt::format("  known finding {}: {} points (docs/kvm.md, allow-list)\n", id, n);
    for (const auto& [index, c] : r.first) {
      std::cout << fmt::format("  point {}: {}\n", index, mmucheck::case_to_json(c).dump());
    }
    for (const auto& w : written) std::cout << "  wrote " << w << "\n";
  }
  return r.divergences ? kExitDiverge : kExitOk;
}

int run_rules(bool markdown) {
  if (markdown) std::cout << "| id | SDM | rule | open |\n|---|---|---|---|\n";
  for (const mmu::RuleInfo& r : mmu::all_rules()) {
    if (r.rule == mmu::Rule::none) continue;
    if (markdown) std::cout << fmt::format("| `{}` | {} | {} | {} |\n", r.id, r.sdm, r.summary, r.open ? "yes" : "");
    else std::cout << fmt::format("{:<24}{:<28}{}{}\n", r.id, "SDM " + std::string(r.sdm), r.summary, r.open ? " [open]" : "");
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mmucheck: checks x86 MMU implementations (reference, KVM-style tables, emulators) against the Intel SDM"};
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok/agree, 1 divergence, 2 bad input or usage. See docs/cli.md.");

  std::string engine = "ref", input = "-";
  bool trace = false;
  auto* eval = app.add_subcommand("eval", "Evaluate cases (JSON lines or one pretty JSON document) and print one outcome per line");
  eval->add_option("--engine", engine, "Engine to evaluate with")->capture_default_str();
  eval->add_option("input", input, "Case file, or - for standard input")->capture_default_str();
  eval->add_flag("--trace", trace, "Add the walk trace to each outcome");

  ReplayOptions ropt;
  auto* replay = app.add_subcommand("replay", "Run cases on engines side by side, with walk traces; exit 1 on divergence");
  replay->add_option("cases", ropt.inputs, "Case files or directories (searched for *.json)")->required();
  replay->add_option("--engines", ropt.engines, "Engines to run, comma separated")->delimiter(',')->allow_extra_args(false)->capture_default_str();
  replay->add_flag("--json", ropt.json, "One JSON object per case instead of text");
  replay->add_flag("--summary", ropt.summary, "Print only divergences and a summary");
  replay->add_option("--color", ropt.color, "Highlight differences")->check(CLI::IsMember({"auto", "always", "never"}))->capture_default_str();

  bool markdown = false;
  auto* rules = app.add_subcommand("rules", "List the reference's rule catalogue (ids, SDM sections)");
  rules->add_flag("--markdown", markdown, "As a Markdown table");

  auto* engines = app.add_subcommand("engines", "List the engines this build has");

  ExhaustCli xopt;
  auto* exhaust = app.add_subcommand("exhaust", "Enumerate a finite space of cases through two engines; exit 1 on divergence");
  exhaust->add_option("--space", xopt.space, "Space to enumerate (see docs/cli.md; an unknown name lists them)")->required();
  exhaust->add_option("--engines", xopt.engines, "The two engines, baseline first")->delimiter(',')->allow_extra_args(false)->capture_default_str();
  exhaust->add_option("--jobs", xopt.jobs, "Threads")->check(CLI::Range(1u, 256u))->capture_default_str();
  exhaust->add_option("--out", xopt.out, "Directory for the first divergent cases (JSON, replayable)");
  exhaust->add_flag("--json", xopt.json, "One JSON object on stdout instead of text (progress stays on stderr)");

  auto* mutants = app.add_subcommand("mutants", "List the bug zoo: historical KVM MMU bugs, usable as --engine kvm:NAME");

  std::string tables_input;
  auto* tables = app.add_subcommand("tables", "Print the tables mainline KVM builds for a case's CPU role");
  tables->add_option("case", tables_input, "Case file")->required();

  mmucheck::ProveCli prove_opt;
  auto* prove = mmucheck::add_prove_command(app, prove_opt);

  mmucheck::DecodeCli decode_opt;
  auto* decode = mmucheck::add_decode_command(app, decode_opt);

  mmucheck::CampaignCli campaign_opt;
  auto* campaign = mmucheck::add_campaign_command(app, campaign_opt);
  mmucheck::MinimizeCli minimize_opt;
  auto* minimize = mmucheck::add_minimize_command(app, minimize_opt);
  mmucheck::OracleCli oracle_opt;
  auto* oracle = mmucheck::add_oracle_command(app, oracle_opt);
  mmucheck::StoreCli store_opt;
  auto* store = mmucheck::add_store_command(app, store_opt);

  try {
    app.parse(argc, argv);
    if (*campaign) return mmucheck::run_campaign_command(campaign_opt);
    if (*minimize) return mmucheck::run_minimize(minimize_opt);
    if (*oracle) return mmucheck::run_oracle(oracle_opt);
    if (*store) return mmucheck::run_store_command(*store, store_opt);
    if (*decode) return mmucheck::run_decode(decode_opt);
    if (*prove) return mmucheck::run_prove(prove_opt);
    if (*eval) return run_eval(engine, input, trace);
    if (*replay) return run_replay(ropt);
    if (*rules) return run_rules(markdown);
    if (*tables) return run_tables(tables_input);
    if (*exhaust) return run_exhaust(xopt);
    if (*mutants) {
      for (const auto& m : mmu::kvm::mutants())
        std::cout << fmt::format("kvm:{:<34} {:<13} {}{}\n", m.name, m.commit.empty() ? "-" : m.commit, m.description,
                                 m.title.empty() ? "" : fmt::format(" [{}]", m.title));
      return kExitOk;
    }
    if (*engines) {
      for (const auto& n : mmucheck::engine_names())
        std::cout << fmt::format("{:<40}{}\n", n, mmucheck::make_engine(n)->description());
      for (const auto& [n, why] : mmucheck::absent_engines()) std::cout << fmt::format("{:<40}absent: {}\n", n, why);
      return kExitOk;
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "mmucheck: " << e.what() << "\n";
    return kExitBadInput;
  }
  return kExitOk;
}
