// Engines: everything that answers "what happens on this case?". Each engine
// is registered by name; `mmucheck eval --engine NAME` and `replay --engines`
// look them up here.
//
//   auto e = mmucheck::make_engine("ref");
//   if (auto why = e->unsupported(c)) { /* report "unsupported: " + *why */ }
//   mmu::Verdict v = e->evaluate(c, &trace);
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/case.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace mmucheck {

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // nullopt when the engine models the case; otherwise the reason it does not.
  // A comparison on an unsupported case is reported as such, never as agreement.
  virtual std::optional<std::string> unsupported(const mmu::Case&) const { return std::nullopt; }
  virtual mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const = 0;
  // The same without a trace, into a caller-owned Verdict: loops over millions
  // of cases (exhaust) reuse one. The default assigns evaluate()'s result.
  virtual void evaluate_into(const mmu::Case& c, mmu::Verdict& out) const { out = evaluate(c, nullptr); }

  // Many cases at once, one answer per case in order: engines with a per-run
  // cost (the emulator oracles boot once per batch) say so with
  // prefers_batches(). `note`: what the engine saw when it could not give an
  // outcome the case format expresses (a hang, a crash). The default asks
  // unsupported() and evaluate() case by case.
  struct Answer {
    std::optional<std::string> unsupported;
    mmu::Verdict verdict;
    std::string note;
  };
  virtual bool prefers_batches() const { return false; }
  virtual std::vector<Answer> evaluate_batch(std::span<const mmu::Case* const> cases) const {
    std::vector<Answer> out(cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      out[i].unsupported = unsupported(*cases[i]);
      if (!out[i].unsupported) out[i].verdict = evaluate(*cases[i], nullptr);
    }
    return out;
  }
};

std::unique_ptr<Engine> make_engine(std::string_view name);  // nullptr when unknown
std::vector<std::string> engine_names();
// Engines this build could have but does not (kvm-src without a kernel tree
// that fits its shim): (name, why), for `mmucheck engines` and error messages.
std::vector<std::pair<std::string, std::string>> absent_engines();

}  // namespace mmucheck
