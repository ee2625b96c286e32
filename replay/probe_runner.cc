#include "replay/probe_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

namespace mmucheck::probe {
namespace fs = std::filesystem;
namespace {

std::optional<std::string> find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? std::optional(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');) {
    const std::string f = (dir.empty() ? "." : dir) + "/" + name;
    if (access(f.c_str(), X_OK) == 0) return f;
  }
  return std::nullopt;
}

struct Proc {
  std::string out;
  bool timed_out = false;
  int status = -1;
};

// Runs argv with stdin from /dev/null, stdout into the file `out` (a pipe
// would wake us for every byte of port 0xE9 output), stderr into `log`;
// killed (its whole process group) at the deadline.
Proc run_process(const std::vector<std::string>& argv, const std::string& out, const std::string& log,
                 std::chrono::milliseconds timeout, const std::vector<std::string>& env_add) {
  Proc p;
  // Everything the child needs is made before fork(): after it, the child of
  // a threaded process (the campaign samples emulators on threads of their
  // own) must not allocate, since another thread may hold the heap's lock.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    const std::string_view var(*e);
    const bool replaced = std::any_of(env_add.begin(), env_add.end(), [&](const std::string& a) {
      return var.substr(0, var.find('=') + 1) == std::string_view(a).substr(0, a.find('=') + 1);
    });
    if (!replaced) envp.push_back(*e);
  }
  for (const std::string& e : env_add) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the runner
    const int in = open("/dev/null", O_RDONLY);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(o >= 0 ? o : in, 1);
    dup2(err >= 0 ? err : in, 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  auto nap = std::chrono::microseconds(500);
  while (true) {
    const pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      p.timed_out = true;
      kill(-pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(20000));
  }
  p.status = st;
  std::ifstream f(out, std::ios::binary);
  p.out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return p;
}

std::string read_tail(const std::string& path, std::size_t max) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s.size() > max ? s.substr(s.size() - max) : s;
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace

std::string_view emulator_engine_name(Emulator e) {
  switch (e) {
    case Emulator::qemu: return "qemu";
    case Emulator::bochs: return "bochs";
    case Emulator::kvm: return "kvm-hw";
  }
  return "?";
}

std::string_view status_name(CaseResult::Status s) {
  switch (s) {
    case CaseResult::Status::ok: return "ok";
    case CaseResult::Status::unsupported: return "unsupported";
    case CaseResult::Status::unexpected: return "unexpected";
    case CaseResult::Status::hang: return "hang";
    case CaseResult::Status::crash: return "crash";
  }
  return "?";
}

std::string default_probe_image() {
  if (const char* e = std::getenv("MMUCHECK_PROBE_IMAGE")) return e;
#ifdef MMUCHECK_PROBE_IMAGE_PATH
  return MMUCHECK_PROBE_IMAGE_PATH;
#else
  return "";
#endif
}

bool kvm_available(std::string* why) {
  // MMUCHECK_KVM_DEVICE: the device checked instead of /dev/kvm (tests of the
  // "no KVM" path on machines that have one; QEMU itself still opens /dev/kvm).
  const char* env = std::getenv("MMUCHECK_KVM_DEVICE");
  const std::string dev = env && *env ? env : "/dev/kvm";
  if (access(dev.c_str(), F_OK) != 0) {
    if (why) *why = dev + " is absent: this machine offers no KVM (see docs/hardware.md)";
    return false;
  }
  if (access(dev.c_str(), R_OK | W_OK) != 0) {
    if (why) *why = dev + " is not readable and writable by this user (add it to group kvm)";
    return false;
  }
  return true;
}

Runner::Runner(Emulator e, RunnerOptions opt) : emu_(e), opt_(std::move(opt)) {
  if (std::getenv("MMUCHECK_PROBE_KEEP")) opt_.keep_files = true;
  if (opt_.image.empty()) opt_.image = default_probe_image();
  std::string bin = opt_.emulator_binary;
  if (bin.empty()) bin = e == Emulator::bochs ? "bochs" : "qemu-system-x86_64";
  binary_ = find_on_path(bin).value_or("");
  if (!binary_.empty() && opt_.emulator_binary.empty()) opt_.emulator_binary = bin;
  if (opt_.work_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/mmucheck-probe-XXXXXX";
    if (mkdtemp(tmpl.data())) {
      opt_.work_dir = tmpl;
      own_work_dir_ = true;
    }
  } else {
    fs::create_directories(opt_.work_dir);
  }
  if (e == Emulator::kvm) {  // a boot costs seconds under nested KVM (docs/hardware.md)
    opt_.per_case = std::max(opt_.per_case, std::chrono::microseconds(20000));
    opt_.boot_timeout = std::max(opt_.boot_timeout, std::chrono::milliseconds(30000));
  }
  if (e == Emulator::bochs) {
    opt_.per_case = std::max(opt_.per_case, std::chrono::microseconds(5000));
    opt_.boot_timeout = std::max(opt_.boot_timeout, std::chrono::milliseconds(8000));
  }
}

Runner::~Runner() {
  if (own_work_dir_ && !opt_.keep_files) {
    std::error_code ec;
    fs::remove_all(opt_.work_dir, ec);
  }
}

// Bochs reads a copy of the image padded to whole cylinders.
void Runner::ensure_bochs_image() {
  const std::string padded = opt_.image + ".bochs";
  std::error_code ec;
  if (fs::exists(padded, ec) && fs::last_write_time(padded, ec) >= fs::last_write_time(opt_.image, ec)) return;
  std::ifstream in(opt_.image, std::ios::binary);
  std::vector<std::uint8_t> img((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  img.resize((img.size() + 516095) / 516096 * 516096, 0);
  const std::string tmp = padded + fmt::format(".{}", getpid());
  write_file(tmp, img);
  fs::rename(tmp, padded, ec);
}

std::optional<std::string> Runner::unavailable() const {
  const std::string_view name = emulator_engine_name(emu_);
  if (binary_.empty())
    return fmt::format("{}: {} is not installed (Debian: {})", name,
                       emu_ == Emulator::bochs ? "bochs" : "qemu-system-x86_64",
                       emu_ == Emulator::bochs ? "bochs bochsbios bochs-term vgabios" : "qemu-system-x86");
  if (opt_.image.empty() || access(opt_.image.c_str(), R_OK) != 0)
    return fmt::format("{}: the probe image {} is missing (build target probe_image, or set MMUCHECK_PROBE_IMAGE)", name,
                       opt_.image.empty() ? "(not built)" : opt_.image);
  if (emu_ == Emulator::bochs) {
    for (const char* f : {"/usr/share/bochs/BIOS-bochs-latest", "/usr/share/bochs/VGABIOS-lgpl-latest"})
      if (access(f, R_OK) != 0) return fmt::format("bochs: {} is missing (Debian: bochsbios vgabios)", f);
  }
  if (emu_ == Emulator::kvm) {
    std::string why;
    if (!kvm_available(&why)) return "kvm-hw: " + why;
  }
  if (opt_.work_dir.empty()) return fmt::format("{}: cannot create a work directory", name);
  return std::nullopt;
}

CpuModel Runner::model_for(const mmu::Case& c) const {
  switch (emu_) {
    case Emulator::qemu: return qemu_model_for(c);
    case Emulator::bochs: return bochs_model();
    case Emulator::kvm: return host_model();
  }
  return bochs_model();
}

// Bochs runs with 64 MiB (its boot takes 0.4 s); a case that cannot be
// placed there -- a 1-GByte page, guest or EPT, whose offsets fall outside the
// free RAM -- runs in a boot of its own kind with 2 GiB (about 4 s to boot),
// where 1-GByte leaves land at 1 GiB as on QEMU.
static Prepared prepare_for(Emulator e, const mmu::Case& c, CpuModel& cpu) {
  Prepared p = prepare(c, cpu);
  if (p.unsupported && e == Emulator::bochs && !cpu.big_ram) {
    CpuModel big = cpu;
    big.big_ram = true;
    big.name += " (2 GiB)";
    Prepared q = prepare(c, big);
    if (!q.unsupported) {
      cpu = big;
      return q;
    }
    // refused with 2 GiB too: when 64 MiB only lacked room, the 2 GiB reason is the one that holds
    if (p.unsupported->find("outside the probe's free RAM") != std::string::npos) return q;
  }
  return p;
}

std::optional<std::string> Runner::unsupported(const mmu::Case& c) const {
  if (auto why = unavailable()) return why;
  CpuModel cpu = model_for(c);
  return prepare_for(emu_, c, cpu).unsupported;
}

Runner::RawRun Runner::run_once(const CpuModel& cpu, std::span<Prepared* const> batch, std::size_t serial) {
  RawRun raw;
  const std::string base = fmt::format("{}/run{}", opt_.work_dir, serial);
  const std::string disk = base + ".disk", log = base + ".log";
  std::vector<std::uint8_t> bytes = pack(batch);
  // Bochs wants whole cylinders (16 heads x 63 sectors) in a disk image.
  if (emu_ == Emulator::bochs) bytes.resize((bytes.size() + 516095) / 516096 * 516096, 0);
  write_file(disk, bytes);
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string rc_path, image = opt_.image;
  if (emu_ == Emulator::bochs) {
    image = opt_.image + ".bochs";
    rc_path = base + ".bochsrc";
    std::ofstream rc(rc_path);
    rc << "megs: " << (cpu.big_ram ? 2048 : 64) << "\n"
       << "romimage: file=/usr/share/bochs/BIOS-bochs-latest\n"
       << "vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest\n"
       << "cpu: model=tigerlake, count=1, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=0\n"
       << "clock: sync=none, time0=1\n"
       << "display_library: term\n"
       << "sound: driver=dummy\n"
       << "port_e9_hack: enabled=1\n"
       << "log: " << base << ".bochslog\n"
       << "panic: action=fatal\n"
       << "error: action=report\n"
       << "ata0-master: type=disk, path=" << image << ", mode=volatile\n"
       << "ata0-slave: type=disk, path=" << disk << ", mode=volatile\n"
       << "boot: disk\n";
    std::ofstream(base + ".cmds") << "c\n";
    argv = {binary_, "-q", "-f", rc_path, "-rc", base + ".cmds"};
    env.push_back("TERM=dumb");
  } else {
    argv = {binary_, "-M", "pc", "-m", "2048", "-display", "none", "-no-reboot", "-nodefaults", "-monitor", "none",
            "-serial", "none", "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-drive", "file=" + image + ",format=raw,if=ide,index=0,snapshot=on",
            "-drive", "file=" + disk + ",format=raw,if=ide,index=1", "-boot", "c"};
    if (emu_ == Emulator::kvm) {
      argv.insert(argv.begin() + 1, {"-accel", "kvm", "-cpu", "host"});
    } else {
      argv.insert(argv.begin() + 1, {"-accel", "tcg", "-cpu", qemu_cpu_option(cpu)});
    }
  }
  const auto timeout = opt_.boot_timeout + std::chrono::milliseconds(emu_ == Emulator::bochs && cpu.big_ram ? 10000 : 0) +
                       std::chrono::duration_cast<std::chrono::milliseconds>(opt_.per_case * static_cast<long>(batch.size()));
  Proc p = run_process(argv, base + ".out", log, timeout, env);
  raw.out = parse_output(p.out);
  raw.timed_out = p.timed_out;
  raw.exit_status = p.status;
  if (!raw.out.end) raw.log = read_tail(log, 2000) + (rc_path.empty() ? "" : read_tail(base + ".bochslog", 2000));
  if (!opt_.keep_files) {
    std::error_code ec;
    for (const char* ext : {".disk", ".out", ".log", ".bochsrc", ".cmds", ".bochslog"}) fs::remove(base + ext, ec);
  }
  return raw;
}

// A finished run: its exit says whether the probe ended normally.
static bool run_ok(const Emulator e, int status, const Output& out) {
  if (!out.end) return false;
  if (e == Emulator::bochs) return true;  // Bochs ends with status 1 on "Shutdown": the end frame decides
  return WIFEXITED(status) && WEXITSTATUS(status) == 33;
}

void Runner::run_group(const CpuModel& cpu, std::vector<Prepared*> batch, std::vector<std::size_t> index,
                       std::vector<CaseResult>& out) {
  std::vector<std::pair<std::vector<Prepared*>, std::vector<std::size_t>>> todo{{std::move(batch), std::move(index)}};
  while (!todo.empty()) {
    auto [b, idx] = std::move(todo.back());
    todo.pop_back();
    if (b.empty()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    if (opt_.deadline && t0 >= *opt_.deadline) {
      // Out of time (a campaign's budget): no further boot, bisection
      // included; the cases say why they were not run.
      for (std::size_t i = 0; i < b.size(); ++i) {
        out[idx[i]].status = CaseResult::Status::unsupported;
        out[idx[i]].detail = "not run: the caller's deadline passed";
      }
      continue;
    }
    RawRun raw = run_once(cpu, b, serial_++);
    if (std::getenv("MMUCHECK_PROBE_DEBUG"))
      std::cerr << fmt::format("probe run: {} cases, {} results, {} rejected, end {}, status {:#x}, timed out {}, {} problems\n",
                               b.size(), raw.out.results.size(), raw.out.rejected.size(), raw.out.end, raw.exit_status,
                               raw.timed_out, raw.out.problems.size());
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++stats_.boots;
    std::vector<Prepared*> left;
    std::vector<std::size_t> left_idx;
    for (std::size_t i = 0; i < b.size(); ++i) {
      CaseResult& r = out[idx[i]];
      const auto vt = b[i]->vmx ? raw.out.vmx_results.find(b[i]->seq) : raw.out.vmx_results.end();
      const auto it = b[i]->vmx ? raw.out.results.end() : raw.out.results.find(b[i]->seq);
      if (vt != raw.out.vmx_results.end() || it != raw.out.results.end()) {
        const Observed o = b[i]->vmx ? observe_vmx(*b[i], vt->second) : observe(*b[i], it->second);
        r.outcome = o.outcome;
        r.detail = o.detail;
        r.status = o.status == Observed::Status::ok          ? CaseResult::Status::ok
                   : o.status == Observed::Status::unsupported ? CaseResult::Status::unsupported
                                                               : CaseResult::Status::unexpected;
        ++stats_.cases_run;
      } else if (auto jt = raw.out.rejected.find(b[i]->seq); jt != raw.out.rejected.end()) {
        r.status = CaseResult::Status::unsupported;
        r.detail = "the probe rejected the record: " + jt->second;
      } else {
        left.push_back(b[i]);
        left_idx.push_back(idx[i]);
      }
    }
    if (left.empty()) continue;
    if (!raw.out.hello) {
      // The probe never started (it says hello before the first case): the
      // emulator or the image is broken, no case is to blame. Do not split.
      std::string log = raw.log;
      for (char& ch : log)
        if (ch == '\n') ch = ' ';
      const std::string why = fmt::format("the emulator did not boot the probe ({}; exit status {:#x}): {}",
                                          raw.timed_out ? "timed out" : "no hello frame", raw.exit_status,
                                          log.substr(0, 300));
      for (std::size_t i = 0; i < left.size(); ++i) {
        out[left_idx[i]].status = CaseResult::Status::unsupported;
        out[left_idx[i]].detail = why;
      }
      continue;
    }
    const bool ok = run_ok(emu_, raw.exit_status, raw.out);
    if (ok) {  // ended normally without reporting some cases: a probe bug, say so
      for (std::size_t i = 0; i < left.size(); ++i) {
        out[left_idx[i]].status = CaseResult::Status::crash;
        out[left_idx[i]].detail = "the probe ended without reporting this case";
      }
      continue;
    }
    if (left.size() == 1) {
      CaseResult& r = out[left_idx[0]];
      r.status = raw.timed_out ? CaseResult::Status::hang : CaseResult::Status::crash;
      ++(raw.timed_out ? stats_.hangs : stats_.crashes);
      std::string why = raw.timed_out ? "no end of run before the timeout"
                        : WIFSIGNALED(raw.exit_status)
                            ? fmt::format("the emulator died of signal {}", WTERMSIG(raw.exit_status))
                            : fmt::format("the run ended without its end frame (exit status {}; 0 from QEMU is a reset, "
                                          "e.g. a triple fault)",
                                          WIFEXITED(raw.exit_status) ? WEXITSTATUS(raw.exit_status) : -1);
      for (const std::string& pr : raw.out.problems) why += "; " + pr;
      r.detail = why;
      continue;
    }
    // Split: the first unreported case alone when the run got that far
    // (the probe runs cases in order), else halves.
    const bool progressed = left.size() < b.size();
    const std::size_t cut = progressed ? 1 : left.size() / 2;
    todo.push_back({{left.begin() + static_cast<long>(cut), left.end()},
                    {left_idx.begin() + static_cast<long>(cut), left_idx.end()}});
    todo.push_back({{left.begin(), left.begin() + static_cast<long>(cut)},
                    {left_idx.begin(), left_idx.begin() + static_cast<long>(cut)}});
  }
}

std::vector<CaseResult> Runner::run(std::span<const mmu::Case* const> cases) {
  std::vector<CaseResult> out(cases.size());
  if (auto why = unavailable()) {
    for (CaseResult& r : out) r.detail = *why;
    return out;
  }
  if (emu_ == Emulator::bochs) ensure_bochs_image();
  std::vector<Prepared> prepared(cases.size());
  // Cases that need the same CPU model share boots.
  std::map<std::string, std::pair<CpuModel, std::vector<std::size_t>>> groups;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CpuModel cpu = model_for(*cases[i]);
    prepared[i] = prepare_for(emu_, *cases[i], cpu);
    if (auto it = opt_.sabotage.find(i); it != opt_.sabotage.end() && !prepared[i].unsupported)
      prepared[i].header.kind = static_cast<std::uint8_t>(it->second);
    if (prepared[i].unsupported) {
      out[i].status = CaseResult::Status::unsupported;
      out[i].detail = *prepared[i].unsupported;
      continue;
    }
    auto& g = groups[emu_ == Emulator::qemu ? qemu_cpu_option(cpu) : std::string(cpu.name)];
    g.first = cpu;
    g.second.push_back(i);
  }
  struct Chunk {
    const CpuModel* cpu;
    std::vector<Prepared*> batch;
    std::vector<std::size_t> index;
  };
  std::vector<Chunk> chunks;
  for (auto& [key, g] : groups) {
    for (std::size_t at = 0; at < g.second.size(); at += opt_.batch_size) {
      Chunk ch{&g.first, {}, {}};
      for (std::size_t k = at; k < std::min(g.second.size(), at + opt_.batch_size); ++k) {
        ch.batch.push_back(&prepared[g.second[k]]);
        ch.index.push_back(g.second[k]);
      }
      chunks.push_back(std::move(ch));
    }
  }
  const unsigned jobs = std::max(1u, opt_.jobs);
  if (jobs == 1 || chunks.size() == 1) {
    for (Chunk& ch : chunks) run_group(*ch.cpu, ch.batch, ch.index, out);
  } else {
    // Each worker its own Runner state (serials, stats), merged at the end.
    std::atomic<std::size_t> next{0};
    std::mutex m;
    std::vector<std::future<void>> workers;
    for (unsigned j = 0; j < jobs; ++j)
      workers.push_back(std::async(std::launch::async, [&, j] {
        RunnerOptions o = opt_;
        o.work_dir = fmt::format("{}/w{}", opt_.work_dir, j);
        Runner w(emu_, o);
        for (std::size_t k; (k = next++) < chunks.size();) w.run_group(*chunks[k].cpu, chunks[k].batch, chunks[k].index, out);
        std::lock_guard lock(m);
        stats_.boots += w.stats_.boots;
        stats_.cases_run += w.stats_.cases_run;
        stats_.hangs += w.stats_.hangs;
        stats_.crashes += w.stats_.crashes;
        std::error_code ec;
        fs::remove_all(o.work_dir, ec);
      }));
    for (auto& f : workers) f.get();
  }
  return out;
}

double Runner::measure_boot() {
  if (unavailable()) return 0;
  if (emu_ == Emulator::bochs) ensure_bochs_image();
  mmu::Case dummy;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Prepared*> none;
  run_once(emu_ == Emulator::qemu ? qemu_model_for(dummy) : model_for(dummy), none, serial_++);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats_.boot_seconds = s;
  return s;
}

}  // namespace mmucheck::probe
