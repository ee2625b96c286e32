#include "model/kvm/kvm_mmu.h"

#include <atomic>

namespace mmu::kvm {
namespace {

std::atomic<unsigned> next_algorithm_id{1};

// A small direct-mapped cache of built tables per thread, keyed by algorithm
// and role: exhaustive runs revisit a handful of roles millions of times.
template <typename Role, typename T>
struct TableCache {
  struct Slot {
    unsigned id = 0;
    Role role;
    T tables;
  };
  std::array<Slot, 64> slots;

  template <typename Build>
  const T& get(unsigned id, const Role& role, u64 key, Build&& build) {
    Slot& s = slots[(key ^ (key >> 17) ^ (key >> 31)) % slots.size()];
    if (s.id != id || !(s.role == role)) {
      s.id = id;
      s.role = role;
      s.tables = build();
    }
    return s.tables;
  }
};

u64 role_key(const CpuRole& r) {
  const bool flags[] = {r.has_4_byte_gpte, r.efer_nx, r.efer_lma, r.cr0_wp, r.cr4_pse, r.cr4_smep,
                        r.cr4_smap,        r.cr4_pke, r.cr4_la57, r.amd,    r.gbpages, r.pse36};
  u64 k = r.level | (u64{r.maxphyaddr} << 3);
  for (unsigned i = 0; i < std::size(flags); ++i) k |= u64{flags[i]} << (9 + i);
  return k * 0x9E3779B97F4A7C15ull >> 20;
}

u64 role_key(const EptRole& r) {
  const u64 k = r.level | (u64{r.ad} << 3) | (u64{r.exec_only} << 4) | (u64{r.mbec} << 5) | (u64{r.pages_2m} << 6) |
                (u64{r.pages_1g} << 7) | (u64{r.maxphyaddr} << 8);
  return k * 0x9E3779B97F4A7C15ull >> 20;
}

constexpr u64 kP = bit(0), kRW = bit(1), kUS = bit(2), kA = bit(5), kD = bit(6), kPS = bit(7);

// rsvd_bits(s, e) in KVM's argument order: bits s..e.
constexpr u64 rsvd_bits(unsigned s, unsigned e) { return bits(e, s); }

// A byte with bit i set for every ACC value i that has `acc` set.
constexpr std::uint8_t byte_mask(unsigned acc) {
  std::uint8_t m = 0;
  for (unsigned i = 0; i < 8; ++i)
    if (i & acc) m |= static_cast<std::uint8_t>(1u << i);
  return m;
}

}  // namespace

CpuRole cpu_role(const CpuState& cpu) {
  CpuRole r;
  const bool pg = cpu.cr0 & cr0::PG;
  r.efer_nx = cpu.efer & efer::NXE;
  r.efer_lma = cpu.efer & efer::LMA;
  r.cr0_wp = cpu.cr0 & cr0::WP;
  r.cr4_pse = cpu.cr4 & cr4::PSE;
  r.cr4_smep = cpu.cr4 & cr4::SMEP;
  r.cr4_smap = cpu.cr4 & cr4::SMAP;
  r.cr4_pke = cpu.cr4 & cr4::PKE;
  r.cr4_la57 = cpu.cr4 & cr4::LA57;
  if (!pg) r.level = 0;
  else if (r.efer_lma) r.level = r.cr4_la57 ? 5 : 4;
  else if (cpu.cr4 & cr4::PAE) r.level = 3;
  else r.level = 2;
  r.has_4_byte_gpte = pg && !(cpu.cr4 & cr4::PAE);
  r.maxphyaddr = cpu.maxphyaddr;
  r.amd = cpu.vendor == Vendor::amd;
  r.gbpages = cpu.features.has(Feature::pdpe1gb);
  r.pse36 = cpu.features.has(Feature::pse36);
  return r;
}

MmuAlgorithm::MmuAlgorithm() : id_(next_algorithm_id++) {}

MmuAlgorithm::Context MmuAlgorithm::context(const Case& c) const {
  // Tables are a function of the role alone: history decides only which
  // role's tables are kept, so every build goes through the cache.
  thread_local TableCache<CpuRole, Tables> cache;
  auto tables_for = [&](const CpuRole& role) { return cache.get(id_, role, role_key(role), [&] { return build(role); }); };
  if (c.history.empty()) {
    const CpuRole role = cpu_role(c.cpu);
    return {role, tables_for(role)};
  }
  Context ctx{cpu_role(c.history.front()), {}};
  ctx.tables = tables_for(ctx.role);
  auto enter = [&](const CpuState& state) {
    const CpuRole now = cpu_role(state);
    if (!needs_reset(ctx.role, now)) return;
    ctx.role = now;
    ctx.tables = tables_for(now);
  };
  for (std::size_t i = 1; i < c.history.size(); ++i) enter(c.history[i]);
  enter(c.cpu);
  return ctx;
}

EptTables MmuAlgorithm::ept_context(const EptRole& role) const {
  thread_local TableCache<EptRole, EptTables> cache;
  return cache.get(id_, role, role_key(role), [&] { return build_ept(role); });
}

// Mainline rebuilds the context whenever any part of the role differs.
bool MmuAlgorithm::needs_reset(const CpuRole& built_for, const CpuRole& now) const { return !(built_for == now); }

Tables MmuAlgorithm::build(const CpuRole& role) const {
  Tables t;
  update_permission_bitmask(role, t);
  update_pkru_bitmask(role, t);
  reset_rsvds_bits_mask(role, t);
  return t;
}

// Truth table (SDM 4.6), one byte per pfec (W, U, F = bits 1, 2, 4; the RSVD
// slot says "SMAP does not apply"), one bit per pte_access value (X, W, U):
//   wf: a write to a page without W          (supervisor writes exempt if !CR0.WP)
//   uf: a user access to a page without U
//   ff: a fetch from a page without X        (only when EFER.NX)
//   smepf: a supervisor fetch from a U page  (CR4.SMEP)
//   smapf: a supervisor data access to a U page, unless the RSVD slot is set (CR4.SMAP)
void MmuAlgorithm::update_permission_bitmask(const CpuRole& role, Tables& t) const {
  const std::uint8_t x = byte_mask(ACC_EXEC), w = byte_mask(ACC_WRITE), u = byte_mask(ACC_USER);
  for (unsigned index = 0; index < 16; ++index) {
    const u64 pfec = u64{index} << 1;
    std::uint8_t wf = (pfec & PFERR_WRITE) ? static_cast<std::uint8_t>(~w) : 0;
    const std::uint8_t uf = (pfec & PFERR_USER) ? static_cast<std::uint8_t>(~u) : 0;
    std::uint8_t ff = (pfec & PFERR_FETCH) ? static_cast<std::uint8_t>(~x) : 0;
    const std::uint8_t kf = (pfec & PFERR_USER) ? 0 : u;
    if (!role.efer_nx) ff = 0;
    if (!role.cr0_wp) wf = (pfec & PFERR_USER) ? wf : 0;
    const std::uint8_t smepf = role.cr4_smep && (pfec & PFERR_FETCH) ? kf : 0;
    const std::uint8_t smapf = role.cr4_smap && !(pfec & (PFERR_RSVD | PFERR_FETCH)) ? kf : 0;
    t.permissions[index] = ff | uf | wf | smepf | smapf;
  }
}

// Two bits per pfec (AD, WD), the RSVD slot meaning "the page is a user page":
// a key applies to data accesses to user pages; WD only to writes that are
// user-mode or made with CR0.WP = 1. Zero outside long mode or without CR4.PKE.
void MmuAlgorithm::update_pkru_bitmask(const CpuRole& role, Tables& t) const {
  t.pkru_mask = 0;
  if (!role.cr4_pke || !role.efer_lma) return;
  for (unsigned index = 0; index < 16; ++index) {
    const u64 pfec = u64{index} << 1;
    const bool ff = pfec & PFERR_FETCH, uf = pfec & PFERR_USER, wf = pfec & PFERR_WRITE;
    const bool pte_user = pfec & PFERR_RSVD;
    const bool check_pkey = !ff && pte_user;
    const bool check_write = check_pkey && wf && (uf || role.cr0_wp);
    const std::uint32_t pkey_bits = (check_pkey ? 1u : 0u) | (check_write ? 2u : 0u);
    t.pkru_mask |= pkey_bits << pfec;
  }
}

// Indexed [bit 7][level - 1].
//   32-bit: only the 4-MByte PDE has reserved bits: 17..21 with PSE-36, else 13..21.
//   PAE:    PDPTE 63 | high(M..62) | 5..8 | 1..2 (at load); PDE/PTE nx | high; 2M + 13..20.
//   4/5-level: PML5E/PML4E nx | bit 7 | (AMD: bit 8) | high(M..51); PDPTE nx | gb | high;
//           1G + 13..29; PDE nx | high; 2M + 13..20; PTE nx | high.
void MmuAlgorithm::reset_rsvds_bits_mask(const CpuRole& role, Tables& t) const {
  auto& m = t.rsvd_bits_mask;
  m = {};
  const unsigned M = role.maxphyaddr;
  const u64 nx = role.efer_nx ? 0 : rsvd_bits(63, 63);
  const u64 gb = role.gbpages ? 0 : rsvd_bits(7, 7);
  const u64 nonleaf_bit8 = role.amd ? rsvd_bits(8, 8) : 0;
  t.pdptr_rsvd = rsvd_bits(M, 63) | rsvd_bits(5, 8) | rsvd_bits(1, 2);
  switch (role.level) {
    case 2:
      if (role.cr4_pse) m[1][1] = role.pse36 ? rsvd_bits(17, 21) : rsvd_bits(13, 21);
      break;
    case 3: {
      const u64 high = rsvd_bits(M, 62);
      m[0][2] = rsvd_bits(63, 63) | high;
      m[0][1] = nx | high;
      m[0][0] = nx | high;
      m[1][1] = nx | high | rsvd_bits(13, 20);
      m[1][0] = m[0][0];
      break;
    }
    case 5:
    case 4: {
      const u64 high = rsvd_bits(M, 51);
      if (role.level == 5) m[0][4] = m[1][4] = nx | nonleaf_bit8 | rsvd_bits(7, 7) | high;
      m[0][3] = nx | nonleaf_bit8 | rsvd_bits(7, 7) | high;
      m[0][2] = nx | gb | high;
      m[0][1] = nx | high;
      m[0][0] = nx | high;
      m[1][3] = m[0][3];
      m[1][2] = nx | gb | high | rsvd_bits(13, 29);
      m[1][1] = nx | high | rsvd_bits(13, 20);
      m[1][0] = m[0][0];
      break;
    }
    default:
      break;
  }
}

// Bit 7 of a gpte ends the walk, with two adjustments done by arithmetic on
// the level: 32-bit paging ignores bit 7 above the last level that can map a
// large page (2 with CR4.PSE, else 1), and level 1 always ends the walk.
bool MmuAlgorithm::is_last_gpte(const CpuRole& role, unsigned level, u64 gpte) const {
  unsigned g = static_cast<unsigned>(gpte);
  if (role.has_4_byte_gpte) g &= level - (2u + (role.cr4_pse ? 1u : 0u));
  g |= level - 1u - 1u;
  return g & kPS;
}

u64 MmuAlgorithm::permission_fault(const CpuRole&, const Tables& t, const CpuState& cpu, unsigned pte_access,
                                   unsigned pte_pkey, u64 access) const {
  const u64 pfec = access & (PFERR_WRITE | PFERR_USER | PFERR_FETCH);
  // SMAP is overridden for explicit accesses with EFLAGS.AC = 1: the RSVD
  // slot of the index carries that, since a real pfec never has RSVD here.
  const bool not_smap = smap_overridden(cpu, access);
  const unsigned index = static_cast<unsigned>((pfec | (not_smap ? PFERR_RSVD : 0)) >> 1);
  u64 errcode = PFERR_PRESENT;
  bool fault = (t.permissions[index] >> pte_access) & 1;
  if (t.pkru_mask) {
    std::uint32_t pkru_bits = (cpu.pkru >> (pte_pkey * 2)) & 3;
    const unsigned offset = static_cast<unsigned>((pfec & ~u64{1}) | ((pte_access & ACC_USER) ? PFERR_RSVD : 0));
    pkru_bits &= t.pkru_mask >> offset;
    if (pkru_bits) errcode |= PFERR_PK;
    fault |= pkru_bits != 0;
  }
  return fault ? errcode : 0;
}

bool MmuAlgorithm::smap_overridden(const CpuState& cpu, u64 access) const {
  return (cpu.rflags & rflags::AC) && !(access & PFERR_IMPLICIT);
}

unsigned MmuAlgorithm::leaf_access(unsigned, unsigned walk_access) const { return walk_access; }

u64 MmuAlgorithm::pse36_gfn_delta(const CpuRole& role, u64 pde) const {
  return role.pse36 ? field(pde, 16, 13) << 32 : 0;
}

u64 MmuAlgorithm::fault_error_code(const CpuRole& role, u64 errcode, u64 access) const {
  errcode |= access & (PFERR_WRITE | PFERR_USER);
  if ((access & PFERR_FETCH) && (role.efer_nx || role.cr4_smep)) errcode |= PFERR_FETCH;
  return errcode;
}

Verdict MmuAlgorithm::walk(const Case& c, Trace* trace) const {
  Verdict v;
  Outcome& o = v.outcome;
  const Context ctx = context(c);
  const CpuRole& role = ctx.role;
  const Tables& t = ctx.tables;
  const u64 va = c.access.addr;
  const bool user = is_user_access(c.cpu, c.access);
  const bool write = c.access.kind == AccessKind::write, fetch = c.access.kind == AccessKind::fetch;
  const u64 access = (write ? PFERR_WRITE : 0) | (fetch ? PFERR_FETCH : 0) | (user ? PFERR_USER : 0) |
                     (c.access.implicit ? PFERR_IMPLICIT : 0);
  auto step = [&](unsigned level, std::string_view name, u64 addr, u64 value) {
    if (trace) trace->steps.push_back({StepKind::entry, Space::guest, level, name, addr, value, 0, Rule::none});
  };
  auto error = [&](u64 errcode) {
    o.kind = OutcomeKind::page_fault;
    o.error_code = fault_error_code(role, errcode, access);
    o.cr2 = va;
    return v;
  };

  // Under EPT every guest-physical access goes through the nested EPT MMU;
  // a failure ends the walk with the VM exit L1 sees.
  o.has_ept = c.ept.has_value();
  EptRole erole;
  EptTables et;
  if (c.ept) {
    erole = ept_role(*c.ept, c.cpu.maxphyaddr);
    et = ept_context(erole);
  }
  auto through_ept = [&](u64 gpa, EptRequest r) -> std::optional<EptResult> {
    r.gpa = gpa;
    r.gla = va;
    EptResult res = ept_walk(erole, et, c, r, o.writes, trace);
    if (res.kind == OutcomeKind::ok) return res;
    o.kind = res.kind;
    o.gpa = gpa;
    if (res.kind == OutcomeKind::ept_violation) {
      o.qualification = res.qualification;
      if (res.qualification & eptq::GLA_VALID) o.gla = va;
    }
    return std::nullopt;
  };
  // A guest paging-structure read: a read, and also a write when EPT A/D is
  // on (the processor reports both); PDPTE loads are reads without a GLA.
  auto read_entry = [&](u64 gpa, bool pdpte_load, u64& value) {
    if (c.ept) {
      EptRequest r;
      r.read = true;
      r.write = !pdpte_load && erole.ad;
      r.gla_valid = !pdpte_load;
      r.translated = false;
      if (!through_ept(gpa, r)) return false;
    }
    value = c.memory.read(gpa);
    return true;
  };
  // The final access, once the guest walk allowed it.
  auto finish = [&](u64 gpa, u64 size, bool user_page) {
    o.page_size = size;
    if (!c.ept) {
      o.pa = gpa;
      return true;
    }
    EptRequest r;
    r.read = !write && !fetch;
    r.write = write;
    r.fetch = fetch;
    r.user_linear = user_page;
    const auto res = through_ept(gpa, r);
    if (!res) return false;
    o.pa = res->hpa;
    o.gpa = gpa;
    o.ept_page_size = res->page_size;
    return true;
  };

  if (role.level == 0) {
    // With CR0.PG = 0 every linear address counts as a user-mode address.
    finish(va, 4096, /*user_page=*/true);
    return v;
  }
  if (role.level >= 4) {  // the emulator's canonical check: #GP before any walk
    const unsigned top = role.level == 5 ? 56 : 47;
    if (sign_extend(va, top) != va) {
      o.kind = OutcomeKind::general_protection;
      o.gp_reason = GpReason::non_canonical;
      return v;
    }
  }

  const bool four_byte = role.has_4_byte_gpte;
  const unsigned width = four_byte ? 4 : 8;
  const u64 addr_mask = four_byte ? bits(31, 12) : bits(51, 12);
  const u64 nx_mask = four_byte ? 0 : bit(63);
  unsigned level = role.level;
  u64 table = c.cpu.cr3 & addr_mask;
  if (level == 3) {  // load_pdptrs() at CR3 load, then the walk starts at the PDE
    const u64 pdpt = c.cpu.cr3 & bits(31, 5);
    std::array<u64, 4> pdptrs{};
    for (unsigned i = 0; i < 4; ++i) {
      if (!read_entry(pdpt + 8 * i, /*pdpte_load=*/true, pdptrs[i])) return v;
      if ((pdptrs[i] & kP) && (pdptrs[i] & t.pdptr_rsvd)) {
        o.kind = OutcomeKind::general_protection;
        o.gp_reason = GpReason::pdpte_reserved;
        return v;
      }
    }
    const u64 pdpte = pdptrs[field(va, 31, 30)];
    step(3, "PDPTE", pdpt + 8 * field(va, 31, 30), pdpte);
    if (!(pdpte & kP)) return error(0);
    table = pdpte & bits(51, 12);
    level = 2;
  }

  static constexpr std::array<std::string_view, 6> kNames{"(below PTE)", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
  std::array<std::pair<u64, u64>, 6> used{};
  unsigned nused = 0;
  unsigned pte_access = ACC_EXEC | ACC_WRITE | ACC_USER;
  unsigned pt_access = pte_access;  // the access the levels above the current one allow
  u64 pte = 0;
  for (;;) {
    // PT_INDEX(); below level 1 (only a broken last-level test gets there)
    // the same arithmetic takes address bits 11:3 (11:2 for 4-byte entries).
    u64 index;
    if (four_byte) index = level == 2 ? field(va, 31, 22) : level == 1 ? field(va, 21, 12) : field(va, 11, 2);
    else index = level ? field(va, 12 + 9 * (level - 1) + 8, 12 + 9 * (level - 1)) : field(va, 11, 3);
    const u64 addr = table + index * width;
    if (!read_entry(addr, false, pte)) return v;
    step(level, kNames[level], addr, pte);
    if (!(pte & kP)) return error(0);
    const u64 rsvd = level ? t.rsvd_bits_mask[(pte >> 7) & 1][level - 1] : 0;
    if (pte & rsvd) return error(PFERR_RSVD | PFERR_PRESENT);
    // gpte_access(): W and U as they are, X = P xor NX.
    const unsigned acc = ((pte & kRW) ? ACC_WRITE : 0) | ((pte & kUS) ? ACC_USER : 0) | ((pte & nx_mask) ? 0 : ACC_EXEC);
    pt_access = pte_access;
    pte_access &= acc;
    used[nused++] = {addr, pte};
    if (level == 0 || is_last_gpte(role, level, pte)) break;
    table = pte & addr_mask;
    --level;
  }

  pte_access = leaf_access(pt_access, pte_access);
  const unsigned pkey = four_byte ? 0 : static_cast<unsigned>(field(pte, 62, 59));
  if (const u64 errcode = permission_fault(role, t, c.cpu, pte_access, pkey, access)) return error(errcode);

  // gpte_to_gfn_lvl() plus the PSE-36 delta for 4-MByte pages.
  const unsigned shift = level <= 1 ? 12 : four_byte ? 22 : 12 + 9 * (level - 1);
  u64 gpa = (pte & addr_mask & ~(bit(shift) - 1)) | (va & (bit(shift) - 1));
  if (four_byte && level == 2) gpa |= pse36_gfn_delta(role, pte);
  if (!finish(gpa, bit(shift), pte_access & ACC_USER)) return v;

  // update_accessed_dirty_bits(): only on success. Under EPT without A/D,
  // each update is a guest-physical write of its own.
  const std::size_t ept_writes = o.writes.size();
  for (unsigned i = 0; i < nused; ++i) {
    u64 value = used[i].second | kA;
    if (i + 1 == nused && (access & PFERR_WRITE)) value |= kD;
    if (value == used[i].second) continue;
    if (c.ept && !erole.ad) {
      EptRequest r;
      r.write = true;
      r.translated = false;
      if (!through_ept(used[i].first, r)) {
        // The exit comes before any of the guest's own updates land.
        WriteList kept;
        for (std::size_t k = 0; k < ept_writes; ++k) kept.push(o.writes[k]);
        o.writes = kept;
        o.pa = o.page_size = o.ept_page_size = 0;
        return v;
      }
    }
    merge_write(o.writes, {Space::guest, used[i].first, value});
  }
  return v;
}

}  // namespace mmu::kvm
