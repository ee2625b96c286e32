#include "replay/known.h"

#include <algorithm>
#include <vector>

namespace mmucheck {
namespace {

using mmu::u64;

// The 4-MByte PDE a 32-bit walk of `c` uses, if it has one.
bool four_mbyte_pde(const mmu::Case& c, u64& pde) {
  if (mmu::paging_mode(c.cpu) != mmu::PagingMode::bit32 || !(c.cpu.cr4 & mmu::cr4::PSE)) return false;
  pde = c.memory.read((c.cpu.cr3 & mmu::bits(31, 12)) + mmu::field(c.access.addr, 31, 22) * 4);
  return (pde & mmu::bit(0)) && (pde & mmu::bit(7));
}

// The entries a 4-level walk of `c` reads, top first, up to the first that is
// not present or has PS = 1.
std::vector<u64> level4_entries(const mmu::Case& c) {
  std::vector<u64> out;
  if (mmu::paging_mode(c.cpu) != mmu::PagingMode::level4) return out;
  u64 table = c.cpu.cr3 & mmu::bits(51, 12);
  for (unsigned level = 4; level >= 1; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    out.push_back(c.memory.read(table + 8 * mmu::field(c.access.addr, shift + 8, shift)));
    if (!(out.back() & mmu::bit(0)) || (level > 1 && (out.back() & mmu::bit(7)))) break;
    table = out.back() & mmu::bits(51, 12);
  }
  return out;
}

// Whether the EPT walk of guest-physical `gpa` meets a present EPT PDE (any of
// R, W, X; or XU under MBEC) with bit 7 set (a 2-MByte leaf), before any other
// leaf or non-present entry.
bool ept_walk_meets_2m_leaf(const mmu::EptState& ept, u64 gpa) {
  u64 table = ept.eptp & mmu::bits(51, 12);
  for (unsigned level = ept.levels(); level >= 2; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    const u64 e = ept.memory.read(table + 8 * mmu::field(gpa, shift + 8, shift));
    const bool present = (e & mmu::bits(2, 0)) || (ept.features.has(mmu::EptFeature::mbec) && (e & mmu::bit(10)));
    if (!present) return false;
    if (e & mmu::bit(7)) return level == 2;
    table = e & mmu::bits(51, 12);
  }
  return false;
}

// Whether `pred` holds for an outcome `v` allows: its own or an alternative's.
template <class Pred>
bool any_allowed(const mmu::Verdict& v, const Pred& pred) {
  if (pred(v.outcome)) return true;
  return std::any_of(v.alternatives.begin(), v.alternatives.end(),
                     [&](const mmu::Verdict& a) { return any_allowed(a, pred); });
}

// The PDPTE a 4- or 5-level walk of `c` reads, if it gets there.
bool long_mode_pdpte(const mmu::Case& c, u64& pdpte) {
  const auto mode = mmu::paging_mode(c.cpu);
  if (mode != mmu::PagingMode::level4 && mode != mmu::PagingMode::level5) return false;
  u64 table = c.cpu.cr3 & mmu::bits(51, 12);
  for (unsigned level = mode == mmu::PagingMode::level5 ? 5 : 4; level >= 3; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    const u64 e = c.memory.read(table + 8 * mmu::field(c.access.addr, shift + 8, shift));
    if (!(e & mmu::bit(0))) return false;
    if (level == 3) {
      pdpte = e;
      return true;
    }
    table = e & mmu::bits(51, 12);
  }
  return false;
}

bool is_rsvd_fault(const mmu::Outcome& o) {
  return o.kind == mmu::OutcomeKind::page_fault && (o.error_code & mmu::pferr::RSVD);
}

const std::vector<KnownDivergence>& registry() {
  static const std::vector<KnownDivergence> r{
      {"pse36-fixed-bits",
       "KVM takes bits 21:17 of a 4-MByte PDE as reserved and bits 16:13 as physical-address bits 35:32 whenever "
       "CPUID reports PSE-36; the SDM ties both to MAXPHYADDR (bits 20:13 hold PA (M-1):32, M at most 40, and "
       "bits 21:(M-19) are reserved)",
       "SDM vol. 3A 4.3 and Table 4-4; KVM mmu.c __reset_rsvds_bits_mask (the 32-bit case), paging_tmpl.h "
       "pse36_gfn_delta",
       [](const mmu::Case& c, const mmu::Verdict&, const mmu::Outcome&) {
         u64 pde;
         if (!four_mbyte_pde(c, pde)) return false;
         const unsigned m = c.cpu.features.has(mmu::Feature::pse36) ? std::min(c.cpu.maxphyaddr, 40u) : 32;
         return (pde & (mmu::bits(21, 17) ^ mmu::bits(21, m - 19))) != 0;
       }},
      {"id-in-32bit-paging",
       "KVM reports I/D for a faulting fetch whenever EFER.NXE = 1 or CR4.SMEP = 1; in 32-bit paging the SDM "
       "sets it only with CR4.SMEP = 1 (EFER.NXE has no effect there)",
       "SDM vol. 3A 4.7 (I/D flag); KVM paging_tmpl.h FNAME(walk_addr_generic) error path (is_efer_nx)",
       [](const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm) {
         return mmu::paging_mode(c.cpu) == mmu::PagingMode::bit32 && c.access.kind == mmu::AccessKind::fetch &&
                (c.cpu.efer & mmu::efer::NXE) && !(c.cpu.cr4 & mmu::cr4::SMEP) &&
                ref.outcome.kind == mmu::OutcomeKind::page_fault && kvm.kind == mmu::OutcomeKind::page_fault &&
                kvm.error_code == (ref.outcome.error_code | mmu::pferr::ID);
       }},
      // ---- KVM's own code, as the kvm-src engine compiles it (docs/kvm-src.md) ----
      {"ept-1g-cap-allows-2m-pages",
       "KVM's nested EPT MMU keeps one huge-page level, taken from L1's EPT capabilities as 1 GByte whenever the "
       "1-GByte bit is set; with 1-GByte pages reported but 2-MByte pages not, an EPT PDE with bit 7 = 1 maps a "
       "2-MByte page where the SDM makes it an EPT misconfiguration (a VMM can report such capabilities by "
       "restoring IA32_VMX_EPT_VPID_CAP)",
       "SDM vol. 3C 29.3.3.1; KVM 6.1 vmx/capabilities.h ept_caps_to_lpage_level, mmu.c "
       "__reset_rsvds_bits_mask_ept (huge_page_level), vmx/nested.c vmx_restore_vmx_ept_vpid_cap",
       [](const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm) {
         if (!c.ept || !c.ept->features.has(mmu::EptFeature::pages_1g) || c.ept->features.has(mmu::EptFeature::pages_2m))
           return false;
         // One of the outcomes the reference allows is that misconfiguration
         // (where the SDM leaves the order open, e.g. a guest A/D update's
         // EPT violation first, it is an alternative). KVM walks on through
         // the 2-MByte leaf, so whatever it meets later (in a nested walk
         // possibly another misconfiguration, at another guest-physical
         // address) follows from the same finding.
         return any_allowed(ref, [&](const mmu::Outcome& o) {
           return o.kind == mmu::OutcomeKind::ept_misconfig &&
                  !(kvm.kind == mmu::OutcomeKind::ept_misconfig && kvm.gpa == o.gpa) &&
                  ept_walk_meets_2m_leaf(*c.ept, o.gpa);
         });
       }},
      {"1g-page-without-cpuid-support",
       "With TDP, KVM takes 1-GByte page support from the host, not from the guest's CPUID "
       "(guest_can_use_gbpages(), deliberately: the hardware walker does the same), so on a host with 1-GByte "
       "pages a PDPTE with PS = 1 maps a 1-GByte page for a guest whose CPUID lacks them; the SDM makes PS "
       "reserved there",
       "SDM vol. 3A 4.5, Table 4-17 note; KVM 6.1 mmu.c guest_can_use_gbpages, reset_guest_rsvds_bits_mask",
       [](const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm) {
         if (c.cpu.features.has(mmu::Feature::pdpe1gb) || !is_rsvd_fault(ref.outcome) || is_rsvd_fault(kvm))
           return false;
         u64 pdpte;
         return long_mode_pdpte(c, pdpte) && (pdpte & mmu::bit(7));
       },
       "kvm-src-tdp"},
      // ---- Linux 3.14 (docs/kvm.md, "The 3.14 form") ----
      {"nonleaf-bit8-every-vendor",
       "KVM 3.14 takes bit 8 of every PML4E and of every non-leaf PDPTE as reserved, for both vendors; the SDM "
       "ignores it on Intel, and AMD reserves it in PML4Es only",
       "SDM vol. 3A 4.5, Tables 4-15 and 4-17; AMD APM vol. 2 5.3; KVM 3.14 mmu.c reset_rsvds_bits_mask "
       "(rsvd_bits(7, 8) at PT64_ROOT_LEVEL), changed by a0c0feb57992 and 5ecad245de2a",
       [](const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm) {
         if (!is_rsvd_fault(kvm) || is_rsvd_fault(ref.outcome)) return false;
         const auto e = level4_entries(c);
         return (!e.empty() && (e[0] & mmu::bit(8))) ||
                (e.size() > 1 && !(e[1] & mmu::bit(7)) && (e[1] & mmu::bit(8)));
       },
       "kvm-3.14"},
      {"1g-page-without-cpuid-support",
       "KVM 3.14 maps a 1-GByte page for a PDPTE with PS = 1 even when CPUID does not report 1-GByte pages; the "
       "SDM makes PS reserved there",
       "SDM vol. 3A 4.5, Table 4-17 note; KVM 3.14 mmu.c reset_rsvds_bits_mask (no gbpages check) and "
       "update_last_pte_bitmap (PDPTE PS ends the walk in 4-level paging)",
       // KVM's outcome is that of the 1-GByte page: ok, or a fault its rights
       // decide (fuzz_kvm314 found a write through a read-only PML4E: #PF
       // P|W where the SDM gives P|W|RSVD) -- anything but a reserved-bit fault.
       [](const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm) {
         if (c.cpu.features.has(mmu::Feature::pdpe1gb) || !is_rsvd_fault(ref.outcome) || is_rsvd_fault(kvm))
           return false;
         const auto e = level4_entries(c);
         return e.size() > 1 && (e[1] & mmu::bit(7));
       },
       "kvm-3.14"},
      {"pae-pdpte-bits-6-5-unchecked",
       "KVM 3.14 checks PAE PDPTE bits 63:M, 8:7 and 2:1 at CR3 load; the SDM also reserves bits 6:5, so KVM "
       "loads a PDPTE the processor refuses with #GP",
       "SDM vol. 3A 4.4.1, Table 4-8; KVM 3.14 mmu.c reset_rsvds_bits_mask (PT32E_ROOT_LEVEL, rsvd_bits(7, 8)) "
       "and x86.c load_pdptrs",
       [](const mmu::Case& c, const mmu::Verdict& ref, const mmu::Outcome& kvm) {
         if (mmu::paging_mode(c.cpu) != mmu::PagingMode::pae ||
             ref.outcome.kind != mmu::OutcomeKind::general_protection ||
             ref.outcome.gp_reason != mmu::GpReason::pdpte_reserved ||
             kvm.kind == mmu::OutcomeKind::general_protection)
           return false;
         for (unsigned i = 0; i < 4; ++i) {
           const u64 pdpte = c.memory.read((c.cpu.cr3 & mmu::bits(31, 5)) + 8 * i);
           if ((pdpte & mmu::bit(0)) && (pdpte & mmu::bits(6, 5))) return true;
         }
         return false;
       },
       "kvm-3.14"},
  };
  return r;
}

}  // namespace

std::span<const KnownDivergence> known_divergences() { return registry(); }

bool is_kvm_family(std::string_view engine) {
  return engine == "kvm" || engine == "kvm-3.14" || engine == "kvm-src" || engine == "kvm-src-tdp" ||
         engine.starts_with("kvm:");
}

const KnownDivergence* known_divergence(std::string_view a, std::string_view b, const mmu::Case& c,
                                        const mmu::Verdict& va, const mmu::Verdict& vb) {
  const mmu::Verdict* ref = nullptr;
  const mmu::Outcome* kvm = nullptr;
  std::string_view engine;
  if (a == "ref" && is_kvm_family(b)) ref = &va, kvm = &vb.outcome, engine = b;
  else if (b == "ref" && is_kvm_family(a)) ref = &vb, kvm = &va.outcome, engine = a;
  else return nullptr;
  for (const KnownDivergence& k : registry())
    if ((k.engine.empty() || engine.starts_with(k.engine)) && k.explains(c, *ref, *kvm)) return &k;
  return nullptr;
}

}  // namespace mmucheck
