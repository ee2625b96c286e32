#include "tools/oracle_cmd.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "campaign/oracle_cases.h"
#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/case_reader.h"
#include "replay/probe_compare.h"

namespace mmucheck {
namespace {

namespace fs = std::filesystem;
constexpr int kOk = 0, kDiverge = 1, kBadInput = 2, kNoEmulator = 3, kNoKvm = 4;

}  // namespace

CLI::App* add_oracle_command(CLI::App& app, OracleCli& opt) {
  auto* cmd = app.add_subcommand("oracle", "Run cases on an emulator oracle (qemu, bochs, kvm-hw) against the reference");
  cmd->add_option("--engine", opt.engine, "qemu, bochs or kvm-hw")->capture_default_str();
  cmd->add_option("inputs", opt.inputs, "Case files or directories (searched for *.json)");
  cmd->add_option("--random", opt.random, "Also N random guest-paging cases decoded from random bytes (fuzz/decoder.h)");
  cmd->add_option("--seed", opt.seed, "Seed for --random")->capture_default_str();
  cmd->add_option("--shape", opt.shape,
                  "Shape of the --random cases: guest (no EPT), ept (EPT, paging off), nested (EPT under guest paging) "
                  "or any; EPT shapes need an engine with VMX (bochs, kvm-hw)")
      ->capture_default_str();
  cmd->add_flag("--fit-cpu", opt.fit_cpu,
                "Give every case the emulated CPU's CPUID (MAXPHYADDR, vendor, features) and drop those that become "
                "invalid (always on for --random)");
  cmd->add_flag("--one-cpu", opt.one_cpu,
                "With --fit-cpu/--random on QEMU: a single CPU model (MAXPHYADDR 46, Intel), so every case shares a "
                "boot (benchmarks)");
  cmd->add_option("--batch", opt.batch, "Cases per boot")->capture_default_str();
  cmd->add_option("--jobs", opt.jobs, "Emulators run at once")->capture_default_str();
  cmd->add_flag("--json", opt.json, "Print the report as JSON");
  cmd->add_option("--out", opt.out, "Write each divergent, unexpected, hanging or crashing case here as JSON");
  cmd->add_option("--show", opt.show, "Findings listed in the text report")->capture_default_str();
  return cmd;
}

int run_oracle(const OracleCli& opt) {
  probe::Emulator emu;
  if (opt.engine == "qemu") emu = probe::Emulator::qemu;
  else if (opt.engine == "bochs") emu = probe::Emulator::bochs;
  else if (opt.engine == "kvm-hw") emu = probe::Emulator::kvm;
  else {
    std::cerr << fmt::format("mmucheck oracle: unknown engine '{}' (qemu, bochs, kvm-hw)\n", opt.engine);
    return kBadInput;
  }
  probe::RunnerOptions ro;
  ro.batch_size = std::max<std::size_t>(1, opt.batch);
  ro.jobs = std::max(1u, opt.jobs);
  probe::Runner runner(emu, ro);
  if (auto why = runner.unavailable()) {
    std::cerr << "mmucheck oracle: " << *why << "\n";
    std::string kvm_why;
    return emu == probe::Emulator::kvm && !probe::kvm_available(&kvm_why) ? kNoKvm : kNoEmulator;
  }

  int status = kOk;
  std::vector<mmu::Case> cases;
  std::size_t dropped = 0;
  for (const std::string& in : opt.inputs) {
    std::vector<std::string> files;
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      for (const auto& de : fs::recursive_directory_iterator(in, ec))
        if (de.is_regular_file() && de.path().extension() == ".json") files.push_back(de.path().string());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(in);
    }
    for (const std::string& f : files) {
      std::ifstream file(f);
      if (!file) {
        std::cerr << f << ": cannot open\n";
        status = kBadInput;
        continue;
      }
      CaseReader reader(file, f);
      for (CaseRecord rec; reader.next(rec);) {
        if (!rec.file) {
          std::cerr << rec.error << "\n";
          status = kBadInput;
          continue;
        }
        if (!opt.fit_cpu) {
          cases.push_back(rec.file->kase);
        } else if (auto d = fit_case(rec.file->kase, emu, opt.one_cpu)) {
          cases.push_back(*d);
        } else {
          ++dropped;
        }
      }
    }
  }
  if (opt.random) {
    // Random guest-paging cases the probe can run (campaign/oracle_cases.h).
    std::mt19937_64 rng(opt.seed);
    const auto shape = fuzz::shape_from_name(opt.shape);
    if (!shape) {
      std::cerr << fmt::format("mmucheck oracle: unknown shape '{}' (guest, ept, nested, any)\n", opt.shape);
      return kBadInput;
    }
    for (mmu::Case& c : random_oracle_cases(emu, opt.random, rng, opt.one_cpu, *shape)) {
      c.name = fmt::format("random seed {} #{}", opt.seed, cases.size());
      cases.push_back(std::move(c));
    }
  }
  if (cases.empty()) {
    std::cerr << "mmucheck oracle: no cases (give files, directories or --random N)\n";
    return status == kOk ? kBadInput : status;
  }
  std::vector<const mmu::Case*> ptrs;
  for (const mmu::Case& c : cases) ptrs.push_back(&c);
  probe::OracleReport rep = probe::compare_with_reference(runner, ptrs);
  if (opt.json) {
    nlohmann::json j = probe::report_json(rep);
    j["dropped_by_fit"] = dropped;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << probe::report_text(rep, opt.show);
    if (dropped) std::cout << fmt::format("{} cases dropped: invalid with the emulated CPU's CPUID\n", dropped);
  }
  if (!opt.out.empty()) {
    fs::create_directories(opt.out);
    for (const probe::Finding& f : rep.findings) {
      nlohmann::json j = case_to_json(cases[f.index]);
      j["oracle"] = {{"engine", opt.engine}, {"kind", f.kind}, {"detail", f.detail}};
      if (f.kind == "diverge") j["oracle"]["observed"] = outcome_to_json(f.observed);
      const std::string path = fmt::format("{}/{}-{}-{}.json", opt.out, opt.engine, f.kind, f.index);
      const std::string tmp = path + ".tmp";
      std::ofstream(tmp) << j.dump(2) << "\n";
      fs::rename(tmp, path);
    }
  }
  if (rep.failed() && status == kOk) status = kDiverge;
  // An emulator that never boots the probe is as good as missing.
  if (rep.compared == 0)
    for (const auto& [why, n] : rep.unsupported_by_reason)
      if (why.find("did not boot the probe") != std::string::npos) {
        std::cerr << "mmucheck oracle: " << opt.engine << ": the emulator did not boot the probe (see above)\n";
        return kNoEmulator;
      }
  return status;
}

}  // namespace mmucheck
