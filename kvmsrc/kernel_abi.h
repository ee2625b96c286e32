/* Internal to kvmsrc/: the C interface between the kernel's functions
 * (compiled from the generated translation unit, with the shim's glue.c) and
 * kvmsrc.cc. Plain C types only, so it does not depend on the shim version.
 * Every shim's glue.c implements all of it. */
#ifndef MMUCHECK_KVMSRC_KERNEL_ABI_H
#define MMUCHECK_KVMSRC_KERNEL_ABI_H
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The guest state the guest MMU's role and tables come from. */
struct kvmsrc_cpu {
  uint64_t cr0, cr4, efer;
  unsigned maxphyaddr;
  bool gbpages, amd;  /* guest CPUID */
  bool tdp;           /* KVM's tdp_enabled: two-dimensional paging (EPT/NPT) in use */
};

/* The tables of one struct kvm_mmu, in KVM's layout. */
struct kvmsrc_tables {
  uint8_t permissions[16];
  uint32_t pkru_mask;
  uint64_t rsvd_bits_mask[2][5];
  uint64_t bad_mt_xwr;
  uint64_t pdptr_rsvd;     /* load_pdptrs()'s mask (x86.c pdptr_rsvd_bits) */
  uint64_t cpu_role;       /* union kvm_cpu_role as computed, for diagnostics */
  bool paging;             /* is_cr0_pg(): tables are only built with paging on */
};

/* The nested EPT MMU's inputs: L1's EPT capabilities. */
struct kvmsrc_ept {
  bool exec_only, pages_2m, pages_1g;
  unsigned maxphyaddr;
};

/* kvm_calc_cpu_role(), then what reset_guest_paging_metadata() does. */
void kvmsrc_build_guest(const struct kvmsrc_cpu *cpu, struct kvmsrc_tables *out);
/* what kvm_init_shadow_ept_mmu() builds */
void kvmsrc_build_ept(const struct kvmsrc_ept *ept, struct kvmsrc_tables *out);
/* permission_fault() on an MMU holding `t` */
uint8_t kvmsrc_permission_fault(const struct kvmsrc_tables *t, uint64_t rflags, uint32_t pkru, unsigned pte_access,
                                unsigned pte_pkey, uint64_t access);
/* FNAME(is_last_gpte) for 4-byte (32) and 8-byte (64) guest entries, and EPT;
 * negative when the tree's version was not extracted. */
int kvmsrc_is_last_gpte(const struct kvmsrc_cpu *cpu, unsigned level, uint64_t gpte);
int kvmsrc_is_last_ept_gpte(unsigned level, uint64_t gpte);
/* The gfn delta the 32-bit walker adds for a 4-MByte page (is_cpuid_PSE36()
 * and pse36_gfn_delta()), as a byte address; negative when not extracted. */
int64_t kvmsrc_pse36_delta(uint32_t pde);
/* WARN_ON()s the kernel code hit on this thread so far. */
unsigned kvmsrc_warnings(void);

#ifdef __cplusplus
}
#endif
#endif
