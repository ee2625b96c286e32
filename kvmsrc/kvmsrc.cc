#include "kvmsrc/kvmsrc.h"

#include <algorithm>
#include <cstring>

#include "kvmsrc/kvmsrc_config.h"  // generated: KVMSRC_* strings (kvmsrc/CMakeLists.txt)

#if MMUCHECK_KVMSRC
#include "kvmsrc/kernel_abi.h"
#endif

namespace mmu::kvmsrc {

const Status& status() {
  static const Status s{MMUCHECK_KVMSRC != 0, kVersion,  kShim,          kSource,
                        kReason,              kKernelFunctions, kFallback, kDefaultTarball};
  return s;
}

#if MMUCHECK_KVMSRC
namespace {

using kvm::CpuRole;
using kvm::EptRole;
using kvm::EptTables;
using kvm::Tables;

// The registers a role stands for: KVM computes its role (kvm_calc_cpu_role())
// from CR0, CR4 and EFER, so the kernel's role is recomputed from them.
kvmsrc_cpu cpu_of(const CpuRole& r, bool tdp) {
  kvmsrc_cpu c{};
  c.tdp = tdp;
  c.cr0 = (r.level ? cr0::PG : 0) | (r.cr0_wp ? cr0::WP : 0);
  c.cr4 = (r.cr4_pse ? cr4::PSE : 0) | (r.level >= 3 ? cr4::PAE : 0) | (r.cr4_smep ? cr4::SMEP : 0) |
          (r.cr4_smap ? cr4::SMAP : 0) | (r.cr4_pke ? cr4::PKE : 0) | (r.cr4_la57 ? cr4::LA57 : 0);
  c.efer = (r.efer_nx ? efer::NXE : 0) | (r.efer_lma ? efer::LMA : 0);
  c.maxphyaddr = r.maxphyaddr;
  c.gbpages = r.gbpages;
  c.amd = r.amd;
  return c;
}

kvmsrc_tables guest_tables(const CpuRole& r, bool tdp) {
  const kvmsrc_cpu c = cpu_of(r, tdp);
  kvmsrc_tables t;
  kvmsrc_build_guest(&c, &t);
  return t;
}

kvmsrc_tables ept_tables(const EptRole& r) {
  const kvmsrc_ept e{r.exec_only, r.pages_2m, r.pages_1g, r.maxphyaddr};
  kvmsrc_tables t;
  kvmsrc_build_ept(&e, &t);
  return t;
}

class KvmSrcAlgorithm final : public kvm::MmuAlgorithm {
 public:
  explicit KvmSrcAlgorithm(bool tdp) : tdp_(tdp) {}

  // ---- the tables: the kernel's, as struct kvm_mmu holds them ----
  void update_permission_bitmask(const CpuRole& role, Tables& t) const override {
    const kvmsrc_tables k = guest_tables(role, tdp_);
    std::copy(std::begin(k.permissions), std::end(k.permissions), t.permissions.begin());
  }
  void update_pkru_bitmask(const CpuRole& role, Tables& t) const override { t.pkru_mask = guest_tables(role, tdp_).pkru_mask; }
  void reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const override {
    const kvmsrc_tables k = guest_tables(role, tdp_);
    for (unsigned ps = 0; ps < 2; ++ps)
      for (unsigned l = 0; l < 5; ++l) t.rsvd_bits_mask[ps][l] = k.rsvd_bits_mask[ps][l];
    t.pdptr_rsvd = k.pdptr_rsvd;
  }
  void update_ept_permission_bitmask(const EptRole& role, EptTables& t) const override {
    const kvmsrc_tables k = ept_tables(role);
    std::copy(std::begin(k.permissions), std::end(k.permissions), t.permissions.begin());
  }
  void reset_ept_rsvds_bits_mask(const EptRole& role, EptTables& t) const override {
    const kvmsrc_tables k = ept_tables(role);
    for (unsigned ps = 0; ps < 2; ++ps)
      for (unsigned l = 0; l < 5; ++l) t.rsvd_bits_mask[ps][l] = k.rsvd_bits_mask[ps][l];
    t.bad_mt_xwr = k.bad_mt_xwr;
  }

  // ---- the lookups: the kernel's where extracted, else the kvm engine's ----
  bool is_last_gpte(const CpuRole& role, unsigned level, u64 gpte) const override {
    const kvmsrc_cpu c = cpu_of(role, tdp_);
    const int r = kvmsrc_is_last_gpte(&c, level, gpte);
    return r < 0 ? MmuAlgorithm::is_last_gpte(role, level, gpte) : r != 0;
  }
  bool is_last_ept_gpte(const EptRole& role, unsigned level, u64 epte) const override {
    const int r = kvmsrc_is_last_ept_gpte(level, epte);
    return r < 0 ? MmuAlgorithm::is_last_ept_gpte(role, level, epte) : r != 0;
  }
  u64 pse36_gfn_delta(const CpuRole& role, u64 pde) const override {
    const std::int64_t r = kvmsrc_pse36_delta(static_cast<std::uint32_t>(pde));
    return r < 0 ? MmuAlgorithm::pse36_gfn_delta(role, pde) : static_cast<u64>(r);
  }
  u64 permission_fault(const CpuRole&, const Tables& t, const CpuState& cpu, unsigned pte_access, unsigned pte_pkey,
                       u64 access) const override {
    kvmsrc_tables k{};
    std::copy(t.permissions.begin(), t.permissions.end(), k.permissions);
    k.pkru_mask = t.pkru_mask;
    return kvmsrc_permission_fault(&k, cpu.rflags, cpu.pkru, pte_access, pte_pkey, access);
  }
  // The EPT walk calls the same permission_fault() on the nested EPT MMU
  // (pkru_mask 0; its RSVD slot, the SMAP override, is not used by EPT tables).
  bool ept_permission_fault(const EptRole&, const EptTables& t, unsigned pte_access, u64 pfec) const override {
    kvmsrc_tables k{};
    std::copy(t.permissions.begin(), t.permissions.end(), k.permissions);
    return kvmsrc_permission_fault(&k, 0, 0, pte_access, 0, pfec & (kvm::PFERR_WRITE | kvm::PFERR_USER | kvm::PFERR_FETCH)) != 0;
  }

 private:
  bool tdp_;
};

}  // namespace

std::unique_ptr<kvm::MmuAlgorithm> make_algorithm(bool tdp) { return std::make_unique<KvmSrcAlgorithm>(tdp); }
unsigned kernel_warnings() { return kvmsrc_warnings(); }

#else

std::unique_ptr<kvm::MmuAlgorithm> make_algorithm(bool) { return nullptr; }
unsigned kernel_warnings() { return 0; }

#endif

}  // namespace mmu::kvmsrc
