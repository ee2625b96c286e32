// Internal to replay/: exhaust spaces defined in their own files, for
// exhaust.cc's registry (exhaust_spaces()) and for tests.
//
//   const mmucheck::ExhaustSpace s = mmucheck::access_c::space();
//   mmu::Case c;
//   if (s.make(i, c)) { /* point i is a legal access.c combination */ }
#pragma once
#include <string>

#include "model/bits.h"
#include "replay/exhaust.h"

namespace mmucheck::access_c {

// The test flags of kvm-unit-tests' x86/access.c, in its bit order (the flag
// word access.c counts through is a bit set of these).
enum Flag : unsigned {
  pte_writable, pte_user, pte_accessed, pte_dirty, pte_nx, pte_present, pte_bit51, pte_bit36,
  pde_writable, pde_user, pde_accessed, pde_dirty, pde_pse, pde_nx, pde_present, pde_bit51, pde_bit36, pde_bit13,
  pdpte_read_only,
  pkru_ad, pkru_wd, pte_pkey,
  access_user, access_write, access_fetch, access_twice,
  efer_nx, cr0_wp, cr4_smep, cr4_pke,
  forced_emulation,
  flag_count  // 31
};

constexpr mmu::u32 mask(Flag f) { return mmu::u32{1} << f; }

// The flags a point index enumerates: all but the three access.c masks out on
// the host modelled here (MAXPHYADDR 46: bit 36 is an address bit, so neither
// bit-36 flag is a reserved-bit test; no forced emulation, which only chooses
// KVM's emulator over the CPU for the same walk). Index bit k is the k-th of
// the remaining 28 flags, in order, so indices count through flag words in
// access.c's order.
constexpr mmu::u32 kMaskedFlags = mask(pte_bit36) | mask(pde_bit36) | mask(forced_emulation);
constexpr unsigned kIndexBits = flag_count - 3;

// The flag word of point `index` (< 2^kIndexBits).
constexpr mmu::u32 flags_of(mmu::u64 index) {
  // Deposit the 28 index bits around the three masked flag bits (7, 16, 30).
  const auto i = static_cast<mmu::u32>(index);
  return (i & 0x7f) | ((i >> 7) & 0xff) << 8 | ((i >> 15) & 0x1fff) << 17;
}

// access.c's legality rules (ac_test_legal); today's access.c skips every
// CR4.SMEP combination, the earlier one (`smep_tested`) did not.
constexpr bool legal(mmu::u32 flags, bool smep_tested = false) {
  auto has = [flags](Flag f) { return (flags & mask(f)) != 0; };
  // Today's access.c runs no CR4.SMEP combination at all.
  if (!smep_tested && has(cr4_smep)) return false;
  // An access is a read, a write or a fetch.
  if (has(access_fetch) && has(access_write)) return false;
  // With SMEP on, the test's own code is made supervisor-only: no user mode.
  if (has(access_user) && has(cr4_smep)) return false;
  // PKRU's AD/WD for the page's key are only varied when CR4.PKE = 1.
  if (!has(cr4_pke) && (has(pkru_ad) || has(pkru_wd))) return false;
  // Bit 13 is a reserved-bit test for 2-MByte PDEs only.
  if (!has(pde_pse) && has(pde_bit13)) return false;
  // At most one reserved bit per point; XD counts as one when EFER.NXE = 0.
  mmu::u32 reserved = mask(pde_bit51) | mask(pde_bit36) | mask(pde_bit13) | mask(pte_bit51) | mask(pte_bit36);
  if (!has(efer_nx)) reserved |= mask(pde_nx) | mask(pte_nx);
  reserved &= flags;
  return (reserved & (reserved - 1)) == 0;
}
static_assert(!legal(mask(access_fetch) | mask(access_write)) && legal(mask(access_fetch) | mask(efer_nx)));
// Writes the case access.c sets up for `flags` (legal or not) into `c`,
// reusing c's memory when it already holds this layout.
void build(mmu::u32 flags, mmu::Case& c);
// Names of the set flags, access.c's spelling ("pte.p pde.p write ...").
std::string describe(mmu::u32 flags);

// The linear address and physical layout (see docs/cli.md, access-c).
inline constexpr mmu::u64 kLinear = 0xffff'9234'0000'0000;
inline constexpr mmu::u64 kDataPage = 32u << 20, kPdpt = 33u << 20, kPd = kPdpt + 0x1000, kPt = kPdpt + 0x2000;
inline constexpr mmu::u64 kRoot = 0x1000;

ExhaustSpace space();       // "access-c": today's access.c (CR4.SMEP combinations illegal)
ExhaustSpace space_smep();  // "access-c-smep": the same with the SMEP combinations access.c used to run

}  // namespace mmucheck::access_c
