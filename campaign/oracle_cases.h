// Cases for the emulator oracles (replay/probe_runner.h): a case given the
// emulated CPU's CPUID, and random cases (guest paging, EPT, nested) the probe can run. Used
// by `mmucheck oracle` and by the campaign's oracle phase.
//
//   std::mt19937_64 rng(1);
//   auto cases = mmucheck::random_oracle_cases(mmucheck::probe::Emulator::qemu, 2000, rng);
#pragma once
#include <optional>
#include <random>
#include <vector>

#include "fuzz/decoder.h"
#include "model/case.h"
#include "replay/probe_runner.h"

namespace mmucheck {

// The case with the emulated CPU's CPUID (Bochs: tigerlake, MAXPHYADDR 40;
// kvm-hw: this machine's CPU; QEMU: one of a few MAXPHYADDR values so that
// cases share boots, or one model with `one_cpu`), or nullopt when that makes
// it an invalid machine state.
std::optional<mmu::Case> fit_case(const mmu::Case& c, probe::Emulator e, bool one_cpu = false);

// `n` random guest-paging cases (fuzz/decoder.h) the probe can run: an
// explicit access, no VMX/SMX/UINTR/KL (nor what the emulator lacks), EFER
// bits SCE/LME/LMA/NXE only, no virtual-8086 mode, paging on, no earlier
// states, and the emulated CPU's CPUID. Cases that are then invalid are drawn
// again, at most 50 n draws in all.
//
// `shape`: guest (no EPT), ept (EPT under paging off), nested (EPT under
// guest paging) or any (a mix, the default: the campaign's sample then has
// EPT and nested cases on Bochs, which run as fast as guest ones). EPT shapes
// only on an emulator with VMX (QEMU TCG gets guest cases); on Bochs their
// EPT capabilities are Bochs'.
std::vector<mmu::Case> random_oracle_cases(probe::Emulator e, std::size_t n, std::mt19937_64& rng,
                                           bool one_cpu = false, fuzz::Shape shape = fuzz::Shape::any);

}  // namespace mmucheck
