#include "model/rules.h"

#include <array>

namespace mmu {
namespace {

using R = Rule;
// Section numbers follow the Intel SDM vol. 3A, chapter 4 (Paging), order 325462-08x.
constexpr std::array<RuleInfo, static_cast<std::size_t>(Rule::count_)> kRules{{
    {R::none, "none", "-", "no rule decided (internal)", false},
    {R::mode_none, "mode.none", "4.1.1", "CR0.PG = 0: the linear address is the physical address", false},
    {R::addr_canonical, "addr.canonical", "3.3.7.1, 4.5", "4/5-level paging: bits 63:47 (63:56) must equal bit 47 (56), else #GP", false},
    {R::pdpte_load_reserved, "pae.pdpte-load-rsvd", "4.4.1", "PAE: a present PDPTE with a reserved bit faults with #GP when the PDPTEs are loaded", false},
    {R::walk_not_present, "walk.not-present", "4.7", "an entry with P = 0 ends the walk with #PF, P = 0 in the error code", false},
    {R::rsvd_phys, "rsvd.phys", "4.5 Tables 4-14..4-20", "address bits M..51 (PAE: M..62) are reserved", false},
    {R::rsvd_xd, "rsvd.xd", "4.4.2, 4.5", "bit 63 is reserved when IA32_EFER.NXE = 0 (PAE, 4/5-level)", false},
    {R::rsvd_ps_nonleaf, "rsvd.ps-nonleaf", "4.5 Tables 4-14/4-15", "PS (bit 7) is reserved in a PML5E and a PML4E", false},
    {R::rsvd_ps_1g, "rsvd.ps-1g", "4.1.4, 4.5", "PDPTE.PS = 1 is reserved when CPUID reports no 1-GByte pages", false},
    {R::rsvd_large_align, "rsvd.large-align", "4.5 Tables 4-16/4-18, 4.4.2 Table 4-9", "2-MByte pages: bits 20:13 reserved; 1-GByte pages: bits 29:13 reserved", false},
    {R::rsvd_pse36, "rsvd.pse36", "4.3 Table 4-4", "32-bit 4-MByte PDE: bits 21:(M-19) reserved, M = min(MAXPHYADDR, 40) with PSE-36, else 32", false},
    {R::rsvd_pae_pdpte, "rsvd.pae-pdpte", "4.4.1 Table 4-8", "PAE PDPTE: bits 2:1, 8:5 and 63:M reserved", false},
    {R::rsvd_pae_high, "rsvd.pae-high", "4.4.2 Tables 4-9..4-11", "PAE PDE/PTE: bits 62:M reserved", false},
    {R::rsvd_amd_bit8, "rsvd.amd-bit8", "AMD APM vol. 2 5.3.3", "AMD: bit 8 of a PML5E/PML4E is reserved (must be zero)", false},
    {R::ps_ignored_no_pse, "pse.ps-ignored", "4.3", "32-bit paging with CR4.PSE = 0: PDE bit 7 is ignored and the PDE maps a page table", false},
    {R::leaf_4k, "leaf.4k", "4.3, 4.4.2, 4.5", "the walk ends at a PTE mapping a 4-KByte page", false},
    {R::leaf_2m, "leaf.2m", "4.4.2, 4.5", "the walk ends at a PDE with PS = 1 mapping a 2-MByte page", false},
    {R::leaf_4m, "leaf.4m", "4.3", "32-bit paging, CR4.PSE = 1: a PDE with PS = 1 maps a 4-MByte page", false},
    {R::leaf_1g, "leaf.1g", "4.5", "the walk ends at a PDPTE with PS = 1 mapping a 1-GByte page", false},
    {R::perm_user_supervisor, "perm.user-supervisor", "4.6.1", "user-mode accesses are allowed only to user-mode addresses (U/S = 1 at every level)", false},
    {R::perm_user_write, "perm.user-write", "4.6.1", "user-mode writes need R/W = 1 at every level, whatever CR0.WP", false},
    {R::perm_sup_write_wp, "perm.sup-write-wp", "4.6.1", "supervisor-mode writes need R/W = 1 at every level when CR0.WP = 1", false},
    {R::perm_xd, "perm.xd", "4.6.1", "with EFER.NXE = 1 (PAE, 4/5-level) no fetch from an address with XD = 1 at any level", false},
    {R::perm_smep, "perm.smep", "4.6.1", "CR4.SMEP = 1: no supervisor-mode fetch from a user-mode address", false},
    {R::perm_smap, "perm.smap", "4.6.1", "CR4.SMAP = 1: supervisor data accesses to user-mode addresses fault unless explicit with EFLAGS.AC = 1", false},
    {R::perm_ss_page, "perm.ss-page", "4.6.1 (CET)", "shadow-stack accesses need a shadow-stack page: leaf R/W = 0 and D = 1, R/W = 1 above", false},
    {R::perm_ss_mode, "perm.ss-mode", "4.6.1 (CET)", "user shadow-stack accesses need a user-mode address, supervisor ones a supervisor-mode address", false},
    {R::pk_ad, "pk.ad", "4.6.2", "protection keys (4/5-level only): ADi = 1 forbids data accesses (PKRU for user-mode addresses, IA32_PKRS for supervisor-mode ones)", false},
    {R::pk_wd, "pk.wd", "4.6.2", "WDi = 1 forbids user-mode writes, and supervisor-mode writes when CR0.WP = 1; not shadow-stack writes", false},
    {R::errcode_id, "errcode.id", "4.7", "the I/D flag is set for fetches only when CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1)", false},
    {R::ad_accessed, "ad.accessed", "4.8", "a successful translation sets A in every paging-structure entry used and in the leaf (not in PAE PDPTEs)", false},
    {R::ad_dirty, "ad.dirty", "4.8", "a write sets D in the leaf", false},
    {R::ad_fault_open, "ad.fault-open", "4.8, 4.10.2.3", "on a faulting walk, A may or may not be set in entries already read: the reference allows both", true},
    {R::access_ok, "access.ok", "4.6", "the access is permitted", false},
    {R::ept_not_present, "ept.not-present", "3C 29.3.2", "an EPT entry with bits 2:0 = 000 (and bit 10 = 0 under MBEC) is not present: EPT violation", false},
    {R::ept_misconfig_w_no_r, "ept.misconfig-w-no-r", "3C 29.3.3.1", "XWR = 010 (write-only) or 110 (write/execute): EPT misconfiguration", false},
    {R::ept_misconfig_x_only, "ept.misconfig-x-only", "3C 29.3.3.1", "XWR = 100 (or only XU under MBEC) without the execute-only capability: EPT misconfiguration", false},
    {R::ept_rsvd_phys, "ept.rsvd-phys", "3C 29.3.2 Tables 29-1..29-6", "EPT entry bits 51:M are reserved: EPT misconfiguration", false},
    {R::ept_rsvd_level, "ept.rsvd-level", "3C 29.3.2 Tables 29-1..29-6", "bits 7:3 of an EPT PML5E/PML4E and 6:3 of a non-leaf EPT PDPTE/PDE are reserved", false},
    {R::ept_rsvd_ps, "ept.rsvd-ps", "3C 29.3.2", "bit 7 is reserved in an EPT PDPTE without 1-GByte support and an EPT PDE without 2-MByte support", false},
    {R::ept_rsvd_align, "ept.rsvd-align", "3C 29.3.2 Tables 29-3/29-5", "1-GByte EPT pages: bits 29:12 reserved; 2-MByte: bits 20:12", false},
    {R::ept_misconfig_memtype, "ept.misconfig-memtype", "3C 29.3.3.1", "the leaf's memory type (bits 5:3) is 2, 3 or 7: EPT misconfiguration", false},
    {R::ept_leaf, "ept.leaf", "3C 29.3.2", "the EPT walk ends at a PTE or at a PDE/PDPTE with bit 7 = 1", false},
    {R::ept_violation_read, "ept.violation-read", "3C 29.3.3.2", "a data read (guest paging-structure reads included) needs R = 1 at every EPT level", false},
    {R::ept_violation_write, "ept.violation-write", "3C 29.3.3.2", "a data write (guest A/D updates included) needs W = 1 at every EPT level", false},
    {R::ept_violation_fetch, "ept.violation-fetch", "3C 29.3.3.2", "a fetch needs X = 1 at every EPT level (under MBEC: for supervisor-mode linear addresses)", false},
    {R::ept_violation_fetch_user, "ept.violation-fetch-user", "3C 29.3.3.2", "MBEC: a fetch from a user-mode linear address needs XU (bit 10) = 1 at every EPT level", false},
    {R::ept_ad_paging_write, "ept.ad-paging-write", "3C 29.3.3.2", "with EPTP bit 6 = 1, guest paging-structure accesses are writes for EPT (not PAE PDPTE loads)", false},
    {R::ept_ad_accessed, "ept.ad-accessed", "3C 29.3.5", "with EPT A/D, A (bit 8) is set in every EPT entry used", false},
    {R::ept_ad_dirty, "ept.ad-dirty", "3C 29.3.5", "with EPT A/D, D (bit 9) is set in the EPT leaf for writes (guest paging-structure accesses count)", false},
    {R::ept_qual_open, "ept.qual-open", "3C Table 28-7", "qualification bits the SDM leaves undefined (bit 6 without MBEC, bits 11:9 without the information, bit 0 of an A/D read-modify-write)", true},
    {R::nested_guest_ad_write, "nested.guest-ad-write", "3C 29.3.3.2, 4.8", "the guest's A/D updates are data writes to guest-physical addresses, checked by EPT", false},
    {R::nested_pdpte_load, "nested.pdpte-load", "3C 29.3.3.2, 4.4.1", "PAE guest: PDPTE loads translate through EPT as reads; a violation there has GLA-valid = 0", false},
    {R::nested_order_open, "nested.order-open", "4.8, 3C 29.3.3.2", "whether a guest A/D update that EPT forbids is made as the walk goes or at its end is not architectural: both exits allowed", true},
    {R::pk_wd_ss_open, "pk.wd-ss-open", "4.6.2, 4.6.1 (CET)", "whether WDi blocks a shadow-stack write is not confirmed: the reference reads that it does not, and allows the outcome where it does", true},
}};

}  // namespace

const RuleInfo& rule_info(Rule r) { return kRules[static_cast<std::size_t>(r)]; }
std::span<const RuleInfo> all_rules() { return kRules; }

}  // namespace mmu
