#include "model/kvm/kvm314.h"

namespace mmu::kvm {
namespace {

constexpr u64 kPS = bit(7);

// rsvd_bits(s, e) in KVM's argument order: bits s..e.
constexpr u64 rsvd_bits(unsigned s, unsigned e) { return bits(e, s); }

// A PAE PDPTE's reserved bits, checked when CR3 is loaded (load_pdptrs()).
constexpr u64 pae_pdpte_rsvd_314(unsigned M) { return rsvd_bits(M, 63) | rsvd_bits(7, 8) | rsvd_bits(1, 2); }

// 3.14's rsvd_bits_mask[2][4] for a guest-paging role.
std::array<std::array<u64, 4>, 2> rsvd_bits_mask_314(const CpuRole& role) {
  std::array<std::array<u64, 4>, 2> m{};
  const unsigned M = role.maxphyaddr;
  const u64 exb = nx_314(role) ? 0 : rsvd_bits(63, 63);
  switch (role.level) {
    // 32-bit: 4-KByte PDEs and PTEs have no reserved bits. A 4-MByte PDE
    // (CR4.PSE) reserves 21:17: PSE-36 is taken as always present
    // (is_cpuid_PSE36() returns 1), whatever CPUID and MAXPHYADDR say.
    //   4-MByte PDE: 31:22 PA | 21:17 rsvd | 16:13 PA 35:32 | 12 PAT | 7 PS | ...
    case 2:
      if (role.cr4_pse) m[1][1] = rsvd_bits(17, 21);
      break;
    // PAE:
    //   PDPTE (at load): 63:M rsvd | M-1:12 PD | 8:7 rsvd | 4 PCD | 3 PWT | 2:1 rsvd | 0 P
    //                    (bits 6:5 are not checked)
    //   PDE/PTE:         63 XD (rsvd without NX) | 62:M rsvd | M-1:12 next/PA
    //   2-MByte PDE:     same | 20:13 rsvd
    case 3:
      m[0][2] = pae_pdpte_rsvd_314(M);
      m[0][1] = exb | rsvd_bits(M, 62);
      m[0][0] = exb | rsvd_bits(M, 62);
      m[1][1] = exb | rsvd_bits(M, 62) | rsvd_bits(13, 20);
      m[1][0] = m[0][0];
      break;
    // 4-level (the same for both vendors, and whatever CPUID says of 1-GByte pages):
    //   PML4E:        63 XD (rsvd without NX) | 51:M rsvd | 8:7 rsvd
    //   PDPTE:        63 XD | 51:M rsvd | 8 rsvd (7 is PS)
    //   1-GByte PDPTE: 63 XD | 51:M rsvd | 29:13 rsvd
    //   PDE/PTE:      63 XD | 51:M rsvd;  2-MByte PDE: + 20:13 rsvd
    case 4:
      m[0][3] = exb | rsvd_bits(M, 51) | rsvd_bits(7, 8);
      m[0][2] = exb | rsvd_bits(M, 51) | rsvd_bits(7, 8);
      m[0][1] = exb | rsvd_bits(M, 51);
      m[0][0] = exb | rsvd_bits(M, 51);
      m[1][3] = m[0][3];
      m[1][2] = exb | rsvd_bits(M, 51) | rsvd_bits(13, 29);
      m[1][1] = exb | rsvd_bits(M, 51) | rsvd_bits(13, 20);
      m[1][0] = m[0][0];
      break;
    default:  // paging off; 3.14 has no 5-level paging
      break;
  }
  return m;
}

}  // namespace

bool nx_314(const CpuRole& role) { return role.efer_nx && role.level >= 3; }

// Truth table (SDM 4.6 as 3.14 encoded it), worked out per pte_access value
// i = (U, W, X) for each pfec (W, U, F; the RSVD slot is ignored):
//   x = X or not nx                          (no NX: nothing is non-executable)
//   w = W or (not CR0.WP and not pfec.U)     (supervisor writes ignore R/W when WP = 0)
//   x = x and not (SMEP and U and not pfec.U) (SMEP: no supervisor fetch from a user page)
//   u = U                                    (EPT: always 1, reads are not checked)
//   fault = (pfec.F and not x) or (pfec.U and not u) or (pfec.W and not w)
std::array<std::uint8_t, 16> permissions_314(const CpuRole& role, bool ept) {
  const bool nx = ept || nx_314(role);  // the nested EPT MMU has nx = true
  std::array<std::uint8_t, 16> out{};
  for (unsigned byte = 0; byte < out.size(); ++byte) {
    const u64 pfec = u64{byte} << 1;
    const bool wf = pfec & PFERR_WRITE, uf = pfec & PFERR_USER, ff = pfec & PFERR_FETCH;
    std::uint8_t map = 0;
    for (unsigned acc = 0; acc < 8; ++acc) {
      bool x = acc & ACC_EXEC, w = acc & ACC_WRITE, u = acc & ACC_USER;
      if (!ept) {
        x = x || !nx;
        w = w || (!role.cr0_wp && !uf);
        x = x && !(role.cr4_smep && u && !uf);
      } else {
        u = true;
      }
      const bool fault = (ff && !x) || (uf && !u) || (wf && !w);
      map |= static_cast<std::uint8_t>(fault ? 1u << acc : 0u);
    }
    out[byte] = map;
  }
  return out;
}

// Truth table: index = (level - 1) | (PS << 2), one bit per (level, PS):
//   PS = 0: level 1 ends the walk, levels 2..4 do not      -> bit 0
//   PS = 1: level 1 ends the walk (bit 7 is PAT there)      -> bit 4
//           level 2 ends it with PAE/4-level, or CR4.PSE    -> bit 5
//           level 3 ends it in 4-level paging (a 1-GByte page, whether or
//           not CPUID reports 1-GByte pages)                -> bit 6
//           level 4 never (bit 7 is reserved there)         -> bit 7 clear
// The PAE PDPTE level is not walked here: the walk starts at the PDE.
std::uint8_t last_pte_bitmap_314(const CpuRole& role) {
  constexpr unsigned ps_set_index = 1u << 2;
  unsigned root_level = role.level;
  if (root_level == 3) --root_level;
  unsigned map = 1u | (1u << ps_set_index);
  for (unsigned level = 2; level <= root_level; ++level)
    if (level <= 3 && (role.level >= 3 || role.cr4_pse)) map |= 1u << (ps_set_index | (level - 1));
  return static_cast<std::uint8_t>(map);
}

Tables314 Kvm314Algorithm::tables(const CpuRole& role) const {
  Tables314 t;
  t.permissions = permissions_314(role, /*ept=*/false);
  t.rsvd_bits_mask = rsvd_bits_mask_314(role);
  t.last_pte_bitmap = last_pte_bitmap_314(role);
  return t;
}

void Kvm314Algorithm::update_permission_bitmask(const CpuRole& role, Tables& t) const {
  t.permissions = permissions_314(role, /*ept=*/false);
}

// 3.14 has no protection keys: the mask is always empty.
void Kvm314Algorithm::update_pkru_bitmask(const CpuRole&, Tables& t) const { t.pkru_mask = 0; }

// The 3.14 masks in the mainline layout ([bit 7][level - 1], level 5 empty);
// the PAE PDPTE mask checked at CR3 load is rsvd_bits_mask[0][2].
void Kvm314Algorithm::reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const {
  const auto m = rsvd_bits_mask_314(role);
  t.rsvd_bits_mask = {};
  for (unsigned ps = 0; ps < 2; ++ps)
    for (unsigned level = 0; level < 4; ++level) t.rsvd_bits_mask[ps][level] = m[ps][level];
  t.pdptr_rsvd = pae_pdpte_rsvd_314(role.maxphyaddr);
}

// 3.14 decides through last_pte_bitmap, computed from the role (the role
// fixes it, as update_last_pte_bitmap() fixed it when the MMU was reset).
bool Kvm314Algorithm::is_last_gpte(const CpuRole& role, unsigned level, u64 gpte) const {
  const unsigned index = (level - 1) | ((gpte & kPS) ? 4u : 0u);
  return (last_pte_bitmap_314(role) >> index) & 1;
}

// permission_fault(mmu, pte_access, pfec): one table lookup, no SMAP
// override, no protection keys. The fault's error code starts as P.
u64 Kvm314Algorithm::permission_fault(const CpuRole&, const Tables& t, const CpuState&, unsigned pte_access, unsigned,
                                      u64 access) const {
  const u64 pfec = access & (PFERR_WRITE | PFERR_USER | PFERR_FETCH);
  return ((t.permissions[pfec >> 1] >> pte_access) & 1) ? PFERR_PRESENT : 0;
}

// The walker's error path: W and U from the access; I/D only when mmu->nx
// (so never in 32-bit paging) or CR4.SMEP.
u64 Kvm314Algorithm::fault_error_code(const CpuRole& role, u64 errcode, u64 access) const {
  errcode |= access & (PFERR_WRITE | PFERR_USER);
  if ((access & PFERR_FETCH) && (nx_314(role) || role.cr4_smep)) errcode |= PFERR_FETCH;
  return errcode;
}

}  // namespace mmu::kvm
