// `mmucheck prove`: the Z3 theorems (smt/prove.h) on the command line.
// tools/mmucheck.cc only hooks the subcommand in.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mmucheck {

struct ProveCli {
  std::string engine = "kvm";
  std::vector<std::string> theorems;
  std::string emit_smt2;
  std::string out;
  unsigned timeout_s = 120;
  bool json = false;
  bool list = false;
};

CLI::App* add_prove_command(CLI::App& app, ProveCli& opt);
// Exit status: 0 every theorem proved (or refuted only inside the allow-list),
// 1 a theorem refuted or unknown, 2 bad usage.
int run_prove(const ProveCli& opt);

}  // namespace mmucheck
