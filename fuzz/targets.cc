#include "fuzz/targets.h"

#include "model/cpu.h"

namespace mmucheck::fuzz {

std::span<const TargetSpec> targets() {
  static const TargetSpec t[] = {
      {"fuzz_guest_walk", "ref,kvm", {.shape = Shape::guest},
       "guest paging in every mode (paging off, 32-bit, PAE, 4-level, 5-level), no EPT"},
      {"fuzz_ept_walk", "ref,kvm", {.shape = Shape::ept},
       "EPT with guest paging off: the access's address is the guest-physical address"},
      {"fuzz_nested_walk", "ref,kvm", {.shape = Shape::nested},
       "guest paging under EPT: every guest paging-structure access and the final access go through EPT"},
      {"fuzz_kvm314", "ref,kvm-3.14",
       {.shape = Shape::guest,
        .cr4_clear = mmu::cr4::SMAP | mmu::cr4::PKE | mmu::cr4::PKS | mmu::cr4::LA57,
        .shadow_stack = false},
       "guest paging without what KVM 3.14 lacks (CR4.SMAP, PKE, PKS, LA57, shadow stacks), against kvm-3.14"},
      {"fuzz_smt", "ref,smt", {.shape = Shape::any},
       "every shape (guest, EPT, nested), against the smt engine (the Z3 encoding on the concrete case)"},
  };
  return t;
}

const TargetSpec* find_target(std::string_view name) {
  for (const TargetSpec& t : targets())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace mmucheck::fuzz
