// The body every engine-comparing fuzz target shares: decode the input into a
// case (fuzz/decoder.h), run it on the engines under test, and on a divergence
// the allow-list (replay/known.h) does not explain write the case with both
// outcomes to the divergence directory (atomically) and abort, so that
// libFuzzer / AFL++ keep the input as a crash.
//
//   // fuzz/fuzz_guest_walk.cc; the target's shape and engines are in fuzz/targets.cc
//   MMUCHECK_FUZZ_TARGET("fuzz_guest_walk")
//
// Engines, baseline first: `--engines=A,B[,C...]` on the fuzzer's command line
// (libFuzzer ignores flags that start with "--"), else $MMUCHECK_ENGINES, else
// the target's default. Divergences go to `--divergence-dir=DIR`, else
// $MMUCHECK_DIVERGENCE_DIR, else ./divergences. A default engine missing from
// this build (e.g. "smt" before smt/ lands) makes the target print why and exit
// 77 (skipped); an unknown engine the user asked for is an error (exit 2).
// $MMUCHECK_ABORT_ON_KNOWN=1 treats allow-listed findings as divergences too
// (the bug-zoo benchmark uses it for the mutant that is mainline itself).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/targets.h"

namespace mmucheck::fuzz {

// `target` names an entry of targets() (fuzz/targets.h).
void harness_init(std::string_view target, int* argc, char*** argv);
int harness_run(const std::uint8_t* data, std::size_t size);

}  // namespace mmucheck::fuzz

#define MMUCHECK_FUZZ_TARGET(NAME)                                                    \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {                      \
    mmucheck::fuzz::harness_init(NAME, argc, argv);                                   \
    return 0;                                                                         \
  }                                                                                   \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return mmucheck::fuzz::harness_run(data, size);                                   \
  }
