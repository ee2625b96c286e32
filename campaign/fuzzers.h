// The campaign's coverage-guided fuzzing: the libFuzzer targets of a `fuzz`
// build (fuzz/), run as child processes in rotation on a number of cores until
// a deadline, each with a corpus that persists in the campaign directory (a
// second campaign continues from it) and seeds encoded from corpus/.
//
//   DIR/fuzz/TARGET/corpus/        libFuzzer's corpus (seeds written once; an
//                                  input that crashed is taken out of it)
//   DIR/fuzz/TARGET/divergences/   case files the target wrote (fuzz/harness.h)
//   DIR/fuzz/TARGET/crashes/       libFuzzer's crash inputs
//   DIR/fuzz/TARGET/last.log       the last run's output
//
//   mmucheck::FuzzerPool pool({.bin = "build/fuzz/fuzz", .work = "out/fuzz", .slots = 1});
//   pool.start(deadline);
//   ... for (const FuzzRun& r : pool.drain()) ...   // finished runs, any thread
//   pool.join();
#pragma once
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mmucheck {

struct FuzzRun {
  std::string target;
  double started = 0;  // seconds since the pool started
  double seconds = 0;
  unsigned long long execs = 0;
  double execs_per_second = 0;
  unsigned long long coverage = 0;  // libFuzzer's "cov:" (edges) at the end
  int exit_status = 0;              // as the shell reports it: 128+N for signal N
  bool crashed = false;             // ended with a crash input (a divergence aborts too)
  std::string error;                // libFuzzer's or the sanitizer's first error line
  std::vector<std::filesystem::path> divergences;  // new files in divergences/
  std::vector<std::filesystem::path> crash_inputs;  // new files in crashes/
};

struct FuzzerPoolOptions {
  std::filesystem::path bin;   // directory holding fuzz_* libFuzzer binaries
  std::filesystem::path work;  // DIR/fuzz
  std::filesystem::path corpus = "corpus";  // JSON cases encoded as seeds
  // Engines for the engine-comparing targets after the reference; empty: each
  // target's default (fuzz/targets.cc). fuzz_smt keeps its own.
  std::vector<std::string> engines;
  unsigned slots = 1;           // targets running at once
  double slice_seconds = 30;    // longest single run before rotating
};

class FuzzerPool {
 public:
  explicit FuzzerPool(FuzzerPoolOptions o);
  ~FuzzerPool();  // stops and joins

  // The targets found in `bin` (libFuzzer binaries named after fuzz/targets.cc
  // entries, plus fuzz_case_json); empty when none is built.
  const std::vector<std::string>& targets() const { return targets_; }

  // Runs targets in rotation on `slots` threads until `deadline`.
  void start(std::chrono::steady_clock::time_point deadline);
  void stop();  // asks running children to end (SIGINT: libFuzzer prints its stats)
  void join();
  // The runs finished since the last call.
  std::vector<FuzzRun> drain();

 private:
  void slot_loop(std::chrono::steady_clock::time_point deadline);
  FuzzRun run_one(const std::string& target, double seconds);
  std::vector<std::string> arguments(const std::string& target, double seconds) const;
  void write_seeds(const std::string& target) const;

  FuzzerPoolOptions o_;
  std::vector<std::string> targets_;
  std::chrono::steady_clock::time_point start_;
  std::mutex lock_;
  std::vector<FuzzRun> done_;
  std::size_t next_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Parses a libFuzzer run's output (stderr) into `run`: execs, execs/s,
// coverage and the first error line. Exposed for the tests.
void parse_libfuzzer_log(const std::string& text, FuzzRun& run);

}  // namespace mmucheck
