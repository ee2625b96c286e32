// Runners for the probe image (replay/probe/): QEMU TCG, Bochs, and QEMU with
// KVM on the host CPU. A runner boots the image once per batch (thousands of
// cases), with a timeout on every run; a batch that hangs or crashes is split
// until the case that caused it is alone, and that case is reported as a hang
// or crash -- every other case still gets its own result.
//
//   mmucheck::probe::Runner r(mmucheck::probe::Emulator::qemu);
//   if (auto why = r.unavailable()) { /* missing emulator, image or /dev/kvm */ }
//   std::vector<mmucheck::probe::CaseResult> out = r.run(cases);   // one per case, in order
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/case.h"
#include "model/outcome.h"
#include "replay/probe_batch.h"

namespace mmucheck::probe {

enum class Emulator { qemu, bochs, kvm };
std::string_view emulator_engine_name(Emulator e);  // "qemu", "bochs", "kvm-hw"

struct CaseResult {
  enum class Status { ok, unsupported, unexpected, hang, crash } status = Status::unsupported;
  mmu::Outcome outcome;  // status ok (and unexpected: a placeholder that never matches the reference)
  std::string detail;    // what happened, for every status but ok
};
std::string_view status_name(CaseResult::Status s);

struct RunnerOptions {
  std::string image;                   // probe.img; default: $MMUCHECK_PROBE_IMAGE, else the build's
  std::string emulator_binary;         // default: qemu-system-x86_64 / bochs on $PATH
  std::size_t batch_size = 4000;       // cases per boot
  unsigned jobs = 1;                   // emulator processes at once
  std::chrono::milliseconds boot_timeout{4000};    // per run, plus per_case * cases (Bochs: 8 s)
  std::chrono::microseconds per_case{2000};
  std::string work_dir;                // default: a fresh directory under $TMPDIR
  bool keep_files = false;             // keep the batch disks and logs (for debugging); also $MMUCHECK_PROBE_KEEP
  // Tests of the hang/crash handling: case index -> PROBE_SELFTEST_CRASH or
  // PROBE_SELFTEST_HANG, which the probe runs instead of that case.
  std::map<std::size_t, unsigned> sabotage;
  // No boot starts after this (a campaign's budget); cases not run by then
  // are reported unsupported, saying so. A boot under way runs to its timeout.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct RunStats {
  std::size_t boots = 0, cases_run = 0, hangs = 0, crashes = 0;
  double seconds = 0, boot_seconds = 0;  // wall time; boot_seconds: runs of empty batches (measured once)
};

class Runner {
 public:
  explicit Runner(Emulator e, RunnerOptions opt = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  // Why this runner cannot run anything here (emulator binary, probe image or
  // /dev/kvm missing), or nullopt.
  std::optional<std::string> unavailable() const;
  // Why this case cannot run on this runner, or nullopt.
  std::optional<std::string> unsupported(const mmu::Case& c) const;
  std::vector<CaseResult> run(std::span<const mmu::Case* const> cases);
  const RunStats& stats() const { return stats_; }
  Emulator emulator() const { return emu_; }
  // Seconds from start to exit of one run with an empty batch.
  double measure_boot();

 private:
  CpuModel model_for(const mmu::Case& c) const;
  void ensure_bochs_image();
  struct RawRun {
    Output out;
    bool timed_out = false;
    int exit_status = 0;
    std::string log;  // the emulator's own messages
  };
  RawRun run_once(const CpuModel& cpu, std::span<Prepared* const> batch, std::size_t serial);
  void run_group(const CpuModel& cpu, std::vector<Prepared*> batch, std::vector<std::size_t> index,
                 std::vector<CaseResult>& out);

  Emulator emu_;
  RunnerOptions opt_;
  std::string binary_;
  RunStats stats_;
  std::size_t serial_ = 0;
  bool own_work_dir_ = false;
};

// Where the probe image is: $MMUCHECK_PROBE_IMAGE, else next to the build.
std::string default_probe_image();
// /dev/kvm (or $MMUCHECK_KVM_DEVICE) exists and is usable; else why not.
bool kvm_available(std::string* why);
inline std::string_view runner_engine_name(const Runner& r) { return emulator_engine_name(r.emulator()); }

}  // namespace mmucheck::probe
