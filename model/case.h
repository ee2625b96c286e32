// A case: one memory access by one virtual CPU, plus the physical memory its
// page walk reads (../docs/case-format.md).
//
//   mmu::Case c;
//   c.cpu = ...;                       // registers; the paging mode is derived
//   c.access = {.addr = 0x401000, .kind = mmu::AccessKind::read};
//   c.memory.set(0x1000, 0x2027);      // guest-physical address -> entry value
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/cpu.h"
#include "model/ept.h"
#include "model/memory.h"

namespace mmu {

enum class AccessKind : unsigned char { read, write, fetch };
std::string_view access_kind_name(AccessKind k);  // "read", "write", "fetch" (the case format's names)

struct Access {
  u64 addr = 0;
  AccessKind kind = AccessKind::read;
  bool implicit = false;      // implicit supervisor-mode access (GDT, IDT, TSS, ...)
  bool shadow_stack = false;  // CET shadow-stack access
};

// SDM 4.6: a user-mode access is an explicit access at CPL 3.
constexpr bool is_user_access(const CpuState& c, const Access& a) {
  return c.cpl == 3 && !a.implicit;
}

struct Case {
  std::string name;
  CpuState cpu;
  Access access;
  PhysMemory memory;  // guest-physical address -> entry (4 bytes in 32-bit paging, else 8)
  // Set when the access is made by a guest under EPT: every guest-physical
  // address the walk touches is translated through it.
  std::optional<EptState> ept;
  // Earlier states the vCPU passed through before this access, oldest first
  // (docs/case-format.md, "history"). The architecture does not look at them;
  // a hypervisor that caches per-state data (KVM's MMU context) may.
  std::vector<CpuState> history;
};

}  // namespace mmu
