// The theorems. Each compares a lookup in the tables the C++ engine really
// builds (tabulated over the role space, smt/table.h) with the SDM rule from
// smt/rules.h, for every input; or states an invariant of the rules alone.
//
// The KVM side of each theorem mirrors how KVM indexes its tables
// (permission_fault(), the pkru_mask offset, rsvd_bits_mask[bit 7][level-1]);
// every value it reads is the engine's: table bytes, and the small virtual
// steps the lookup uses (smap_overridden, leaf_access, is_last_gpte,
// fault_error_code), each evaluated on its whole finite input domain.
#include <algorithm>
#include <sstream>

#include "model/builder.h"
#include "model/kvm/kvm314.h"
#include "model/validate.h"
#include "smt/theorem.h"

namespace smt {
namespace {

using mmu::bit;
using mmu::bits;
using mmu::kvm::ACC_EXEC;
using mmu::kvm::ACC_USER;
using mmu::kvm::ACC_WRITE;
using mmu::kvm::PFERR_FETCH;
using mmu::kvm::PFERR_IMPLICIT;
using mmu::kvm::PFERR_PK;
using mmu::kvm::PFERR_PRESENT;
using mmu::kvm::PFERR_RSVD;
using mmu::kvm::PFERR_USER;
using mmu::kvm::PFERR_WRITE;

std::string hex(u64 v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

const char* kind_name(u64 k) { return k == sdm::kRead ? "read" : k == sdm::kWrite ? "write" : "fetch"; }

std::string access_text(const Model& m, const sdm::Access& a) {
  std::string s = std::string(kind_name(m.value(a.kind))) + " at CPL " + std::to_string(m.value(a.cpl));
  if (m.holds(a.implicit)) s += " (implicit)";
  if (m.holds(a.ac)) s += " EFLAGS.AC=1";
  return s;
}

std::string rule_text(const Model& m, const std::vector<sdm::RuleTerm>& terms) {
  const mmu::Rule r = sdm::first_holding(m, terms);
  if (r == mmu::Rule::none) return "no rule fires";
  const mmu::RuleInfo& info = mmu::rule_info(r);
  return std::string(info.id) + " (SDM " + std::string(info.sdm) + ")";
}

// The access a model chose, applied to a case.
void apply_access(mmu::Case& c, const Model& m, const sdm::Access& a) {
  c.access.kind = static_cast<mmu::AccessKind>(m.value(a.kind));
  c.cpu.cpl = static_cast<unsigned>(m.value(a.cpl));
  c.access.implicit = m.holds(a.implicit);
  if (m.holds(a.ac)) c.cpu.rflags |= mmu::rflags::AC;
}

// Writes a chain ending at `leaf_level` with entry `leaf`; `upper` are the
// entries above it, top first.
void map_chain(mmu::Case& c, u64 leaf, unsigned leaf_level, const std::vector<u64>& upper) {
  mmu::ChainBuilder b(c, 0x1000);
  const u64 va = c.access.addr;
  switch (upper.size()) {
    case 0: b.map(va, leaf, leaf_level, {}); break;
    case 1: b.map(va, leaf, leaf_level, {upper[0]}); break;
    case 2: b.map(va, leaf, leaf_level, {upper[0], upper[1]}); break;
    case 3: b.map(va, leaf, leaf_level, {upper[0], upper[1], upper[2]}); break;
    default: b.map(va, leaf, leaf_level, {upper[0], upper[1], upper[2], upper[3]}); break;
  }
}

unsigned mode_levels(unsigned mode) { return mode == sdm::kMode32 ? 2 : mode == sdm::kModePae ? 3 : mode == sdm::kMode4 ? 4 : 5; }

// Upper entries for a walk from the top level down to `leaf_level` + 1:
// PAE PDPTEs carry only P; other entries `flags`.
std::vector<u64> uppers(unsigned mode, unsigned leaf_level, u64 flags) {
  std::vector<u64> up;
  for (unsigned l = mode_levels(mode); l > leaf_level; --l) up.push_back(mode == sdm::kModePae && l == 3 ? 0x1 : flags);
  return up;
}

CaseOrError checked(mmu::Case c, std::string name) {
  c.name = std::move(name);
  if (auto bad = mmu::validate(c)) return "the counterexample is not a valid case: " + bad->field + ": " + bad->message;
  return c;
}

// The page-fault error-code bits of an access, as KVM's walker forms them (pfec).
Expr pfec_of(Context& ctx, const sdm::Access& a) {
  auto f = [&](const Expr& b, unsigned n) { return ite(b, ctx.bv(u64{1} << n, 5), ctx.bv(0, 5)); };
  return f(a.write(), 1) | f(a.user(), 2) | f(a.fetch(), 4);
}

// One query per MAXPHYADDR (see Split).
Split maxphyaddr_split(const Expr& var) {
  Split sp{var, {}, "maxphyaddr"};
  for (u64 m = 32; m <= 52; ++m) sp.values.push_back(m);
  return sp;
}

// Fields of a tabulation: `first`, then the role's.
std::vector<Field> with_role(std::vector<Field> first, const RoleSpace& rs) {
  first.insert(first.end(), rs.fields().begin(), rs.fields().end());
  return first;
}

std::vector<Field> with_role_ept(std::vector<Field> first, const EptRoleSpace& rs) {
  first.insert(first.end(), rs.fields().begin(), rs.fields().end());
  return first;
}

// ---- T1: permissions[] ----------------------------------------------------

// The rights of the entry at level i + 1 of a walk (slot 0 is the leaf).
struct Slot {
  Expr u, w, xd;
};

std::vector<Slot> slot_vars(Context& ctx) {
  std::vector<Slot> s;
  for (unsigned i = 0; i < 5; ++i) {
    const std::string p = "level" + std::to_string(i + 1) + ".";
    s.push_back({ctx.bool_var(p + "us"), ctx.bool_var(p + "rw"), ctx.bool_var(p + "xd")});
  }
  return s;
}

// Levels whose entries carry U/S, R/W, XD: 32-bit 2, PAE 2 (PDPTEs carry none), 4, 5.
Expr rights_levels(Context& ctx, const sdm::Cpu& cpu) {
  return ite(cpu.is_mode(sdm::kMode32) || cpu.is_mode(sdm::kModePae), ctx.bv(2, 3),
             ite(cpu.is_mode(sdm::kMode4), ctx.bv(4, 3), ctx.bv(5, 3)));
}

Expr slots_domain(Context& ctx, const sdm::Cpu& cpu, const std::vector<Slot>& slots) {
  std::vector<Expr> d;
  const Expr n = rights_levels(ctx, cpu);
  for (unsigned i = 0; i < slots.size(); ++i) {
    // Levels the mode does not have grant everything (they are not there).
    d.push_back(ctx.bv(i, 3).uge(n).implies(slots[i].u && slots[i].w && !slots[i].xd));
    // No XD bit in 32-bit entries; with NXE = 0 bit 63 is reserved (T3's business).
    d.push_back((cpu.is_mode(sdm::kMode32) || !cpu.nxe).implies(!slots[i].xd));
  }
  return ctx.all(d);
}

// gpte_access(): ACC_USER = U/S, ACC_WRITE = R/W, ACC_EXEC = not XD.
Expr acc_of(const Slot& s) { return concat(concat(s.u.as_bv(), s.w.as_bv()), (!s.xd).as_bv()); }

u64 flags_of(const Model& m, const Slot& s) {
  return 0x1 | (m.holds(s.w) ? 0x2 : 0) | (m.holds(s.u) ? 0x4 : 0) | (m.holds(s.xd) ? bit(63) : 0);
}

std::vector<u64> permission_words(const mmu::kvm::Tables& t) {
  std::vector<u64> w(2, 0);
  for (unsigned b = 0; b < 16; ++b) w[b / 8] |= u64{t.permissions[b]} << (8 * (b % 8));
  return w;
}

// permissions[16] of every role, 128 bits per role (byte b = index b).
Expr permissions_term(Env& env, const RoleSpace& rs) {
  return env.memo("permissions", [&] {
    const auto& tables = env.tables();
    return tabulate_wide(env.ctx, rs.fields(), 128, [&](std::span<const unsigned> i) {
      return permission_words(tables[RoleSpace::index(i)]);
    });
  });
}

// 3.14's u8 permissions[16] of every role.
Expr k314_permissions_term(Env& env, const RoleSpace& rs) {
  return env.memo("permissions-3.14", [&] {
    const auto& tables = env.tables314();
    return tabulate_wide(env.ctx, rs.fields(), 128, [&](std::span<const unsigned> i) {
      const auto& p = tables[RoleSpace::index(i)].permissions;
      std::vector<u64> w(2, 0);
      for (unsigned b = 0; b < 16; ++b) w[b / 8] |= u64{p[b]} << (8 * (b % 8));
      return w;
    });
  });
}

Expr pkru_mask_term(Env& env, const RoleSpace& rs) {
  return env.memo("pkru_mask", [&] {
    const auto& tables = env.tables();
    return tabulate(env.ctx, rs.fields(), 32, [&](std::span<const unsigned> i) {
      return u64{tables[RoleSpace::index(i)].pkru_mask};
    });
  });
}

// permission_fault()'s lookup in `perm` (a permissions[16] table as 128 bits).
struct PermLookup {
  Expr fault, index, pte_access;
};

PermLookup perm_lookup(Env& env, const RoleSpace& rs, const sdm::Access& a, const std::vector<Slot>& slots,
                       const Expr& perm, const std::vector<Expr>& more_tables = {}, std::vector<Expr>* more_faults = nullptr) {
  Context& ctx = env.ctx;
  // smap_overridden(cpu, access) for every CPL, EFLAGS.AC, implicit flag and
  // access kind: bit ((kind * 2 + implicit) * 2 + ac) * 4 + cpl.
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  const Expr smap = env.memo("smap_overridden", [&] { return tabulate(ctx, rs.fields(), 48, [&](std::span<const unsigned> i) {
    mmu::CpuState c = cpu_state(RoleSpace::point(i));
    u64 out = 0;
    for (unsigned kind = 0; kind < 3; ++kind)
      for (unsigned implicit = 0; implicit < 2; ++implicit)
        for (unsigned ac = 0; ac < 2; ++ac)
          for (unsigned cpl = 0; cpl < 4; ++cpl) {
            c.cpl = cpl;
            c.rflags = mmu::rflags::FIXED1 | (ac ? mmu::rflags::AC : 0);
            const bool user = cpl == 3 && !implicit;
            const u64 access = (kind == 1 ? PFERR_WRITE : 0) | (kind == 2 ? PFERR_FETCH : 0) | (user ? PFERR_USER : 0) |
                               (implicit ? PFERR_IMPLICIT : 0);
            if (algo.smap_overridden(c, access)) out |= bit(((kind * 2 + implicit) * 2 + ac) * 4 + cpl);
          }
    return out;
  }); });
  const Expr smap_index = a.kind.zext_to(6).shl(4) | a.implicit.as_bv().zext_to(6).shl(3) |
                          a.ac.as_bv().zext_to(6).shl(2) | a.cpl.zext_to(6);
  const Expr not_smap = smap.lshr(smap_index.zext_to(48)).bit(0);

  // The walk's access: pte_access &= gpte_access at each level; the leaf gets
  // leaf_access(access above the leaf, access of the whole walk).
  Expr walk = acc_of(slots[0]), above = ctx.bv(7, 3);
  for (unsigned i = 1; i < slots.size(); ++i) {
    walk = walk & acc_of(slots[i]);
    above = above & acc_of(slots[i]);
  }
  const std::vector<Field> leaf_fields{{above, {0, 1, 2, 3, 4, 5, 6, 7}}, {walk, {0, 1, 2, 3, 4, 5, 6, 7}}};
  const Expr pte_access = tabulate(ctx, leaf_fields, 3, [&](std::span<const unsigned> i) {
    return algo.leaf_access(i[0], i[1]) & 7u;
  });

  // permission_fault(): index (pfec | (not_smap ? RSVD : 0)) >> 1, bit pte_access.
  const Expr index = (pfec_of(ctx, a) | ite(not_smap, ctx.bv(PFERR_RSVD, 5), ctx.bv(0, 5))).lshr(1).extract(3, 0);
  const Expr bitpos = index.zext_to(7).shl(3) | pte_access.zext_to(7);
  if (more_faults)
    for (const Expr& t : more_tables) more_faults->push_back(t.lshr(bitpos.zext_to(128)).bit(0));
  return {perm.lshr(bitpos.zext_to(128)).bit(0), index, pte_access};
}

// permission_fault()'s protection-key part with `mask` (a pkru_mask).
Expr pk_lookup(Context& ctx, const sdm::Access& a, const Expr& user_page, const Expr& pkey, const Expr& pkru,
               const Expr& mask) {
  // bits = (pkru >> 2 * pkey) & 3, ANDed with pkru_mask >> ((pfec & ~1) |
  // (user page ? RSVD : 0)); a fault when non-zero.
  const Expr offset = (pfec_of(ctx, a) | ite(user_page, ctx.bv(PFERR_RSVD, 5), ctx.bv(0, 5))).zext_to(32);
  const Expr key_bits = pkru.lshr(pkey.zext_to(32).shl(1)) & ctx.bv(3, 32);
  return mask.non_zero() && (key_bits & mask.lshr(offset)).non_zero();
}

// The features the 3.14 engine models: no SMAP, no protection keys, no
// 5-level paging (it reports those cases as unsupported).
Expr features_314(const sdm::Cpu& cpu) { return !cpu.smap && !cpu.pke && !cpu.pks && !cpu.is_mode(sdm::kMode5); }

// T1 (mainline layout, the SMAP-override index) and T6-permissions (3.14's
// u8 permissions[16], indexed by pfec >> 1 alone).
Query permissions_query(Env& env, bool k314) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const RoleSpace rs(cpu);
  const std::vector<Slot> slots = slot_vars(ctx);
  Expr domain = cpu.domain() && a.domain() && !cpu.pks && slots_domain(ctx, cpu, slots);
  if (k314) domain = domain && features_314(cpu);

  // SDM 4.6.1 on the combined rights.
  std::vector<sdm::EntryRights> er;
  for (const Slot& s : slots) er.push_back({s.u, s.w, s.xd});
  const sdm::Rights rights = sdm::combine(ctx, er);
  const auto rules = sdm::permission_rules(ctx, cpu, a, rights);
  const Expr sdm_fault = sdm::permission_fault(ctx, cpu, a, rights);

  // KVM: permissions[16] per role, 128 bits (byte b = index b).
  PermLookup look = perm_lookup(env, rs, a, slots, permissions_term(env, rs));
  if (k314) {
    // 3.14's permission_fault(): permissions[pfec >> 1], no SMAP slot.
    const Expr perm = k314_permissions_term(env, rs);
    look.index = pfec_of(ctx, a).lshr(1).extract(3, 0);
    const Expr bitpos = look.index.zext_to(7).shl(3) | look.pte_access.zext_to(7);
    look.fault = perm.lshr(bitpos.zext_to(128)).bit(0);
  }
  const Expr& kvm_fault = look.fault;
  const Expr& index = look.index;
  const Expr& pte_access = look.pte_access;
  const std::string theorem = k314 ? "T6-permissions" : "T1-permissions";

  Query q{domain, kvm_fault == sdm_fault, {}, {}, {}};
  q.describe = [=](const Model& m) {
    std::string s = describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + "; rights (leaf first):";
    for (const Slot& sl : slots)
      s += std::string(" ") + (m.holds(sl.u) ? "U" : "S") + (m.holds(sl.w) ? "W" : "R") + (m.holds(sl.xd) ? "X" : "");
    s += "; SDM: " + std::string(m.holds(sdm_fault) ? "fault, " : "no fault, ") + rule_text(m, rules);
    s += "; kvm: permissions[" + std::to_string(m.value(index)) + "] bit " + std::to_string(m.value(pte_access)) + " = " +
         std::to_string(m.value(kvm_fault.as_bv()));
    return s;
  };
  q.to_case = [=](const Model& m) -> CaseOrError {
    const RolePoint p = RoleSpace::from_model(m, cpu);
    mmu::Case c = base_case(p);
    apply_access(c, m, a);
    const unsigned n = p.mode == sdm::kMode32 || p.mode == sdm::kModePae ? 2 : mode_levels(p.mode);
    std::vector<u64> up;
    if (p.mode == sdm::kModePae) up.push_back(0x1);
    for (unsigned l = n; l > 1; --l) up.push_back(flags_of(m, slots[l - 1]));
    map_chain(c, 0x5000 | flags_of(m, slots[0]), 1, up);
    return checked(std::move(c), "prove " + theorem + " counterexample");
  };
  return q;
}

Query t1_permissions(Env& env) { return permissions_query(env, false); }
Query t6_permissions(Env& env) { return permissions_query(env, true); }

// ---- T2: pkru_mask --------------------------------------------------------

Query t2_pkru(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const RoleSpace rs(cpu);
  const Expr user_page = ctx.bool_var("page.us");
  const Expr pkey = ctx.bv_var("leaf.pkey", 4);
  const Expr pkru = ctx.bv_var("pkru", 32), pkrs = ctx.bv_var("ia32_pkrs", 32);
  // Keys live in bits 62:59 of 4/5-level leaves; KVM takes key 0 elsewhere.
  const Expr domain = cpu.domain() && a.domain() && !cpu.pks && (!cpu.long_mode()).implies(pkey == 0);

  const auto rules = sdm::pk_rules(ctx, cpu, a, user_page, pkey, pkru, pkrs);
  const Expr sdm_fault = sdm::pk_fault(ctx, cpu, a, user_page, pkey, pkru, pkrs);

  const Expr mask = pkru_mask_term(env, rs);
  const Expr kvm_fault = pk_lookup(ctx, a, user_page, pkey, pkru, mask);
  Query q{domain, kvm_fault == sdm_fault, {}, {}, {}};
  q.describe = [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + "; " +
           (m.holds(user_page) ? "user" : "supervisor") + " page, key " + std::to_string(m.value(pkey)) + ", PKRU " +
           hex(m.value(pkru)) + "; SDM: " + (m.holds(sdm_fault) ? "PK fault, " : "no PK fault, ") + rule_text(m, rules) +
           "; kvm: pkru_mask " + hex(m.value(mask)) + " -> " + (m.holds(kvm_fault) ? "PK fault" : "no PK fault");
  };
  q.to_case = [=](const Model& m) -> CaseOrError {
    const RolePoint p = RoleSpace::from_model(m, cpu);
    mmu::Case c = base_case(p);
    apply_access(c, m, a);
    c.cpu.pkru = static_cast<mmu::u32>(m.value(pkru));
    c.cpu.pkrs = static_cast<mmu::u32>(m.value(pkrs));
    const u64 leaf = 0x5000 | 0x3 | (m.holds(user_page) ? 0x4 : 0) | (p.mode >= sdm::kMode4 ? m.value(pkey) << 59 : 0);
    map_chain(c, leaf, 1, uppers(p.mode, 1, 0x7));
    return checked(std::move(c), "prove T2-pkru counterexample");
  };
  return q;
}

// ---- T10: the context after a CR0/CR4/EFER write -----------------------------

// The bits a guest flips with one MOV to CR0/CR4 or WRMSR to EFER without
// leaving its paging mode, as RoleSpace field indices.
constexpr unsigned kToggleField[] = {2 /* CR0.WP */, 3 /* CR4.SMEP */, 4 /* CR4.SMAP */,
                                     5 /* CR4.PKE */, 1 /* EFER.NXE */, 6 /* CR4.PSE */};
constexpr const char* kToggleName[] = {"CR0.WP", "CR4.SMEP", "CR4.SMAP", "CR4.PKE", "EFER.NXE", "CR4.PSE"};

Query t10_context_reset(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);  // the state after the write
  const sdm::Access a = sdm::Access::vars(ctx);
  const RoleSpace rs(cpu);
  const std::vector<Slot> slots = slot_vars(ctx);
  const Expr toggle = ctx.bv_var("toggled", 3);
  const Expr pkey = ctx.bv_var("leaf.pkey", 4), pkru = ctx.bv_var("pkru", 32);
  const Expr domain = cpu.domain() && a.domain() && !cpu.pks && slots_domain(ctx, cpu, slots) && toggle.ult(ctx.bv(6, 3)) &&
                      (!cpu.long_mode()).implies(pkey == 0);

  // The tables the vCPU uses after the write: rebuilt for the new role when
  // needs_reset(old role, new role), else the old role's; against the tables
  // built for the new role (which T1 and T2 compare with the SDM).
  const auto& tables = env.tables();
  const auto& roles = env.roles();
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  auto in_use = [&](std::span<const unsigned> i) -> const mmu::kvm::Tables& {
    std::array<unsigned, RoleSpace::kFields> old{};
    std::copy(i.begin() + 1, i.end(), old.begin());
    old[kToggleField[i[0]]] ^= 1;
    const std::size_t now = RoleSpace::index(i.subspan(1)), before = RoleSpace::index(old);
    return algo.needs_reset(roles[before], roles[now]) ? tables[now] : tables[before];
  };
  const std::vector<Field> fields = with_role({{toggle, {0, 1, 2, 3, 4, 5}}}, rs);
  const Expr used_perm = tabulate_wide(ctx, fields, 128, [&](std::span<const unsigned> i) { return permission_words(in_use(i)); });
  const Expr used_mask = tabulate(ctx, fields, 32, [&](std::span<const unsigned> i) { return u64{in_use(i).pkru_mask}; });
  const Expr fresh_perm = permissions_term(env, rs);
  const Expr fresh_mask = pkru_mask_term(env, rs);
  std::vector<Expr> used_fault;
  const PermLookup fresh = perm_lookup(env, rs, a, slots, fresh_perm, {used_perm}, &used_fault);
  const Expr user_page = fresh.pte_access.bit(2);
  const Expr fresh_pk = pk_lookup(ctx, a, user_page, pkey, pkru, fresh_mask);
  const Expr used_pk = pk_lookup(ctx, a, user_page, pkey, pkru, used_mask);

  // The verdict permission_fault() returns: a fault (either check), and PK in it.
  const Expr claim = (used_fault[0] || used_pk) == (fresh.fault || fresh_pk) && used_pk == fresh_pk;
  Query q{domain, claim, {}, {}, {}};
  q.describe = [=](const Model& m) {
    std::string s = std::string(kToggleName[m.value(toggle)]) + " just toggled, now " +
                    describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + "; rights (leaf first):";
    for (const Slot& sl : slots)
      s += std::string(" ") + (m.holds(sl.u) ? "U" : "S") + (m.holds(sl.w) ? "W" : "R") + (m.holds(sl.xd) ? "X" : "");
    auto verdict = [&](const Expr& perm, const Expr& pk) {
      return std::string(m.holds(perm) ? "access-rights fault" : "no access-rights fault") +
             (m.holds(pk) ? ", PK fault" : ", no PK fault");
    };
    return s + "; tables for the new role: " + verdict(fresh.fault, fresh_pk) +
           "; tables in use: " + verdict(used_fault[0], used_pk);
  };
  q.to_case = [=](const Model& m) -> CaseOrError {
    const RolePoint p = RoleSpace::from_model(m, cpu);
    mmu::Case c = base_case(p);
    RolePoint before = p;
    switch (m.value(toggle)) {
      case 0: before.wp = !before.wp; break;
      case 1: before.smep = !before.smep; break;
      case 2: before.smap = !before.smap; break;
      case 3: before.pke = !before.pke; break;
      case 4: before.nxe = !before.nxe; break;
      default: before.pse = !before.pse; break;
    }
    c.history.push_back(cpu_state(before));
    apply_access(c, m, a);
    c.cpu.pkru = static_cast<mmu::u32>(m.value(pkru));
    const unsigned n = p.mode == sdm::kMode32 || p.mode == sdm::kModePae ? 2 : mode_levels(p.mode);
    std::vector<u64> up;
    if (p.mode == sdm::kModePae) up.push_back(0x1);
    for (unsigned l = n; l > 1; --l) up.push_back(flags_of(m, slots[l - 1]));
    const u64 key = p.mode >= sdm::kMode4 ? m.value(pkey) << 59 : 0;
    map_chain(c, 0x5000 | flags_of(m, slots[0]) | key, 1, up);
    return checked(std::move(c), "prove T10-context-reset counterexample");
  };
  return q;
}

// ---- T3: rsvd_bits_mask ---------------------------------------------------

// The level and entry of one walk step, with the domain every mode shares:
// a present entry at a level the mode has; 4-byte entries in 32-bit paging.
struct Step {
  Expr level, entry;
};

Step step_vars(Context& ctx) { return {ctx.bv_var("level", 3), ctx.bv_var("entry", 64)}; }

Expr step_domain(Context& ctx, const sdm::Cpu& cpu, const Step& s, const Expr& top) {
  return s.level.uge(ctx.bv(1, 3)) && s.level.ule(top) && s.entry.bit(0) &&
         cpu.is_mode(sdm::kMode32).implies(s.entry.extract(63, 32) == 0);
}

// A case whose walk meets `entry` at `level`, every entry above it 0x7.
CaseOrError step_case(const RolePoint& p, unsigned level, u64 entry, const char* theorem) {
  mmu::Case c = base_case(p);
  map_chain(c, entry, level, uppers(p.mode, level, 0x7));
  return checked(std::move(c), std::string("prove ") + theorem + " counterexample");
}


// T3 (mainline: rsvd_bits_mask[2][5] and the PDPTE mask load_pdptrs() uses)
// and T6-reserved-bits (3.14: rsvd_bits_mask[2][4], [0][2] for PAE PDPTEs).
Query reserved_query(Env& env, bool k314) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const RoleSpace rs(cpu);
  const Step s = step_vars(ctx);
  Expr domain = cpu.domain() && step_domain(ctx, cpu, s, sdm::levels(ctx, cpu));
  if (k314) domain = domain && features_314(cpu);

  const auto rules = sdm::reserved_rules(ctx, cpu, s.level, s.entry);
  const Expr sdm_rsvd = sdm::reserved(ctx, cpu, s.level, s.entry);

  // KVM: rsvd_bits_mask[bit 7][level - 1] in the walk; a PAE PDPTE is checked
  // against the load_pdptrs() mask instead.
  const auto& tables = env.tables();
  const std::vector<Field> fields =
      with_role({{s.level, {1, 2, 3, 4, 5}}, {s.entry.extract(7, 7), {0, 1}}}, rs);
  const Expr mask = k314 ? tabulate(ctx, fields, 64, [&](std::span<const unsigned> i) {
    const unsigned level = 1 + i[0], ps = i[1];
    if (level > 4) return u64{0};  // no 5-level paging in 3.14 (outside the domain)
    const auto& m = env.tables314()[RoleSpace::index(i.subspan(2))].rsvd_bits_mask;
    // load_pdptrs() checks every present PDPTE against [0][2], whatever bit 7.
    if (RoleSpace::point(i.subspan(2)).mode == sdm::kModePae && level == 3) return m[0][2];
    return m[ps][level - 1];
  }) : tabulate(ctx, fields, 64, [&](std::span<const unsigned> i) {
    const unsigned level = 1 + i[0], ps = i[1];
    const auto& t = tables[RoleSpace::index(i.subspan(2))];
    if (RoleSpace::point(i.subspan(2)).mode == sdm::kModePae && level == 3) return t.pdptr_rsvd;
    return t.rsvd_bits_mask[ps][level - 1];
  });
  const Expr kvm_rsvd = (s.entry & mask).non_zero();

  Query q{domain, kvm_rsvd == sdm_rsvd, {}, {}, {}};
  const Expr pse_pde = cpu.is_mode(sdm::kMode32) && s.level == 2 && s.entry.bit(7) && cpu.pse;
  if (!k314) {
    // docs/kvm.md finding 2: mainline fixes the PSE-36 reserved bits at 17..21.
    // KVM's own 6.1 code (kvm-src, docs/kvm-src.md) takes PSE-36 as always
    // present (is_cpuid_PSE36() returns 1): the same finding without CPUID PSE-36.
    const bool src = env.subject.engine.starts_with("kvm-src");
    q.known.emplace_back("pse36-fixed-bits", src ? pse_pde : pse_pde && cpu.pse36);
    // kvm-src-tdp: 1-GByte pages as the host has them, whatever the guest's CPUID.
    if (env.subject.engine == "kvm-src-tdp")
      q.known.emplace_back("1g-page-without-cpuid-support", (cpu.is_mode(sdm::kMode4) || cpu.is_mode(sdm::kMode5)) &&
                                                                s.level == 3 && s.entry.bit(7) && !cpu.gbpages);
  } else {
    // 3.14 (docs/kvm.md, "The 3.14 form"; replay/known.h): 17..21 with or
    // without PSE-36; bit 8 of PML4Es and non-leaf PDPTEs on every vendor;
    // no 1-GByte support check; PAE PDPTE bits 6:5 unchecked.
    const Expr l4 = cpu.is_mode(sdm::kMode4);
    q.known.emplace_back("pse36-fixed-bits", pse_pde);
    q.known.emplace_back("nonleaf-bit8-every-vendor",
                         l4 && s.entry.bit(8) && (s.level == 4 || (s.level == 3 && !s.entry.bit(7))));
    q.known.emplace_back("1g-page-without-cpuid-support", l4 && s.level == 3 && s.entry.bit(7) && !cpu.gbpages);
    q.known.emplace_back("pae-pdpte-bits-6-5-unchecked",
                         cpu.is_mode(sdm::kModePae) && s.level == 3 && s.entry.any(mmu::bits(6, 5)));
  }
  const std::string theorem = k314 ? "T6-reserved-bits" : "T3-reserved-bits";
  q.describe = [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; level " + std::to_string(m.value(s.level)) + " entry " +
           hex(m.value(s.entry)) + "; SDM: " + (m.holds(sdm_rsvd) ? "reserved, " : "not reserved, ") + rule_text(m, rules) +
           "; kvm: mask " + hex(m.value(mask)) + " -> " + (m.holds(kvm_rsvd) ? "reserved" : "not reserved");
  };
  q.to_case = [=](const Model& m) {
    return step_case(RoleSpace::from_model(m, cpu), static_cast<unsigned>(m.value(s.level)), m.value(s.entry),
                     theorem.c_str());
  };
  q.split = maxphyaddr_split(cpu.maxphyaddr);
  return q;
}

Query t3_reserved(Env& env) { return reserved_query(env, false); }
Query t6_reserved(Env& env) { return reserved_query(env, true); }

// ---- T5: last level -------------------------------------------------------

// T5 (is_last_gpte()) and T6-last-level (3.14's last_pte_bitmap).
Query last_level_query(Env& env, bool k314) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const RoleSpace rs(cpu);
  const Step s = step_vars(ctx);
  // KVM's walker meets levels 2..1 in PAE mode (the PDPTEs are loaded with
  // CR3); a step whose entry has reserved bits faults before any leaf test.
  const Expr walk_top = ite(cpu.is_mode(sdm::kModePae), ctx.bv(2, 3), sdm::levels(ctx, cpu));
  Expr domain = cpu.domain() && step_domain(ctx, cpu, s, walk_top) && !sdm::reserved(ctx, cpu, s.level, s.entry);
  if (k314) domain = domain && features_314(cpu);

  const Expr sdm_leaf = sdm::leaf(ctx, cpu, s.level, s.entry);
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  const std::vector<Field> fields = with_role({{s.level, {1, 2, 3, 4, 5}}, {s.entry.extract(7, 7), {0, 1}}}, rs);
  // is_last_gpte(role, level, gpte), evaluated on P | PS: bit 7 is the only
  // entry bit KVM's test reads.
  const auto& roles = env.roles();
  Expr kvm_last = ctx.boolean(false);
  if (!k314) {
    kvm_last = tabulate(ctx, fields, 1, [&](std::span<const unsigned> i) {
      const mmu::kvm::CpuRole& role = roles[RoleSpace::index(i.subspan(2))];
      return u64{algo.is_last_gpte(role, 1 + i[0], PFERR_PRESENT | (u64{i[1]} << 7))};
    }).bit(0);
  } else {
    // 3.14: bit (level - 1) | (PS << 2) of last_pte_bitmap.
    const Expr bitmap = tabulate(ctx, rs.fields(), 8, [&](std::span<const unsigned> i) {
      return u64{env.tables314()[RoleSpace::index(i)].last_pte_bitmap};
    });
    const Expr index = (s.level - ctx.bv(1, 3)) | ite(s.entry.bit(7), ctx.bv(4, 3), ctx.bv(0, 3));
    kvm_last = bitmap.lshr(index.zext_to(8)).bit(0);
  }
  const std::string theorem = k314 ? "T6-last-level" : "T5-last-level";

  Query q{domain, kvm_last == sdm_leaf, {}, {}, {}};
  q.describe = [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; level " + std::to_string(m.value(s.level)) + " entry " +
           hex(m.value(s.entry)) + "; SDM: " + (m.holds(sdm_leaf) ? "leaf" : "not a leaf") +
           "; kvm: last = " + std::to_string(m.value(kvm_last.as_bv()));
  };
  q.to_case = [=](const Model& m) {
    return step_case(RoleSpace::from_model(m, cpu), static_cast<unsigned>(m.value(s.level)), m.value(s.entry),
                     theorem.c_str());
  };
  return q;
}

Query t5_last_level(Env& env) { return last_level_query(env, false); }
Query t6_last_level(Env& env) { return last_level_query(env, true); }

// ---- T7: the error code ---------------------------------------------------

// Whether a walk can end in a fault of `kind` for this role and access; the
// counterexample builder below makes one.
Expr fault_realizable(const sdm::Cpu& cpu, const sdm::Access& a, const Expr& kind) {
  const Expr rsvd_ok = !cpu.is_mode(sdm::kMode32) || cpu.pse;
  const Expr prot_ok = a.user() || (a.write() && cpu.wp) || (a.fetch() && (cpu.smep || cpu.xd_enabled())) ||
                       (!a.fetch() && cpu.smap && (a.implicit || !a.ac));
  const Expr pk_ok = cpu.long_mode() && cpu.pke && !a.fetch();
  return (kind == sdm::kReserved).implies(rsvd_ok) && (kind == sdm::kProtection).implies(prot_ok) &&
         (kind == sdm::kProtectionKey).implies(pk_ok);
}

// T7 and T6-error-code (3.14's walker error path, on the features it models).
Query error_code_query(Env& env, bool k314) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const RoleSpace rs(cpu);
  const Expr kind = ctx.bv_var("fault.kind", 2);
  Expr domain = cpu.domain() && a.domain() && !cpu.pks && fault_realizable(cpu, a, kind);
  if (k314) domain = domain && features_314(cpu);
  const std::string theorem = k314 ? "T6-error-code" : "T7-error-code";

  const Expr sdm_ec = sdm::error_code(ctx, cpu, a, kind).extract(15, 0);
  // fault_error_code(role, base, access) for each fault kind (base 0, P|RSVD,
  // P, P|PK) and access (kind, user, implicit): 16 bits at
  // (((fault * 3 + kind) * 2 + user) * 2 + implicit) * 16.
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  static constexpr u64 kBase[] = {0, PFERR_PRESENT | PFERR_RSVD, PFERR_PRESENT, PFERR_PRESENT | PFERR_PK};
  const auto& roles = env.roles();
  const Expr table = tabulate_wide(ctx, rs.fields(), 48 * 16, [&](std::span<const unsigned> i) {
    const mmu::kvm::CpuRole& role = roles[RoleSpace::index(i)];
    std::vector<u64> w(12, 0);
    for (unsigned f = 0; f < 4; ++f)
      for (unsigned k = 0; k < 3; ++k)
        for (unsigned user = 0; user < 2; ++user)
          for (unsigned implicit = 0; implicit < 2; ++implicit) {
            const u64 access = (k == 1 ? PFERR_WRITE : 0) | (k == 2 ? PFERR_FETCH : 0) | (user ? PFERR_USER : 0) |
                               (implicit ? PFERR_IMPLICIT : 0);
            const u64 ec = algo.fault_error_code(role, kBase[f], access) & 0xffff;
            const unsigned slot = ((f * 3 + k) * 2 + user) * 2 + implicit;
            w[slot / 4] |= ec << (16 * (slot % 4));
          }
    return w;
  });
  const Expr k10 = kind.zext_to(10);
  const Expr slot = ((k10.shl(1) + k10 + a.kind.zext_to(10)).shl(2)) | a.user().as_bv().zext_to(10).shl(1) |
                    a.implicit.as_bv().zext_to(10);
  const Expr kvm_ec = table.lshr(slot.shl(4).zext_to(48 * 16)).extract(15, 0);

  Query q{domain, kvm_ec == sdm_ec, {}, {}, {}};
  // docs/kvm.md finding 1: I/D in 32-bit paging with EFER.NX and no SMEP
  // (mainline; 3.14's walker did not do it).
  if (!k314) q.known.emplace_back("id-in-32bit-paging", cpu.is_mode(sdm::kMode32) && a.fetch() && cpu.nxe && !cpu.smep);
  q.describe = [=](const Model& m) {
    static constexpr const char* kKinds[] = {"not present", "reserved bit", "protection", "protection key"};
    return describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + "; " + kKinds[m.value(kind)] +
           " fault; SDM error code " + hex(m.value(sdm_ec)) + ", kvm " + hex(m.value(kvm_ec));
  };
  q.to_case = [=](const Model& m) -> CaseOrError {
    const RolePoint p = RoleSpace::from_model(m, cpu);
    mmu::Case c = base_case(p);
    apply_access(c, m, a);
    const u64 k = m.value(kind);
    const bool user = m.holds(a.user()), fetch = m.holds(a.fetch()), write = m.holds(a.write());
    switch (k) {
      case sdm::kNotPresent: map_chain(c, 0, 1, uppers(p.mode, 1, 0x7)); break;
      case sdm::kReserved:
        if (p.mode == sdm::kMode32) map_chain(c, 0x400000 | 0x87 | bit(21), 2, {});  // 4-MByte PDE, bit 21
        else if (p.mode == sdm::kModePae) map_chain(c, 0x5000 | 0x7 | bit(62), 1, uppers(p.mode, 1, 0x7));
        else {
          std::vector<u64> up = uppers(p.mode, 1, 0x7);
          up.front() |= bit(7);  // PS in the PML4E/PML5E
          map_chain(c, 0x5000 | 0x7, 1, up);
        }
        break;
      case sdm::kProtection: {
        u64 leaf = 0x5000 | 0x7;
        if (user) leaf &= ~u64{0x4};                                   // perm.user-supervisor
        else if (write && p.wp) leaf &= ~u64{0x2};                     // perm.sup-write-wp
        else if (fetch && !p.smep) leaf |= bit(63);                    // perm.xd (NXE, not 32-bit)
        map_chain(c, leaf, 1, uppers(p.mode, 1, 0x7));                  // else perm.smep / perm.smap on a user page
        break;
      }
      default:
        map_chain(c, 0x5000 | 0x7 | (u64{1} << 59), 1, uppers(p.mode, 1, 0x7));
        c.cpu.pkru = 1u << 2;  // AD for key 1
        break;
    }
    return checked(std::move(c), "prove " + theorem + " counterexample");
  };
  return q;
}

Query t7_error_code(Env& env) { return error_code_query(env, false); }
Query t6_error_code(Env& env) { return error_code_query(env, true); }

// ---- EPT: T4 misconfigurations, T5e last level, T8 permissions, T9 qualification

// A case under L1's EPT with guest paging off (the linear address is the
// guest-physical address, 3C Table 28-7: a user-mode, writable address).
mmu::Case ept_base_case(const EptRolePoint& p) {
  mmu::Case c;
  c.cpu.features = mmu::FeatureSet::all();
  c.cpu.maxphyaddr = p.maxphyaddr;
  c.cpu.vendor = mmu::Vendor::intel;
  c.ept = ept_state(p);
  c.access.addr = 0x1234'5000;
  return c;
}

void map_ept(mmu::EptState& ept, u64 gpa, u64 leaf, unsigned leaf_level, const std::vector<u64>& upper) {
  mmu::EptChainBuilder b(ept);
  switch (upper.size()) {
    case 0: b.map(gpa, leaf, leaf_level, {}); break;
    case 1: b.map(gpa, leaf, leaf_level, {upper[0]}); break;
    case 2: b.map(gpa, leaf, leaf_level, {upper[0], upper[1]}); break;
    case 3: b.map(gpa, leaf, leaf_level, {upper[0], upper[1], upper[2]}); break;
    default: b.map(gpa, leaf, leaf_level, {upper[0], upper[1], upper[2], upper[3]}); break;
  }
}

// An access whose EPT walk meets `entry` at `level`, every EPT entry above
// RWX and XU: a read when the entry grants R, else a fetch (with guest paging off
// the address is user-mode, so under MBEC XU counts), so that the entry, as a
// leaf, lets the access through.
CaseOrError ept_step_case(const EptRolePoint& p, unsigned level, u64 entry, const char* theorem) {
  mmu::Case c = ept_base_case(p);
  if (!(entry & 1)) c.access.kind = mmu::AccessKind::fetch;
  map_ept(*c.ept, c.access.addr, entry, level, std::vector<u64>(p.levels - level, 0x407));
  return checked(std::move(c), std::string("prove ") + theorem + " counterexample");
}

struct EptEnv {
  std::vector<mmu::kvm::EptRole> roles;
  std::vector<mmu::kvm::EptTables> tables;
  explicit EptEnv(const mmu::kvm::MmuAlgorithm& algo) : roles(EptRoleSpace::kPoints), tables(EptRoleSpace::kPoints) {
    for (std::size_t i = 0; i < EptRoleSpace::kPoints; ++i) {
      roles[i] = ept_role_of(EptRoleSpace::point_at(i));
      tables[i] = algo.build_ept(roles[i]);
    }
  }
};

Query t4_ept_misconfig(Env& env) {
  Context& ctx = env.ctx;
  const sdm::EptCaps caps = sdm::EptCaps::vars(ctx);
  const EptRoleSpace rs(caps);
  const Step s = step_vars(ctx);
  const Expr domain = caps.domain() && s.level.uge(ctx.bv(1, 3)) && s.level.ule(caps.levels);
  const Expr sdm_present = sdm::ept_present(ctx, caps, s.entry);
  const auto rules = sdm::ept_misconfig_rules(ctx, caps, s.level, s.entry);
  const Expr sdm_bad = sdm::ept_misconfig(ctx, caps, s.level, s.entry);

  const EptEnv ee(env.algo());
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  const Expr xu = s.entry.extract(10, 10);
  // is_present_ept_gpte(role, entry), on bits 2:0 and 10 (the bits it may read).
  const Expr kvm_present = tabulate(ctx, with_role_ept({{s.entry.extract(2, 0), {0, 1, 2, 3, 4, 5, 6, 7}}, {xu, {0, 1}}}, rs), 1,
                                    [&](std::span<const unsigned> i) {
                                      return u64{algo.is_present_ept_gpte(ee.roles[EptRoleSpace::index(i.subspan(2))],
                                                                          i[0] | (u64{i[1]} << 10))};
                                    }).bit(0);
  const Expr mask = tabulate(ctx, with_role_ept({{s.level, {1, 2, 3, 4, 5}}, {s.entry.extract(7, 7), {0, 1}}}, rs), 64,
                             [&](std::span<const unsigned> i) {
                               return ee.tables[EptRoleSpace::index(i.subspan(2))].rsvd_bits_mask[i[1]][i[0]];
                             });
  const Expr bad_mt_xwr = tabulate(ctx, rs.fields(), 64, [&](std::span<const unsigned> i) {
    return ee.tables[EptRoleSpace::index(i)].bad_mt_xwr;
  });
  // The walker's lookup: bad_mt_xwr bit (entry bits 5:0), with XU in the X
  // slot under MBEC (an XU-only entry is execute-only).
  const Expr mt_xwr = s.entry.extract(5, 0) | ite(caps.mbec && s.entry.bit(10), ctx.bv(4, 6), ctx.bv(0, 6));
  const Expr kvm_bad = (s.entry & mask).non_zero() || bad_mt_xwr.lshr(mt_xwr.zext_to(64)).bit(0);

  Query q{domain, kvm_present == sdm_present && sdm_present.implies(kvm_bad == sdm_bad), {}, {}, {}};
  // docs/kvm-src.md: KVM's nested EPT MMU knows one huge-page level
  // (ept_caps_to_lpage_level()), so the 1-GByte capability alone lets 2-MByte
  // leaves through: a finding about KVM (found in its own code, kvm-src; the
  // kvm engine models it).
  q.known.emplace_back("ept-1g-cap-allows-2m-pages", caps.pages_1g && !caps.pages_2m && s.level == 2 && s.entry.bit(7));
  q.describe = [=](const Model& m) {
    return describe(EptRoleSpace::from_model(m, caps)) + "; level " + std::to_string(m.value(s.level)) + " EPT entry " +
           hex(m.value(s.entry)) + "; SDM: " + (m.holds(sdm_present) ? "present, " : "not present, ") +
           (m.holds(sdm_bad) ? "misconfigured, " : "not misconfigured, ") + rule_text(m, rules) + "; kvm: " +
           (m.holds(kvm_present) ? "present, " : "not present, ") + "mask " + hex(m.value(mask)) + ", bad_mt_xwr " +
           hex(m.value(bad_mt_xwr)) + " -> " + (m.holds(kvm_bad) ? "misconfigured" : "not misconfigured");
  };
  q.to_case = [=](const Model& m) {
    return ept_step_case(EptRoleSpace::from_model(m, caps), static_cast<unsigned>(m.value(s.level)), m.value(s.entry),
                         "T4-ept-misconfig");
  };
  q.split = maxphyaddr_split(caps.maxphyaddr);
  return q;
}

Query t5e_ept_last_level(Env& env) {
  Context& ctx = env.ctx;
  const sdm::EptCaps caps = sdm::EptCaps::vars(ctx);
  const EptRoleSpace rs(caps);
  const Step s = step_vars(ctx);
  const Expr domain = caps.domain() && s.level.uge(ctx.bv(1, 3)) && s.level.ule(caps.levels) &&
                      sdm::ept_present(ctx, caps, s.entry) && !sdm::ept_misconfig(ctx, caps, s.level, s.entry);
  const Expr sdm_leaf = sdm::ept_leaf(ctx, caps, s.level, s.entry);
  const EptEnv ee(env.algo());
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  // is_last_ept_gpte(role, level, R | PS): bit 7 is the entry bit the test reads.
  const Expr kvm_last = tabulate(ctx, with_role_ept({{s.level, {1, 2, 3, 4, 5}}, {s.entry.extract(7, 7), {0, 1}}}, rs), 1,
                                 [&](std::span<const unsigned> i) {
                                   return u64{algo.is_last_ept_gpte(ee.roles[EptRoleSpace::index(i.subspan(2))], 1 + i[0],
                                                                    1 | (u64{i[1]} << 7))};
                                 }).bit(0);
  Query q{domain, kvm_last == sdm_leaf, {}, {}, {}};
  q.describe = [=](const Model& m) {
    return describe(EptRoleSpace::from_model(m, caps)) + "; level " + std::to_string(m.value(s.level)) + " EPT entry " +
           hex(m.value(s.entry)) + "; SDM: " + (m.holds(sdm_leaf) ? "leaf" : "not a leaf") +
           "; kvm: is_last_ept_gpte = " + std::to_string(m.value(kvm_last.as_bv()));
  };
  q.to_case = [=](const Model& m) {
    return ept_step_case(EptRoleSpace::from_model(m, caps), static_cast<unsigned>(m.value(s.level)), m.value(s.entry),
                         "T5e-ept-last-level");
  };
  return q;
}

// EPT rights of the entry at level i + 1 (slot 0 is the leaf).
struct EptSlot {
  Expr r, w, x, xu;
};

std::vector<EptSlot> ept_slot_vars(Context& ctx) {
  std::vector<EptSlot> v;
  for (unsigned i = 0; i < 5; ++i) {
    const std::string p = "ept" + std::to_string(i + 1) + ".";
    v.push_back({ctx.bool_var(p + "r"), ctx.bool_var(p + "w"), ctx.bool_var(p + "x"), ctx.bool_var(p + "xu")});
  }
  return v;
}

// An entry a walk can pass: present, not misconfigured by its rights.
Expr ept_rights_ok(const sdm::EptCaps& caps, const EptSlot& s) {
  const Expr present = s.r || s.w || s.x || (caps.mbec && s.xu);
  const Expr w_no_r = s.w && !s.r;
  return present && !w_no_r && (s.r || s.w || caps.exec_only);
}

u64 ept_bits(const Model& m, const EptSlot& s) {
  return (m.holds(s.r) ? 1 : 0) | (m.holds(s.w) ? 2 : 0) | (m.holds(s.x) ? 4 : 0) | (m.holds(s.xu) ? bit(10) : 0);
}

Query t8_ept_permissions(Env& env) {
  Context& ctx = env.ctx;
  const sdm::EptCaps caps = sdm::EptCaps::vars(ctx);
  const EptRoleSpace rs(caps);
  const std::vector<EptSlot> slots = ept_slot_vars(ctx);
  const Expr kind = ctx.bv_var("access.kind", 2), cpl = ctx.bv_var("cpl", 2);
  const Expr user_linear = ctx.bool_var("linear.user");
  std::vector<Expr> d{caps.domain(), kind != 3};
  for (unsigned i = 0; i < slots.size(); ++i) {
    const EptSlot& sl = slots[i];
    const Expr absent = ctx.bv(i + 1, 3).ugt(caps.levels);
    d.push_back(absent.implies(sl.r && sl.w && sl.x && sl.xu));
    d.push_back(ept_rights_ok(caps, sl));
  }
  // Realisable: a user-mode linear address can be had with guest paging off
  // (any CPL); a supervisor-mode one needs guest paging, a CPL below 3, and
  // room to keep the guest's tables apart from the data page in EPT.
  d.push_back((!user_linear).implies(cpl != 3 && caps.maxphyaddr.uge(ite(caps.levels == 5, ctx.bv(49, 8), ctx.bv(40, 8)))));
  const Expr domain = ctx.all(d);

  std::vector<Expr> r, w, x, xu;
  for (const EptSlot& sl : slots) {
    r.push_back(sl.r);
    w.push_back(sl.w);
    x.push_back(sl.x);
    xu.push_back(sl.xu);
  }
  const sdm::EptRights all{ctx.all(r), ctx.all(w), ctx.all(x), ctx.all(xu)};
  const auto rules = sdm::ept_violation_rules(ctx, caps, kind, user_linear, all);
  const Expr sdm_fault = sdm::ept_violation(ctx, caps, kind, user_linear, all);

  const EptEnv ee(env.algo());
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  // ept_fetch_checks_xu(role, request, guest state) for each (user-mode
  // linear address, CPL): bit user * 4 + cpl.
  const Expr xu_tab = tabulate(ctx, rs.fields(), 8, [&](std::span<const unsigned> i) {
    const std::size_t at = EptRoleSpace::index(i);
    u64 out = 0;
    mmu::CpuState guest;
    guest.cr0 |= mmu::cr0::PG;
    for (unsigned user = 0; user < 2; ++user)
      for (unsigned c = 0; c < 4; ++c) {
        mmu::EptRequest req;
        req.fetch = true;
        req.user_linear = user;
        guest.cpl = c;
        if (algo.ept_fetch_checks_xu(ee.roles[at], req, guest)) out |= bit(user * 4 + c);
      }
    return out;
  });
  // ept_permission_fault(role, tables, pte_access, pfec) for every ACC value
  // and access kind (read = U slot, write, fetch): bit kind * 8 + acc.
  static constexpr u64 kPfec[] = {PFERR_USER, PFERR_WRITE, PFERR_FETCH};
  const Expr fault_tab = tabulate(ctx, rs.fields(), 24, [&](std::span<const unsigned> i) {
    const std::size_t at = EptRoleSpace::index(i);
    u64 out = 0;
    for (unsigned k = 0; k < 3; ++k)
      for (unsigned acc = 0; acc < 8; ++acc)
        if (algo.ept_permission_fault(ee.roles[at], ee.tables[at], acc, kPfec[k])) out |= bit(k * 8 + acc);
    return out;
  });
  const Expr checks_xu =
      kind == sdm::kFetch && xu_tab.lshr((user_linear.as_bv().zext_to(8).shl(2) | cpl.zext_to(8))).bit(0);
  // FNAME(gpte_access) for EPT on the raw bits ANDed over the walk.
  const Expr acc = concat(concat(all.r.as_bv(), all.w.as_bv()), ite(checks_xu, all.xu, all.x).as_bv());
  const Expr kvm_fault = fault_tab.lshr((kind.zext_to(24).shl(3) | acc.zext_to(24))).bit(0);

  Query q{domain, kvm_fault == sdm_fault, {}, {}, {}};
  q.describe = [=](const Model& m) {
    std::string t = describe(EptRoleSpace::from_model(m, caps)) + "; " + kind_name(m.value(kind)) + " at CPL " +
                    std::to_string(m.value(cpl)) + (m.holds(user_linear) ? ", user-mode" : ", supervisor-mode") +
                    " linear address; EPT rights (leaf first):";
    for (const EptSlot& sl : slots) {
      t += " ";  // (not " " + hex(): GCC 12 -Wrestrict false positive, PR105329)
      t += hex(ept_bits(m, sl));
    }
    return t + "; SDM: " + (m.holds(sdm_fault) ? "violation, " : "no violation, ") + rule_text(m, rules) +
           "; kvm: ACC " + std::to_string(m.value(acc)) + " -> " + (m.holds(kvm_fault) ? "violation" : "no violation");
  };
  q.to_case = [=](const Model& m) -> CaseOrError {
    const EptRolePoint p = EptRoleSpace::from_model(m, caps);
    mmu::Case c = ept_base_case(p);
    c.access.kind = static_cast<mmu::AccessKind>(m.value(kind));
    c.cpu.cpl = static_cast<unsigned>(m.value(cpl));
    u64 gpa = c.access.addr;
    if (!m.holds(user_linear)) {
      // 4-level guest paging to a supervisor page; the guest's tables (A/D
      // already set) at low guest-physical addresses, mapped RWX in EPT apart
      // from the data page, which sits in another top-level EPT entry.
      c.cpu.cr0 |= mmu::cr0::PG;
      c.cpu.cr4 |= mmu::cr4::PAE;
      c.cpu.efer |= mmu::efer::LME | mmu::efer::LMA;
      c.access.addr = 0x7fff'1234'5000;
      gpa = p.levels == 5 ? bit(48) : bit(39);
      map_chain(c, gpa | 0x63, 1, {0x27, 0x27, 0x27});
      for (u64 table : {u64{0x1000}, u64{0x100000}, u64{0x101000}, u64{0x102000}})
        map_ept(*c.ept, table, table | 0x7 | (6 << 3), 1, std::vector<u64>(p.levels - 1, 0x7));
    }
    std::vector<u64> up;
    for (unsigned l = p.levels; l > 1; --l) up.push_back(ept_bits(m, slots[l - 1]));
    map_ept(*c.ept, gpa, 0x9000 | ept_bits(m, slots[0]) | (6 << 3), 1, up);
    return checked(std::move(c), "prove T8-ept-permissions counterexample");
  };
  return q;
}

Query t9_ept_qualification(Env& env) {
  Context& ctx = env.ctx;
  const sdm::EptCaps caps = sdm::EptCaps::vars(ctx);
  const EptRoleSpace rs(caps);
  const EptSlot raw{ctx.bool_var("ept.r"), ctx.bool_var("ept.w"), ctx.bool_var("ept.x"), ctx.bool_var("ept.xu")};
  // A violation can happen: some right is missing (with guest paging off a
  // fetch is from a user-mode address, checked against XU under MBEC).
  const Expr can_fault = !raw.r || !raw.w || ite(caps.mbec, !raw.xu, !raw.x);
  const Expr domain = caps.domain() && ept_rights_ok(caps, raw) && can_fault;
  const EptEnv ee(env.algo());
  const mmu::kvm::MmuAlgorithm& algo = env.algo();
  const Expr raw_bits = concat(concat(raw.xu.as_bv(), raw.x.as_bv()), concat(raw.w.as_bv(), raw.r.as_bv()));
  // ept_qualification_rights(role, raw) for every R, W, X, XU: 16 bits at raw * 16.
  const Expr tab = tabulate_wide(ctx, rs.fields(), 256, [&](std::span<const unsigned> i) {
    const std::size_t at = EptRoleSpace::index(i);
    std::vector<u64> out(4, 0);
    for (unsigned b = 0; b < 16; ++b) {
      const u64 rawv = (b & 7) | ((b & 8) ? bit(10) : 0);
      out[b / 4] |= (algo.ept_qualification_rights(ee.roles[at], rawv) & 0xffff) << (16 * (b % 4));
    }
    return out;
  });
  const Expr q16 = tab.lshr(raw_bits.zext_to(256).shl(4)).extract(15, 0);
  // 3C Table 28-7: bits 3, 4, 5 are R, W, X ANDed over the walk; bit 6 is XU
  // under MBEC (undefined otherwise); the other bits describe the access.
  const Expr rwx = concat(concat(raw.x.as_bv(), raw.w.as_bv()), raw.r.as_bv());
  const Expr claim = q16.extract(5, 3) == rwx && (q16 & ctx.bv(0xff87, 16)).is_zero() &&
                     caps.mbec.implies(q16.bit(6) == raw.xu);
  Query q{domain, claim, {}, {}, {}};
  q.describe = [=](const Model& m) {
    return describe(EptRoleSpace::from_model(m, caps)) + "; EPT rights " + hex(ept_bits(m, raw)) +
           "; SDM qualification bits 6:3 " + hex(m.value(rwx) | (m.holds(raw.xu) && m.holds(caps.mbec) ? 8 : 0)) +
           "; kvm " + hex(m.value(q16.extract(6, 3)));
  };
  q.to_case = [=](const Model& m) -> CaseOrError {
    const EptRolePoint p = EptRoleSpace::from_model(m, caps);
    mmu::Case c = ept_base_case(p);
    const bool rd = m.holds(raw.r), wr = m.holds(raw.w);
    c.access.kind = !rd ? mmu::AccessKind::read : !wr ? mmu::AccessKind::write : mmu::AccessKind::fetch;
    map_ept(*c.ept, c.access.addr, 0x9000 | ept_bits(m, raw) | (6 << 3), 1, std::vector<u64>(p.levels - 1, 0x407));
    return checked(std::move(c), "prove T9-ept-qualification counterexample");
  };
  return q;
}

// ---- invariants of the rules ------------------------------------------------

CaseOrError no_case(const Model&) {
  return std::string("an invariant of the SDM rules: there is no engine to replay against (the encoding or the SDM reading is wrong)");
}

Query invariant(Expr domain, Expr claim, std::function<std::string(const Model&)> describe_fn) {
  Query q{std::move(domain), std::move(claim), {}, no_case, std::move(describe_fn)};
  return q;
}

Query i1_errcode_p(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const Expr kind = ctx.bv_var("fault.kind", 2);
  const Expr ec = sdm::error_code(ctx, cpu, a, kind);
  return invariant(cpu.domain() && a.domain(), ec.any(mmu::pferr::RSVD | mmu::pferr::PK).implies(ec.bit(0)),
                   [=](const Model& m) { return "error code " + hex(m.value(ec)); });
}

Query i2_rights_monotone(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  std::vector<sdm::EntryRights> fewer, more;
  std::vector<Expr> d{cpu.domain(), a.domain()};
  for (unsigned i = 0; i < 5; ++i) {
    const std::string p = "level" + std::to_string(i + 1);
    sdm::EntryRights f{ctx.bool_var(p + ".us"), ctx.bool_var(p + ".rw"), ctx.bool_var(p + ".xd")};
    sdm::EntryRights g{ctx.bool_var("more." + p + ".us"), ctx.bool_var("more." + p + ".rw"), ctx.bool_var("more." + p + ".xd")};
    // U/S = 1 is a right for user-mode accesses; for supervisor-mode ones it
    // takes rights away under SMEP/SMAP, so it only counts without them.
    d.push_back(f.writable.implies(g.writable) && g.xd.implies(f.xd) &&
                ite(a.user() || (!cpu.smep && !cpu.smap), f.user.implies(g.user), f.user == g.user));
    fewer.push_back(f);
    more.push_back(g);
  }
  const Expr f_more = sdm::permission_fault(ctx, cpu, a, sdm::combine(ctx, more));
  const Expr f_fewer = sdm::permission_fault(ctx, cpu, a, sdm::combine(ctx, fewer));
  return invariant(ctx.all(d), f_more.implies(f_fewer), [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + ": more rights fault, fewer do not";
  });
}

sdm::Cpu with_wp(const sdm::Cpu& c, const Expr& wp) {
  sdm::Cpu o = c;
  o.wp = wp;
  return o;
}

Query i3_wp0_no_new_fault(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const sdm::Rights r{ctx.bool_var("page.us"), ctx.bool_var("page.rw"), ctx.bool_var("page.xd")};
  const Expr f0 = sdm::permission_fault(ctx, with_wp(cpu, ctx.boolean(false)), a, r);
  const Expr f1 = sdm::permission_fault(ctx, with_wp(cpu, ctx.boolean(true)), a, r);
  const Expr pk0 = sdm::pk_fault(ctx, with_wp(cpu, ctx.boolean(false)), a, r.user, ctx.bv_var("pkey", 4),
                                 ctx.bv_var("pkru", 32), ctx.bv_var("ia32_pkrs", 32));
  const Expr pk1 = sdm::pk_fault(ctx, with_wp(cpu, ctx.boolean(true)), a, r.user, ctx.bv_var("pkey", 4),
                                 ctx.bv_var("pkru", 32), ctx.bv_var("ia32_pkrs", 32));
  return invariant(cpu.domain() && a.domain(), f0.implies(f1) && pk0.implies(pk1), [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + ": faults with CR0.WP = 0 only";
  });
}

Query i4_smap_override_scope(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const sdm::Rights r{ctx.bool_var("page.us"), ctx.bool_var("page.rw"), ctx.bool_var("page.xd")};
  sdm::Access a0 = a, a1 = a;
  a0.ac = ctx.boolean(false);
  a1.ac = ctx.boolean(true);
  const Expr differs = sdm::permission_fault(ctx, cpu, a0, r) != sdm::permission_fault(ctx, cpu, a1, r);
  // EFLAGS.AC changes a verdict only for an explicit supervisor data access to
  // a user-mode address under SMAP, and only from fault to no fault.
  const Expr scope = !a.user() && !a.implicit && !a.fetch() && r.user && cpu.smap;
  const Expr direction = sdm::permission_fault(ctx, cpu, a1, r).implies(sdm::permission_fault(ctx, cpu, a0, r));
  return invariant(cpu.domain() && a.domain(), differs.implies(scope) && direction, [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a) + ": EFLAGS.AC matters here";
  });
}

Query i5_pk_scope(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const sdm::Access a = sdm::Access::vars(ctx);
  const Expr f = sdm::pk_fault(ctx, cpu, a, ctx.bool_var("page.us"), ctx.bv_var("pkey", 4), ctx.bv_var("pkru", 32),
                               ctx.bv_var("ia32_pkrs", 32));
  return invariant(cpu.domain() && a.domain(), f.implies(cpu.long_mode() && !a.fetch() && (cpu.pke || cpu.pks)),
                   [=](const Model& m) { return describe(RoleSpace::from_model(m, cpu)) + "; " + access_text(m, a); });
}

Query i6_rsvd_maxphyaddr_monotone(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  sdm::Cpu wider = cpu;
  wider.maxphyaddr = ctx.bv_var("wider.maxphyaddr", 8);
  const Step s = step_vars(ctx);
  const Expr domain = cpu.domain() && wider.domain() && cpu.maxphyaddr.ule(wider.maxphyaddr) &&
                      step_domain(ctx, cpu, s, sdm::levels(ctx, cpu));
  Query q = invariant(domain, sdm::reserved(ctx, wider, s.level, s.entry).implies(sdm::reserved(ctx, cpu, s.level, s.entry)),
                      [=](const Model& m) {
                        return describe(RoleSpace::from_model(m, cpu)) + "; entry " + hex(m.value(s.entry)) +
                               " reserved only with the wider MAXPHYADDR " + std::to_string(m.value(wider.maxphyaddr));
                      });
  q.split = maxphyaddr_split(cpu.maxphyaddr);
  return q;
}

Query i7_ept_exec_only_monotone(Env& env) {
  Context& ctx = env.ctx;
  const sdm::EptCaps caps = sdm::EptCaps::vars(ctx);
  sdm::EptCaps with = caps, without = caps;
  with.exec_only = ctx.boolean(true);
  without.exec_only = ctx.boolean(false);
  const Step s = step_vars(ctx);
  const Expr domain = caps.domain() && s.level.uge(ctx.bv(1, 3)) && s.level.ule(caps.levels) &&
                      sdm::ept_present(ctx, caps, s.entry);
  return invariant(domain, sdm::ept_misconfig(ctx, with, s.level, s.entry).implies(sdm::ept_misconfig(ctx, without, s.level, s.entry)),
                   [=](const Model& m) { return "EPT entry " + hex(m.value(s.entry)); });
}

Query i8_leaf_shape(Env& env) {
  Context& ctx = env.ctx;
  const sdm::Cpu cpu = sdm::Cpu::vars(ctx);
  const Step s = step_vars(ctx);
  const Expr domain = cpu.domain() && step_domain(ctx, cpu, s, sdm::levels(ctx, cpu));
  const Expr leaf = sdm::leaf(ctx, cpu, s.level, s.entry);
  // A walk ends at level 1 always, elsewhere only on PS = 1; a PAE PDPTE, a
  // PML4E and a PML5E never map a page.
  const Expr claim = (s.level == 1).implies(leaf) && leaf.implies(s.level == 1 || s.entry.bit(7)) &&
                     (leaf && s.level.uge(ctx.bv(3, 3))).implies(cpu.long_mode() && s.level == 3);
  return invariant(domain, claim, [=](const Model& m) {
    return describe(RoleSpace::from_model(m, cpu)) + "; level " + std::to_string(m.value(s.level)) + " entry " +
           hex(m.value(s.entry));
  });
}

const std::vector<Theorem>& registry() {
  static const std::vector<Theorem> r{
      {{"T1-permissions", "kvm",
        "permissions[] looked up with the SMAP-override index and leaf_access() equals the SDM access-rights rule "
        "(access kind, user/supervisor, implicit, EFLAGS.AC, CPL, CR0.WP, SMEP, SMAP, NXE, U/S R/W XD combined over the walk)",
        "4.6, 4.6.1"},
       t1_permissions},
      {{"T2-pkru", "kvm", "the pkru_mask lookup equals the SDM protection-key rule (PKU; PKS is not virtualised by KVM)",
        "4.6.2"},
       t2_pkru},
      {{"T3-reserved-bits", "kvm",
        "each rsvd_bits_mask[bit 7][level - 1] (and the PAE PDPTE mask) equals the SDM reserved-bit rule for every entry "
        "value, mode, level, MAXPHYADDR 32..52, vendor, 1-GByte support, PSE/PSE-36 and NXE",
        "4.3 Table 4-4, 4.4.1, 4.4.2, 4.5, AMD APM 5.3.3"},
       t3_reserved},
      {{"T5-last-level", "kvm",
        "is_last_gpte() ends the walk exactly where the SDM says an entry maps a page (present entries without reserved bits)",
        "4.3, 4.4.2, 4.5"},
       t5_last_level},
      {{"T7-error-code", "kvm",
        "the walker's error code (fault_error_code()) equals the SDM's: P, W/R, U/S, RSVD, I/D, PK for every fault kind and access",
        "4.7"},
       t7_error_code},
      {{"T4-ept-misconfig", "kvm",
        "the nested EPT MMU's rsvd_bits_mask and bad_mt_xwr (and its present test) equal the SDM's EPT "
        "misconfiguration rule: XWR, memory type, level, 2M/1G/execute-only/MBEC capabilities, MAXPHYADDR 32..52",
        "3C 29.3.2, 29.3.3.1"},
       t4_ept_misconfig},
      {{"T5e-ept-last-level", "kvm",
        "is_last_ept_gpte() ends the EPT walk exactly where the SDM does (present entries without misconfiguration)",
        "3C 29.3.2"},
       t5e_ept_last_level},
      {{"T8-ept-permissions", "kvm",
        "the nested EPT MMU's permission lookup (ept_permission_fault, the XU/X choice under MBEC) equals the SDM's "
        "EPT-violation rule on the rights ANDed over the walk",
        "3C 29.3.3.2"},
       t8_ept_permissions},
      {{"T9-ept-qualification", "kvm",
        "the EPT-violation qualification's rights bits (5:3 R/W/X, 6 XU under MBEC) are the raw rights ANDed over the walk",
        "3C Table 28-7"},
       t9_ept_qualification},
      {{"T10-context-reset", "kvm",
        "after a guest write that flips one of CR0.WP, CR4.SMEP/SMAP/PKE/PSE, EFER.NXE, the tables in use (rebuilt or "
        "kept per needs_reset()) decide every access as tables built for the new role do (which T1/T2 compare with the SDM)",
        "4.6.1, 4.6.2"},
       t10_context_reset},
      {{"T6-permissions", "kvm-3.14",
        "3.14's u8 permissions[16], indexed by pfec >> 1, equals the SDM access-rights rule on the features 3.14 "
        "models (no SMAP, PKU, 5-level paging)",
        "4.6.1"},
       t6_permissions},
      {{"T6-reserved-bits", "kvm-3.14",
        "3.14's rsvd_bits_mask[2][4] (PAE PDPTEs: [0][2] at CR3 load) equals the SDM reserved-bit rule, but for its "
        "documented findings",
        "4.3-4.5"},
       t6_reserved},
      {{"T6-last-level", "kvm-3.14", "3.14's last_pte_bitmap ends the walk where the SDM maps a page", "4.3-4.5"},
       t6_last_level},
      {{"T6-error-code", "kvm-3.14", "3.14's walker error code equals SDM 4.7 (I/D only with SMEP or PAE and NXE)",
        "4.7"},
       t6_error_code},
      {{"I1-errcode-rsvd-pk-carry-p", "rules", "an error code with RSVD or PK always has P", "4.7"}, i1_errcode_p},
      {{"I2-more-rights-no-new-fault", "rules",
        "granting more rights at any level (R/W set, XD clear; U/S set for user-mode accesses or without SMEP/SMAP) never "
        "adds a permission fault",
        "4.6.1"},
       i2_rights_monotone},
      {{"I3-wp0-no-new-fault", "rules", "CR0.WP = 0 never adds a fault (access rights or protection keys)",
        "4.6.1, 4.6.2"},
       i3_wp0_no_new_fault},
      {{"I4-smap-override-scope", "rules",
        "EFLAGS.AC only changes explicit supervisor data accesses to user-mode addresses under SMAP, and only removes faults",
        "4.6.1"},
       i4_smap_override_scope},
      {{"I5-pk-scope", "rules", "protection keys fault only data accesses in 4/5-level paging with CR4.PKE or CR4.PKS",
        "4.6.2"},
       i5_pk_scope},
      {{"I6-rsvd-maxphyaddr-monotone", "rules", "a wider MAXPHYADDR never reserves more bits", "4.3-4.5"},
       i6_rsvd_maxphyaddr_monotone},
      {{"I7-ept-exec-only-monotone", "rules",
        "the execute-only capability never adds an EPT misconfiguration", "3C 29.3.3.1"},
       i7_ept_exec_only_monotone},
      {{"I8-leaf-shape", "rules",
        "level 1 always ends a walk; elsewhere only PS = 1 does, and never in a PAE PDPTE, PML4E or PML5E",
        "4.3-4.5"},
       i8_leaf_shape},
  };
  return r;
}

}  // namespace

std::span<const Theorem> all_theorems() { return registry(); }

}  // namespace smt
