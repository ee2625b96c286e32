// The reference MMU: the Intel SDM's paging rules (vol. 3A ch. 4), written
// plainly, one function per paging mode. Every decision names a Rule.
//
//   if (!mmu::validate(c)) {
//     mmu::Trace trace;
//     mmu::Verdict v = mmu::reference::evaluate(c, &trace);
//   }
#pragma once
#include "model/case.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace mmu::reference {

// Precondition: validate(c) found nothing wrong. `trace` may be null.
Verdict evaluate(const Case& c, Trace* trace = nullptr);

}  // namespace mmu::reference
