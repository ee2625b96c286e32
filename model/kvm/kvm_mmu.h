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
// Under EPT (a case with `ept`: an L2 access under L1's EPT) the engine models
// L0 handling the EPT violations L2's accesses cause: each guest-physical
// access, as the processor reports it in the exit qualification, is walked
// through L1's EPT with KVM's EPT tables (the nested EPT MMU: permissions,
// rsvd_bits_mask, bad_mt_xwr) and KVM's qualification assembly. See
// docs/kvm.md for what that leaves out (the emulator's own nested walks).
//
//   mmu::kvm::MmuAlgorithm mainline;
//   mmu::kvm::Tables t = mainline.build(mmu::kvm::cpu_role(c.cpu));
//   mmu::Verdict v = mainline.walk(c, nullptr);
#pragma once
#include <array>
#include <cstdint>
#include <optional>

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
  friend bool operator==(const CpuRole&, const CpuRole&) = default;
};
CpuRole cpu_role(const CpuState& cpu);

// The nested EPT MMU's role: what L1's EPTP and the EPT capabilities KVM
// gives L1 decide.
struct EptRole {
  unsigned level = 4;  // EPTP page-walk length
  bool ad = false;     // EPTP bit 6
  bool exec_only = false, mbec = false, pages_2m = false, pages_1g = false;
  unsigned maxphyaddr = 0;
  friend bool operator==(const EptRole&, const EptRole&) = default;
};
EptRole ept_role(const EptState& ept, unsigned maxphyaddr);

struct Tables {
  std::array<std::uint8_t, 16> permissions{};  // [pfec >> 1] bit acc: fault
  std::uint32_t pkru_mask = 0;                 // 2 bits per pfec (RSVD slot = user page)
  std::array<std::array<u64, 5>, 2> rsvd_bits_mask{};  // [bit 7][level - 1]
  u64 pdptr_rsvd = 0;                          // PAE PDPTE bits checked at load (#GP)
};

struct EptTables {
  std::array<std::uint8_t, 16> permissions{};          // [pfec >> 1] bit acc: fault (U = readable)
  std::array<std::array<u64, 5>, 2> rsvd_bits_mask{};  // [bit 7][level - 1]
  u64 bad_mt_xwr = 0;                                  // bit n: entry bits 5:0 == n is a misconfiguration
};

class MmuAlgorithm {
 public:
  MmuAlgorithm();
  virtual ~MmuAlgorithm() = default;

  Tables build(const CpuRole& role) const;
  EptTables build_ept(const EptRole& role) const;

  // The tables the vCPU's MMU context holds when it runs `c`: built for the
  // first state of c.history, then rebuilt at each later state (and at
  // c.cpu) where needs_reset() says so. Without history: build(cpu_role(c.cpu)),
  // from a small per-thread cache.
  struct Context {
    CpuRole role;
    Tables tables;
  };
  Context context(const Case& c) const;

  // The whole walk (FNAME(walk_addr_generic) and its callers' checks), guest
  // paging and, with c.ept, each guest-physical access through L1's EPT.
  // Precondition: validate(c) passed.
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
  // The physical-address bits a 32-bit walk adds for a 4-MByte page from PDE
  // bits 16:13 (PSE-36, as PA 35:32): mainline adds them when CPUID reports PSE-36.
  virtual u64 pse36_gfn_delta(const CpuRole& role, u64 pde) const;
  // kvm_mmu_reset_context() on a CR0/CR4/EFER write: whether the MMU context
  // built for `built_for` is rebuilt for the vCPU's new role `now`.
  virtual bool needs_reset(const CpuRole& built_for, const CpuRole& now) const;

  // ---- the nested EPT MMU's steps ----
  virtual void update_ept_permission_bitmask(const EptRole& role, EptTables& t) const;
  virtual void reset_ept_rsvds_bits_mask(const EptRole& role, EptTables& t) const;
  virtual bool is_last_ept_gpte(const EptRole& role, unsigned level, u64 epte) const;
  // is_present_gpte() for EPT: any of R, W, X (and XU with MBEC).
  virtual bool is_present_ept_gpte(const EptRole& role, u64 epte) const;
  // Whether a fetch is checked against XU (user-mode linear address under
  // MBEC) rather than X.
  virtual bool ept_fetch_checks_xu(const EptRole& role, const EptRequest& r, const CpuState& guest) const;
  // The permission check on the walk's combined rights: true when it faults.
  virtual bool ept_permission_fault(const EptRole& role, const EptTables& t, unsigned pte_access, u64 pfec) const;
  // Exit-qualification bits 6:3 from the raw EPT bits ANDed over the walk.
  virtual u64 ept_qualification_rights(const EptRole& role, u64 raw_rights) const;

  // One guest-physical access through L1's EPT (FNAME(walk_addr_generic) for
  // PTTYPE_EPT, entered from the EPT-violation handler). EPT A/D updates are
  // merged into `writes`.
  EptResult ept_walk(const EptRole& role, const EptTables& t, const Case& c, const EptRequest& r, WriteList& writes,
                     Trace* trace) const;

 private:
  EptTables ept_context(const EptRole& role) const;  // build_ept(), from a per-thread cache
  unsigned id_;  // tells algorithms apart in the per-thread table cache
};

}  // namespace mmu::kvm
