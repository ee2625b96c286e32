// The `smt` engine: the SDM encoding of smt/rules.h evaluated on a concrete
// case. The terms (reserved bits, leaf, access rights, protection keys, error
// code, physical address) are built once, over variables; each case's values
// are substituted in and the result simplified to a constant. The C++ around
// them only reads the entries a walk visits and records the accessed/dirty
// updates (SDM 4.8), so a fuzzer can compare the model with the encoding.
// This header does not include Z3.
//
//   smt::Evaluator e;
//   if (!e.unsupported(c)) mmu::Verdict v = e.evaluate(c, nullptr);
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "model/case.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace smt {

class Evaluator {
 public:
  Evaluator();
  ~Evaluator();
  // Cases with EPT and shadow-stack accesses are not encoded.
  std::optional<std::string> unsupported(const mmu::Case& c) const;
  // Precondition: validate(c) passed and unsupported(c) is empty. Thread-safe
  // (calls are serialised: one Z3 context).
  mmu::Verdict evaluate(const mmu::Case& c, mmu::Trace* trace) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mu_;
};

}  // namespace smt
