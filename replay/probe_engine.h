// The emulator oracles behind the Engine interface: `qemu` (TCG), `bochs` and
// `kvm-hw` (QEMU with KVM on the host CPU) run cases through the probe image
// (replay/probe_runner.h). One boot serves a whole evaluate_batch(); a single
// evaluate() boots once for its case unless a batch already answered it.
//
//   auto e = mmucheck::make_probe_engine(mmucheck::probe::Emulator::qemu);
//   auto answers = e->evaluate_batch(cases);   // unsupported, or a verdict (+ note)
#pragma once
#include <memory>

#include "replay/engine.h"
#include "replay/probe_runner.h"

namespace mmucheck {

std::unique_ptr<Engine> make_probe_engine(probe::Emulator e);

}  // namespace mmucheck
