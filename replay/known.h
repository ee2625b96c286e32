// The allow-list: divergences between the reference and a KVM-style engine
// that are findings about KVM (documented in docs/kvm.md, "Findings"), not
// bugs of ours. Each entry names the finding, its reason and evidence, and a
// predicate that recognises exactly the cases it explains. The reference is
// never weakened to make them agree; they are reported as "known".
//
//   if (const auto* k = mmucheck::known_divergence("ref", "kvm", c, ref_verdict, kvm_outcome))
//     std::cout << "known: " << k->id << "\n";
#pragma once
#include <functional>
#include <span>
#include <string_view>

#include "model/case.h"
#include "model/outcome.h"

namespace mmucheck {

struct KnownDivergence {
  std::string_view id;
  std::string_view reason;    // why KVM differs from the SDM
  std::string_view evidence;  // where it shows: KVM source, SDM section
  // True when the divergence between the reference's verdict and the KVM-style
  // engine's outcome on `c` is this finding.
  std::function<bool(const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm)> explains;
  // Empty: a finding about every KVM-family engine. Otherwise the engine it is
  // about (e.g. "kvm-3.14": what that version did and mainline no longer does),
  // or engines whose name starts with it ("kvm-src" also means kvm-src-tdp).
  std::string_view engine = {};
};

std::span<const KnownDivergence> known_divergences();

// Whether `engine` is one the allow-list speaks about: kvm, kvm:MUTANT, kvm-3.14, kvm-src, kvm-src-tdp.
bool is_kvm_family(std::string_view engine);

// The finding that explains a divergence between engines `a` and `b` on `c`
// (a's verdict did not accept b's outcome), or null. Only a pair of the
// reference and a KVM-family engine, in either order, can be explained.
const KnownDivergence* known_divergence(std::string_view a, std::string_view b, const mmu::Case& c,
                                        const mmu::Verdict& va, const mmu::Verdict& vb);

}  // namespace mmucheck
