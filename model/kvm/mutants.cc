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

// 829ee279aed4 fixed the last-level test so that level 1 always ends a walk.
// Before it, the nested EPT MMU's test masked PS with a last-level value left
// at 0 *after* forcing level 1 to terminate, which undid the forcing: the walk
// took level-1 entries (and large pages) as tables and read one entry below
// level 1 (address bits 11:3 index it).
class WalkBelowLevel1 final : public MmuAlgorithm {
  bool is_last_ept_gpte(const EptRole&, unsigned level, u64 epte) const override {
    constexpr unsigned stale_last_nonleaf_level = 0;
    u64 g = epte;
    g |= u64{level} - 1 - 1;              // level 1: every bit set
    g &= u64{level} - stale_last_nonleaf_level;  // ... then masked to the level number: bit 7 clear
    return g & bit(7);
  }
};

// fd19d3b45164 (CVE-2017-12188): the nested EPT MMU's last_nonleaf_level was
// never set, so it stayed 0 and PS was masked off at every level: EPT large
// pages were walked as if they pointed to a table. Level 1 still terminated.
class StaleLastNonleafNestedEpt final : public MmuAlgorithm {
  bool is_last_ept_gpte(const EptRole&, unsigned level, u64 epte) const override {
    constexpr unsigned stale_last_nonleaf_level = 0;
    u64 g = epte;
    g &= u64{level} - stale_last_nonleaf_level;
    g |= u64{level} - 1 - 1;
    return g & bit(7);
  }
};

// 0be0226f07d1: with CR0.WP = 0, KVM lets a supervisor write through a
// read-only user page by mapping it supervisor-writable; the role did not
// record SMAP for that case, so contexts built before CR4.SMAP was set were
// reused after it. Our rendering: a change of CR4.SMAP alone, with CR0.WP = 0
// before and after, keeps the old context.
class SmapAndnotWpRole final : public MmuAlgorithm {
  bool needs_reset(const CpuRole& built_for, const CpuRole& now) const override {
    CpuRole same = now;
    same.cr4_smap = built_for.cr4_smap;
    if (same == built_for && !built_for.cr0_wp && !now.cr0_wp) return false;
    return MmuAlgorithm::needs_reset(built_for, now);
  }
};

// 8d214c481611: a guest write to CR4 that toggled only SMAP or PKE did not
// reset the MMU context, so permissions and pkru_mask kept the old values.
class NoResetOnSmapPke final : public MmuAlgorithm {
  bool needs_reset(const CpuRole& built_for, const CpuRole& now) const override {
    CpuRole same = now;
    same.cr4_smap = built_for.cr4_smap;
    same.cr4_pke = built_for.cr4_pke;
    if (same == built_for) return false;
    return MmuAlgorithm::needs_reset(built_for, now);
  }
};

// cf9f4c0eb169: toggling CR0.WP did not refresh the context (an optimisation
// for TDP), so emulated permission checks used the previous CR0.WP.
class StaleCr0Wp final : public MmuAlgorithm {
  bool needs_reset(const CpuRole& built_for, const CpuRole& now) const override {
    CpuRole same = now;
    same.cr0_wp = built_for.cr0_wp;
    if (same == built_for) return false;
    return MmuAlgorithm::needs_reset(built_for, now);
  }
};

// 0780516a18f8: the EPT-violation qualification's bits 5:3 were filled from
// the walk's ACC value (X = 1, W = 2, R in the U slot = 4) instead of the raw
// R/W/X bits, so "readable" and "executable" were swapped.
class EptQualAccOrder final : public MmuAlgorithm {
  u64 ept_qualification_rights(const EptRole&, u64 raw_rights) const override {
    const unsigned acc = ((raw_rights & bit(1)) ? ACC_WRITE : 0) | ((raw_rights & bit(2)) ? ACC_EXEC : 0) |
                         ((raw_rights & bit(0)) ? ACC_USER : 0);
    return u64{acc} << 3;
  }
};

// 112022bdb5bc: bit 63 taken as reserved in shadow entries because the guest
// has NX off. Our rendering, on the one walker here that has a bit 63 that is
// never reserved: the nested EPT MMU's masks built as if NX were off, so an
// EPT entry with bit 63 (suppress #VE) set is a misconfiguration.
class ShadowNxFromGuest final : public MmuAlgorithm {
  void reset_ept_rsvds_bits_mask(const EptRole& role, EptTables& t) const override {
    MmuAlgorithm::reset_ept_rsvds_bits_mask(role, t);
    for (auto& by_level : t.rsvd_bits_mask)
      for (u64& m : by_level) m |= bit(63);
  }
};

// d95c55687e11: the EPT permission table ignored readability (the U slot
// forced on), so reads of execute-only pages did not fault.
class EptReadNotTracked final : public MmuAlgorithm {
  void update_ept_permission_bitmask(const EptRole& role, EptTables& t) const override {
    MmuAlgorithm::update_ept_permission_bitmask(role, t);
    for (std::uint8_t& b : t.permissions) b = with_read_granted(b);
  }
  // Fault for ACC value i exactly when the access would fault with R granted too.
  static std::uint8_t with_read_granted(std::uint8_t b) {
    std::uint8_t out = 0;
    for (unsigned acc = 0; acc < 8; ++acc)
      if ((b >> (acc | ACC_USER)) & 1) out |= static_cast<std::uint8_t>(1u << acc);
    return out;
  }
};

// An execute-only parent over a leaf changed from R to X gave a shadow entry
// with no rights that KVM still took as present. Our rendering: a walk whose
// combined rights are R = W = X = 0 is not checked at all.
class EptRwx0Present final : public MmuAlgorithm {
  bool ept_permission_fault(const EptRole& role, const EptTables& t, unsigned pte_access, u64 pfec) const override {
    if (pte_access == 0) return false;
    return MmuAlgorithm::ept_permission_fault(role, t, pte_access, pfec);
  }
};

// The error code FNAME(page_fault) gets from the processor was passed on
// without clearing RSVD, which KVM's MMIO shadow entries make the processor
// set; in the permissions index that slot means "SMAP overridden". Our cases
// do not say which pages KVM shadows as MMIO, so this rendering takes the worst
// case: every access arrives with RSVD, and SMAP never applies.
class RsvdPfecDisablesSmap final : public MmuAlgorithm {
  bool smap_overridden(const CpuState&, u64) const override { return true; }
};

// MBEC as a 2025 patch series proposed it: XU versus X chosen by CPL > 0
// instead of by the page's U/S (whether the linear address is user-mode).
class MbecXuByCpl final : public MmuAlgorithm {
  bool ept_fetch_checks_xu(const EptRole& role, const EptRequest&, const CpuState& guest) const override {
    return role.mbec && guest.cpl > 0;
  }
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
      {"stale-last-nonleaf-nested-ept", "fd19d3b45164", "KVM: nVMX: update last_nonleaf_level when initializing nested EPT",
       "(CVE-2017-12188) the nested EPT MMU's last-level value left 0: EPT large pages walked as tables",
       maker<StaleLastNonleafNestedEpt>()},
      {"walk-below-level-1", "829ee279aed4", "KVM: MMU: always terminate page walks at level 1",
       "level 1 forced to terminate before a stale last-level mask undid it: EPT walks read one entry below level 1",
       maker<WalkBelowLevel1>()},
      {"smap-andnot-wp-role", "0be0226f07d1", "KVM: MMU: fix SMAP virtualization",
       "with CR0.WP = 0 the context built before CR4.SMAP was set is reused after it (needs history)",
       maker<SmapAndnotWpRole>()},
      {"no-reset-on-smap-pke", "8d214c481611", "",
       "a CR4 write that toggles only SMAP or PKE keeps the old permissions and pkru_mask (needs history)",
       maker<NoResetOnSmapPke>()},
      {"stale-cr0-wp", "cf9f4c0eb169", "",
       "a CR0.WP toggle keeps the old context: permission checks use the previous CR0.WP (needs history)",
       maker<StaleCr0Wp>()},
      {"ept-qual-acc-order", "0780516a18f8", "",
       "EPT-violation qualification bits 5:3 from the ACC value, not raw R/W/X: readable and executable swapped",
       maker<EptQualAccOrder>()},
      {"shadow-nx-from-guest", "112022bdb5bc", "",
       "bit 63 reserved as if NX were off; rendered on L1's EPT, where bit 63 (suppress #VE) is never reserved",
       maker<ShadowNxFromGuest>()},
      {"ept-read-not-tracked", "d95c55687e11", "",
       "EPT readability never checked: reads of execute-only pages succeed", maker<EptReadNotTracked>()},
      {"ept-rwx0-present", "", "",
       "a walk whose combined EPT rights are R = W = X = 0 is taken as present and not checked",
       maker<EptRwx0Present>()},
      {"rsvd-pfec-disables-smap", "", "",
       "the incoming error code's RSVD bit lands in the SMAP-override slot (worst case: every access)",
       maker<RsvdPfecDisablesSmap>()},
      {"pse36-fixed-bits", "", "",
       "4-MByte PDE reserved bits fixed at 17..21 whatever MAXPHYADDR: mainline's own behaviour, a known finding",
       maker<MmuAlgorithm>()},
      {"mbec-xu-by-cpl", "", "(2025 MBEC patch series)",
       "MBEC: XU or X chosen by CPL > 0 instead of the page's U/S", maker<MbecXuByCpl>()},
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
