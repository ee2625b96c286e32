// The rule catalogue: every decision the reference makes names one rule, with a
// stable id and the Intel SDM section it comes from. docs/rules.md lists them;
// tests/rules_doc_test.cc keeps the two in step.
//
//   const mmu::RuleInfo& r = mmu::rule_info(mmu::Rule::perm_smep);
//   std::cout << r.id << " (SDM " << r.sdm << ")";
#pragma once
#include <span>
#include <string_view>

namespace mmu {

enum class Rule : unsigned char {
  none,
  // Translation outcomes
  mode_none,             // paging off: linear = physical
  addr_canonical,        // non-canonical address: #GP
  pdpte_load_reserved,   // PAE: reserved bit in a present PDPTE at CR3 load: #GP
  walk_not_present,      // P = 0 at some level
  rsvd_phys,             // an address bit at or above MAXPHYADDR
  rsvd_xd,               // bit 63 set while EFER.NXE = 0
  rsvd_ps_nonleaf,       // PS set in a PML5E/PML4E
  rsvd_ps_1g,            // PS set in a PDPTE without 1-GByte page support
  rsvd_large_align,      // 2-MByte/1-GByte page: address bits below the page size
  rsvd_pse36,            // 4-MByte page: bits 21:(M-19)
  rsvd_pae_pdpte,        // PAE PDPTE bits 2:1, 8:5, 63:M
  rsvd_pae_high,         // PAE PDE/PTE bits 62:M
  rsvd_amd_bit8,         // AMD: bit 8 of a PML5E/PML4E
  ps_ignored_no_pse,     // 32-bit paging, CR4.PSE = 0: PDE.PS ignored
  leaf_4k, leaf_2m, leaf_4m, leaf_1g,
  // Access rights (SDM 4.6)
  perm_user_supervisor,  // user-mode access to a supervisor-mode address
  perm_user_write,       // user-mode write to a read-only address
  perm_sup_write_wp,     // supervisor-mode write to a read-only address with CR0.WP = 1
  perm_xd,               // fetch from an execute-disabled address
  perm_smep,             // supervisor fetch from a user-mode address with CR4.SMEP
  perm_smap,             // supervisor data access to a user-mode address under SMAP
  perm_ss_page,          // shadow-stack access to a page that is not a shadow-stack page
  perm_ss_mode,          // shadow-stack access to a page of the other privilege
  pk_ad,                 // PKRU/IA32_PKRS access-disable
  pk_wd,                 // PKRU/IA32_PKRS write-disable
  errcode_id,            // I/D reported only with SMEP or (PAE && NXE)
  ad_accessed,           // A set on every entry used
  ad_dirty,              // D set on the leaf for writes
  ad_fault_open,         // A on a faulting walk: allowed, not required
  access_ok,             // every rule passed
  // EPT (SDM vol. 3C 29.3) and nested walks
  ept_not_present,       // EPT entry with R = W = X = 0 (and XU = 0 under MBEC)
  ept_misconfig_w_no_r,  // XWR = 010 or 110
  ept_misconfig_x_only,  // XWR = 100 (or XU-only) without the execute-only capability
  ept_rsvd_phys,         // EPT entry bits 51:M
  ept_rsvd_level,        // bits 7:3 of a PML5E/PML4E, 6:3 of a non-leaf PDPTE/PDE
  ept_rsvd_ps,           // bit 7 where the level has no large pages (or no capability)
  ept_rsvd_align,        // large EPT page: bits 29:12 (1G) or 20:12 (2M)
  ept_misconfig_memtype, // leaf memory type 2, 3 or 7
  ept_leaf,              // translation complete
  ept_violation_read,    // data read without R somewhere on the walk
  ept_violation_write,   // data write without W
  ept_violation_fetch,   // fetch without X (supervisor-mode linear address, or no MBEC)
  ept_violation_fetch_user, // MBEC: fetch from a user-mode linear address without XU
  ept_ad_paging_write,   // EPTP.AD: guest paging-structure accesses are writes for EPT
  ept_ad_accessed,       // EPT A on every EPT entry used
  ept_ad_dirty,          // EPT D on the leaf for writes
  ept_qual_open,         // qualification bits the SDM leaves undefined here
  nested_guest_ad_write, // guest A/D updates are EPT data writes
  nested_pdpte_load,     // PAE guest: PDPTE loads go through EPT as reads, GLA not valid
  nested_order_open,     // guest A update vs a later guest fault: order not architectural
  pk_wd_ss_open,         // whether WD blocks a shadow-stack write: unconfirmed, both allowed
  count_
};

struct RuleInfo {
  Rule rule;
  std::string_view id;       // stable: used in traces, reports and signatures
  std::string_view sdm;      // Intel SDM vol. 3A section or table
  std::string_view summary;  // one line
  bool open;                 // the SDM allows more than one outcome here
};

const RuleInfo& rule_info(Rule r);
std::span<const RuleInfo> all_rules();

}  // namespace mmu
