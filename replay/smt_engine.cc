#include "replay/smt_engine.h"

#include "smt/evaluator.h"

namespace mmucheck {
namespace {

class SmtEngine final : public Engine {
 public:
  std::string_view name() const override { return "smt"; }
  std::string_view description() const override {
    return "the SDM rules as Z3 terms (smt/rules.h), built once and evaluated per case; guest paging";
  }
  std::optional<std::string> unsupported(const mmu::Case& c) const override { return evaluator_.unsupported(c); }
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const override { return evaluator_.evaluate(c, trace); }

 private:
  smt::Evaluator evaluator_;
};

}  // namespace

std::unique_ptr<Engine> make_smt_engine() { return std::make_unique<SmtEngine>(); }

}  // namespace mmucheck
