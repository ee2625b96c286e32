// A walk trace: what a page walk read, level by level, and which rule decided.
// Only built when asked for (pass a Trace* to an engine); the hot path never
// allocates.
#pragma once
#include <bitset>
#include <string_view>
#include <vector>

#include "model/bits.h"
#include "model/outcome.h"
#include "model/rules.h"

namespace mmu {

enum class StepKind : unsigned char {
  pdpte_load,  // PAE: a PDPTE read when CR3 is loaded
  entry,       // a paging-structure entry read during the walk
};

struct TraceStep {
  StepKind kind = StepKind::entry;
  Space space = Space::guest;
  unsigned level = 0;             // 5..1 (PAE PDPTE: 3; 32-bit PDE: 2)
  std::string_view name;          // "PML4E", "PDPTE", "PDE", "PTE", ...
  u64 addr = 0;                   // where the entry was read
  u64 value = 0;                  // the entry
  u64 mattered = 0;               // the bits of `value` that decided this step
  Rule rule = Rule::none;         // the rule that ended the walk here, if any
};

struct Trace {
  std::vector<TraceStep> steps;
  Rule decided_by = Rule::none;   // the rule that produced the outcome
  u64 decided_mask = 0;           // bits that mattered for that decision
  std::bitset<64> checked;        // rules evaluated on this case
  std::bitset<64> fired;          // rules whose condition held (they changed the outcome)

  void check(Rule r, bool fired_now) {
    checked.set(static_cast<unsigned>(r));
    if (fired_now) fired.set(static_cast<unsigned>(r));
  }
  void clear() { *this = Trace{}; }
};

}  // namespace mmu
