// `mmucheck oracle`: cases (files, directories, or --random N decoded fuzz
// inputs) through an emulator oracle (qemu, bochs, kvm-hw) against the
// reference, with the known-deviation list applied (docs/hardware.md).
// tools/mmucheck.cc only hooks the subcommand in.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mmucheck {

struct OracleCli {
  std::string engine = "qemu";
  std::vector<std::string> inputs;
  std::size_t random = 0;
  unsigned long long seed = 1;
  std::string shape = "guest";  // --random: fuzz::Shape name
  bool fit_cpu = false;
  bool one_cpu = false;
  std::size_t batch = 4000;
  unsigned jobs = 1;
  bool json = false;
  std::string out;
  std::size_t show = 20;
};

CLI::App* add_oracle_command(CLI::App& app, OracleCli& opt);
// Exit status: 0 nothing but agreement and known deviations; 1 a divergence,
// unexpected result, hang or crash; 2 bad input; 3 the emulator or the probe
// image is missing; 4 kvm-hw without a usable /dev/kvm.
int run_oracle(const OracleCli& opt);

}  // namespace mmucheck
