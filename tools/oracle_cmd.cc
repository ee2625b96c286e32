#include "tools/oracle_cmd.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "fuzz/decoder.h"
#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/case_reader.h"
#include "replay/probe_compare.h"

namespace mmucheck {
namespace {

namespace fs = std::filesystem;
constexpr int kOk = 0, kDiverge = 1, kBadInput = 2, kNoEmulator = 3, kNoKvm = 4;

// The case with the emulated CPU's CPUID (Bochs: tigerlake, MAXPHYADDR 40;
// QEMU: one of a few MAXPHYADDR values so that cases share boots), or nullopt
// when that makes it an invalid machine state.
std::optional<mmu::Case> fit(const mmu::Case& c, probe::Emulator e, bool one_cpu) {
  mmu::Case d = c;
  using F = mmu::Feature;
  if (e == probe::Emulator::bochs) {
    d.cpu.maxphyaddr = 40;
    d.cpu.vendor = mmu::Vendor::intel;
    d.cpu.features = probe::bochs_model().features;
  } else if (e == probe::Emulator::kvm) {
    const probe::CpuModel h = probe::host_model();
    d.cpu.maxphyaddr = h.maxphyaddr;
    d.cpu.vendor = h.vendor;
    d.cpu.features = h.features;
  } else {
    // A few CPU models, so that cases share boots: MAXPHYADDR 36, 40, 46 or
    // 52, the case's vendor, PSE-36 and 1-GByte pages always reported.
    static const unsigned ms[] = {36, 40, 46, 52};
    d.cpu.maxphyaddr = one_cpu ? 46 : ms[c.cpu.maxphyaddr % 4];
    if (one_cpu) d.cpu.vendor = mmu::Vendor::intel;
    for (F f : {F::nx, F::pse, F::pse36, F::pdpe1gb, F::smep, F::smap, F::pku, F::pks, F::la57}) d.cpu.features.add(f);
  }
  for (auto& h : d.history) {
    h.maxphyaddr = d.cpu.maxphyaddr;
    h.vendor = d.cpu.vendor;
    h.features = d.cpu.features;
  }
  if (mmu::validate(d)) return std::nullopt;
  return d;
}

}  // namespace

CLI::App* add_oracle_command(CLI::App& app, OracleCli& opt) {
  auto* cmd = app.add_subcommand("oracle", "Run cases on an emulator oracle (qemu, bochs, kvm-hw) against the reference");
  cmd->add_option("--engine", opt.engine, "qemu, bochs or kvm-hw")->capture_default_str();
  cmd->add_option("inputs", opt.inputs, "Case files or directories (searched for *.json)");
  cmd->add_option("--random", opt.random, "Also N random guest-paging cases decoded from random bytes (fuzz/decoder.h)");
  cmd->add_option("--seed", opt.seed, "Seed for --random")->capture_default_str();
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
        } else if (auto d = fit(rec.file->kase, emu, opt.one_cpu)) {
          cases.push_back(*d);
        } else {
          ++dropped;
        }
      }
    }
  }
  if (opt.random) {
    // Random guest-paging cases the probe can run: decoded from random bytes,
    // then given an explicit access, no VMX/SMX/UINTR/KL, no EFER bits but
    // SCE/LME/LMA/NXE, no virtual-8086 mode, paging on, and the emulated CPU's
    // CPUID; those that are then invalid are drawn again.
    std::mt19937_64 rng(opt.seed);
    fuzz::DecodeOptions dopt;
    dopt.shape = fuzz::Shape::guest;
    dopt.shadow_stack = false;
    dopt.cr4_clear = mmu::cr4::VMXE | mmu::cr4::SMXE | mmu::cr4::UINTR | mmu::cr4::KL;
    if (emu == probe::Emulator::bochs) dopt.cr4_clear |= mmu::cr4::LA57 | mmu::cr4::PKS;
    if (emu == probe::Emulator::qemu) dopt.cr4_clear |= mmu::cr4::CET;
    std::size_t made = 0, attempts = 0;
    while (made < opt.random && attempts++ < 50 * opt.random) {
      std::vector<std::uint8_t> bytes(53 + 9 * 6 + (rng() % 24));
      for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
      mmu::Case c = fuzz::decode(bytes, dopt);
      c.access.implicit = false;
      c.cpu.efer &= mmu::efer::SCE | mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
      c.cpu.rflags &= ~mmu::rflags::VM;
      c.history.clear();
      if (mmu::paging_mode(c.cpu) == mmu::PagingMode::none) continue;
      if (auto d = fit(c, emu, opt.one_cpu)) {
        d->name = fmt::format("random seed {} #{}", opt.seed, made);
        cases.push_back(std::move(*d));
        ++made;
      }
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
