#include "replay/engine.h"

#include <functional>

#include "model/reference.h"

namespace mmucheck {
namespace {

class ReferenceEngine final : public Engine {
 public:
  std::string_view name() const override { return "ref"; }
  std::string_view description() const override { return "the reference MMU: the Intel SDM's rules, written plainly"; }
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const override {
    return mmu::reference::evaluate(c, trace);
  }
};

struct Registration {
  std::string_view name;
  std::function<std::unique_ptr<Engine>()> make;
};

const std::vector<Registration>& registry() {
  static const std::vector<Registration> r{
      {"ref", [] { return std::make_unique<ReferenceEngine>(); }},
  };
  return r;
}

}  // namespace

std::unique_ptr<Engine> make_engine(std::string_view name) {
  for (const auto& r : registry())
    if (r.name == name) return r.make();
  return nullptr;
}

std::vector<std::string> engine_names() {
  std::vector<std::string> names;
  for (const auto& r : registry()) names.emplace_back(r.name);
  return names;
}

}  // namespace mmucheck
