// KVM's MMU tables in their Linux 3.14 form (`--engine kvm-3.14`): the same
// walker as the mainline engine (model/kvm/kvm_mmu.h), with the steps 3.14
// did differently overridden. Re-implemented from ../shared/facts-kvm.md ("The
// seed's 3.14 form") and a reading of the 3.12-3.17 arch/x86/kvm/mmu.c,
// mmu.h and paging_tmpl.h (docs/kvm.md, "The 3.14 form"); no kernel code is
// copied.
//
// What 3.14 did not have is not here: no SMAP, no protection keys, no 5-level
// paging (replay/engine.cc reports such cases as unsupported).
//
//   const mmu::kvm::Kvm314Algorithm k314;
//   mmu::kvm::Tables314 t = k314.tables(mmu::kvm::cpu_role(c.cpu));
//   mmu::Verdict v = k314.walk(c, nullptr);
#pragma once
#include <array>
#include <cstdint>

#include "model/kvm/kvm_mmu.h"

namespace mmu::kvm {

// 3.14's `mmu->nx`: EFER.NX, but only for the PAE and 4-level MMUs; the 32-bit
// MMU sets it to false whatever EFER says (paging32_init_context()).
bool nx_314(const CpuRole& role);

// update_permission_bitmask(vcpu, mmu, ept) in 3.14: one byte per pfec >> 1,
// bit i set when an access with that pfec to a page whose effective ACC is i
// faults. The RSVD slot of the index means nothing (no SMAP yet). With `ept`,
// U is forced on: reads are never checked.
std::array<std::uint8_t, 16> permissions_314(const CpuRole& role, bool ept);

// update_last_pte_bitmap(): bit (level - 1) | (PS << 2) set when a gpte at
// that level with that PS ends the walk.
std::uint8_t last_pte_bitmap_314(const CpuRole& role);

// The tables 3.14's struct kvm_mmu held for a guest-paging role.
struct Tables314 {
  std::array<std::uint8_t, 16> permissions{};
  std::array<std::array<u64, 4>, 2> rsvd_bits_mask{};  // [bit 7][level - 1]; no 5-level
  std::uint8_t last_pte_bitmap = 0;
};

class Kvm314Algorithm : public MmuAlgorithm {
 public:
  // The 3.14 tables for `role`, laid out as 3.14 held them.
  Tables314 tables(const CpuRole& role) const;

  void update_permission_bitmask(const CpuRole& role, Tables& t) const override;
  void update_pkru_bitmask(const CpuRole& role, Tables& t) const override;
  void reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const override;
  bool is_last_gpte(const CpuRole& role, unsigned level, u64 gpte) const override;
  u64 permission_fault(const CpuRole& role, const Tables& t, const CpuState& cpu, unsigned pte_access,
                       unsigned pte_pkey, u64 access) const override;
  u64 fault_error_code(const CpuRole& role, u64 errcode, u64 access) const override;
};

}  // namespace mmu::kvm
