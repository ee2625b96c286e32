#include "model/kvm/mutants.h"

#include <vector>

namespace mmu::kvm {
namespace {

// 4f4aa80e3b88: SMAP's override computed from CPL instead of the access being
// explicit, so implicit supervisor accesses at CPL < 3 with AC = 1 skip SMAP.
class SmapIgnoresImplicit final : public MmuAlgorithm {
  bool smap_overridden(const CpuState& cpu, u64) const override {
    return cpu.cpl < 3 && (cpu.rflags & rflags::AC);
  }
};

// 7a98205d: the error code keeps I/D for fetches even when neither EFER.NX nor
// CR4.SMEP is on.
class PfecKeepsFetch final : public MmuAlgorithm {
  u64 fault_error_code(const CpuRole&, u64 errcode, u64 access) const override {
    return errcode | (access & (PFERR_WRITE | PFERR_USER | PFERR_FETCH));
  }
};

// Before 5ecad245de2a: bit 8 taken as reserved in non-leaf PDPTEs on AMD, not
// only in PML4Es/PML5Es.
class AmdBit8OnPdpe final : public MmuAlgorithm {
  void reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const override {
    MmuAlgorithm::reset_rsvds_bits_mask(role, t);
    if (role.amd && role.level >= 4) t.rsvd_bits_mask[0][2] |= bit(8);
  }
};

// Bit 7 not reserved in a PDPTE without 1-GByte page support: the walk then
// takes it as a 1-GByte leaf.
class Bit7IgnoresLargePageSupport final : public MmuAlgorithm {
  void reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const override {
    MmuAlgorithm::reset_rsvds_bits_mask(role, t);
    if (!role.gbpages) {
      t.rsvd_bits_mask[0][2] &= ~bit(7);
      t.rsvd_bits_mask[1][2] &= ~bit(7);
    }
  }
};

// The 4-MByte PDE reserved mask applied with CR4.PSE = 0, where bit 7 is
// ignored and those bits are page-table address bits.
class Pt32PseMaskWithoutPse final : public MmuAlgorithm {
  void reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const override {
    MmuAlgorithm::reset_rsvds_bits_mask(role, t);
    if (role.level == 2 && !role.cr4_pse) t.rsvd_bits_mask[1][1] = role.pse36 ? bits(21, 17) : bits(21, 13);
  }
};

// b1bd5cba3306 (CVE-2021-38198): the leaf is given the access of the last
// non-leaf level, so the leaf's own U/S, R/W and NX are lost.
class InheritedAccessFromLeafParent final : public MmuAlgorithm {
  unsigned leaf_access(unsigned parent_access, unsigned) const override { return parent_access; }
};

template <typename T>
std::function<std::unique_ptr<MmuAlgorithm>()> maker() {
  return [] { return std::make_unique<T>(); };
}

const std::vector<Mutant>& registry() {
  static const std::vector<Mutant> r{
      {"smap-ignores-implicit", "4f4aa80e3b88", "",
       "not_smap computed as CPL < 3 && AC: implicit supervisor accesses with AC = 1 skip SMAP", maker<SmapIgnoresImplicit>()},
      {"pfec-keeps-fetch", "7a98205d", "KVM: MMU: fix permission_fault()",
       "the error code keeps I/D when neither EFER.NX nor CR4.SMEP is on", maker<PfecKeepsFetch>()},
      {"amd-bit8-on-pdpe", "5ecad245de2a", "bit 8 of non-leaf PDPEs is not reserved",
       "bit 8 reserved in non-leaf PDPTEs on AMD, not only PML4Es/PML5Es", maker<AmdBit8OnPdpe>()},
      {"bit7-ignores-large-page-support", "", "",
       "PDPTE bit 7 not reserved without 1-GByte page support: taken as a 1-GByte leaf", maker<Bit7IgnoresLargePageSupport>()},
      {"pt32-pse-mask-without-pse", "", "",
       "the 4-MByte PDE reserved mask applied with CR4.PSE = 0, where PS is ignored", maker<Pt32PseMaskWithoutPse>()},
      {"inherited-access-from-leaf-parent", "b1bd5cba3306", "(CVE-2021-38198)",
       "the leaf gets the access of the last non-leaf level, losing its own U/S, R/W and NX", maker<InheritedAccessFromLeafParent>()},
  };
  return r;
}

}  // namespace

std::span<const Mutant> mutants() { return registry(); }

const Mutant* find_mutant(std::string_view name) {
  for (const Mutant& m : registry())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace mmu::kvm
