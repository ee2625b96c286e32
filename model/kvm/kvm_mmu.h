// A KVM-style MMU: decides guest page walks only through the tables KVM
// precomputes per CPU role (struct kvm_mmu: permissions[16], pkru_mask,
// rsvd_bits_mask[2][levels]) and KVM's error-code assembly, re-implemented
// from ../shared/facts-kvm.md and a reading of arch/x86/kvm/mmu/{mmu.c,
// paging_tmpl.h} and arch/x86/kvm/mmu.h (mainline, ~v6.10-6.16). No kernel
// code is copied.
//
// Each step KVM takes is a virtual function of MmuAlgorithm, so a historical
// bug (the bug zoo) is one subclass overriding one step.
//
//   mmu::kvm::MmuAlgorithm mainline;
//   mmu::kvm::Tables t = mainline.build(mmu::kvm::cpu_role(c.cpu));
//   mmu::Verdict v = mainline.walk(c, nullptr);
#pragma once
#include <array>
#include <cstdint>

#include "model/case.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace mmu::kvm {

// ACC_* bits of an effective access value (pte_access).
inline constexpr unsigned ACC_EXEC = 1, ACC_WRITE = 2, ACC_USER = 4;
// PFERR_* bits; the RSVD slot doubles as the SMAP override (permissions index)
// and as "user page" (pkru_mask offset).
inline constexpr u64 PFERR_PRESENT = bit(0), PFERR_WRITE = bit(1), PFERR_USER = bit(2), PFERR_RSVD = bit(3),
                     PFERR_FETCH = bit(4), PFERR_PK = bit(5), PFERR_IMPLICIT = bit(48);

// The parts of KVM's kvm_cpu_role (base + ext) and guest CPUID the tables depend on.
struct CpuRole {
  unsigned level = 0;  // 0 paging off, 2 32-bit, 3 PAE, 4, 5
  bool has_4_byte_gpte = false;
  bool efer_nx = false, efer_lma = false, cr0_wp = false;
  bool cr4_pse = false, cr4_smep = false, cr4_smap = false, cr4_pke = false, cr4_la57 = false;
  unsigned maxphyaddr = 0;  // guest CPUID
  bool amd = false, gbpages = false, pse36 = false;
};
CpuRole cpu_role(const CpuState& cpu);

struct Tables {
  std::array<std::uint8_t, 16> permissions{};  // [pfec >> 1] bit acc: fault
  std::uint32_t pkru_mask = 0;                 // 2 bits per pfec (RSVD slot = user page)
  std::array<std::array<u64, 5>, 2> rsvd_bits_mask{};  // [bit 7][level - 1]
  u64 pdptr_rsvd = 0;                          // PAE PDPTE bits checked at load (#GP)
};

class MmuAlgorithm {
 public:
  virtual ~MmuAlgorithm() = default;

  Tables build(const CpuRole& role) const;

  // The whole guest walk (FNAME(walk_addr_generic) and its callers' checks).
  // Precondition: validate(c) passed and the case has no EPT.
  Verdict walk(const Case& c, Trace* trace) const;

  // ---- the steps, one per KVM function ----
  virtual void update_permission_bitmask(const CpuRole& role, Tables& t) const;
  virtual void update_pkru_bitmask(const CpuRole& role, Tables& t) const;
  virtual void reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const;
  // is_last_gpte(): bit 7 of the result says the walk stops here.
  virtual bool is_last_gpte(const CpuRole& role, unsigned level, u64 gpte) const;
  // permission_fault(): 0, or the error code bits (P, PK) of the fault.
  virtual u64 permission_fault(const CpuRole& role, const Tables& t, const CpuState& cpu, unsigned pte_access,
                               unsigned pte_pkey, u64 access) const;
  // The walker's error path: adds W/U, and I/D when EFER.NX or CR4.SMEP.
  virtual u64 fault_error_code(const CpuRole& role, u64 errcode, u64 access) const;
  // permission_fault()'s SMAP override: explicit accesses with EFLAGS.AC = 1.
  virtual bool smap_overridden(const CpuState& cpu, u64 access) const;
  // The access a leaf grants: what the levels above allowed, ANDed with the leaf's own.
  virtual unsigned leaf_access(unsigned parent_access, unsigned walk_access) const;
};

}  // namespace mmu::kvm
