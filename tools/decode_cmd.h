// `mmucheck decode`: a fuzz input (fuzz/decoder.h) as a case JSON, so any
// crash or corpus entry of a fuzz target can be read, edited and replayed.
// tools/mmucheck.cc only hooks the subcommand in.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace mmucheck {

struct DecodeCli {
  std::string input;
  std::string target = "fuzz_guest_walk";
  bool hex = false;
  bool lines = false;
};

CLI::App* add_decode_command(CLI::App& app, DecodeCli& opt);
// Exit status: 0 decoded, 2 unreadable input or bad usage.
int run_decode(const DecodeCli& opt);

}  // namespace mmucheck
