#include "replay/probe_engine.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "replay/case_json.h"

namespace mmucheck {
namespace {

class ProbeEngine final : public Engine {
 public:
  explicit ProbeEngine(probe::Emulator e) : emu_(e), runner_(e, options()) {}
  std::string_view name() const override { return probe::emulator_engine_name(emu_); }
  std::string_view description() const override {
    switch (emu_) {
      case probe::Emulator::qemu: return "the probe image under qemu-system-x86_64 -accel tcg -cpu max (guest paging)";
      case probe::Emulator::bochs: return "the probe image under Bochs, cpu model tigerlake (guest paging)";
      case probe::Emulator::kvm: return "the probe image under qemu-system-x86_64 -accel kvm -cpu host (guest paging)";
    }
    return "";
  }
  std::optional<std::string> unsupported(const mmu::Case& c) const override {
    std::lock_guard lock(mutex_);
    return runner_.unsupported(c);
  }
  bool prefers_batches() const override { return true; }

  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace*) const override {
    const mmu::Case* one[] = {&c};
    return evaluate_batch(one).front().verdict;
  }

  std::vector<Answer> evaluate_batch(std::span<const mmu::Case* const> cases) const override {
    std::lock_guard lock(mutex_);
    std::vector<Answer> out(cases.size());
    std::vector<const mmu::Case*> todo;
    std::vector<std::size_t> where;
    std::vector<std::string> keys(cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      keys[i] = case_to_json(*cases[i]).dump();
      if (auto it = cache_.find(keys[i]); it != cache_.end()) {
        out[i] = it->second;
        continue;
      }
      todo.push_back(cases[i]);
      where.push_back(i);
    }
    const std::vector<probe::CaseResult> res = runner_.run(todo);
    for (std::size_t k = 0; k < res.size(); ++k) {
      Answer& a = out[where[k]];
      const probe::CaseResult& r = res[k];
      if (r.status == probe::CaseResult::Status::unsupported) {
        a.unsupported = r.detail;
      } else {
        a.verdict.outcome = r.outcome;
        if (r.status != probe::CaseResult::Status::ok) {
          // Not an outcome the case format can express: a general protection
          // fault without a reason, which never matches the reference, and
          // what really happened in the note.
          a.verdict.outcome = mmu::Outcome{};
          a.verdict.outcome.kind = mmu::OutcomeKind::general_protection;
          a.note = std::string(probe::status_name(r.status)) + ": " + r.detail;
        }
      }
      if (cache_.size() > 8192) cache_.clear();  // an Answer is a few KiB
      cache_[keys[where[k]]] = a;
    }
    return out;
  }

 private:
  static probe::RunnerOptions options() {
    probe::RunnerOptions o;
    if (const char* j = std::getenv("MMUCHECK_PROBE_JOBS")) o.jobs = static_cast<unsigned>(std::max(1, std::atoi(j)));
    if (std::getenv("MMUCHECK_PROBE_KEEP")) o.keep_files = true;
    return o;
  }
  probe::Emulator emu_;
  mutable std::mutex mutex_;
  mutable probe::Runner runner_;
  mutable std::map<std::string, Answer> cache_;
};

}  // namespace

std::unique_ptr<Engine> make_probe_engine(probe::Emulator e) { return std::make_unique<ProbeEngine>(e); }

}  // namespace mmucheck
