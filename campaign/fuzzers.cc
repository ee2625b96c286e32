#include "campaign/fuzzers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "fuzz/decoder.h"
#include "fuzz/targets.h"
#include "replay/case_reader.h"
#include "replay/store.h"

namespace mmucheck {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kJsonTarget = "fuzz_case_json";

std::set<fs::path> files_in(const fs::path& dir) {
  std::set<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && it->path().filename().string()[0] != '.') out.insert(it->path());
  return out;
}

std::vector<fs::path> added(const std::set<fs::path>& before, const std::set<fs::path>& after) {
  std::vector<fs::path> out;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(out));
  return out;
}

// The [libfuzzer] section of TARGET.options (next to the binary, as the fuzz
// build and ClusterFuzzLite place it) as flags; a relative dict is made
// absolute.
std::vector<std::string> options_flags(const fs::path& bin, const std::string& target) {
  std::ifstream in(bin / (target + ".options"));
  std::vector<std::string> flags;
  bool section = false;
  for (std::string line; std::getline(in, line);) {
    std::erase_if(line, [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line == "[libfuzzer]";
      continue;
    }
    const auto eq = line.find('=');
    if (!section || eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "dict" && !fs::path(value).is_absolute()) value = (bin / value).string();
    flags.push_back(fmt::format("-{}={}", key, value));
  }
  return flags;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Takes the inputs that crashed out of the corpus: a seed that exposes a
// divergence (a mutant's regression case, say) would otherwise end every
// later run of the target while loading. The input stays in crashes/ and its
// case in the store.
void drop_from_corpus(const fs::path& corpus, const std::vector<fs::path>& crash_inputs) {
  for (const fs::path& crash : crash_inputs) {
    const std::string bytes = read_file(crash);
    std::error_code ec;
    for (const fs::path& f : files_in(corpus))
      if (fs::file_size(f, ec) == bytes.size() && read_file(f) == bytes) fs::remove(f, ec);
  }
}

}  // namespace

void parse_libfuzzer_log(const std::string& text, FuzzRun& run) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto after = [&](std::string_view key) -> std::optional<std::string> {
      const auto p = line.find(key);
      if (p == std::string::npos) return std::nullopt;
      std::string rest = line.substr(p + key.size());
      rest.erase(0, rest.find_first_not_of(" \t"));  // "stat::average_exec_per_sec:     0"
      const auto e = rest.find_first_of(" \t");
      return e == std::string::npos ? rest : rest.substr(0, e);
    };
    try {
      if (auto v = after("stat::number_of_executed_units: ")) run.execs = std::stoull(*v);
      else if (auto r = after("stat::average_exec_per_sec: ")) run.execs_per_second = std::stod(*r);
      else if (line.starts_with("#")) {
        // "#12345\tNEW    cov: 321 ft: 654 corp: ... exec/s: 40000 ..."
        if (auto c = after("cov: ")) run.coverage = std::stoull(*c);
        if (run.execs == 0 || line.find("DONE") != std::string::npos)
          if (auto n = after("#"); n && !n->empty() && std::isdigit(static_cast<unsigned char>((*n)[0])))
            run.execs = std::max<unsigned long long>(run.execs, std::stoull(*n));
      }
    } catch (const std::exception&) {
      // A line that only looks like a status line: not a number; skip it.
    }
    if (run.error.empty() &&
        (line.find("DIVERGENCE") != std::string::npos || line.find("ERROR:") != std::string::npos ||
         line.find("runtime error:") != std::string::npos || line.find("deadly signal") != std::string::npos ||
         line.find("SKIPPED:") != std::string::npos))
      run.error = line;
  }
}

FuzzerPool::FuzzerPool(FuzzerPoolOptions o) : o_(std::move(o)) {
  std::vector<std::string> names;
  for (const fuzz::TargetSpec& t : fuzz::targets()) names.emplace_back(t.name);
  names.emplace_back(kJsonTarget);
  for (const std::string& n : names) {
    const fs::path p = o_.bin / n;
    if (fs::is_regular_file(p) && ::access(p.c_str(), X_OK) == 0) targets_.push_back(n);
  }
}

FuzzerPool::~FuzzerPool() {
  stop();
  join();
}

void FuzzerPool::write_seeds(const std::string& target) const {
  const fs::path dir = o_.work / target / "corpus";
  if (fs::exists(dir / ".seeded")) return;
  fs::create_directories(dir);
  const fuzz::TargetSpec* spec = fuzz::find_target(target);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(o_.corpus, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".json") continue;
    std::string name = fs::relative(it->path(), o_.corpus).string();
    std::replace(name.begin(), name.end(), '/', '_');
    if (!spec) {  // the JSON reader's target: the files as they are
      fs::copy_file(it->path(), dir / ("seed_" + name), fs::copy_options::overwrite_existing, ec);
      continue;
    }
    std::ifstream in(it->path());
    CaseReader reader(in, it->path().string());
    CaseRecord rec;
    if (!reader.next(rec) || !rec.file || !fuzz::fits(rec.file->kase, spec->decode)) continue;
    const auto bytes = fuzz::encode(rec.file->kase);
    write_file_atomic(dir / ("seed_" + name + ".bin"), std::string(bytes.begin(), bytes.end()));
  }
  write_file_atomic(dir / ".seeded", "");
}

std::vector<std::string> FuzzerPool::arguments(const std::string& target, double seconds) const {
  const fs::path dir = o_.work / target;
  std::vector<std::string> a = {(o_.bin / target).string()};
  for (std::string& f : options_flags(o_.bin, target)) a.push_back(std::move(f));
  a.push_back(fmt::format("-max_total_time={}", std::max(1, static_cast<int>(seconds))));
  a.push_back("-print_final_stats=1");
  a.push_back("-artifact_prefix=" + (dir / "crashes").string() + "/");
  a.push_back("--divergence-dir=" + (dir / "divergences").string());
  const fuzz::TargetSpec* spec = fuzz::find_target(target);
  if (spec && !o_.engines.empty() && spec->default_engines != "ref,smt") {
    std::string list = "ref";
    for (const std::string& e : o_.engines) list += "," + e;
    a.push_back("--engines=" + list);
  }
  a.push_back((dir / "corpus").string());
  return a;
}

FuzzRun FuzzerPool::run_one(const std::string& target, double seconds) {
  FuzzRun run;
  run.target = target;
  run.started = std::chrono::duration<double>(Clock::now() - start_).count();
  const fs::path dir = o_.work / target;
  fs::create_directories(dir / "divergences");
  fs::create_directories(dir / "crashes");
  write_seeds(target);
  const auto div_before = files_in(dir / "divergences"), crash_before = files_in(dir / "crashes");
  const std::vector<std::string> args = arguments(target, seconds);
  std::vector<char*> argv;
  for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  const fs::path log = dir / "last.log";

  const pid_t pid = ::fork();
  if (pid == 0) {
    // The child: dies with the campaign (a campaign killed with -9 leaves no
    // fuzzer behind), output to last.log.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    run.exit_status = 127;
    run.error = fmt::format("{}: cannot start ({})", args[0], std::strerror(errno));
    return run;
  }
  // libFuzzer ends itself at -max_total_time; a run that overstays (a hang
  // in a target) gets SIGINT, then SIGKILL.
  const auto t0 = Clock::now();
  int status = 0;
  bool interrupted = false;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    bool stop_now;
    {
      std::lock_guard<std::mutex> g(lock_);
      stop_now = stopping_;
    }
    if ((stop_now || t > seconds + 30) && !interrupted) {
      ::kill(pid, SIGINT);
      interrupted = true;
    } else if (t > seconds + 60) {
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  parse_libfuzzer_log(text.str(), run);
  if (run.execs_per_second == 0 && run.seconds > 0) run.execs_per_second = run.execs / run.seconds;
  run.divergences = added(div_before, files_in(dir / "divergences"));
  run.crash_inputs = added(crash_before, files_in(dir / "crashes"));
  run.crashed = !run.crash_inputs.empty();
  drop_from_corpus(dir / "corpus", run.crash_inputs);
  return run;
}

void FuzzerPool::slot_loop(Clock::time_point deadline) {
  for (;;) {
    std::string target;
    {
      std::lock_guard<std::mutex> g(lock_);
      if (stopping_ || targets_.empty()) return;
      target = targets_[next_++ % targets_.size()];
    }
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left < 3) return;
    FuzzRun r = run_one(target, std::min(left - 1, o_.slice_seconds));
    std::lock_guard<std::mutex> g(lock_);
    done_.push_back(std::move(r));
  }
}

void FuzzerPool::start(Clock::time_point deadline) {
  start_ = Clock::now();
  for (unsigned i = 0; i < std::max(1u, o_.slots); ++i) threads_.emplace_back([this, deadline] { slot_loop(deadline); });
}

void FuzzerPool::stop() {
  std::lock_guard<std::mutex> g(lock_);
  stopping_ = true;
}

void FuzzerPool::join() {
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::vector<FuzzRun> FuzzerPool::drain() {
  std::lock_guard<std::mutex> g(lock_);
  return std::exchange(done_, {});
}

}  // namespace mmucheck
