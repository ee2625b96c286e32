/* The kvm-src glue for Linux 6.1, the project's own code: sets up a vCPU and
 * a struct kvm_mmu as KVM does on a role change and calls the extracted
 * functions (kernel_abi.h). Included at the end of the generated translation
 * unit, after the extracted functions, so it can call the static ones. What
 * each step stands for in KVM is in docs/kvm-src.md ("The split"). */
#include <string.h>

#include "kvmsrc/kernel_abi.h"

_Thread_local unsigned kvmsrc_warn_count;
_Thread_local bool kvmsrc_tdp_enabled;
unsigned kvmsrc_warnings(void) { return kvmsrc_warn_count; }

/* cpuid.c: vcpu->arch.reserved_gpa_bits = rsvd_bits(MAXPHYADDR, 63) */
static void glue_vcpu(struct kvm_vcpu *v, unsigned maxphyaddr, bool gbpages, bool amd) {
  memset(v, 0, sizeof(*v));
  v->arch.reserved_gpa_bits = rsvd_bits(maxphyaddr, 63);
  v->cpuid_gbpages = gbpages;
  v->cpuid_amd = amd;
}

static void glue_out(struct kvm_mmu *m, struct kvmsrc_tables *out) {
  memcpy(out->permissions, m->permissions, sizeof(out->permissions));
  out->pkru_mask = m->pkru_mask;
  memcpy(out->rsvd_bits_mask, m->guest_rsvd_check.rsvd_bits_mask, sizeof(out->rsvd_bits_mask));
  out->bad_mt_xwr = m->guest_rsvd_check.bad_mt_xwr;
  out->cpu_role = m->cpu_role.as_u64;
}

static void glue_guest_mmu(const struct kvmsrc_cpu *cpu, struct kvm_vcpu *v, struct kvm_mmu *m) {
  const struct kvm_mmu_role_regs regs = {.cr0 = cpu->cr0, .cr4 = cpu->cr4, .efer = cpu->efer};
  glue_vcpu(v, cpu->maxphyaddr, cpu->gbpages, cpu->amd);
  kvmsrc_tdp_enabled = cpu->tdp;
  memset(m, 0, sizeof(*m));
  m->cpu_role = kvm_calc_cpu_role(v, &regs);
}

void kvmsrc_build_guest(const struct kvmsrc_cpu *cpu, struct kvmsrc_tables *out) {
  struct kvm_vcpu v;
  struct kvm_mmu m;
  memset(out, 0, sizeof(*out));
  glue_guest_mmu(cpu, &v, &m);
  /* reset_guest_paging_metadata(): nothing is built with paging off */
  out->paging = m.cpu_role.base.level > 0;
  if (out->paging) {
    reset_guest_rsvds_bits_mask(&v, &m);
    update_permission_bitmask(&m, false);
    update_pkru_bitmask(&m);
  }
  glue_out(&m, out);
  out->pdptr_rsvd = pdptr_rsvd_bits(&v);
}

void kvmsrc_build_ept(const struct kvmsrc_ept *ept, struct kvmsrc_tables *out) {
  struct kvm_vcpu v;
  struct kvm_mmu m;
  memset(out, 0, sizeof(*out));
  glue_vcpu(&v, ept->maxphyaddr, false, false);
  memset(&m, 0, sizeof(m));
  /* nested.c: the huge-page level from the EPT capabilities KVM gives L1 */
  const u32 caps = (ept->pages_2m ? VMX_EPT_2MB_PAGE_BIT : 0) | (ept->pages_1g ? VMX_EPT_1GB_PAGE_BIT : 0);
  /* kvm_init_shadow_ept_mmu() */
  update_permission_bitmask(&m, true);
  m.pkru_mask = 0;
  reset_rsvds_bits_mask_ept(&v, &m, ept->exec_only, ept_caps_to_lpage_level(caps));
  glue_out(&m, out);
}

uint8_t kvmsrc_permission_fault(const struct kvmsrc_tables *t, uint64_t rflags, uint32_t pkru, unsigned pte_access,
                                unsigned pte_pkey, uint64_t access) {
  struct kvm_vcpu v;
  struct kvm_mmu m;
  memset(&v, 0, sizeof(v));
  memset(&m, 0, sizeof(m));
  v.rflags = rflags;
  v.arch.pkru = pkru;
  m.cpu_role.as_u64 = t->cpu_role;
  memcpy(m.permissions, t->permissions, sizeof(m.permissions));
  m.pkru_mask = t->pkru_mask;
  return permission_fault(&v, &m, pte_access, pte_pkey, access);
}

int kvmsrc_is_last_gpte(const struct kvmsrc_cpu *cpu, unsigned level, uint64_t gpte) {
#if defined(KVMSRC_HAVE_is_last_gpte)
  struct kvm_vcpu v;
  struct kvm_mmu m;
  glue_guest_mmu(cpu, &v, &m);
  if (m.cpu_role.base.has_4_byte_gpte) return paging32_is_last_gpte(&m, level, (unsigned)gpte);
  return paging64_is_last_gpte(&m, level, (unsigned)gpte);
#else
  (void)cpu, (void)level, (void)gpte;
  return -1;
#endif
}

int kvmsrc_is_last_ept_gpte(unsigned level, uint64_t gpte) {
#if defined(KVMSRC_HAVE_is_last_gpte)
  struct kvm_mmu m;
  memset(&m, 0, sizeof(m));
  return ept_is_last_gpte(&m, level, (unsigned)gpte);
#else
  (void)level, (void)gpte;
  return -1;
#endif
}

int64_t kvmsrc_pse36_delta(uint32_t pde) {
#if defined(KVMSRC_HAVE_pse36_gfn_delta)
  /* paging_tmpl.h, 32-bit walker: a page above 4 KBytes gets the delta when is_cpuid_PSE36() */
  return is_cpuid_PSE36() ? (int64_t)(pse36_gfn_delta(pde) << PAGE_SHIFT) : 0;
#else
  (void)pde;
  return -1;
#endif
}
