// kvm-src: KVM's own table builders, compiled from a Linux tree at build time
// (kvmsrc/prepare.py extracts them; kvmsrc/shim/VERSION/ is the project's
// shim they compile against; docs/kvm-src.md), plugged into the kvm engine's
// walker through MmuAlgorithm's virtual steps. The tables, the last-level
// test, the PSE-36 address bits and permission_fault() are the kernel's; the
// walk around them is model/kvm's.
//
// The engine is absent when the build found no tree, or the tree's functions
// do not fit the shim; status() then says why.
//
//   const mmu::kvmsrc::Status& s = mmu::kvmsrc::status();
//   if (!s.available) std::cerr << "kvm-src absent: " << s.reason << "\n";
//   else mmu::Verdict v = mmu::kvmsrc::make_algorithm()->walk(c, nullptr);
#pragma once
#include <memory>
#include <string_view>

#include "model/kvm/kvm_mmu.h"

namespace mmu::kvmsrc {

struct Status {
  bool available = false;
  std::string_view version;           // the tree's Linux version, "6.1.192"
  std::string_view shim;              // the shim it was compiled against, "6.1"
  std::string_view source;            // the tree or tarball
  std::string_view reason;            // why absent (names file, function, symbol)
  std::string_view kernel_functions;  // the extracted functions, space separated
  std::string_view fallback;          // optional ones left out (the kvm engine's step instead)
  bool default_tarball = false;       // configured from the default tarball (MMUCHECK_KERNEL_TARBALL), no tree named
};
const Status& status();

// The kvm-src algorithm; nullptr when absent. `tdp`: KVM's tdp_enabled (the
// kvm-src-tdp engine): 1-GByte page support then comes from the host (one
// that has it), not the guest's CPUID.
std::unique_ptr<kvm::MmuAlgorithm> make_algorithm(bool tdp = false);

// WARN_ON()s the kernel code hit on this thread (0 when absent).
unsigned kernel_warnings();

}  // namespace mmu::kvmsrc
