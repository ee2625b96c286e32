// Known deviations of the emulator oracles from the SDM (documented, with the
// evidence and the SDM text, in corpus/known-deviations/README.md). Each is a
// transformation of the reference's verdict into the one the emulator gives
// instead -- narrow, so that anything else still diverges. The reference is
// never changed to match an emulator.
//
//   auto k = mmucheck::probe::explain("qemu", c, ref_verdict, ref_trace, observed);
//   if (!k.empty()) { /* known: k[0]->id ... */ }
#pragma once
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "model/case.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace mmucheck::probe {

struct KnownDeviation {
  std::string_view id;
  std::string_view engines;   // comma-separated: the engines it is seen on
  std::string_view summary;
  // Applies to this case (given the reference's verdict and trace)?
  std::function<bool(const mmu::Case&, const mmu::Verdict&, const mmu::Trace&)> applies;
  // Widens `v` so that it also accepts what the emulator does.
  std::function<void(const mmu::Case&, const mmu::Trace&, mmu::Verdict& v)> widen;
};

std::span<const KnownDeviation> known_deviations();

// `v` accepts `observed` on case `c`. For EPT cases the order of the observed
// writes is not taken as observed (the probe reads guest and EPT entries back
// after the access, so it cannot see the interleaving).
bool accepts_observed(const mmu::Case& c, const mmu::Verdict& v, const mmu::Outcome& observed);

// The deviations that, together, explain why `observed` is not what the
// reference allows on `c` for `engine` (each one needed); empty when none do.
// Also empty when the reference accepts `observed` (no divergence to explain).
std::vector<const KnownDeviation*> explain(std::string_view engine, const mmu::Case& c, const mmu::Verdict& ref,
                                           const mmu::Trace& trace, const mmu::Outcome& observed);

}  // namespace mmucheck::probe
