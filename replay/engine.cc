#include "replay/engine.h"

#include <functional>

#include "model/kvm/kvm314.h"
#include "model/kvm/kvm_mmu.h"
#include "model/kvm/mutants.h"
#include "model/reference.h"
#include "kvmsrc/kvmsrc.h"
#include "replay/smt_engine.h"

#include "replay/probe_engine.h"

namespace mmucheck {
namespace {

class ReferenceEngine final : public Engine {
 public:
  std::string_view name() const override { return "ref"; }
  std::string_view description() const override { return "the reference MMU: the Intel SDM's rules, written plainly"; }
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const override {
    return mmu::reference::evaluate(c, trace);
  }
  void evaluate_into(const mmu::Case& c, mmu::Verdict& out) const override { mmu::reference::evaluate_into(c, out); }
};

// Mainline KVM's table-driven walker (model/kvm). It models guest paging as
// KVM's software walker does it; what KVM does not virtualise, or this engine
// does not model yet, is reported as unsupported.
class KvmEngine final : public Engine {
 public:
  KvmEngine() : name_("kvm"), algorithm_(std::make_unique<mmu::kvm::MmuAlgorithm>()) {}
  explicit KvmEngine(const mmu::kvm::Mutant& m)
      : name_("kvm:" + std::string(m.name)), description_(m.description), algorithm_(m.make()) {}
  std::string_view name() const override { return name_; }
  std::string_view description() const override {
    if (!description_.empty()) return description_;
    return "KVM-style tables (permissions, pkru_mask, rsvd_bits_mask; EPT: permissions, rsvd_bits_mask, bad_mt_xwr), mainline algorithm";
  }
  std::optional<std::string> unsupported(const mmu::Case& c) const override {
    if (c.ept && c.ept->features.has(mmu::EptFeature::advinfo))
      return "KVM does not offer L1 advanced EPT-violation information (EPT capability bit 22)";
    if (c.cpu.cr4 & mmu::cr4::PKS) return "mainline KVM does not virtualise PKS (CR4.PKS)";
    if (c.access.shadow_stack) return "shadow-stack accesses are not modelled by the kvm engine";
    return std::nullopt;
  }
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const override { return algorithm_->walk(c, trace); }

 private:
  std::string name_;
  std::string description_;
  std::unique_ptr<mmu::kvm::MmuAlgorithm> algorithm_;
};

// KVM's tables in their Linux 3.14 form (model/kvm/kvm314.h) over the same
// walker. Everything 3.14 did not know, or that this engine does not model
// yet, is reported as unsupported, never compared.
class Kvm314Engine final : public Engine {
 public:
  std::string_view name() const override { return "kvm-3.14"; }
  std::string_view description() const override {
    return "KVM-style tables in their Linux 3.14 form (no SMAP, no PKU, 4 levels); guest paging only";
  }
  std::optional<std::string> unsupported(const mmu::Case& c) const override {
    if (c.ept) return "EPT and nested walks are not modelled by the kvm-3.14 engine yet";
    if (c.cpu.cr4 & mmu::cr4::SMAP) return "KVM 3.14 has no SMAP (CR4.SMAP)";
    if (c.cpu.cr4 & mmu::cr4::PKE) return "KVM 3.14 has no protection keys (CR4.PKE)";
    if (c.cpu.cr4 & mmu::cr4::PKS) return "KVM 3.14 has no supervisor protection keys (CR4.PKS)";
    if (c.cpu.cr4 & mmu::cr4::LA57) return "KVM 3.14 has no 5-level paging (CR4.LA57)";
    if (c.access.shadow_stack) return "KVM 3.14 has no shadow stacks";
    return std::nullopt;
  }
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const override { return algorithm_.walk(c, trace); }

 private:
  mmu::kvm::Kvm314Algorithm algorithm_;
};

// KVM's own table builders compiled from a Linux tree (kvmsrc/, docs/kvm-src.md)
// over the kvm engine's walker; what the kvm engine does not model, neither does
// it. kvm-src-tdp: the same with KVM's tdp_enabled set.
class KvmSrcEngine final : public Engine {
 public:
  explicit KvmSrcEngine(bool tdp) : name_(tdp ? "kvm-src-tdp" : "kvm-src"), algorithm_(mmu::kvmsrc::make_algorithm(tdp)) {
    const auto& s = mmu::kvmsrc::status();
    description_ = "KVM's own table builders and permission_fault() from Linux " + std::string(s.version) +
                   " (shim " + std::string(s.shim) + "), over the kvm engine's walker";
    if (tdp) description_ += "; TDP on: 1-GByte pages as the host has them";
    if (!s.fallback.empty()) description_ += "; the kvm engine's step instead of " + std::string(s.fallback);
  }
  std::string_view name() const override { return name_; }
  std::string_view description() const override { return description_; }
  std::optional<std::string> unsupported(const mmu::Case& c) const override {
    if (c.ept && c.ept->features.has(mmu::EptFeature::advinfo))
      return "KVM does not offer L1 advanced EPT-violation information (EPT capability bit 22)";
    if (c.cpu.cr4 & mmu::cr4::PKS) return "KVM does not virtualise PKS (CR4.PKS)";
    if (c.access.shadow_stack) return "shadow-stack accesses are not modelled by the kvm engine's walker";
    return std::nullopt;
  }
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const override { return algorithm_->walk(c, trace); }

 private:
  std::string name_, description_;
  std::unique_ptr<mmu::kvm::MmuAlgorithm> algorithm_;
};

struct Registration {
  std::string_view name;
  std::function<std::unique_ptr<Engine>()> make;
};

const std::vector<Registration>& registry() {
  static const std::vector<Registration> r{
      {"ref", [] { return std::make_unique<ReferenceEngine>(); }},
      {"kvm", [] { return std::make_unique<KvmEngine>(); }},
      {"smt", make_smt_engine},
      {"kvm-3.14", [] { return std::make_unique<Kvm314Engine>(); }},
      // The out-of-process oracles (replay/probe_engine.h): unsupported, with
      // the reason, where the emulator, the probe image or /dev/kvm is missing.
      {"qemu", [] { return make_probe_engine(probe::Emulator::qemu); }},
      {"bochs", [] { return make_probe_engine(probe::Emulator::bochs); }},
      {"kvm-hw", [] { return make_probe_engine(probe::Emulator::kvm); }},
  };
  static const std::vector<Registration> with_src = [] {
    std::vector<Registration> v = r;
    if (mmu::kvmsrc::status().available) {
      v.push_back({"kvm-src", [] { return std::make_unique<KvmSrcEngine>(false); }});
      v.push_back({"kvm-src-tdp", [] { return std::make_unique<KvmSrcEngine>(true); }});
    }
    return v;
  }();
  return with_src;
}

}  // namespace

std::unique_ptr<Engine> make_engine(std::string_view name) {
  for (const auto& r : registry())
    if (r.name == name) return r.make();
  if (name.starts_with("kvm:"))
    if (const mmu::kvm::Mutant* m = mmu::kvm::find_mutant(name.substr(4))) return std::make_unique<KvmEngine>(*m);
  return nullptr;
}

std::vector<std::string> engine_names() {
  std::vector<std::string> names;
  for (const auto& r : registry()) names.emplace_back(r.name);
  for (const auto& m : mmu::kvm::mutants()) names.push_back("kvm:" + std::string(m.name));
  return names;
}

std::vector<std::pair<std::string, std::string>> absent_engines() {
  std::vector<std::pair<std::string, std::string>> out;
  if (!mmu::kvmsrc::status().available)
    for (const char* n : {"kvm-src", "kvm-src-tdp"}) out.emplace_back(n, std::string(mmu::kvmsrc::status().reason));
  return out;
}

}  // namespace mmucheck
