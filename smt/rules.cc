// The SDM's paging rules as terms. Section numbers: Intel SDM vol. 3A
// (325462) ch. 4, and vol. 3C (326019) ch. 29 for EPT, as in docs/rules.md.
#include "smt/rules.h"

#include <string>

#include "model/bits.h"

namespace smt::sdm {
namespace {

using mmu::Rule;

std::string name(std::string_view prefix, const char* n) { return std::string(prefix) + n; }

Expr c64(Context& ctx, u64 v) { return ctx.bv(v, 64); }

// Bits 63..lo of a 64-bit word, lo an 8-bit term (empty when lo >= 64).
Expr bits_from(Context& ctx, const Expr& lo) { return c64(ctx, ~u64{0}).shl(lo.zext_to(64)); }

// Bits hi..lo, lo an 8-bit term (empty when lo > hi): "bits hi:M".
Expr bits_hi_lo(Context& ctx, unsigned hi, const Expr& lo) {
  return bits_from(ctx, lo) & c64(ctx, mmu::bits(hi, 0));
}

Expr level_is(const Expr& level, u64 l) { return level == l; }

}  // namespace

// ---- the CPU and the access ----------------------------------------------

Cpu Cpu::vars(Context& ctx, std::string_view p) {
  return Cpu{ctx.bv_var(name(p, "mode"), 2),    ctx.bv_var(name(p, "maxphyaddr"), 8), ctx.bool_var(name(p, "efer.nxe")),
             ctx.bool_var(name(p, "cr0.wp")),   ctx.bool_var(name(p, "cr4.pse")),     ctx.bool_var(name(p, "cr4.smep")),
             ctx.bool_var(name(p, "cr4.smap")), ctx.bool_var(name(p, "cr4.pke")),     ctx.bool_var(name(p, "cr4.pks")),
             ctx.bool_var(name(p, "amd")),      ctx.bool_var(name(p, "cpuid.pdpe1gb")), ctx.bool_var(name(p, "cpuid.pse36"))};
}

Expr Cpu::domain() const {
  return maxphyaddr.uge(Expr(maxphyaddr.z3().ctx().bv_val(32u, 8))) &&
         maxphyaddr.ule(Expr(maxphyaddr.z3().ctx().bv_val(52u, 8)));
}

Expr Cpu::long_mode() const { return mode == kMode4 || mode == kMode5; }

// 4.1.3, 4.4.2, 4.5: execute-disable applies with IA32_EFER.NXE = 1 in PAE,
// 4-level and 5-level paging; 32-bit paging has no XD bit.
Expr Cpu::xd_enabled() const { return nxe && mode != kMode32; }

Access Access::vars(Context& ctx, std::string_view p) {
  return Access{ctx.bv_var(name(p, "access.kind"), 2), ctx.bv_var(name(p, "cpl"), 2),
                ctx.bool_var(name(p, "access.implicit")), ctx.bool_var(name(p, "rflags.ac"))};
}

Expr Access::domain() const { return kind != 3 && (fetch().implies(!implicit)); }

// 4.6: "Every access to a linear address is either a supervisor-mode access
// or a user-mode access ... accesses made while CPL = 3 are user-mode
// accesses, except implicit supervisor-mode accesses (GDT, IDT, ...)".
Expr Access::user() const { return cpl == 3 && !implicit; }

Rights combine(Context& ctx, const std::vector<EntryRights>& levels) {
  std::vector<Expr> u, w, x;
  for (const EntryRights& e : levels) {
    u.push_back(e.user);
    w.push_back(e.writable);
    x.push_back(e.xd);
  }
  return Rights{ctx.all(u), ctx.all(w), ctx.any(x)};
}

// ---- 4.6.1 access rights ---------------------------------------------------

std::vector<RuleTerm> permission_rules(Context&, const Cpu& cpu, const Access& a, const Rights& r) {
  const Expr user = a.user(), sup = !a.user();
  const Expr data = !a.fetch();
  // 4.6.1: SMAP applies to supervisor-mode data accesses to user-mode
  // addresses unless the access is explicit and EFLAGS.AC = 1.
  const Expr smap_applies = cpu.smap && (a.implicit || !a.ac);
  return {
      {Rule::perm_user_supervisor, user && !r.user},
      {Rule::perm_smep, a.fetch() && sup && r.user && cpu.smep},
      {Rule::perm_xd, a.fetch() && cpu.xd_enabled() && r.xd},
      {Rule::perm_smap, data && sup && r.user && smap_applies},
      {Rule::perm_user_write, a.write() && user && !r.writable},
      {Rule::perm_sup_write_wp, a.write() && sup && !r.writable && cpu.wp},
  };
}

Expr permission_fault(Context& ctx, const Cpu& cpu, const Access& a, const Rights& r) {
  std::vector<Expr> any;
  for (const RuleTerm& t : permission_rules(ctx, cpu, a, r)) any.push_back(t.holds);
  return ctx.any(any);
}

// ---- 4.6.2 protection keys ------------------------------------------------

std::vector<RuleTerm> pk_rules(Context& ctx, const Cpu& cpu, const Access& a, const Expr& user_page, const Expr& pkey,
                               const Expr& pkru, const Expr& pkrs) {
  // Only 4-level and 5-level paging have protection keys; instruction fetches
  // are never checked.
  const Expr applies = cpu.long_mode() && !a.fetch() && ite(user_page, cpu.pke, cpu.pks);
  const Expr reg = ite(user_page, pkru, pkrs);
  const Expr shift = pkey.zext_to(32).shl(1);
  const Expr ad = reg.lshr(shift).bit(0);
  const Expr wd = reg.lshr(shift + ctx.bv(1, 32)).bit(0);
  // WD: user-mode writes, and supervisor-mode writes when CR0.WP = 1.
  return {
      {Rule::pk_ad, applies && ad},
      {Rule::pk_wd, applies && a.write() && wd && (a.user() || cpu.wp)},
  };
}

Expr pk_fault(Context& ctx, const Cpu& cpu, const Access& a, const Expr& user_page, const Expr& pkey,
              const Expr& pkru, const Expr& pkrs) {
  std::vector<Expr> any;
  for (const RuleTerm& t : pk_rules(ctx, cpu, a, user_page, pkey, pkru, pkrs)) any.push_back(t.holds);
  return ctx.any(any);
}

// ---- 4.3-4.5 reserved bits and leaves ---------------------------------------

Expr leaf(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& e) {
  const Expr ps = e.bit(7);
  // 4.3: with CR4.PSE = 1 a PDE with PS = 1 maps a 4-MByte page; with
  // CR4.PSE = 0 bit 7 is ignored.
  const Expr l32 = level_is(level, 1) || (level_is(level, 2) && ps && cpu.pse);
  // 4.4.2: a PDE with PS = 1 maps a 2-MByte page (PDPTEs never map pages).
  const Expr lpae = level_is(level, 1) || (level_is(level, 2) && ps);
  // 4.5: a PDE with PS = 1 maps a 2-MByte page, a PDPTE with PS = 1 a 1-GByte
  // page (where supported; otherwise PS is reserved there).
  const Expr l45 = level_is(level, 1) || (ps && (level_is(level, 2) || (level_is(level, 3) && cpu.gbpages)));
  (void)ctx;
  return ite(cpu.is_mode(kMode32), l32, ite(cpu.is_mode(kModePae), lpae, l45));
}

Expr levels(Context& ctx, const Cpu& cpu) {
  return ite(cpu.is_mode(kMode32), ctx.bv(2, 3),
             ite(cpu.is_mode(kModePae), ctx.bv(3, 3), ite(cpu.is_mode(kMode4), ctx.bv(4, 3), ctx.bv(5, 3))));
}

std::vector<RuleTerm> reserved_rules(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& e) {
  const Expr M = cpu.maxphyaddr;
  const Expr ps = e.bit(7);
  const Expr m32 = cpu.is_mode(kMode32), pae = cpu.is_mode(kModePae), lm = cpu.long_mode();
  auto hit = [&](const Expr& mask) { return (e & mask).non_zero(); };

  // 4.3 Table 4-4: a 4-MByte PDE reserves bits 21:(M-19), where M is
  // min(MAXPHYADDR, 40) with PSE-36 and 32 without it.
  const Expr m = ite(cpu.pse36, ite(M.ule(ctx.bv(40, 8)), M, ctx.bv(40, 8)), ctx.bv(32, 8));
  const Expr pse36_rsvd = m32 && level_is(level, 2) && ps && cpu.pse && hit(bits_hi_lo(ctx, 21, m - ctx.bv(19, 8)));

  // 4.4.1 Table 4-8: a PAE PDPTE reserves bits 2:1, 8:5 and 63:M.
  const Expr pdpte = pae && level_is(level, 3) &&
                     (e.any(mmu::bits(2, 1) | mmu::bits(8, 5)) || hit(bits_from(ctx, M)));
  // 4.4.2 Tables 4-9..4-11: PAE PDEs/PTEs reserve bits 62:M.
  const Expr pae_high = pae && !level_is(level, 3) && hit(bits_hi_lo(ctx, 62, M));
  // 4.5 Tables 4-14..4-20: 4/5-level entries reserve bits 51:M.
  const Expr phys = lm && hit(bits_hi_lo(ctx, 51, M));
  // 4.4.2, 4.5: bit 63 (XD) is reserved when IA32_EFER.NXE = 0.
  const Expr xd = ((pae && !level_is(level, 3)) || lm) && !cpu.nxe && e.bit(63);
  // 4.5 Tables 4-14/4-15: PS is reserved in a PML5E and a PML4E.
  const Expr ps_nonleaf = lm && level.uge(ctx.bv(4, 3)) && ps;
  // AMD APM vol. 2 5.3.3: bit 8 of a PML5E/PML4E is reserved (MBZ).
  const Expr amd8 = lm && level.uge(ctx.bv(4, 3)) && cpu.amd && e.bit(8);
  // 4.1.4, 4.5: PS = 1 in a PDPTE is reserved without 1-GByte page support.
  const Expr ps_1g = lm && level_is(level, 3) && !cpu.gbpages && ps;
  // 4.4.2 Table 4-9, 4.5 Tables 4-16/4-18: large pages reserve the address
  // bits below the page size above bit 12 (PAT): 20:13 (2 MB), 29:13 (1 GB).
  const Expr is_leaf = leaf(ctx, cpu, level, e);
  const Expr align = (pae || lm) && is_leaf &&
                     ((level_is(level, 2) && e.any(mmu::bits(20, 13))) || (level_is(level, 3) && e.any(mmu::bits(29, 13))));
  return {
      {Rule::rsvd_pse36, pse36_rsvd},  {Rule::rsvd_pae_pdpte, pdpte},   {Rule::rsvd_pae_high, pae_high},
      {Rule::rsvd_phys, phys},         {Rule::rsvd_xd, xd},             {Rule::rsvd_ps_nonleaf, ps_nonleaf},
      {Rule::rsvd_amd_bit8, amd8},     {Rule::rsvd_ps_1g, ps_1g},       {Rule::rsvd_large_align, align},
  };
}

Expr reserved(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& e) {
  std::vector<Expr> any;
  for (const RuleTerm& t : reserved_rules(ctx, cpu, level, e)) any.push_back(t.holds);
  return ctx.any(any);
}

Expr physical_address(Context& ctx, const Cpu& cpu, const Expr& level, const Expr& e, const Expr& va) {
  const Expr M = cpu.maxphyaddr;
  // 4.3: 4-KByte page: PTE bits 31:12; 4-MByte page: PDE bits 31:22, and with
  // PSE-36 PDE bits (M-33+13):13 as physical-address bits 39:32.
  const Expr m = ite(cpu.pse36, ite(M.ule(ctx.bv(40, 8)), M, ctx.bv(40, 8)), ctx.bv(32, 8));
  const Expr high_mask = c64(ctx, 1).shl((m - ctx.bv(32, 8)).zext_to(64)) - c64(ctx, 1);
  const Expr high = (e.lshr(13) & c64(ctx, 0xff) & high_mask).shl(32);
  const Expr pa32 = ite(level_is(level, 2), (e & c64(ctx, mmu::bits(31, 22))) | high | (va & c64(ctx, mmu::bits(21, 0))),
                        (e & c64(ctx, mmu::bits(31, 12))) | (va & c64(ctx, mmu::bits(11, 0))));
  // 4.4.2, 4.5: bits (M-1):shift of the leaf, the page offset from the address.
  const Expr shift = ite(level_is(level, 3), c64(ctx, 30), ite(level_is(level, 2), c64(ctx, 21), c64(ctx, 12)));
  const Expr frame = c64(ctx, ~u64{0}).shl(shift) & ~bits_from(ctx, M);
  const Expr pa = (e & frame) | (va & ~c64(ctx, ~u64{0}).shl(shift));
  return ite(cpu.is_mode(kMode32), pa32, pa);
}

// ---- 4.7 the error code ---------------------------------------------------

Expr error_code(Context& ctx, const Cpu& cpu, const Access& a, const Expr& kind) {
  auto flag = [&](const Expr& b, unsigned n) { return ite(b, c64(ctx, mmu::bit(n)), c64(ctx, 0)); };
  // P (bit 0): 0 when the fault was a not-present entry, 1 otherwise.
  // W/R (1), U/S (2): the access. RSVD (3): a reserved bit was set.
  // I/D (4): an instruction fetch, "if CR4.SMEP = 1 or (CR4.PAE = 1 and
  // IA32_EFER.NXE = 1)". PK (5): a protection-key violation.
  const Expr id = a.fetch() && (cpu.smep || (!cpu.is_mode(kMode32) && cpu.nxe));
  return flag(kind != kNotPresent, 0) | flag(a.write(), 1) | flag(a.user(), 2) | flag(kind == kReserved, 3) |
         flag(id, 4) | flag(kind == kProtectionKey, 5);
}

// ---- EPT (vol. 3C 29.3) ----------------------------------------------------

EptCaps EptCaps::vars(Context& ctx, std::string_view p) {
  return EptCaps{ctx.bv_var(name(p, "ept.levels"), 3),  ctx.bool_var(name(p, "ept.ad")), ctx.bool_var(name(p, "ept.exec_only")),
                 ctx.bool_var(name(p, "ept.mbec")),     ctx.bool_var(name(p, "ept.2m")),
                 ctx.bool_var(name(p, "ept.1g")),       ctx.bv_var(name(p, "maxphyaddr"), 8)};
}

Expr EptCaps::domain() const {
  z3::context& c = levels.z3().ctx();
  return (levels == 4 || levels == 5) && maxphyaddr.uge(Expr(c.bv_val(32u, 8))) && maxphyaddr.ule(Expr(c.bv_val(52u, 8)));
}

Expr ept_present(Context&, const EptCaps& caps, const Expr& e) {
  return e.any(0x7) || (caps.mbec && e.bit(10));
}

Expr ept_leaf(Context&, const EptCaps& caps, const Expr& level, const Expr& e) {
  return level_is(level, 1) ||
         (e.bit(7) && ((level_is(level, 2) && caps.pages_2m) || (level_is(level, 3) && caps.pages_1g)));
}

std::vector<RuleTerm> ept_misconfig_rules(Context& ctx, const EptCaps& caps, const Expr& level, const Expr& e) {
  const Expr xwr = e.extract(2, 0);
  const Expr is_leaf = ept_leaf(ctx, caps, level, e);
  const Expr mt = e.extract(5, 3);
  const Expr ps = e.bit(7);
  return {
      // 29.3.3.1: bit 0 (read) clear with bit 1 (write) set.
      {Rule::ept_misconfig_w_no_r, xwr == 2 || xwr == 6},
      // 29.3.3.1: execute-only (R = W = 0, present through X, or XU under
      // MBEC) without the execute-only capability.
      {Rule::ept_misconfig_x_only, !e.any(0x3) && !caps.exec_only},
      // 29.3.2 Tables 29-1..29-6: bits 51:M are reserved.
      {Rule::ept_rsvd_phys, (e & bits_hi_lo(ctx, 51, caps.maxphyaddr)).non_zero()},
      // Bits 7:3 of a PML5E/PML4E, 6:3 of a PDPTE/PDE that references a table.
      {Rule::ept_rsvd_level, (level.uge(ctx.bv(4, 3)) && e.any(mmu::bits(7, 3))) ||
                                 ((level_is(level, 2) || level_is(level, 3)) && !is_leaf && e.any(mmu::bits(6, 3)))},
      // Bit 7 where the level cannot map a page (no 2-MByte / 1-GByte support).
      {Rule::ept_rsvd_ps, ps && ((level_is(level, 2) && !caps.pages_2m) || (level_is(level, 3) && !caps.pages_1g))},
      // Tables 29-3/29-5: a 1-GByte page reserves bits 29:12, a 2-MByte page 20:12.
      {Rule::ept_rsvd_align, is_leaf && ((level_is(level, 3) && e.any(mmu::bits(29, 12))) ||
                                         (level_is(level, 2) && e.any(mmu::bits(20, 12))))},
      // 29.3.3.1: a leaf with memory type 2, 3 or 7 (reserved encodings).
      {Rule::ept_misconfig_memtype, is_leaf && (mt == 2 || mt == 3 || mt == 7)},
  };
}

Expr ept_misconfig(Context& ctx, const EptCaps& caps, const Expr& level, const Expr& e) {
  std::vector<Expr> any;
  for (const RuleTerm& t : ept_misconfig_rules(ctx, caps, level, e)) any.push_back(t.holds);
  return ctx.any(any);
}

std::vector<RuleTerm> ept_violation_rules(Context&, const EptCaps& caps, const Expr& kind, const Expr& user_linear,
                                          const EptRights& all) {
  const Expr fetch = kind == kFetch;
  return {
      {Rule::ept_violation_read, kind == kRead && !all.r},
      {Rule::ept_violation_write, kind == kWrite && !all.w},
      {Rule::ept_violation_fetch_user, fetch && caps.mbec && user_linear && !all.xu},
      {Rule::ept_violation_fetch, fetch && !(caps.mbec && user_linear) && !all.x},
  };
}

Expr ept_violation(Context& ctx, const EptCaps& caps, const Expr& kind, const Expr& user_linear, const EptRights& all) {
  std::vector<Expr> any;
  for (const RuleTerm& t : ept_violation_rules(ctx, caps, kind, user_linear, all)) any.push_back(t.holds);
  return ctx.any(any);
}

mmu::Rule first_holding(const Model& m, const std::vector<RuleTerm>& terms) {
  for (const RuleTerm& t : terms)
    if (m.holds(t.holds)) return t.rule;
  return Rule::none;
}

}  // namespace smt::sdm
