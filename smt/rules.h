// The Intel SDM's paging rules as bit-vector terms, written from the SDM
// (vol. 3A ch. 4 "Paging", vol. 3C ch. 29 "VMX Support for Address
// Translation"), not from any engine. Each rule carries its id from
// model/rules.h, so a counterexample can say which rule decided.
//
// Everything here is symbolic: the CPU state (paging mode, CR0/CR4/EFER bits,
// CPUID), the access, the entries. The same terms serve the theorems (smt/
// theorems.cc, where they are compared with the KVM engine's tables) and the
// `smt` engine (smt/evaluator.cc, where a concrete case is substituted in).
//
//   smt::Context ctx;
//   smt::sdm::Cpu cpu = smt::sdm::Cpu::vars(ctx);
//   smt::Expr level = ctx.bv_var("level", 3), e = ctx.bv_var("e", 64);
//   smt::Expr rsvd = smt::sdm::reserved(ctx, cpu, level, e);
#pragma once
#include <string_view>
#include <vector>

#include "model/rules.h"
#include "smt/expr.h"

namespace smt::sdm {

// The paging mode, as the 2-bit `mode` term encodes it (SDM 4.1.1 Table 4-1;
// paging off is not a mode these rules are about).
inline constexpr u64 kMode32 = 0, kModePae = 1, kMode4 = 2, kMode5 = 3;
// Access kinds, as the 2-bit `kind` term encodes them.
inline constexpr u64 kRead = 0, kWrite = 1, kFetch = 2;
// What ended a walk in a #PF, as the 2-bit fault-kind term encodes it.
inline constexpr u64 kNotPresent = 0, kReserved = 1, kProtection = 2, kProtectionKey = 3;

// The CPU state the paging rules read. Booleans are bool terms; mode is a
// 2-bit vector, maxphyaddr an 8-bit vector (CPUID.80000008H:EAX[7:0]).
struct Cpu {
  Expr mode, maxphyaddr;
  Expr nxe;      // IA32_EFER.NXE
  Expr wp;       // CR0.WP
  Expr pse;      // CR4.PSE
  Expr smep, smap, pke, pks;  // CR4
  Expr amd;      // vendor (AMD APM differences: bit 8 of PML4Es/PML5Es)
  Expr gbpages;  // CPUID 1-GByte pages
  Expr pse36;    // CPUID PSE-36

  static Cpu vars(Context& ctx, std::string_view prefix = "");
  Expr domain() const;  // MAXPHYADDR 32..52
  Expr is_mode(u64 m) const { return mode == m; }
  Expr long_mode() const;   // 4-level or 5-level
  Expr xd_enabled() const;  // SDM 4.1.3: XD is honoured in PAE/4/5-level with NXE
};

struct Access {
  Expr kind;           // 2 bits: read, write, fetch
  Expr cpl;            // 2 bits
  Expr implicit, ac;   // implicit supervisor-mode access; EFLAGS.AC

  static Access vars(Context& ctx, std::string_view prefix = "");
  Expr domain() const;  // a known kind; fetches are never implicit accesses
  Expr user() const;    // SDM 4.6: an explicit access at CPL 3
  Expr write() const { return kind == kWrite; }
  Expr fetch() const { return kind == kFetch; }
};

// The rights of one paging-structure entry that SDM 4.6.1 combines.
struct EntryRights {
  Expr user;      // U/S = 1
  Expr writable;  // R/W = 1
  Expr xd;        // XD (bit 63) = 1
};

// Rights combined over the entries a walk used (SDM 4.6.1): a user-mode
// address has U/S = 1 in every entry, a writable one R/W = 1 in every entry,
// an execute-disabled one XD = 1 in some entry.
struct Rights {
  Expr user, writable, xd;
};
Rights combine(Context& ctx, const std::vector<EntryRights>& levels);

struct RuleTerm {
  mmu::Rule rule;
  Expr holds;
};

// SDM 4.6.1: the access-rights checks (protection keys are separate). The
// access faults when any term holds.
std::vector<RuleTerm> permission_rules(Context& ctx, const Cpu& cpu, const Access& a, const Rights& r);
Expr permission_fault(Context& ctx, const Cpu& cpu, const Access& a, const Rights& r);

// SDM 4.6.2: protection keys, 4/5-level paging, data accesses; PKRU governs
// user-mode addresses (CR4.PKE), IA32_PKRS supervisor-mode ones (CR4.PKS).
// pkey: 4 bits, pkru/pkrs: 32 bits.
std::vector<RuleTerm> pk_rules(Context& ctx, const Cpu& cpu, const Access& a, const Expr& user_page, const Expr& pkey,
                               const Expr& pkru, const Expr& pkrs);
Expr pk_fault(Context& ctx, const Cpu& cpu, const Access& a, const Expr& user_page, const Expr& pkey,
              const Expr& pkru, const Expr& pkrs);

// SDM 4.3-4.5: the reserved bits of a present entry at `level` (3 bits,
// 1 = PTE ... 5 = PML5E) of the current mode; `entry` is 64 bits (32-bit
// paging: the upper half is 0). In PAE mode level 3 is a PDPTE, checked when
// CR3 is loaded (4.4.1, a #GP rather than a #PF).
std::vector<RuleTerm> reserved_rules(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& entry);
Expr reserved(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& entry);

// SDM 4.3-4.5: does a present entry without reserved bits map a page (end
// the walk)? Level 1 always; a PDE with PS = 1 (32-bit paging: with
// CR4.PSE); a PDPTE with PS = 1 in 4/5-level paging (1-GByte pages).
Expr leaf(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& entry);

// The number of levels a walk of this mode has (3 bits): 2, 3, 4 or 5.
Expr levels(Context& ctx, const Cpu& cpu);

// SDM 4.3-4.5: the physical address a leaf maps `va` (64 bits) to.
Expr physical_address(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& entry, const Expr& va);

// SDM 4.7: the page-fault error code (64 bits) for a fault of `kind` (2 bits,
// kNotPresent..kProtectionKey). P: the entry was present; W/R, U/S: the
// access; RSVD; I/D only with SMEP or (PAE and NXE); PK.
Expr error_code(Context& ctx, const Cpu& cpu, const Access& a, const Expr& kind);

// ---- EPT (SDM vol. 3C 29.3) ----------------------------------------------

struct EptCaps {
  Expr levels;      // 3 bits: 4 or 5 (EPTP page-walk length)
  Expr ad;          // EPTP bit 6: accessed and dirty flags
  Expr exec_only;   // IA32_VMX_EPT_VPID_CAP bit 0
  Expr mbec;        // mode-based execute control: bit 10 is user-execute
  Expr pages_2m, pages_1g;
  Expr maxphyaddr;  // 8 bits, 32..52

  static EptCaps vars(Context& ctx, std::string_view prefix = "");
  Expr domain() const;
};

// 29.3.2: an entry is present when any of bits 2:0 is set (or bit 10 under MBEC).
Expr ept_present(Context& ctx, const EptCaps& caps, const Expr& entry);
// 29.3.2/29.3.3.1: the misconfigurations of a present entry at `level`.
std::vector<RuleTerm> ept_misconfig_rules(Context& ctx, const EptCaps& caps, const Expr& level, const Expr& entry);
Expr ept_misconfig(Context& ctx, const EptCaps& caps, const Expr& level, const Expr& entry);
// 29.3.3.2: an access faults (EPT violation) when the rights ANDed over
// the walk lack R (reads), W (writes) or X (fetches; under MBEC, XU for
// fetches from user-mode linear addresses). kind: sdm::kRead..kFetch.
struct EptRights {
  Expr r, w, x, xu;
};
std::vector<RuleTerm> ept_violation_rules(Context& ctx, const EptCaps& caps, const Expr& kind, const Expr& user_linear,
                                          const EptRights& all);
Expr ept_violation(Context& ctx, const EptCaps& caps, const Expr& kind, const Expr& user_linear, const EptRights& all);

// 29.3.2: the EPT walk ends at level 1, or at a PDE/PDPTE with bit 7 = 1
// where the capability allows large pages.
Expr ept_leaf(Context& ctx, const EptCaps& caps, const Expr& level, const Expr& entry);

// The first rule of `terms` that holds under `m`, or Rule::none.
mmu::Rule first_holding(const Model& m, const std::vector<RuleTerm>& terms);

}  // namespace smt::sdm
