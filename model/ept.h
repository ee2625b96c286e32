// Intel EPT (SDM vol. 3C ch. 29 "VMX Support for Address Translation", and
// Table 28-7 for exit qualifications): the EPTP, the capabilities and controls
// a case runs with, and the translation of one guest-physical address.
//
//   mmu::EptState ept;
//   ept.eptp = 0x5000 | mmu::eptp::WB | mmu::eptp::WALK4;
//   ept.features.add(mmu::EptFeature::exec_only);
//   ept.memory.set(0x5000, 0x6007);   // host-physical address -> EPT entry
#pragma once
#include <optional>
#include <string_view>

#include "model/memory.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace mmu {

// EPT capabilities (IA32_VMX_EPT_VPID_CAP) and the controls that use them.
enum class EptFeature : unsigned {
  exec_only,  // cap bit 0: execute-only translations (XWR = 100) are allowed
  ad,         // cap bit 21: accessed and dirty flags (enabled per EPTP bit 6)
  mbec,       // secondary control "mode-based execute control for EPT": bit 10 (XU) is user execute
  pages_2m,   // cap bit 16: 2-MByte EPT pages
  pages_1g,   // cap bit 17: 1-GByte EPT pages
  level5,     // cap bit 7: 5-level EPT (EPTP walk length 5)
  advinfo,    // cap bit 22: advanced VM-exit information for EPT violations (qualification bits 9-11)
  count_
};
inline constexpr unsigned kEptFeatureCount = static_cast<unsigned>(EptFeature::count_);
std::string_view ept_feature_name(EptFeature f);
std::optional<EptFeature> ept_feature_from_name(std::string_view name);

using EptFeatureSet = EnumSet<EptFeature>;

// EPTP (SDM vol. 3C, "Extended-Page-Table Pointer (EPTP)"):
//   M-1:12 PML4/PML5 table | 11:8 rsvd | 7 supervisor shadow-stack control | 6 A/D enable
//   5:3 page-walk length - 1 | 2:0 memory type (0 UC, 6 WB)
namespace eptp {
inline constexpr u64 UC = 0, WB = 6, WALK4 = u64{3} << 3, WALK5 = u64{4} << 3, AD = bit(6), SSS = bit(7);
}

struct EptState {
  u64 eptp = 0;
  EptFeatureSet features;
  PhysMemory memory;  // host-physical address -> EPT entry (8 bytes)

  bool ad_enabled() const { return eptp & eptp::AD; }
  unsigned levels() const { return static_cast<unsigned>(field(eptp, 5, 3)) + 1; }
};

// One guest-physical access to translate.
struct EptRequest {
  u64 gpa = 0;
  bool read = false, write = false, fetch = false;
  bool user_linear = false;        // MBEC: the linear address is a user-mode address (guest U/S)
  bool shadow_stack = false;
  bool gla_valid = true;           // false for PAE PDPTE loads
  bool translated = true;          // the final access (true) or a guest paging-structure access (false)
  bool read_dont_care = false;     // qualification bit 0 implementation-specific (A/D read-modify-write)
  u64 linear_info = 0;             // qualification bits 11:9 (advanced information), when they apply
  bool linear_info_defined = false;
  u64 gla = 0;
};

struct EptResult {
  OutcomeKind kind = OutcomeKind::ok;  // ok, ept_violation or ept_misconfig
  u64 hpa = 0;
  u64 page_size = 0;
  u64 qualification = 0;
  u64 dont_care = 0;
  Rule rule = Rule::none;
};

// Translates r.gpa through `ept`. EPT entries already updated in `writes` are
// read with their update. A/D updates the translation makes are merged into
// `writes` (space ept); on a failed translation the A updates it would have
// made are merged into `optional` instead. `trace` may be null.
EptResult ept_translate(const EptState& ept, unsigned maxphyaddr, const EptRequest& r, WriteList& writes,
                        WriteList& optional, Trace* trace);

// Adds w to `list`, or ORs its value into an existing write to the same place.
void merge_write(WriteList& list, const Write& w);
// The latest value `list` holds for (space, addr), if any.
std::optional<u64> written_value(const WriteList& list, Space space, u64 addr);

}  // namespace mmu
