// Divergence signatures and delta-debugging of a diverging case.
//
// A divergence between engines A and B on a case is summarised by a signature:
// the engine pair, each side's outcome kind, the rule that decided the
// reference's verdict (when one side is `ref`), and which bits differ (error
// code, qualification). Minimisation keeps a change to the case only while the
// signature stays the same, so the minimal case shows the same bug.
//
//   auto a = mmucheck::make_engine("ref"), b = mmucheck::make_engine("kvm:stale-cr0-wp");
//   if (auto sig = mmucheck::divergence_signature(c, *a, *b)) {
//     mmu::Case small = mmucheck::minimize(c, *a, *b).kase;
//   }
#pragma once
#include <optional>
#include <string>

#include "model/case.h"
#include "replay/engine.h"

namespace mmucheck {

// Null when the engines agree on `c`, or one of them does not model it, or
// the allow-list explains the divergence (then `known` is set, if given).
std::optional<std::string> divergence_signature(const mmu::Case& c, const Engine& a, const Engine& b,
                                                std::string* known = nullptr);

struct MinimizeResult {
  mmu::Case kase;
  std::string signature;
  unsigned tried = 0, kept = 0;  // candidate cases evaluated, changes kept
};

// Precondition: divergence_signature(c, a, b) is set. Tries, until nothing
// more can be removed (or `budget` candidates were tried): dropping earlier
// vCPU states, memory and EPT entries; clearing bits of entries, of CR0, CR4,
// EFER, RFLAGS, PKRU, PKRS and CR3 and of the access address; dropping CPUID
// features; CPL 0; plain accesses. Every candidate must be a legal state.
MinimizeResult minimize(const mmu::Case& c, const Engine& a, const Engine& b, unsigned budget = 20000);

}  // namespace mmucheck
