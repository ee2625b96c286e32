// The virtual CPU's control state, as the SDM names the registers. The paging
// mode is always derived from CR0/CR4/EFER (paging_mode), never stored.
//
//   mmu::CpuState cpu;
//   cpu.cr0 = cr0::PE | cr0::PG; cpu.cr4 = cr4::PAE; cpu.efer = efer::LME | efer::LMA;
//   assert(mmu::paging_mode(cpu) == mmu::PagingMode::Level4);
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "model/bits.h"

namespace mmu {

namespace cr0 {
inline constexpr u64 PE = bit(0), MP = bit(1), EM = bit(2), TS = bit(3), ET = bit(4), NE = bit(5),
                     WP = bit(16), AM = bit(18), NW = bit(29), CD = bit(30), PG = bit(31);
}
namespace cr4 {
inline constexpr u64 VME = bit(0), PVI = bit(1), TSD = bit(2), DE = bit(3), PSE = bit(4),
                     PAE = bit(5), MCE = bit(6), PGE = bit(7), PCE = bit(8), OSFXSR = bit(9),
                     OSXMMEXCPT = bit(10), UMIP = bit(11), LA57 = bit(12), VMXE = bit(13),
                     SMXE = bit(14), FSGSBASE = bit(16), PCIDE = bit(17), OSXSAVE = bit(18),
                     KL = bit(19), SMEP = bit(20), SMAP = bit(21), PKE = bit(22), CET = bit(23),
                     PKS = bit(24), UINTR = bit(25);
// Every CR4 bit this model knows; any other set bit is reserved (MOV to CR4 #GPs).
inline constexpr u64 KNOWN = bits(14, 0) | bits(25, 16);
}  // namespace cr4
namespace efer {
inline constexpr u64 SCE = bit(0), LME = bit(8), LMA = bit(10), NXE = bit(11), SVME = bit(12),
                     LMSLE = bit(13), FFXSR = bit(14), TCE = bit(15);
inline constexpr u64 KNOWN = SCE | LME | LMA | NXE | SVME | LMSLE | FFXSR | TCE;
}  // namespace efer
namespace rflags {
inline constexpr u64 FIXED1 = bit(1), AC = bit(18), VM = bit(17);
// Bits 3, 5, 15 and 63:22 are reserved and always 0.
inline constexpr u64 RESERVED = bit(3) | bit(5) | bit(15) | bits(63, 22);
}  // namespace rflags

// CPUID-reported features that change paging behaviour.
enum class Feature : unsigned {
  nx,       // CPUID.80000001H:EDX.NX — EFER.NXE and the XD bit
  pse,      // CPUID.01H:EDX.PSE — 4-MByte pages in 32-bit paging
  pse36,    // CPUID.01H:EDX.PSE-36 — physical bits above 31 in 4-MByte pages
  pdpe1gb,  // CPUID.80000001H:EDX.Page1GB — 1-GByte pages
  smep,     // CPUID.(7,0):EBX.SMEP
  smap,     // CPUID.(7,0):EBX.SMAP
  pku,      // CPUID.(7,0):ECX.PKU
  pks,      // CPUID.(7,0):ECX.PKS
  la57,     // CPUID.(7,0):ECX.LA57 — 5-level paging
  shstk,    // CPUID.(7,0):ECX.CET_SS — shadow stacks
  ibt,      // CPUID.(7,0):EDX.CET_IBT — indirect-branch tracking (CR4.CET without shadow stacks)
  count_
};
inline constexpr unsigned kFeatureCount = static_cast<unsigned>(Feature::count_);

std::string_view feature_name(Feature f);
std::optional<Feature> feature_from_name(std::string_view name);

using FeatureSet = EnumSet<Feature>;

enum class Vendor : unsigned char { intel, amd };

struct CpuState {
  u64 cr0 = cr0::PE | cr0::ET;
  u64 cr3 = 0;
  u64 cr4 = 0;
  u64 efer = 0;
  u64 rflags = rflags::FIXED1;
  unsigned cpl = 0;
  u32 pkru = 0;
  u32 pkrs = 0;  // IA32_PKRS
  unsigned maxphyaddr = 46;
  Vendor vendor = Vendor::intel;
  FeatureSet features;

  bool cr0_bit(u64 b) const { return cr0 & b; }
  bool cr4_bit(u64 b) const { return cr4 & b; }
  bool efer_bit(u64 b) const { return efer & b; }
};

// SDM vol. 3A 4.1.1, Table 4-1.
enum class PagingMode : unsigned char { none, bit32, pae, level4, level5 };

constexpr PagingMode paging_mode(const CpuState& c) {
  if (!(c.cr0 & cr0::PG)) return PagingMode::none;
  if (!(c.cr4 & cr4::PAE)) return PagingMode::bit32;
  if (!(c.efer & efer::LME)) return PagingMode::pae;
  return (c.cr4 & cr4::LA57) ? PagingMode::level5 : PagingMode::level4;
}

std::string_view mode_name(PagingMode m);

// Entries are 4 bytes in 32-bit paging and 8 bytes otherwise.
constexpr unsigned entry_bytes(PagingMode m) { return m == PagingMode::bit32 ? 4 : 8; }

}  // namespace mmu
