/* The kvm-src shim for Linux 6.1: the project's own declarations of what the
 * extracted KVM functions use (kvmsrc/shim/6.1/manifest.txt lists them), so
 * they compile as user-space C. Nothing here is kernel text: types, the
 * architectural constants (SDM / KVM ABI values), the role and MMU structures
 * reduced to the members the functions read and write, the role accessors,
 * and the kernel helper macros given user-space meanings.
 *
 * The generated translation unit (build dir, kvmsrc/gen/kvm_src_fns.c) is:
 * this header, the extracted functions in manifest order, then glue.c.
 * See docs/kvm-src.md ("The shim") for what each stand-in decides. */
#ifndef MMUCHECK_KVMSRC_SHIM_6_1_H
#define MMUCHECK_KVMSRC_SHIM_6_1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef u64 gfn_t;
typedef u64 gpa_t;

/* ---- compiler and kernel helper macros, user-space meanings ---- */
#undef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#define __maybe_unused __attribute__((__unused__))
#define fallthrough __attribute__((__fallthrough__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(__builtin_constant_p(cond) && (cond))]))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* a u64 with the byte x in every byte */
#define REPEAT_BYTE(x) ((u64)0x0101010101010101ull * (u8)(x))
/* A kernel WARN_ON is counted (kvmsrc_warnings()); tests expect none. */
extern _Thread_local unsigned kvmsrc_warn_count;
#define WARN_ON(cond) ({ bool __w = !!(cond); if (__w) ++kvmsrc_warn_count; __w; })
#define WARN_ON_ONCE(cond) WARN_ON(cond)

/* ---- architectural constants ---- */
#define PAGE_SHIFT 12
#define X86_CR0_WP (1ul << 16)
#define X86_CR0_PG (1ul << 31)
#define X86_CR4_PSE (1ul << 4)
#define X86_CR4_PAE (1ul << 5)
#define X86_CR4_LA57 (1ul << 12)
#define X86_CR4_SMEP (1ul << 20)
#define X86_CR4_SMAP (1ul << 21)
#define X86_CR4_PKE (1ul << 22)
#define EFER_LMA (1ull << 10)
#define EFER_NX (1ull << 11)
#define X86_EFLAGS_AC (1ul << 18)

/* page-fault error code bits (SDM 4.7) and KVM's internal ones */
#define PFERR_PRESENT_BIT 0
#define PFERR_WRITE_BIT 1
#define PFERR_USER_BIT 2
#define PFERR_RSVD_BIT 3
#define PFERR_FETCH_BIT 4
#define PFERR_PK_BIT 5
#define PFERR_PRESENT_MASK (1u << PFERR_PRESENT_BIT)
#define PFERR_WRITE_MASK (1u << PFERR_WRITE_BIT)
#define PFERR_USER_MASK (1u << PFERR_USER_BIT)
#define PFERR_RSVD_MASK (1u << PFERR_RSVD_BIT)
#define PFERR_FETCH_MASK (1u << PFERR_FETCH_BIT)
#define PFERR_PK_MASK (1u << PFERR_PK_BIT)
#define PFERR_IMPLICIT_ACCESS (1ull << 48)

/* paging-structure entry bits */
#define PT_USER_SHIFT 2
#define PT_USER_MASK (1ull << PT_USER_SHIFT)
#define PT_PAGE_SIZE_MASK (1ull << 7)
/* 4-MByte PDE bits 16:13 hold physical-address bits 35:32 (PSE-36) */
#define PT32_DIR_PSE36_SHIFT 13
#define PT32_DIR_PSE36_MASK (((1ull << 4) - 1) << PT32_DIR_PSE36_SHIFT)

/* the ACC_* form of an entry's rights */
#define ACC_EXEC_MASK 1
#define ACC_WRITE_MASK 2
#define ACC_USER_MASK 4
#define ACC_ALL (ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK)

/* paging levels */
#define PT32_ROOT_LEVEL 2
#define PT32E_ROOT_LEVEL 3
#define PT64_ROOT_4LEVEL 4
#define PT64_ROOT_5LEVEL 5
#define PT64_ROOT_MAX_LEVEL 5
enum { PG_LEVEL_NONE, PG_LEVEL_4K, PG_LEVEL_2M, PG_LEVEL_1G };

/* the paging_tmpl.h instances the generated file compiles */
#define PTTYPE_EPT 18

/* IA32_VMX_EPT_VPID_CAP bits for large EPT pages */
#define VMX_EPT_2MB_PAGE_BIT (1ull << 16)
#define VMX_EPT_1GB_PAGE_BIT (1ull << 17)

/* CPUID features the functions ask about */
enum { X86_FEATURE_GBPAGES = 1 };

/* ---- the role and MMU structures, reduced to what the functions use ---- */
union kvm_mmu_page_role {
  u32 word;
  struct {
    unsigned level : 4;
    unsigned has_4_byte_gpte : 1;
    unsigned direct : 1;
    unsigned access : 3;
    unsigned efer_nx : 1;
    unsigned cr0_wp : 1;
    unsigned smep_andnot_wp : 1;
    unsigned smap_andnot_wp : 1;
    unsigned guest_mode : 1;
    unsigned smm : 8;
  };
};

union kvm_mmu_extended_role {
  u32 word;
  struct {
    unsigned valid : 1;
    unsigned execonly : 1;
    unsigned cr4_pse : 1;
    unsigned cr4_pke : 1;
    unsigned cr4_smap : 1;
    unsigned cr4_smep : 1;
    unsigned cr4_la57 : 1;
    unsigned efer_lma : 1;
  };
};

union kvm_cpu_role {
  u64 as_u64;
  struct {
    union kvm_mmu_page_role base;
    union kvm_mmu_extended_role ext;
  };
};

struct kvm_mmu_role_regs {
  unsigned long cr0;
  unsigned long cr4;
  u64 efer;
};

struct rsvd_bits_validate {
  u64 rsvd_bits_mask[2][PT64_ROOT_MAX_LEVEL];
  u64 bad_mt_xwr;
};

struct kvm_mmu {
  union kvm_cpu_role cpu_role;
  u32 pkru_mask;
  u8 permissions[16];
  struct rsvd_bits_validate guest_rsvd_check;
};

/* The vCPU: what the functions read (PKRU, the guest's reserved GPA bits),
 * plus the register and CPUID facts the stand-ins below answer from. */
struct kvm_vcpu_arch {
  u32 pkru;
  u64 reserved_gpa_bits;
};
struct kvm_vcpu {
  struct kvm_vcpu_arch arch;
  unsigned long rflags;
  bool cpuid_gbpages, cpuid_amd;
};

/* ---- stand-ins for the kernel functions the extracted ones call ---- */

/* kvm_calc_cpu_role()'s register tests (mmu.c makes them with a macro) */
static inline bool ____is_cr0_pg(const struct kvm_mmu_role_regs *r) { return !!(r->cr0 & X86_CR0_PG); }
static inline bool ____is_cr0_wp(const struct kvm_mmu_role_regs *r) { return !!(r->cr0 & X86_CR0_WP); }
static inline bool ____is_cr4_pse(const struct kvm_mmu_role_regs *r) { return !!(r->cr4 & X86_CR4_PSE); }
static inline bool ____is_cr4_pae(const struct kvm_mmu_role_regs *r) { return !!(r->cr4 & X86_CR4_PAE); }
static inline bool ____is_cr4_smep(const struct kvm_mmu_role_regs *r) { return !!(r->cr4 & X86_CR4_SMEP); }
static inline bool ____is_cr4_smap(const struct kvm_mmu_role_regs *r) { return !!(r->cr4 & X86_CR4_SMAP); }
static inline bool ____is_cr4_pke(const struct kvm_mmu_role_regs *r) { return !!(r->cr4 & X86_CR4_PKE); }
static inline bool ____is_cr4_la57(const struct kvm_mmu_role_regs *r) { return !!(r->cr4 & X86_CR4_LA57); }
static inline bool ____is_efer_nx(const struct kvm_mmu_role_regs *r) { return !!(r->efer & EFER_NX); }
static inline bool ____is_efer_lma(const struct kvm_mmu_role_regs *r) { return !!(r->efer & EFER_LMA); }

/* the MMU's role accessors (mmu.c makes them with a macro): the role is the truth */
static inline bool is_cr0_wp(struct kvm_mmu *m) { return m->cpu_role.base.cr0_wp; }
static inline bool is_cr4_pse(struct kvm_mmu *m) { return m->cpu_role.ext.cr4_pse; }
static inline bool is_cr4_smep(struct kvm_mmu *m) { return m->cpu_role.ext.cr4_smep; }
static inline bool is_cr4_smap(struct kvm_mmu *m) { return m->cpu_role.ext.cr4_smap; }
static inline bool is_cr4_pke(struct kvm_mmu *m) { return m->cpu_role.ext.cr4_pke; }
static inline bool is_cr4_la57(struct kvm_mmu *m) { return m->cpu_role.ext.cr4_la57; }
static inline bool is_efer_nx(struct kvm_mmu *m) { return m->cpu_role.base.efer_nx; }
static inline bool is_efer_lma(struct kvm_mmu *m) { return m->cpu_role.ext.efer_lma; }

/* The vCPU is never in SMM nor running L2 when its L1 role is computed. */
static inline bool is_smm(struct kvm_vcpu *v) { (void)v; return false; }
static inline bool is_guest_mode(struct kvm_vcpu *v) { (void)v; return false; }

/* KVM's tdp_enabled, set by the glue per call: false (shadow paging) for the
 * kvm-src engine, whose guest_can_use_gbpages() then answers from the guest's
 * CPUID as the kvm engine models it; true for kvm-src-tdp. The host is one
 * with every feature asked about (1-GByte pages). docs/kvm-src.md. */
extern _Thread_local bool kvmsrc_tdp_enabled;
#define tdp_enabled kvmsrc_tdp_enabled
static inline bool boot_cpu_has(int feature) { (void)feature; return true; }
static inline bool guest_cpuid_has(struct kvm_vcpu *v, int feature) {
  return feature == X86_FEATURE_GBPAGES && v->cpuid_gbpages;
}
static inline bool guest_cpuid_is_amd_compatible(struct kvm_vcpu *v) { return v->cpuid_amd; }

/* permission_fault() reads RFLAGS through a static call */
static inline unsigned long shim_kvm_x86_get_rflags(struct kvm_vcpu *v) { return v->rflags; }
#define static_call(fn) shim_##fn

/* permission_fault() refreshes CR0.WP-derived metadata when CR0.WP is passed
 * through to the guest under TDP; the tables here are always built for the
 * current role, so there is nothing to refresh. */
static inline void kvm_mmu_refresh_passthrough_bits(struct kvm_vcpu *v, struct kvm_mmu *m) { (void)v; (void)m; }

#endif
