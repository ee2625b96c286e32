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
  };
  return r;
}

}  // namespace

std::span<const KnownDivergence> known_divergences() { return registry(); }

bool is_kvm_family(std::string_view engine) {
  return engine == "kvm" || engine == "kvm-3.14" || engine.starts_with("kvm:");
}

const KnownDivergence* known_divergence(std::string_view a, std::string_view b, const mmu::Case& c,
                                        const mmu::Verdict& va, const mmu::Verdict& vb) {
  const mmu::Verdict* ref = nullptr;
  const mmu::Outcome* kvm = nullptr;
  if (a == "ref" && is_kvm_family(b)) ref = &va, kvm = &vb.outcome;
  else if (b == "ref" && is_kvm_family(a)) ref = &vb, kvm = &va.outcome;
  else return nullptr;
  for (const KnownDivergence& k : registry())
    if (k.explains(c, *ref, *kvm)) return &k;
  return nullptr;
}

}  // namespace mmucheck
