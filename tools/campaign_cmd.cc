#include "tools/campaign_cmd.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "replay/case_json.h"
#include "replay/case_reader.h"
#include "replay/engine.h"
#include "replay/minimize.h"
#include "replay/store.h"

namespace mmucheck {

CLI::App* add_campaign_command(CLI::App& app, CampaignCli& opt) {
  auto* c = app.add_subcommand(
      "campaign", "Prove, enumerate, run the bug zoo and random cases for a time budget; store divergences; write a report");
  c->add_option("--time", opt.options.seconds, "Budget in seconds")->capture_default_str();
  c->add_option("--out", opt.out, "Campaign directory (state, divergence store, report); reused to resume")
      ->capture_default_str();
  c->add_option("--jobs", opt.options.jobs, "Threads for the exhaustive spaces")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  c->add_option("--engines", opt.options.engines, "Engines compared with the reference")
      ->delimiter(',')
      ->allow_extra_args(false)  // one comma-separated list: a positional argument after it is not an engine
      ->capture_default_str();
  c->add_option("--corpus", opt.corpus, "Corpus folder holding bug_zoo/ (the mutants' regression cases); seeds the fuzzers")
      ->capture_default_str();
  c->add_option("--oracles", opt.options.oracles, "Emulator oracles to sample, when available here (kvm-hw: on a VT-x host, by name)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::IsMember({"qemu", "bochs", "kvm-hw"}))
      ->capture_default_str();
  c->add_option("--oracle-cases", opt.options.oracle_cases,
                "Random guest-paging cases per run on each emulator oracle available (qemu, bochs, kvm-hw); 0 skips")
      ->capture_default_str();
  c->add_option("--fuzzers", opt.fuzzers,
                "Directory of libFuzzer targets (a `fuzz` preset build); run alongside when present, '' to skip")
      ->capture_default_str();
  return c;
}

int run_campaign_command(CampaignCli& opt) {
  opt.options.out = opt.out;
  opt.options.corpus = opt.corpus;
  opt.options.fuzzers = opt.fuzzers;
  return run_campaign(opt.options, std::cerr);
}

CLI::App* add_minimize_command(CLI::App& app, MinimizeCli& opt) {
  auto* m = app.add_subcommand("minimize", "Shrink a diverging case while the same divergence persists");
  m->add_option("case", opt.input, "Case file")->required();
  m->add_option("--engines", opt.engines, "The two engines, baseline first")->delimiter(',')->allow_extra_args(false)->capture_default_str();
  m->add_option("--out", opt.out, "Where to write the minimal case (default: CASE with .min.json)");
  m->add_option("--budget", opt.budget, "Most candidate cases to try")->capture_default_str();
  return m;
}

int run_minimize(const MinimizeCli& opt) {
  if (opt.engines.size() != 2) {
    std::cerr << "mmucheck minimize: --engines takes two engines\n";
    return 2;
  }
  const auto a = make_engine(opt.engines[0]), b = make_engine(opt.engines[1]);
  if (!a || !b) {
    std::cerr << fmt::format("mmucheck minimize: unknown engine '{}'\n", !a ? opt.engines[0] : opt.engines[1]);
    return 2;
  }
  std::ifstream in(opt.input);
  if (!in) {
    std::cerr << fmt::format("mmucheck minimize: {}: cannot open\n", opt.input);
    return 2;
  }
  CaseReader reader(in, opt.input);
  CaseRecord rec;
  if (!reader.next(rec) || !rec.file) {
    std::cerr << "mmucheck minimize: " << (rec.error.empty() ? opt.input + ": no case" : rec.error) << "\n";
    return 2;
  }
  std::string known;
  const auto sig = divergence_signature(rec.file->kase, *a, *b, &known);
  if (!sig) {
    std::cerr << fmt::format("mmucheck minimize: {} and {} do not diverge on {}{}\n", a->name(), b->name(), opt.input,
                             known.empty() ? "" : " outside the allow-list (known finding " + known + ")");
    return 1;
  }
  MinimizeResult r = minimize(rec.file->kase, *a, *b, opt.budget);
  r.kase.name = fmt::format("minimised from {}: {}", opt.input, r.signature);
  std::string out = opt.out;
  if (out.empty()) {
    out = opt.input;
    if (out.ends_with(".json")) out.resize(out.size() - 5);
    out += ".min.json";
  }
  write_file_atomic(out, case_to_json(r.kase).dump(2) + "\n");
  std::cout << fmt::format("{}: {} memory entries -> {}, {} candidates tried, {} kept\n  signature: {}\n  wrote {}\n",
                           opt.input, rec.file->kase.memory.entries().size(), r.kase.memory.entries().size(), r.tried,
                           r.kept, r.signature, out);
  return 0;
}

CLI::App* add_store_command(CLI::App& app, StoreCli& opt) {
  auto* s = app.add_subcommand("store", "List a divergence store, or mark an entry known or fixed");
  s->require_subcommand(1);
  auto* list = s->add_subcommand("list", "Every entry: id, status, count, signature, minimised case");
  list->add_option("dir", opt.dir, "Divergence store, or a campaign directory")->required();
  list->add_flag("--json", opt.json, "The index as JSON");
  auto* mark = s->add_subcommand("mark", "Set an entry's status: known (with a reason), fixed, or new again");
  mark->add_option("dir", opt.dir, "Divergence store, or a campaign directory")->required();
  mark->add_option("id", opt.id, "Entry id (d0001, ...)")->required();
  mark->add_option("status", opt.status, "new, known or fixed")
      ->required()
      ->check(CLI::IsMember({"new", "known", "fixed"}));
  mark->add_option("--reason", opt.reason, "Why (required for known)");
  return s;
}

int run_store_command(CLI::App& store, const StoreCli& opt) {
  std::filesystem::path dir = opt.dir;
  if (std::filesystem::exists(dir / "divergences" / "index.json")) dir /= "divergences";
  if (!std::filesystem::exists(dir / "index.json")) {
    std::cerr << fmt::format("mmucheck store: {}: no index.json (not a divergence store or campaign directory)\n",
                             opt.dir);
    return 2;
  }
  try {
    DivergenceStore s(dir);
    if (store.got_subcommand("mark")) {
      if (opt.status == "known" && opt.reason.empty()) {
        std::cerr << "mmucheck store mark: status known needs --reason\n";
        return 2;
      }
      if (!s.set_status(opt.id, opt.status, opt.reason)) {
        std::cerr << fmt::format("mmucheck store mark: {}: no entry {}\n", dir.string(), opt.id);
        return 1;
      }
      std::cout << fmt::format("{}: {} is now {}\n", dir.string(), opt.id, opt.status);
      return 0;
    }
    if (opt.json) {
      std::ifstream in(dir / "index.json");
      std::cout << in.rdbuf();
      return 0;
    }
    for (const auto& e : s.entries())
      std::cout << fmt::format("{}  {:<6} x{:<6} {}  [{}]\n    {}{}\n", e.id, e.status, e.count, e.signature, e.engines,
                               (dir / e.minimized_file).string(), e.reason.empty() ? "" : "\n    reason: " + e.reason);
    if (s.entries().empty()) std::cout << dir.string() << ": no divergences\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mmucheck store: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mmucheck
