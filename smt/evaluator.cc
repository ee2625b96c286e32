#include "smt/evaluator.h"

#include <array>

#include "model/ept.h"
#include "smt/rules.h"

namespace smt {

using mmu::bit;
using mmu::bits;
using mmu::Rule;

struct Evaluator::Impl {
  Context ctx;
  sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  sdm::Access access = sdm::Access::vars(ctx);
  Expr level = ctx.bv_var("level", 3), entry = ctx.bv_var("entry", 64), va = ctx.bv_var("va", 64);
  std::vector<sdm::EntryRights> slots;
  Expr pkey = ctx.bv_var("leaf.pkey", 4), pkru = ctx.bv_var("pkru", 32), pkrs = ctx.bv_var("ia32_pkrs", 32);
  Expr fault_kind = ctx.bv_var("fault.kind", 2);

  // The terms, built once.
  std::vector<sdm::RuleTerm> rsvd_rules, perm_rules, pk_rules;
  Expr rsvd = ctx.boolean(false), leaf = ctx.boolean(false), perm = ctx.boolean(false), pk = ctx.boolean(false);
  Expr error_code = ctx.bv(0, 64), pa = ctx.bv(0, 64);

  Impl() {
    for (unsigned i = 0; i < 5; ++i) {
      const std::string p = "level" + std::to_string(i + 1) + ".";
      slots.push_back({ctx.bool_var(p + "us"), ctx.bool_var(p + "rw"), ctx.bool_var(p + "xd")});
    }
    const sdm::Rights rights = sdm::combine(ctx, slots);
    rsvd_rules = sdm::reserved_rules(ctx, cpu, level, entry);
    rsvd = sdm::reserved(ctx, cpu, level, entry);
    leaf = sdm::leaf(ctx, cpu, level, entry);
    perm_rules = sdm::permission_rules(ctx, cpu, access, rights);
    perm = sdm::permission_fault(ctx, cpu, access, rights);
    pk_rules = sdm::pk_rules(ctx, cpu, access, rights.user, pkey, pkru, pkrs);
    pk = sdm::pk_fault(ctx, cpu, access, rights.user, pkey, pkru, pkrs);
    error_code = sdm::error_code(ctx, cpu, access, fault_kind);
    pa = sdm::physical_address(ctx, cpu, level, entry, va);
  }

  // The case's CPU state and access, bound to the terms' variables.
  Substitution bind_case(const mmu::Case& c) {
    Substitution s(ctx);
    const mmu::CpuState& k = c.cpu;
    static constexpr u64 kModes[] = {0, sdm::kMode32, sdm::kModePae, sdm::kMode4, sdm::kMode5};
    s.set_bv(cpu.mode, kModes[static_cast<unsigned>(mmu::paging_mode(k))]);
    s.set_bv(cpu.maxphyaddr, k.maxphyaddr);
    s.set_bool(cpu.nxe, k.efer & mmu::efer::NXE);
    s.set_bool(cpu.wp, k.cr0 & mmu::cr0::WP);
    s.set_bool(cpu.pse, k.cr4 & mmu::cr4::PSE);
    s.set_bool(cpu.smep, k.cr4 & mmu::cr4::SMEP);
    s.set_bool(cpu.smap, k.cr4 & mmu::cr4::SMAP);
    s.set_bool(cpu.pke, k.cr4 & mmu::cr4::PKE);
    s.set_bool(cpu.pks, k.cr4 & mmu::cr4::PKS);
    s.set_bool(cpu.amd, k.vendor == mmu::Vendor::amd);
    s.set_bool(cpu.gbpages, k.features.has(mmu::Feature::pdpe1gb));
    s.set_bool(cpu.pse36, k.features.has(mmu::Feature::pse36));
    s.set_bv(access.kind, static_cast<u64>(c.access.kind));
    s.set_bv(access.cpl, k.cpl);
    s.set_bool(access.implicit, c.access.implicit);
    s.set_bool(access.ac, k.rflags & mmu::rflags::AC);
    s.set_bv(va, c.access.addr);
    s.set_bv(pkru, k.pkru);
    s.set_bv(pkrs, k.pkrs);
    return s;
  }

  static bool truth(const Expr& e) {
    const std::optional<bool> b = e.as_bool();
    if (!b) throw Error("smt engine: a rule did not simplify to a constant: " + e.to_string());
    return *b;
  }
  static u64 number(const Expr& e) {
    const std::optional<u64> v = e.as_u64();
    if (!v) throw Error("smt engine: a term did not simplify to a constant: " + e.to_string());
    return *v;
  }

  Rule first(const std::vector<sdm::RuleTerm>& terms, const Substitution& s) {
    for (const sdm::RuleTerm& t : terms)
      if (truth(t.holds.substitute(s))) return t.rule;
    return Rule::none;
  }

  mmu::Verdict run(const mmu::Case& c, mmu::Trace* trace);
};

mmu::Verdict Evaluator::Impl::run(const mmu::Case& c, mmu::Trace* trace) {
  mmu::Verdict v;
  mmu::Outcome& o = v.outcome;
  const mmu::PagingMode mode = mmu::paging_mode(c.cpu);
  const u64 lin = c.access.addr;
  if (mode == mmu::PagingMode::none) {
    o.pa = lin;
    o.page_size = 4096;
    if (trace) trace->decided_by = Rule::mode_none;
    return v;
  }
  if (mode == mmu::PagingMode::level4 || mode == mmu::PagingMode::level5) {
    const unsigned top = mode == mmu::PagingMode::level5 ? 56 : 47;  // 3.3.7.1: canonical addresses
    if (mmu::sign_extend(lin, top) != lin) {
      o.kind = mmu::OutcomeKind::general_protection;
      o.gp_reason = mmu::GpReason::non_canonical;
      if (trace) trace->decided_by = Rule::addr_canonical;
      return v;
    }
  }
  const Substitution base = bind_case(c);
  // The per-entry terms with this case's CPU state already in: each walk
  // step then substitutes only the level and the entry into a small term.
  const Expr rsvd_c = rsvd.substitute(base), leaf_c = leaf.substitute(base);
  auto at = [&](unsigned lvl, u64 e) {
    Substitution s(ctx);
    s.set_bv(level, lvl);
    s.set_bv(entry, e);
    return s;
  };
  auto at_full = [&](unsigned lvl, u64 e) {
    Substitution s = base;
    s.set_bv(level, lvl);
    s.set_bv(entry, e);
    return s;
  };
  static constexpr std::array<std::string_view, 6> kNames{"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
  auto step = [&](mmu::StepKind kind, unsigned lvl, u64 addr, u64 e) {
    if (trace) trace->steps.push_back({kind, mmu::Space::guest, lvl, kNames[lvl], addr, e, 0, Rule::none});
  };
  std::array<std::pair<u64, u64>, 5> used{};
  unsigned nused = 0;
  auto fault = [&](u64 kind, Rule rule) {
    Substitution s = base;
    s.set_bv(fault_kind, kind);
    o.kind = mmu::OutcomeKind::page_fault;
    o.error_code = number(error_code.substitute(s));
    o.cr2 = lin;
    // 4.8: A in the entries read before a fault is allowed, not required.
    for (unsigned i = 0; i < nused; ++i)
      if (!(used[i].second & bit(5))) mmu::merge_write(v.optional_writes, {mmu::Space::guest, used[i].first, used[i].second | bit(5)});
    if (trace) {
      trace->decided_by = rule;
      if (!trace->steps.empty()) trace->steps.back().rule = rule;
    }
    return v;
  };

  const bool four_byte = mode == mmu::PagingMode::bit32;
  const unsigned M = c.cpu.maxphyaddr;
  unsigned lvl = mode == mmu::PagingMode::bit32 ? 2 : mode == mmu::PagingMode::pae ? 3 : mode == mmu::PagingMode::level4 ? 4 : 5;
  u64 table = four_byte ? c.cpu.cr3 & bits(31, 12) : c.cpu.cr3 & bits(M - 1, 12);
  if (mode == mmu::PagingMode::pae) {  // 4.4.1: the PDPTEs are loaded with CR3
    const u64 pdpt = c.cpu.cr3 & bits(31, 5);
    std::array<u64, 4> pdptes{};
    for (unsigned i = 0; i < 4; ++i) {
      pdptes[i] = c.memory.read(pdpt + 8 * i);
      step(mmu::StepKind::pdpte_load, 3, pdpt + 8 * i, pdptes[i]);
      if ((pdptes[i] & 1) && truth(rsvd_c.substitute(at(3, pdptes[i])))) {
        o.kind = mmu::OutcomeKind::general_protection;
        o.gp_reason = mmu::GpReason::pdpte_reserved;
        if (trace) trace->decided_by = Rule::pdpte_load_reserved;
        return v;
      }
    }
    const u64 pdpte = pdptes[mmu::field(lin, 31, 30)];
    step(mmu::StepKind::entry, 3, pdpt + 8 * mmu::field(lin, 31, 30), pdpte);
    if (!(pdpte & 1)) return fault(sdm::kNotPresent, Rule::walk_not_present);
    table = pdpte & bits(M - 1, 12);
    lvl = 2;
  }

  u64 e = 0;
  Substitution rights = base;
  for (;; --lvl) {
    const u64 index = four_byte ? (lvl == 2 ? mmu::field(lin, 31, 22) : mmu::field(lin, 21, 12))
                                : mmu::field(lin, 12 + 9 * (lvl - 1) + 8, 12 + 9 * (lvl - 1));
    const u64 addr = table + index * (four_byte ? 4 : 8);
    e = c.memory.read(addr);
    step(mmu::StepKind::entry, lvl, addr, e);
    if (!(e & 1)) return fault(sdm::kNotPresent, Rule::walk_not_present);
    const Substitution s = at(lvl, e);
    if (truth(rsvd_c.substitute(s))) return fault(sdm::kReserved, trace ? first(rsvd_rules, at_full(lvl, e)) : Rule::rsvd_phys);
    used[nused++] = {addr, e};
    rights.set_bool(slots[lvl - 1].user, e & 0x4);
    rights.set_bool(slots[lvl - 1].writable, e & 0x2);
    rights.set_bool(slots[lvl - 1].xd, !four_byte && (e & bit(63)));
    if (truth(leaf_c.substitute(s))) break;
    table = four_byte ? e & bits(31, 12) : e & bits(M - 1, 12);
  }
  // Levels the walk did not reach (above a PAE PDE, below a large page) grant everything.
  const unsigned top_used = lvl + nused - 1;  // levels lvl..top_used were used
  for (unsigned l = 1; l <= 5; ++l) {
    if (l >= lvl && l <= top_used) continue;
    rights.set_bool(slots[l - 1].user, true);
    rights.set_bool(slots[l - 1].writable, true);
    rights.set_bool(slots[l - 1].xd, false);
  }
  const bool long_mode = mode == mmu::PagingMode::level4 || mode == mmu::PagingMode::level5;
  rights.set_bv(pkey, long_mode ? mmu::field(e, 62, 59) : 0);
  const bool pk_fault = truth(pk.substitute(rights));
  if (truth(perm.substitute(rights)) || pk_fault) {
    const Rule r = trace ? first(perm_rules, rights) : Rule::none;
    const Rule pr = trace && r == Rule::none ? first(pk_rules, rights) : Rule::none;
    return fault(pk_fault ? sdm::kProtectionKey : sdm::kProtection, r != Rule::none ? r : pr);
  }

  o.kind = mmu::OutcomeKind::ok;
  o.pa = number(pa.substitute(at_full(lvl, e)));
  o.page_size = four_byte ? (lvl == 2 ? u64{4} << 20 : 4096) : bit(12 + 9 * (lvl - 1));
  // 4.8: A in every entry used, D in the leaf for a write.
  for (unsigned i = 0; i < nused; ++i) {
    u64 value = used[i].second | bit(5);
    if (i + 1 == nused && c.access.kind == mmu::AccessKind::write) value |= bit(6);
    if (value != used[i].second) mmu::merge_write(o.writes, {mmu::Space::guest, used[i].first, value});
  }
  if (trace) trace->decided_by = Rule::access_ok;
  return v;
}

Evaluator::Evaluator() : impl_(std::make_unique<Impl>()) {}
Evaluator::~Evaluator() = default;

std::optional<std::string> Evaluator::unsupported(const mmu::Case& c) const {
  if (c.ept) return "EPT and nested walks are not encoded for the smt engine";
  if (c.access.shadow_stack) return "shadow-stack accesses are not encoded for the smt engine";
  return std::nullopt;
}

mmu::Verdict Evaluator::evaluate(const mmu::Case& c, mmu::Trace* trace) const {
  std::lock_guard<std::mutex> lock(mu_);
  return impl_->run(c, trace);
}

}  // namespace smt
