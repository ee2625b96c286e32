// The `smt` engine: the SDM encoding of smt/rules.h evaluated on each case
// (smt/evaluator.h). Registered in replay/engine.cc.
#pragma once
#include <memory>

#include "replay/engine.h"

namespace mmucheck {

std::unique_ptr<Engine> make_smt_engine();

}  // namespace mmucheck
