// `mmucheck campaign`: the main job. Within a time budget it proves the
// theorems (smt/), enumerates the exhaustive spaces (replay/exhaust.h), runs
// the bug zoo's regression cases, and compares engines on random structured
// cases (fuzz/decoder.h) for the rest of the time; every divergence is
// minimised and kept in a divergence store (replay/store.h); it ends by
// writing report.json and a self-contained report.html.
//
// With a `fuzz` build present it also runs the libFuzzer targets as child
// processes alongside, for the whole budget, and stores what they find.
//
// Everything it learns is saved to DIR as it goes (atomically): a second run
// with the same DIR resumes (finished proofs and spaces are not redone, random
// cases continue from the saved seed), and a run killed at any moment loses
// nothing already found.
//
//   mmucheck::CampaignOptions o{.seconds = 60, .out = "campaign-out"};
//   int rc = mmucheck::run_campaign(o, std::cerr);   // 0: no new divergence
#pragma once
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace mmucheck {

struct CampaignOptions {
  double seconds = 60;
  std::filesystem::path out = "campaign-out";
  unsigned jobs = 2;
  // The engines compared with the reference (and proved, where they are KVM-style).
  std::vector<std::string> engines = {"kvm", "kvm-3.14"};
  // Where the bug zoo's regression cases are (corpus/bug_zoo); skipped when
  // absent. Its JSON cases also seed the fuzz targets.
  std::filesystem::path corpus = "corpus";
  // A `fuzz` build's directory of libFuzzer targets (campaign/fuzzers.h). When
  // it holds any, half the jobs (at least one) run them for the whole budget
  // while the other phases use the rest; skipped when absent.
  std::filesystem::path fuzzers = "build/fuzz/fuzz";
  // Random guest-paging cases run on each of these emulator oracles that is
  // available here (replay/probe_runner.h), in one batch per run. kvm-hw is
  // asked for by name: /dev/kvm alone does not make a host fit for it
  // (docs/hardware.md), and a misbehaving one costs boot timeouts.
  std::vector<std::string> oracles = {"qemu", "bochs"};
  unsigned oracle_cases = 2000;
};

// Exit code: 0 no unexplained divergence in the store, 1 some, 2 bad options
// or an unusable DIR (say why on `log`).
int run_campaign(const CampaignOptions& o, std::ostream& log);

}  // namespace mmucheck
