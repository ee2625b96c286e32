// The bug zoo: historical KVM MMU bugs, each re-introduced into the mainline
// algorithm as one subclass overriding one step (model/kvm/kvm_mmu.h), and
// registered here with its commit and a one-line description.
//
//   for (const auto& m : mmu::kvm::mutants()) std::cout << m.name << "\n";
//   auto algo = mmu::kvm::find_mutant("smap-ignores-implicit")->make();
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "model/kvm/kvm_mmu.h"

namespace mmu::kvm {

struct Mutant {
  std::string_view name;         // --engine kvm:NAME
  std::string_view commit;       // the fix, where known
  std::string_view title;        // the fix's title, where recorded (facts-kvm.md); empty otherwise
  std::string_view description;  // what the bug did, in one line
  std::function<std::unique_ptr<MmuAlgorithm>()> make;
};

std::span<const Mutant> mutants();
const Mutant* find_mutant(std::string_view name);

}  // namespace mmu::kvm
