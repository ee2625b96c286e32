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

// The same, into a caller-owned Verdict: for loops that evaluate millions of
// cases and do not want a Verdict on the stack each time.
void evaluate_into(const Case& c, Verdict& out, Trace* trace = nullptr);

}  // namespace mmu::reference
