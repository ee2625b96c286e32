// Rejects cases that are not a machine state a CPU can be in (SDM vol. 3A
// 2.5 control registers, 9.8.5 IA-32e mode, 4.1.1 paging modes): a CR4 bit for
// an absent feature, EFER.LMA that disagrees with CR0.PG/EFER.LME, ... Engines
// only evaluate cases that pass.
//
//   if (auto err = mmu::validate(c)) std::cerr << err->field << ": " << err->message;
#pragma once
#include <optional>
#include <string>

#include "model/case.h"

namespace mmu {

struct InvalidCase {
  std::string field;    // dotted path in the case format, e.g. "cpu.cr4"
  std::string message;  // what is wrong, in the SDM's terms
};

std::optional<InvalidCase> validate(const Case& c);

}  // namespace mmu
