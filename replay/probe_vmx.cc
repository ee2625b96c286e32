// EPT and nested cases for the probe (replay/probe/README.md, "VMX cases"):
// the probe is L1 and runs the access in an L2 guest under the case's EPT.
// Guest-physical addresses stay the case's own (they are what EPT
// translates and what an exit reports); only host-physical addresses are
// relocated: the case's EPT tables to pool pages, each EPT leaf's frame to a
// landing region, and the guest's tables are written where that relocated
// EPT puts them. L2's code lives in a "window": guest-physical pages under an
// EPT slot no walk of the case reads, mapped by a guest-table slot no walk of
// the case reads (or, for EPT-only cases, by 4-level tables of the probe's own
// that map the access's address to itself, user, writable, executable -- what
// paging off means for the exit qualification, 3C Table 28-7).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "model/ept.h"
#include "model/reference.h"
#include "replay/probe_batch.h"

namespace mmucheck::probe {
namespace {

using mmu::u64;
using mmu::Feature;
using mmu::PagingMode;

constexpr unsigned kWindowPages = 8;  // guest-physical pages under the window's EPT slot

u64 mask(unsigned hi, unsigned lo) { return hi < lo ? 0 : mmu::bits(hi, lo); }

struct GuestStep {
  u64 gpa, value;
  unsigned w;
};

struct EptStep {
  u64 hpa, value;
  unsigned level;
};

struct EptWalk {
  std::vector<EptStep> steps;
  bool leaf = false;
  unsigned level = 0;
  u64 frame = 0, size = 0;  // the leaf's frame (case host-physical) and page size
};

// The case's EPT walk for `gpa` as its structure says (presence and PS only:
// whether the entries are legal is the CPU's to decide).
EptWalk ept_walk(const mmu::EptState& ept, unsigned M, u64 gpa) {
  EptWalk r;
  const bool mbec = ept.features.has(mmu::EptFeature::mbec);
  u64 table = ept.eptp & mask(M - 1, 12);
  for (unsigned level = ept.levels(); level >= 1; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    const u64 a = table + 8 * mmu::field(gpa, shift + 8, shift);
    const u64 v = ept.memory.read(a);
    r.steps.push_back({a, v, level});
    if (!(v & 7) && !(mbec && (v & mmu::bit(10)))) break;
    if (level == 1 || (level <= 3 && (v & 0x80))) {
      r.leaf = true;
      r.level = level;
      r.size = u64{1} << shift;
      r.frame = v & mask(M - 1, shift);
      break;
    }
    table = v & mask(M - 1, 12);
  }
  return r;
}

}  // namespace

Prepared prepare_vmx(const mmu::Case& c, const CpuModel& cpu) {
  Prepared p;
  p.vmx = true;
  p.va = c.access.addr;
  auto unsupported = [&](std::string why) {
    p.unsupported = std::move(why);
    return p;
  };
  if (!cpu.vmx) return unsupported(fmt::format("{} has no VMX with EPT", cpu.name));
  if (c.access.shadow_stack && c.access.implicit)
    return unsupported("implicit shadow-stack accesses are not run by the probe");
  if (auto why = implicit_unstageable(c)) return unsupported(*why);
  if (c.cpu.rflags & mmu::rflags::VM) return unsupported("virtual-8086 mode is not run by the probe");
  if (auto why = cpu_mismatch(c, cpu)) return unsupported(*why);
  const mmu::EptState& ept = *c.ept;
  const unsigned M = c.cpu.maxphyaddr;
  const PagingMode mode = mmu::paging_mode(c.cpu);
  const mmu::CpuState& s = c.cpu;
  const u64 va = c.access.addr;

  if (mode == PagingMode::level5) return unsupported("5-level guest paging under EPT is not staged by the probe");
  if (ept.levels() != 4 && ept.levels() != 5)
    return unsupported(fmt::format("EPTP page-walk length {}: the VM entry would fail", ept.levels()));
  if (mode == PagingMode::none && va > 0xffffffffu)
    return unsupported("paging off with an address above 4 GiB");
  // Shadow-stack accesses: L2 runs WRSS, or a RET with SSP = va, at the
  // case's CPL, with the CET state the record asks for (probe_vmx.s_cet...).
  const unsigned ss_bytes = mode == PagingMode::level4 ? 8 : 4;  // a shadow-stack entry in L2's mode
  if (c.access.shadow_stack) {
    const bool write = c.access.kind == mmu::AccessKind::write;
    if (va & (ss_bytes - 1))
      return unsupported(write ? fmt::format("WRSS{} needs a {}-byte aligned address", ss_bytes == 8 ? "Q" : "D", ss_bytes)
                               : fmt::format("shadow-stack reads are run only at {}-byte aligned addresses (VM entry "
                                             "loads SSP = the address; the RET pops its landing value there)",
                                             ss_bytes));
    if (!write && ss_bytes == 8 && mmu::sign_extend(va, 47) != va)
      return unsupported("a non-canonical shadow-stack read: VM entry refuses a non-canonical guest SSP");
  }

  // ---- the guest's walk, as its structure says; the guest-physical pages it touches ----
  std::vector<GuestStep> steps;
  bool guest_leaf = false;
  u64 gpa_final = 0, page_size = 4096;
  u64 top_page = 0;
  unsigned top_index = 0;
  const unsigned gw = mode == PagingMode::bit32 ? 4 : 8;
  u64 pae_wslot_hpa = 0;
  bool pae_cr3 = false, pdpt_mapped = true;  // PAE: L2 loads CR3 itself; the PDPTE load's translation succeeds
  u64 pdptes[4] = {};
  auto rd = [&](u64 a) { return c.memory.read(a); };
  if (mode == PagingMode::none) {
    guest_leaf = true;
    gpa_final = va;
  } else if (mode == PagingMode::pae) {
    const u64 pdpt = s.cr3 & mask(31, 5);
    // With EPT, VM entry loads the PDPTEs from the VMCS, not through EPT from
    // CR3 as a MOV to CR3 would (3C 27.3.2.4, 29.3.3.2). Where the load has no
    // observable effect of its own (its EPT translation succeeds and sets no
    // accessed flag, no PDPTE has a reserved bit), the probe puts the case's
    // PDPTEs in the VMCS. Otherwise L2's code loads CR3 itself at CPL 0
    // (pae_cr3) so the load goes through EPT as the case's does, and then
    // goes to the case's CPL: CPL 3 with SYSEXIT (no GDT read), CPL 1 and 2
    // with IRET through a frame and GDT of the window's.
    top_page = s.cr3 & mask(31, 12);
    top_index = static_cast<unsigned>(mmu::field(va, 31, 30));
    mmu::EptRequest r;
    r.gpa = pdpt;
    r.read = true;
    r.gla_valid = false;
    r.translated = false;
    mmu::WriteList w, wo;
    const mmu::EptResult res = mmu::ept_translate(ept, M, r, w, wo, nullptr);
    // the load exits, sets EPT accessed flags, or meets a reserved bit (a
    // VMCS load would fail VM entry instead of the #GP)
    bool through_ept = res.kind != mmu::OutcomeKind::ok || !w.empty() || !wo.empty();
    for (unsigned i = 0; i < 4; ++i) {
      pdptes[i] = rd(pdpt + 8 * i);
      through_ept |= (pdptes[i] & 1) && (pdptes[i] & (mmu::bits(2, 1) | mmu::bits(8, 5) | mask(63, M)));
      p.vmx_header.pdpte[i] = pdptes[i];
    }
    pae_cr3 = through_ept;
    if (pae_cr3 && res.kind != mmu::OutcomeKind::ok) pdpt_mapped = false;
    const u64 pdpte = p.vmx_header.pdpte[top_index];
    if (pdpte & 1) {
      const u64 pde_addr = (pdpte & mask(M - 1, 12)) + 8 * mmu::field(va, 29, 21);
      const u64 pde = rd(pde_addr);
      steps.push_back({pde_addr, pde, 8});
      if ((pde & 1) && (pde & 0x80)) {
        guest_leaf = true;
        page_size = u64{2} << 20;
        gpa_final = (pde & mask(M - 1, 21)) | (va & mask(20, 0));
      } else if (pde & 1) {
        const u64 pte_addr = (pde & mask(M - 1, 12)) + 8 * mmu::field(va, 20, 12);
        const u64 pte = rd(pte_addr);
        steps.push_back({pte_addr, pte, 8});
        if (pte & 1) {
          guest_leaf = true;
          gpa_final = (pte & mask(M - 1, 12)) | (va & 0xfff);
        }
      }
    }
  } else if (mode == PagingMode::bit32) {
    top_page = s.cr3 & mask(31, 12);
    top_index = static_cast<unsigned>(mmu::field(va, 31, 22));
    const u64 pde_addr = top_page + 4 * top_index;
    const u64 pde = rd(pde_addr);
    steps.push_back({pde_addr, pde, 4});
    const bool big = (pde & 0x80) && (s.cr4 & mmu::cr4::PSE);
    if ((pde & 1) && big) {
      const unsigned m = s.features.has(Feature::pse36) ? std::min(M, 40u) : 32;
      const u64 high = m > 32 ? mmu::field(pde, 20, 13) & mask(m - 33, 0) : 0;
      guest_leaf = true;
      page_size = u64{4} << 20;
      gpa_final = (pde & mask(31, 22)) | (high << 32) | (va & mask(21, 0));
    } else if (pde & 1) {
      const u64 pte_addr = (pde & mask(31, 12)) + 4 * mmu::field(va, 21, 12);
      const u64 pte = rd(pte_addr);
      steps.push_back({pte_addr, pte, 4});
      if (pte & 1) {
        guest_leaf = true;
        gpa_final = (pte & mask(31, 12)) | (va & 0xfff);
      }
    }
  } else {
    top_page = s.cr3 & mask(M - 1, 12);
    top_index = static_cast<unsigned>(mmu::field(va, 47, 39));
    u64 table = top_page;
    const bool canonical = mmu::sign_extend(va, 47) == va;
    for (unsigned level = 4; canonical && level >= 1; --level) {
      const unsigned shift = 12 + 9 * (level - 1);
      const u64 a = table + 8 * mmu::field(va, shift + 8, shift);
      const u64 e = rd(a);
      steps.push_back({a, e, 8});
      if (!(e & 1)) break;
      if (level == 1 || ((e & 0x80) && (level == 2 || level == 3))) {
        guest_leaf = true;
        page_size = u64{1} << shift;
        gpa_final = (e & mask(M - 1, shift)) | (va & (page_size - 1));
        break;
      }
      table = e & mask(M - 1, 12);
    }
  }
  std::vector<u64> touched;  // guest-physical addresses the case's walks translate through EPT
  if (mode != PagingMode::none) touched.push_back(top_page);
  for (const GuestStep& g : steps) touched.push_back(g.gpa);
  if (guest_leaf) touched.push_back(gpa_final);
  for (u64 g : touched)
    if (g >= (u64{1} << M)) return unsupported("a guest-physical address beyond MAXPHYADDR on the walk");

  // ---- relocation of host-physical addresses ----
  unsigned pool_next = 0;
  auto pool_alloc = [&]() -> u64 { return PROBE_POOL_BASE + 4096ull * pool_next++; };
  std::map<u64, u64> table_reloc;  // case EPT table page -> pool page
  auto table_page = [&](u64 page) {
    auto [it, fresh] = table_reloc.try_emplace(page, 0);
    if (fresh) it->second = pool_alloc();
    return it->second;
  };
  const u64 ept_top = ept.eptp & mask(M - 1, 12);
  table_page(ept_top);
  // Each EPT leaf's frame lands in memory the probe owns: a 4-KByte leaf on a
  // pool page of its own, 2-MByte and 1-GByte leaves in landing regions they
  // may share, as a case uses only a few pages of each. What must not happen
  // is aliasing: the reference's guest memory is indexed by guest-physical
  // address, so a host-physical page the case uses (its guest entries, the A/D
  // flags the CPU sets there, the PDPT, the window's slot, the landing byte --
  // all in the pages of `touched`) must be reached from one guest-physical
  // page only, or one walk's A/D write would show in another's read.
  // `owner` is that map; a large leaf takes the first region where none of
  // its pages is owned by another guest-physical page. Leaves are keyed by
  // the leaf entry, not by its frame: two entries with one frame are two
  // guest-physical pages to the reference, and get two host pages here.
  constexpr u64 k2M = u64{2} << 20, k1G = u64{1} << 30;
  struct Leaf {
    u64 size = 0;
    std::set<u64> pages;  // the guest-physical pages the case uses through it
    u64 base = 0;
  };
  std::map<u64, Leaf> leaves;  // case host-physical address of the leaf entry -> its landing
  for (u64 g : touched) {
    const EptWalk w = ept_walk(ept, M, g);
    if (!w.leaf) continue;
    Leaf& l = leaves[w.steps.back().hpa];
    l.size = w.size;
    l.pages.insert(g & ~u64{0xfff});
  }
  struct Region {
    u64 base, lo, hi;  // a leaf lands at `base`; the host pages it uses must lie in [lo, hi)
  };
  std::vector<Region> regions_2m, regions_1g;
  for (u64 b = PROBE_LANDING_2M; b < PROBE_POOL_BASE; b += k2M) regions_2m.push_back({b, b, b + k2M});
  for (u64 b = PROBE_FREE_1G_LO; b < PROBE_FREE_1G_HI; b += k2M) regions_2m.push_back({b, b, b + k2M});
  if (cpu.big_ram) regions_1g.push_back({PROBE_LANDING_1G, PROBE_LANDING_1G, PROBE_LANDING_1G + k1G});
  // at host-physical 0 the leaf covers the probe itself: only its free RAM may be used
  regions_1g.push_back({0, PROBE_FREE_1G_LO, PROBE_FREE_1G_HI});
  std::map<u64, u64> owner;  // host-physical page -> the guest-physical page the case uses it as
  // Why `l` cannot land in `r` (empty: it can).
  auto clash = [&](const Leaf& l, const Region& r) -> std::string {
    for (u64 g : l.pages) {
      const u64 off = g & (l.size - 1), h = r.base + off;
      if (h < r.lo || h + 4096 > r.hi)
        return fmt::format("1-GByte EPT page: offset {:#x} lies outside the probe's free RAM [{:#x}, {:#x})", off,
                           r.lo, r.hi);
      const auto it = owner.find(h);
      if (it != owner.end() && it->second != g)
        return fmt::format("{} EPT pages: guest-physical pages {:#x} and {:#x} would share host-physical page {:#x} "
                           "in every landing region",
                           l.size == k1G ? "1-GByte" : "2-MByte", it->second, g, h);
    }
    return {};
  };
  auto claim = [&](Leaf& l, u64 base) {
    l.base = base;
    for (u64 g : l.pages) owner.emplace(base + (g & (l.size - 1)), g);
  };
  // the fewest choices first: 1-GByte leaves, then 2-MByte, then pool pages (always free)
  for (const u64 size : {k1G, k2M, u64{4096}})
    for (auto& [at, l] : leaves) {
      if (l.size != size) continue;
      if (size == 4096) {
        claim(l, pool_alloc());
        continue;
      }
      const std::vector<Region>& regions = size == k1G ? regions_1g : regions_2m;
      std::string first_why;
      bool placed = false;
      for (const Region& r : regions) {
        std::string why = clash(l, r);
        if (why.empty()) {
          claim(l, r.base);
          placed = true;
          break;
        }
        if (first_why.empty()) first_why = std::move(why);
      }
      if (!placed) return unsupported(first_why);
    }
  std::string fail;
  auto landing_for = [&](const EptWalk& w) { return leaves.at(w.steps.back().hpa).base; };
  std::map<u64, std::pair<u64, unsigned>> written;  // host-physical -> (value, width)
  auto write = [&](u64 hpa, u64 value, unsigned w) {
    auto [it, fresh] = written.try_emplace(hpa, value, w);
    if (!fresh && it->second.first != value) {
      fail = "an entry serves the walks twice with different values";
      return false;
    }
    return true;
  };
  std::vector<EptWalk> walks;
  // GPA -> relocated host-physical address, when the case's EPT maps it (every
  // GPA asked for lies in a page of `touched`, which the leaves were placed for)
  auto hpa_of = [&](u64 gpa) -> std::optional<u64> {
    const EptWalk w = ept_walk(ept, M, gpa);
    if (!w.leaf) return std::nullopt;
    const auto l = leaves.find(w.steps.back().hpa);
    const u64 h = l == leaves.end() ? 0 : l->second.base + (gpa & (w.size - 1));
    const auto it = owner.find(h & ~u64{0xfff});
    if (l == leaves.end() || it == owner.end() || it->second != (gpa & ~u64{0xfff})) {
      fail = fmt::format("guest-physical address {:#x} was not placed", gpa);
      return std::nullopt;
    }
    return h;
  };
  for (u64 g : touched) {
    EptWalk w = ept_walk(ept, M, g);
    for (const EptStep& st : w.steps) {
      u64 v = st.value;
      const bool present = (v & 7) || (ept.features.has(mmu::EptFeature::mbec) && (v & mmu::bit(10)));
      const bool is_leaf = w.leaf && &st == &w.steps.back();
      if (is_leaf) {
        v = (v & ~mask(M - 1, 12 + 9 * (st.level - 1))) | landing_for(w);
      } else if (present) {
        v = (v & ~mask(M - 1, 12)) | table_page(v & mask(M - 1, 12));
      }
      const u64 page = st.hpa & ~u64{0xfff};
      if (!write(table_page(page) + (st.hpa & 0xfff), v, 8)) return unsupported(fail);
    }
    walks.push_back(std::move(w));
  }

  // ---- capabilities: what the case has must be what the CPU has, where it matters ----
  using EF = mmu::EptFeature;
  const std::pair<EF, std::uint32_t> capmap[] = {{EF::exec_only, PROBE_CAP_EXEC_ONLY}, {EF::level5, PROBE_CAP_5LEVEL},
                                                  {EF::pages_2m, PROBE_CAP_2M},         {EF::pages_1g, PROBE_CAP_1G},
                                                  {EF::ad, PROBE_CAP_AD},               {EF::advinfo, PROBE_CAP_ADVINFO},
                                                  {EF::mbec, PROBE_CAP_MBEC}};
  std::uint32_t need = 0, forbid = 0;
  for (auto [f, bit] : capmap)
    if (ept.features.has(f)) need |= bit;
  // A capability the case lacks only matters where the case would use it.
  bool exec_only_entry = false, ps2 = false, ps1g = false;
  for (const EptWalk& w : walks)
    for (const EptStep& st : w.steps) {
      exec_only_entry |= (st.value & 7) == 4;
      ps2 |= st.level == 2 && (st.value & 0x80) && (st.value & 7);
      ps1g |= st.level == 3 && (st.value & 0x80) && (st.value & 7);
    }
  if (!ept.features.has(EF::exec_only) && exec_only_entry) forbid |= PROBE_CAP_EXEC_ONLY;
  if (!ept.features.has(EF::pages_2m) && ps2) forbid |= PROBE_CAP_2M;
  if (!ept.features.has(EF::pages_1g) && ps1g) forbid |= PROBE_CAP_1G;
  if (!ept.features.has(EF::ad) && (ept.eptp & mmu::eptp::AD)) forbid |= PROBE_CAP_AD;
  if (!ept.features.has(EF::advinfo)) forbid |= PROBE_CAP_ADVINFO;  // qualification bits 9-11

  // ---- guest entries where the relocated EPT puts them ----
  std::vector<std::pair<GuestStep, u64>> guest_at;  // step, host-physical
  for (const GuestStep& g : steps) {
    const auto h = hpa_of(g.gpa);
    if (!h) {
      if (!fail.empty()) return unsupported(fail);
      continue;  // not mapped: the walk exits before it reads this entry
    }
    if (!write(*h, g.value, g.w)) return unsupported(fail);
    guest_at.emplace_back(g, *h);
  }
  // PAE with L2 loading CR3: the case's PDPT where the relocated EPT puts it,
  // with the window's PDPTE in a slot the case leaves not present (so the
  // load's reserved-bit checks see what the case's would)
  std::optional<unsigned> pae_wslot;
  if (pae_cr3) {
    for (unsigned i = 0; i < 4 && !pae_wslot; ++i)
      if (i != top_index && !(pdpt_mapped && (pdptes[i] & 1))) pae_wslot = i;
    if (!pae_wslot) return unsupported("PAE under EPT: no PDPTE slot free for the probe's window (L2's code)");
    if (pdpt_mapped) {
      const u64 pdpt = s.cr3 & mask(31, 5);
      for (unsigned i = 0; i < 4; ++i) {
        const auto h = hpa_of(pdpt + 8 * i);
        if (!h) return unsupported(fail.empty() ? "PAE under EPT: the PDPT is not mapped" : fail);
        if (i != *pae_wslot && !write(*h, pdptes[i], 8)) return unsupported(fail);
        if (i == *pae_wslot) pae_wslot_hpa = *h;
      }
    }
  }
  u64 marker = 0;
  std::optional<EptWalk> final_walk;
  if (guest_leaf) {
    if (const auto h = hpa_of(gpa_final)) {
      marker = *h;
      const unsigned landing_bytes = c.access.shadow_stack ? ss_bytes : 1;
      for (const auto& [a, vw] : written)
        if (marker < a + vw.second && a < marker + landing_bytes)
          return unsupported("the access's landing byte is also a paging-structure entry");
    } else if (!fail.empty()) {
      return unsupported(fail);
    }
    final_walk = ept_walk(ept, M, gpa_final);
  }

  // 32-bit and 4-level guests whose top-level table's EPT translation faults:
  // L2 cannot reach the window through that table, so at CPL 0 it starts on
  // the probe's own tables, with the code page global (CR4.PGE), and loads
  // the case's CR3 itself; a MOV to CR3 keeps global translations (4.10.4.1),
  // so the code stays reachable while the access walks the case's tables.
  // At CPL 1 or 2 L2 then IRETs there through a frame and GDT on a global
  // page read before the MOV. At CPL 3 the user code page must be cached
  // with user rights before the MOV, so L2 enters at CPL 3 on that page
  // (its first fetch fills the global entry at CPL 3), SYSENTERs to the
  // supervisor code page, loads CR3 there and SYSEXITs back: neither
  // instruction reads memory (SDM Vol. 2B SYSENTER, SYSEXIT).
  bool global_cr3 = false;
  if (mode == PagingMode::bit32 || mode == PagingMode::level4) {
    mmu::EptRequest r;
    r.gpa = top_page;
    r.read = true;
    r.translated = false;
    mmu::WriteList w, wo;
    global_cr3 = mmu::ept_translate(ept, M, r, w, wo, nullptr).kind != mmu::OutcomeKind::ok;
    if (global_cr3 && mode == PagingMode::level4 && (s.cr3 & mask(62, M)))
      return unsupported("a CR3 with a reserved bit: L2's MOV to CR3 would #GP");
  }
  // A fetch needs no code of the probe's: L2 starts at the case's CPL with
  // the case's CR3 (PAE: its PDPTEs in the VMCS) at the address, and its
  // first fetch is the access; no window is built. Where the top-level
  // table's EPT translation faults that is all L2 can do (no window is
  // reachable; for a 32-bit guest whose EPT PML4E 0 faults none exists).
  // (Not with paging off, where L2 runs on the probe's tables, nor where a
  // PAE guest's PDPTE load must go through EPT: L2 loads CR3 itself.)
  const bool bare_fetch = c.access.kind == mmu::AccessKind::fetch && mode != PagingMode::none && !pae_cr3;
  if (bare_fetch) global_cr3 = false;

  // ---- the window: an EPT slot no walk of the case reads ----
  // EPT-only cases run L2 with the probe's 4-level tables
  const bool ia32e_l2 = mode == PagingMode::none || mode == PagingMode::level4;
  const u64 gpa_limit = mode == PagingMode::bit32 ? u64{1} << 32 : u64{1} << std::min(M, 46u);  // PAE entries hold M bits
  const u64 anchor = mode == PagingMode::none ? va : top_page;  // the walk every window access shares
  u64 prefix = 0, table = ept_top, wg = 0;
  std::optional<std::pair<u64, unsigned>> slot_at;  // (relocated entry address, level)
  std::optional<mmu::Verdict> verdict;  // the reference's, computed only when a slot needs it
  for (unsigned level = ept.levels(); level >= 2 && !slot_at && !bare_fetch; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    for (u64 k = 0; k < 512; ++k) {
      const u64 region = prefix | (k << shift);
      if (region >= gpa_limit) break;
      bool used = false;
      for (u64 t : touched) used |= (t >> shift) == (region >> shift);
      const u64 entry = table_page(table) + 8 * k;
      if (used || written.count(entry)) continue;
      slot_at = {entry, level};
      wg = region;
      break;
    }
    if (slot_at) break;
    // Down one level: the window's fetches and reads must pass the entry
    // (readable, executable -- user-executable too under MBEC -- a non-leaf
    // with no reserved bit, 29.3.3.1), or they would meet the case's fault
    // before the access. The anchor's entry first; else any other the case
    // leaves passable, as long as the window's walk sets no accessed flag a
    // case walk would see differently (EPT A/D off, A already set, an entry
    // no case walk reads, or one whose A flag every outcome the reference
    // allows sets anyway).
    auto passable = [&](u64 e) {
      const bool mbec = ept.features.has(mmu::EptFeature::mbec);
      return (e & 5) == 5 && (!mbec || (e & mmu::bit(10))) && !(e & 0xf8) && !(e & mask(51, M));
    };
    auto case_sets_accessed = [&](u64 entry) {
      if (!verdict) verdict = mmu::reference::evaluate(c);
      const auto sets = [&](const mmu::Verdict& v, const auto& self) -> bool {
        bool found = false;
        for (const mmu::WriteList* l : {&v.outcome.writes, &v.optional_writes})
          for (const mmu::Write& w : *l) found |= w.space == mmu::Space::ept && w.addr == entry && (w.value & 0x100);
        for (const mmu::Verdict& alt : v.alternatives) found = found && self(alt, self);
        return found;
      };
      return sets(*verdict, sets);
    };
    const u64 ka = mmu::field(anchor, shift + 8, shift);
    std::optional<u64> via;
    if (passable(ept.memory.read(table + 8 * ka))) via = ka;
    for (u64 k = 0; k < 512 && !via; ++k) {
      if ((prefix | (k << shift)) >= gpa_limit) break;
      const u64 e = ept.memory.read(table + 8 * k);
      const bool walked = written.count(table_page(table) + 8 * k);
      if (passable(e) && (!ept.ad_enabled() || (e & 0x100) || !walked || case_sets_accessed(table + 8 * k))) via = k;
    }
    if (!via)
      return unsupported(
          "no EPT slot free for the probe's window (L2's code): below the entries the case's walks use, every EPT "
          "entry that could lead to one would fault L2's fetches first");
    const u64 e = ept.memory.read(table + 8 * *via);
    // an entry no case walk reads is not in the relocated table yet
    if (!write(table_page(table) + 8 * *via, (e & ~mask(M - 1, 12)) | table_page(e & mask(M - 1, 12)), 8))
      return unsupported(fail);
    prefix |= *via << shift;
    table = e & mask(M - 1, 12);
  }
  if (!slot_at && !bare_fetch) return unsupported("no EPT slot free for the probe's window (L2's code)");
  constexpr unsigned kWinPages = kWindowPages;
  u64 win_hpa[kWinPages];
  for (u64& h : win_hpa) h = bare_fetch ? 0 : pool_alloc();
  if (slot_at) {
    // EPT below the slot: non-leaf RWX with A set, then a PT of WB RWX leaves with A/D set
    u64 at = slot_at->first;
    for (unsigned level = slot_at->second; level >= 2; --level) {
      const u64 next = pool_alloc();
      if (!write(at, next | 7 | 0x100, 8)) return unsupported(fail);
      at = next;
    }
    for (unsigned i = 0; i < kWinPages; ++i)
      if (!write(at + 8 * i, win_hpa[i] | 7 | (6 << 3) | 0x300, 8)) return unsupported(fail);
  }
  if (pool_next > PROBE_POOL_PAGES) return unsupported("too many pages");
  auto win_gpa = [&](unsigned i) { return wg + 4096ull * i; };
  if (!bare_fetch) p.window_gpa = wg;
  auto put = [&](unsigned page, u64 index, u64 value, unsigned w) { return write(win_hpa[page] + w * index, value, w); };
  // L2's code in window page 0: the access, then VMCALL (an exit that says it completed)
  static constexpr std::uint8_t kRead[] = {0x8a, 0x07, 0x0f, 0x01, 0xc1, 0xf4};         // mov al,[rdi]; vmcall; hlt
  static constexpr std::uint8_t kWrite[] = {0xc6, 0x07, PROBE_WRITE_MARK, 0x0f, 0x01, 0xc1, 0xf4};  // mov byte [rdi],0xa5
  // L2 loading CR3 (PAE, or a faulting top-level table): mov eax, cr3-value; mov cr3, eax first;
  // a fetch case then jumps to its address (jmp edi)
  // (64-bit L2: mov rax, imm64; then a nop, so that a code fetch the MOV to
  // CR3 left without a translation is told apart from the access by its RIP)
  const bool long_cr3 = global_cr3 && mode == PagingMode::level4;
  const bool sysexit = pae_cr3 && s.cpl == 3;  // L2 loads CR3 at CPL 0, then goes to CPL 3
  const bool iret = (pae_cr3 || global_cr3) && (s.cpl == 1 || s.cpl == 2);  // ... or IRETs to CPL 1 or 2
  // 32-bit/4-level at CPL 3, top-level table faulting: CPL 3 -> SYSENTER -> MOV to CR3 -> SYSEXIT
  const bool sysenter = global_cr3 && s.cpl == 3;
  // global_cr3: the probe's own top-level slot for the code, where the case's access is not
  const unsigned gslot =
      (mode == PagingMode::bit32 ? mmu::field(va, 31, 22) : mmu::field(va, 47, 39)) == 1 ? 2 : 1;
  const u64 code_base = pae_cr3 ? u64{*pae_wslot} << 30 : mode == PagingMode::bit32 ? u64{gslot} << 22 : u64{gslot} << 39;
  // IRET to CPL 1/2: the frame and a GDT in one window page (PAE: page 3,
  // linear +0x2000; 32-bit: page 3, +0x1000; 4-level: page 5, +0x1000), the
  // frame at kIretFrame, the DPL-1 code selector kIretCs (then DPL-1 data,
  // DPL-2 code, DPL-2 data). SYSENTER at CPL 3: the same page (32-bit,
  // 4-level) is the user code page.
  constexpr unsigned kIretFrame = 0x100, kIretCs = 0x20;
  const unsigned data_page = long_cr3 ? 5 : 3;
  const u64 data_linear = code_base + (pae_cr3 ? 0x2000 : 0x1000);
  // Implicit accesses: LAR / MOV FS of LDT selector 7 (the VMCS's LDTR is
  // based at va, probe.c): mov ecx, 7; lar eax, cx; shr eax, 8 (AL = the
  // access byte; RAX is 0 at entry, and LAR leaves it when ZF = 0); or mov
  // ecx, 7; mov fs, ecx (sets the descriptor's accessed flag); then vmcall;
  // hlt. The same bytes in 32- and 64-bit code; neither uses DS.
  static constexpr std::uint8_t kIRead[] = {0xb9, 7, 0, 0, 0, 0x0f, 0x02, 0xc1, 0xc1, 0xe8, 0x08, 0x0f, 0x01, 0xc1, 0xf4, 0xf4};
  static constexpr std::uint8_t kIWrite[] = {0xb9, 7, 0, 0, 0, 0x8e, 0xe1, 0x0f, 0x01, 0xc1, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4};
  const bool implicit = c.access.implicit;
  // Shadow-stack writes: mov eax, the write mark; wrssd [edi], eax / wrssq
  // [rdi], rax; vmcall; hlt (WR_SHSTK_EN for the access's CPL: see s_cet below)
  static constexpr std::uint8_t kWrss32[] = {0xb8, PROBE_WRITE_MARK, 0, 0, 0, 0x0f, 0x38, 0xf6, 0x07, 0x0f, 0x01, 0xc1, 0xf4};
  static constexpr std::uint8_t kWrss64[] = {0xb8, PROBE_WRITE_MARK, 0, 0, 0, 0x48, 0x0f, 0x38, 0xf6, 0x07, 0x0f, 0x01, 0xc1, 0xf4};
  const bool ss_write = c.access.shadow_stack && c.access.kind == mmu::AccessKind::write;
  auto imm = [](std::vector<std::uint8_t>& to, u64 v, unsigned n) {
    for (unsigned k = 0; k < n; ++k) to.push_back(static_cast<std::uint8_t>(v >> 8 * k));
  };
  auto put_code = [&](unsigned page, std::vector<std::uint8_t>& bytes) {
    bytes.resize((bytes.size() + 7) & ~std::size_t{7});
    bool ok = true;
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
      u64 q = 0;
      std::memcpy(&q, bytes.data() + i, 8);
      ok = ok && put(page, i / 8, q, 8);
    }
    return ok;
  };
  // A shadow-stack read is mov esp/rsp, slot; ret; vmcall; hlt: the RET pops
  // the data stack at the slot (on the page of its code, which L2 reads at
  // its CPL) and the shadow stack at SSP = va, whose landing spot holds the
  // same return address; it goes on to the VMCALL, or raises #CP when the
  // shadow-stack read reached other memory.
  const bool ss_read = c.access.shadow_stack && !ss_write;
  constexpr u64 kSsData = 0x800;  // the data-stack slot's offset in that page
  // A shadow-stack access at CPL 1/2 where L2 loads CR3: supervisor shadow
  // stacks are on at CPL 0 too (one IA32_S_CET), so the IRET there pops a
  // frame of three quadwords (SSP, LIP, CS) from the shadow stack, checks LIP
  // and CS against its data-stack frame and loads SSP from it (SDM Vol. 2A
  // IRET). The frame is on a supervisor shadow-stack page of the window's
  // (page 6: R/W = 0, D = 1), VM entry's SSP points to it, and its SSP is the
  // read's address (0 for a write).
  const bool ss_iret = c.access.shadow_stack && iret;
  constexpr unsigned kSsFramePage = 6;
  constexpr u64 kSsFrame = 0xfd0;  // then the token slot whose busy flag the IRET clears (0xfe8)
  // its PT slot in the window's own PT (after the code page and the IRET's
  // frame and GDT page; PAE also maps the SYSEXIT user page before them)
  const unsigned ss_frame_pt_index = pae_cr3 ? 3 : 2;
  const u64 ss_frame_linear = code_base + 0x1000 * ss_frame_pt_index + kSsFrame;
  // 4-level L2 under CR4.PKE: the window's leaves L2 reads or writes data on
  // (the RET's data stack, the shadow-stack frame) carry a key PKRU leaves
  // readable and writable; Bochs applies PKRU to supervisor pages as well
  // (corpus/known-deviations/README.md, bochs-pkru-by-cpl).
  u64 win_key = 0;
  if ((ss_read || ss_iret) && mode == PagingMode::level4 && (s.cr4 & mmu::cr4::PKE)) {
    std::optional<unsigned> k;
    for (unsigned i = 0; i < 16 && !k; ++i)
      if (!((s.pkru >> (2 * i)) & 3)) k = i;
    if (!k)
      return unsupported("PKRU forbids reads or writes with every key: the probe's shadow-stack staging reads (and "
                         "writes) window pages");
    win_key = u64{*k} << 59;
  }
  // mov <reg>, imm32 / REX.W mov <reg>, imm64 (`op` = 0xb8 + reg)
  auto mov_imm = [&](std::vector<std::uint8_t>& to, std::uint8_t op, u64 v, bool wide) {
    if (wide) to.push_back(0x48);
    to.push_back(op);
    imm(to, v, wide ? 8 : 4);
  };
  constexpr std::uint8_t kMovEax = 0xb8, kMovEcx = 0xb9, kMovEdx = 0xba, kMovEsp = 0xbc;
  if (pae_cr3 || global_cr3) {
    std::vector<std::uint8_t> code, user_code;
    const u64 cr3v = s.cr3 & ~(u64{1} << 63);
    const u64 frame = data_linear + kIretFrame;
    auto mov_sp = [&] { mov_imm(code, kMovEsp, frame, long_cr3); };
    // the code that does the access: its window page and linear address
    // (SYSEXIT/SYSENTER: the user page one page above the code)
    const bool on_user_page = sysexit || sysenter;
    const unsigned access_page = sysexit ? 5 : sysenter ? data_page : 0;
    const u64 access_linear = code_base + (on_user_page ? 0x1000 : 0);
    const u64 ss_slot = access_linear + kSsData;
    // A shadow-stack read's data stack: at CPL 0 set before the MOV to CR3
    // and, on a global page, read too, so that its translation is cached for
    // data and kept (as for the IRET's frame below); at CPL 3 SYSEXIT loads
    // ESP from ECX, and on the SYSENTER path L2 reads the slot at CPL 3 first.
    // mov esp/rsp, at; mov eax/rax, [esp/rsp]
    auto stack_at_and_read = [&](std::vector<std::uint8_t>& to, u64 at) {
      mov_imm(to, kMovEsp, at, long_cr3);
      if (long_cr3) to.insert(to.end(), {0x48, 0x8b, 0x04, 0x24});
      else to.insert(to.end(), {0x8b, 0x04, 0x24});
    };
    if (ss_read && !on_user_page) stack_at_and_read(code, ss_slot);
    if (ss_read && sysenter) stack_at_and_read(user_code, ss_slot);
    if (ss_iret && global_cr3) {
      // the shadow-stack frame's page, cached before the MOV as well, and
      // by a shadow-stack access (Bochs does not serve one from a TLB entry
      // an ordinary read filled): WRSS of 0 to the token slot after the frame
      mov_imm(code, kMovEax, ss_frame_linear + 24, long_cr3);
      code.insert(code.end(), {0x31, 0xc9});  // xor ecx, ecx
      if (long_cr3) code.push_back(0x48);
      code.insert(code.end(), {0x0f, 0x38, 0xf6, 0x08});  // wrss [eax/rax], ecx/rcx
    }
    if (iret && global_cr3) {
      // The IRET runs after the case's CR3 is loaded, whose tables cannot
      // map the frame and GDT: read them first, so that their page's global
      // translation is cached and the MOV to CR3 keeps it (4.10.4.1)
      stack_at_and_read(code, frame);
    }
    // mov eax/rax, cr3-value; mov cr3, eax/rax
    mov_imm(code, kMovEax, cr3v, long_cr3);
    p.l2_cr3_gp_rip_off = code.size();
    code.insert(code.end(), {0x0f, 0x22, 0xd8});
    if (global_cr3) {
      p.l2_after_cr3_rip_off = code.size();
      code.push_back(0x90);
    }
    p.vmx_header.cr3_target = cr3v;
    if (sysexit) {
      // mov edx, user code (window page 5, linear one page above); sysexit
      mov_imm(code, kMovEdx, code_base + 0x1000, false);
      if (ss_read) mov_imm(code, kMovEcx, ss_slot, false);
      code.insert(code.end(), {0x0f, 0x35});
    }
    if (sysenter) {
      // mov edx/rdx, the user page after its SYSENTER; sysexit (REX.W: to
      // 64-bit mode, CS = SYSENTER_CS + 32)
      user_code.insert(user_code.end(), {0x0f, 0x34});  // sysenter: to the supervisor page at CPL 0
      mov_imm(code, kMovEdx, data_linear + user_code.size(), long_cr3);
      if (ss_read) mov_imm(code, kMovEcx, ss_slot, long_cr3);
      if (long_cr3) code.push_back(0x48);
      code.insert(code.end(), {0x0f, 0x35});
      p.vmx_header.sysenter_eip = code_base;
      p.l2_entry_off = 0x1000;
    }
    if (iret) {
      // mov esp, frame; iretd -- to the next instruction at the case's CPL
      // (IRET to an outer privilege level, SDM Vol. 2A IRET: it pops EIP, CS,
      // EFLAGS, ESP, SS, 8 bytes each with REX.W, and reads the CS and SS
      // descriptors). The frame and the GDT are in a window page mapped
      // read-only and accessed; the descriptors' accessed flags are set (3A
      // 3.4.5), so the CPU writes neither.
      if (!global_cr3) mov_sp();
      p.l2_iret_rip_off = code.size();
      if (long_cr3) code.push_back(0x48);
      code.push_back(0xcf);
      const u64 cs = kIretCs + 16 * (s.cpl - 1) + s.cpl, ss = cs + 8;
      const u64 eflags = mmu::rflags::FIXED1 | (s.rflags & mmu::rflags::AC);  // IF 0: nothing interrupts L2
      const u64 eip = code_base + code.size();
      // flat 4 GiB, present, accessed: execute/read code (32-bit, or 64-bit: L set), read/write data
      const u64 code_desc = long_cr3 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull;
      bool ok = true;
      for (unsigned dpl = 1; dpl <= 2; ++dpl) {
        const u64 index = kIretCs / 8 + 2 * (dpl - 1);
        ok = ok && put(data_page, index, code_desc | u64{dpl} << 45, 8) &&
             put(data_page, index + 1, 0x00cf93000000ffffull | u64{dpl} << 45, 8);
      }
      const u64 f = kIretFrame / 8;
      const u64 esp = ss_read ? ss_slot : frame;  // a shadow-stack read's RET pops its data-stack slot
      if (long_cr3)
        ok = ok && put(data_page, f, eip, 8) && put(data_page, f + 1, cs, 8) && put(data_page, f + 2, eflags, 8) &&
             put(data_page, f + 3, esp, 8) && put(data_page, f + 4, ss, 8);
      else
        ok = ok && put(data_page, f, eip | cs << 32, 8) && put(data_page, f + 1, eflags | esp << 32, 8) &&
             put(data_page, f + 2, ss, 8);
      if (ss_iret)
        ok = ok && put(kSsFramePage, kSsFrame / 8, ss_read ? va : 0, 8) && put(kSsFramePage, kSsFrame / 8 + 1, eip, 8) &&
             put(kSsFramePage, kSsFrame / 8 + 2, cs, 8);
      if (!ok) return unsupported(fail);
      p.vmx_header.gdtr_base = data_linear;
    }
    const bool wr = c.access.kind == mmu::AccessKind::write, rd_ = c.access.kind == mmu::AccessKind::read;
    // after IRET to an outer level DS is null (its DPL 0 is below the new
    // CPL, SDM Vol. 2A IRET): a 32-bit access goes through SS, flat as DS
    // was (in 64-bit mode a null DS is usable, and SS would turn a
    // non-canonical address's #GP into #SS)
    std::vector<std::uint8_t>& at = sysexit || sysenter ? user_code : code;
    if (iret && !long_cr3 && c.access.kind != mmu::AccessKind::fetch && !implicit && !c.access.shadow_stack)
      at.push_back(0x36);
    if (ss_write && ia32e_l2) {
      at.insert(at.end(), std::begin(kWrss64), std::end(kWrss64));
    } else if (ss_write) {
      at.insert(at.end(), std::begin(kWrss32), std::end(kWrss32));
      if (iret) at.insert(at.end() - 8, 0x36);  // ss: on the WRSS (after the mov eax, before 0f 38 f6 07)
    } else if (ss_read) {
      at.push_back(0xc3);
      const u64 ret_off = (on_user_page ? 0x1000 : 0) + at.size();
      at.insert(at.end(), {0x0f, 0x01, 0xc1, 0xf4});
      p.l2_ss_return_off = ret_off;
      const u64 target = code_base + ret_off;
      if (!put(access_page, kSsData / 8, target, 8) || (marker && !write(marker, target, ss_bytes)))
        return unsupported(fail);
    } else if (implicit && wr) at.insert(at.end(), std::begin(kIWrite), std::end(kIWrite));
    else if (implicit) at.insert(at.end(), std::begin(kIRead), std::end(kIRead));
    else if (wr) at.insert(at.end(), std::begin(kWrite), std::end(kWrite));
    else if (rd_) at.insert(at.end(), std::begin(kRead), std::end(kRead));
    else at.insert(at.end(), {0xff, 0xe7});  // jmp edi/rdi
    if (!put_code(0, code) || (sysexit && !put_code(5, user_code)) ||  // the CPL-3 part on its own, user page
        (sysenter && !put_code(data_page, user_code)))
      return unsupported(fail);
    p.vmx_header.l2_loads_cr3 = 1;
  } else if (c.access.shadow_stack || bare_fetch) {
    // written below, once L2's linear address of the code is known; none
  } else if (implicit) {
    const std::uint8_t* bytes = c.access.kind == mmu::AccessKind::write ? kIWrite : kIRead;
    for (unsigned i = 0; i < 2; ++i) {
      u64 q = 0;
      std::memcpy(&q, bytes + 8 * i, 8);
      if (!put(0, i, q, 8)) return unsupported(fail);
    }
  } else {
    u64 code = 0;
    const bool wr = c.access.kind == mmu::AccessKind::write;
    std::memcpy(&code, wr ? kWrite : kRead, wr ? sizeof kWrite : sizeof kRead);
    put(0, 0, code, 8);
  }
  const u64 user = s.cpl == 3 ? 4 : 0;
  const u64 table_flags = 0x27;  // P RW US A
  u64 code_linear = 0, l2_cr3 = s.cr3;
  if (bare_fetch) {
    // no window: the case's own tables, L2's RIP the address
  } else if (mode == PagingMode::none) {
    // the probe's own 4-level tables: va -> va (user, writable, executable), wg -> L2's code
    if (mmu::field(wg, 47, 39) == mmu::field(va, 47, 39)) return unsupported("no room for the probe's window");
    code_linear = wg;
    bool ok = put(1, mmu::field(va, 47, 39), win_gpa(2) | table_flags, 8) &&
              put(2, mmu::field(va, 38, 30), win_gpa(3) | table_flags, 8) &&
              put(3, mmu::field(va, 29, 21), win_gpa(4) | table_flags, 8) &&
              put(4, mmu::field(va, 20, 12), (va & ~u64{0xfff}) | 0x67, 8) &&
              put(1, mmu::field(wg, 47, 39), win_gpa(5) | table_flags, 8) &&
              put(5, mmu::field(wg, 38, 30), win_gpa(6) | table_flags, 8) &&
              put(6, mmu::field(wg, 29, 21), win_gpa(7) | table_flags, 8) &&
              put(7, mmu::field(wg, 20, 12), wg | 0x21 | user, 8);
    if (!ok) return unsupported(fail);
    l2_cr3 = win_gpa(1);
  } else if (mode == PagingMode::pae) {
    // one of the four PDPTEs (in the VMCS only; the case's memory keeps its own)
    std::optional<unsigned> wslot = pae_wslot;
    for (unsigned i = 0; i < 4 && !wslot; ++i)
      if (i != top_index) wslot = i;
    code_linear = u64{*wslot} << 30;
    if (pae_cr3) {
      // VM entry gets only the window; L2's MOV to CR3 then loads the case's
      // PDPTEs and ours from memory, and the next fetch still finds the window
      for (u64& e : p.vmx_header.pdpte) e = 0;
      if (pdpt_mapped && !write(pae_wslot_hpa, win_gpa(1) | 1, 8)) return unsupported(fail);
    }
    p.vmx_header.pdpte[*wslot] = win_gpa(1) | 1;
    if (!(put(1, 0, win_gpa(2) | table_flags, 8) && put(2, 0, wg | 0x21 | (sysexit ? 0 : user), 8)))
      return unsupported(fail);
    if (sysexit && !put(2, 1, win_gpa(5) | 0x25, 8)) return unsupported(fail);
    if (iret && !put(2, 2, win_gpa(3) | 0x21, 8)) return unsupported(fail);  // frame and GDT: read only
    if (ss_iret && !put(2, ss_frame_pt_index, win_gpa(kSsFramePage) | 0x61, 8))  // shadow-stack page
      return unsupported(fail);
  } else if (global_cr3) {
    // the probe's own tables map the code page (global) where the case's
    // access is not; for an IRET, the frame and GDT page after it (global
    // too); for SYSENTER, the user code page there (global, user)
    const unsigned i = gslot;
    const u64 g = 0x100;
    const u64 next = iret ? 0x21 | g : sysenter ? 0x25 | g : 0;
    bool ok;
    code_linear = code_base;
    if (mode == PagingMode::bit32) {
      ok = put(1, i, win_gpa(2) | table_flags, 4) && put(2, 0, wg | 0x21 | g, 4) &&
           (!next || put(2, 1, win_gpa(3) | next, 4)) &&
           (!ss_iret || put(2, ss_frame_pt_index, win_gpa(kSsFramePage) | 0x61 | g, 4));  // shadow-stack page
    } else {
      ok = put(1, i, win_gpa(2) | table_flags, 8) && put(2, 0, win_gpa(3) | table_flags, 8) &&
           put(3, 0, win_gpa(4) | table_flags, 8) && put(4, 0, wg | 0x21 | g | win_key, 8) &&
           (!next || put(4, 1, win_gpa(5) | next | win_key, 8)) &&
           (!ss_iret || put(4, ss_frame_pt_index, win_gpa(kSsFramePage) | 0x61 | g | win_key, 8));
    }
    if (!ok) return unsupported(fail);
    l2_cr3 = win_gpa(1);
  } else {
    // a slot in the case's top-level table that no walk reads maps the window
    const unsigned first = 0, end = mode == PagingMode::bit32 ? 1024 : 256;
    std::optional<unsigned> wslot;
    for (unsigned i = first; i < end && !wslot; ++i) {
      if (i == top_index) continue;
      if (mode != PagingMode::bit32 && i == 0) continue;  // keep linear address 0 out of it
      const u64 a = top_page + gw * i;
      bool used = false;
      for (const GuestStep& g : steps) used |= g.gpa == a;
      if (!used) wslot = i;
    }
    if (!wslot) return unsupported("no top-level slot free for the probe's window");
    const u64 slot_gpa = top_page + gw * *wslot;
    p.window_slot_gpa = slot_gpa;
    const auto slot_hpa = hpa_of(slot_gpa);
    if (!slot_hpa)
      return unsupported(fail.empty() ? "the case's EPT does not map the guest's top-level table: L2 could not "
                                        "fetch the probe's code before the access"
                                      : fail);
    bool ok;
    if (mode == PagingMode::bit32) {
      code_linear = u64{*wslot} << 22;
      ok = write(*slot_hpa, win_gpa(1) | table_flags, 4) && put(1, 0, wg | 0x21 | user, 4);
    } else {
      code_linear = u64{*wslot} << 39;
      ok = write(*slot_hpa, win_gpa(1) | table_flags, 8) && put(1, 0, win_gpa(2) | table_flags, 8) &&
           put(2, 0, win_gpa(3) | table_flags, 8) && put(3, 0, wg | 0x21 | user | win_key, 8);
    }
    if (!ok) return unsupported(fail);
  }
  p.window_gla = code_linear;
  // Shadow-stack code where L2 starts at the case's CPL (see ss_read above)
  if (c.access.shadow_stack && !(pae_cr3 || global_cr3)) {
    std::vector<std::uint8_t> code;
    if (ss_write) {
      code.assign(ia32e_l2 ? std::begin(kWrss64) : std::begin(kWrss32), ia32e_l2 ? std::end(kWrss64) : std::end(kWrss32));
    } else {
      mov_imm(code, kMovEsp, code_linear + kSsData, ia32e_l2);
      code.push_back(0xc3);
      p.l2_ss_return_off = code.size();
      code.insert(code.end(), {0x0f, 0x01, 0xc1, 0xf4});
      const u64 target = code_linear + p.l2_ss_return_off;
      if (!put(0, kSsData / 8, target, 8) || (marker && !write(marker, target, ss_bytes))) return unsupported(fail);
    }
    if (!put_code(0, code)) return unsupported(fail);
  }

  // ---- readback: the guest entries and the case's EPT entries the walks use ----
  for (const auto& [g, h] : guest_at) {
    const u64 a = h | (g.w == 4 ? PROBE_W4 : 0);
    if (std::find(p.readback.begin(), p.readback.end(), a) != p.readback.end()) continue;
    p.readback.push_back(a);
    p.readback_case.push_back({g.gpa, g.value, mmu::Space::guest});
  }
  for (const EptWalk& w : walks)
    for (const EptStep& st : w.steps) {
      const u64 a = table_page(st.hpa & ~u64{0xfff}) + (st.hpa & 0xfff);
      if (std::find(p.readback.begin(), p.readback.end(), a) != p.readback.end()) continue;
      p.readback.push_back(a);
      p.readback_case.push_back({st.hpa, st.value, mmu::Space::ept});
    }
  if (p.readback.size() > PROBE_MAX_READBACK_VMX) return unsupported("walk too long");
  if (pool_next > PROBE_POOL_PAGES) return unsupported("too many pages");

  // ---- the record ----
  p.has_leaf = guest_leaf && final_walk && final_walk->leaf;
  p.gpa = gpa_final;
  p.page_size = page_size;
  if (p.has_leaf) {
    p.ept_page_size = final_walk->size;
    p.pa = final_walk->frame | (gpa_final & (final_walk->size - 1));
  }
  probe_case& h = p.header;
  h.mode = static_cast<std::uint8_t>(PROBE_MODE_VMX | (ia32e_l2                  ? PROBE_MODE_L4
                                                       : mode == PagingMode::pae ? PROBE_MODE_PAE
                                                                                 : PROBE_MODE_32));
  h.kind = c.access.kind == mmu::AccessKind::read ? PROBE_READ : c.access.kind == mmu::AccessKind::write ? PROBE_WRITE : PROBE_FETCH;
  if (c.access.shadow_stack) h.kind = ss_write ? PROBE_SS_WRITE : PROBE_SS_READ;
  if (c.access.implicit) h.kind |= PROBE_IMPLICIT;
  h.cpl = static_cast<std::uint8_t>(sysexit || iret ? 0 : s.cpl);  // VM entry's CPL
  h.pkru = s.pkru;
  h.va = va;
  h.marker = c.access.shadow_stack && !ss_write ? 0 : marker;  // a read's landing value is an entry, written above
  h.rflags = mmu::rflags::FIXED1 | (s.rflags & mmu::rflags::AC);
  if (mode == PagingMode::none) {
    h.cr0 = mmu::cr0::PE | mmu::cr0::ET | mmu::cr0::NE | mmu::cr0::PG;
    h.cr4 = mmu::cr4::PAE;
    h.efer = mmu::efer::LME | mmu::efer::LMA;
  } else {
    h.cr0 = (s.cr0 & (mmu::cr0::PE | mmu::cr0::MP | mmu::cr0::EM | mmu::cr0::TS | mmu::cr0::ET | mmu::cr0::NE |
                      mmu::cr0::WP | mmu::cr0::AM | mmu::cr0::NW | mmu::cr0::CD | mmu::cr0::PG)) |
            mmu::cr0::NE;
    h.cr4 = s.cr4 | (global_cr3 ? mmu::cr4::PGE : 0);  // PGE changes no walk, only what a MOV to CR3 keeps
    h.efer = s.efer & (mmu::efer::SCE | mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE);
    if (mode == PagingMode::level4) h.efer |= mmu::efer::LMA;
  }
  h.cr3 = l2_cr3 & ~(u64{1} << 63);
  p.vmx_header.eptp = table_page(ept_top) | (ept.eptp & 0xfff);
  p.vmx_header.rip =
      c.access.kind == mmu::AccessKind::fetch && !pae_cr3 && !global_cr3 ? va : code_linear + p.l2_entry_off;
  p.vmx_header.caps_need = need;
  p.vmx_header.caps_forbid = forbid;
  p.vmx_header.l2_cs_long = ia32e_l2 ? 1 : 0;
  if (c.access.shadow_stack) {
    // CET for the access's CPL: SH_STK_EN | WR_SHSTK_EN in IA32_U_CET (CPL 3)
    // or IA32_S_CET (CPL 0-2; 0 at CPL 3, so SYSEXIT and SYSENTER leave the
    // supervisor shadow stack alone); a read's SSP is the address, loaded by
    // VM entry, or on the SYSEXIT path from IA32_PL3_SSP by the SYSEXIT
    const bool user_ss = s.cpl == 3;
    const u64 ssp = ss_write ? 0 : va;
    p.vmx_header.s_cet = user_ss ? 0 : 3;
    p.vmx_header.u_cet = user_ss ? 3 : 0;
    p.vmx_header.ssp = sysexit ? 0 : ss_iret ? ss_frame_linear : ssp;
    p.vmx_header.pl3_ssp = user_ss ? ssp : 0;
  }
  for (const auto& [a, vw] : written) p.entries.push_back({a | (vw.second == 4 ? PROBE_W4 : 0), vw.first});
  h.nentries = static_cast<std::uint16_t>(p.entries.size());
  h.nreadback = static_cast<std::uint16_t>(p.readback.size());
  h.len = static_cast<std::uint32_t>(sizeof(probe_case) + sizeof(probe_vmx) + p.entries.size() * sizeof(probe_entry) +
                                     p.readback.size() * 8);
  return p;
}

Observed observe_vmx(const Prepared& p, const VmxResult& r) {
  Observed o;
  mmu::Outcome& out = o.outcome;
  out.has_ept = true;
  probe_vmx_wire w = r.wire;  // an implicit write's EPT violation is moved to the descriptor's first byte below
  // An implicit write may name any byte of the descriptor at va (observe() in probe_batch.cc).
  const bool implicit_write = p.header.kind == (PROBE_IMPLICIT | PROBE_WRITE);
  const u64 width_mask = (p.header.mode & 0xf) == PROBE_MODE_L4 ? ~u64{0} : 0xffffffffu;
  const auto in_descriptor = [&](u64 a) { return ((a - p.va) & width_mask) < 8; };
  const auto unexpected = [&](std::string why) {
    o.status = Observed::Status::unexpected;
    o.detail = std::move(why);
    out = mmu::Outcome{};
    out.kind = mmu::OutcomeKind::general_protection;  // never what the reference says with reason none
    return o;
  };
  const auto unsupported = [&](std::string why) {
    o.status = Observed::Status::unsupported;
    o.detail = std::move(why);
    return o;
  };
  if (w.launch == PROBE_LAUNCH_FAIL_INVALID) return unsupported("VMLAUNCH failed (VMfailInvalid)");
  if (w.launch == PROBE_LAUNCH_FAIL_VALID)
    return unsupported(fmt::format("VMLAUNCH failed: VM-instruction error {} (the CPU refused the case's VMCS state)",
                                   w.insn_error));
  if (w.exit_reason & 0x80000000u)
    return unsupported(fmt::format("VM entry failed: exit reason {} qualification {:#x} (the CPU refused L2's state)",
                                   w.exit_reason & 0xffff, w.qualification));
  for (std::size_t i = 0; i < p.readback_case.size() && i < r.changed.size(); ++i) {
    const std::uint16_t ch = r.changed[i];
    if (!ch) continue;
    if (ch & 0x8000) return unexpected(fmt::format("entry at {:#x} changed above bit 11", p.readback_case[i].case_addr));
    out.writes.push({p.readback_case[i].space, p.readback_case[i].case_addr, p.readback_case[i].value ^ (ch & 0xfff)});
  }
  // an exit at L2's first instruction, when that is the probe's code
  const bool own_code = (p.header.kind != PROBE_FETCH || p.l2_entry_off) && w.rip == p.window_gla + p.l2_entry_off;
  // The access went through: the translation the case's walk gives.
  const auto completed = [&] {
    out.kind = mmu::OutcomeKind::ok;
    out.pa = p.pa;
    out.gpa = p.gpa;
    out.page_size = p.page_size;
    out.ept_page_size = p.ept_page_size;
    return o;
  };
  // The IRET to the case's CPL reads only the probe's frame and GDT: an exit
  // there is the probe's, never the case's outcome. After a MOV to CR3 that
  // was to keep their global translation (32-bit/4-level), a #PF or an EPT
  // exit there says it was dropped; a descriptor fault (#TS/#NP/#SS/#GP)
  // says the probe staged them wrong.
  if (p.l2_iret_rip_off && w.rip == p.window_gla + p.l2_iret_rip_off) {
    const unsigned vector = w.intr_info & 0xff;
    const bool descriptor = (w.exit_reason & 0xffff) == PROBE_EXIT_EXCEPTION && vector >= 10 && vector <= 13;
    if (p.l2_after_cr3_rip_off && !descriptor)
      return unsupported(fmt::format("the IRET after L2's MOV to CR3 found no translation for its frame, GDT or "
                                     "shadow-stack frame (the global TLB entry was not kept; exit reason {}, "
                                     "qualification {:#x})",
                                     w.exit_reason, w.qualification));
    return unexpected(fmt::format("VM exit reason {} (vector {}, error code {:#x}, qualification {:#x}) at L2's IRET "
                                  "to the case's CPL",
                                  w.exit_reason, vector, w.intr_error, w.qualification));
  }
  // After a MOV to CR3 that was to keep the window's global translations, a
  // #PF or EPT violation at one of its pages (L2's code, the IRET's frame
  // and GDT) says the processor dropped one: the case's walk has no part in it
  if (p.l2_after_cr3_rip_off) {
    const unsigned vector = w.intr_info & 0xff;
    const u64 end = 0x2000;  // the code page and the one after it
    const bool pf = (w.exit_reason & 0xffff) == PROBE_EXIT_EXCEPTION && vector == 14 &&
                    w.qualification - p.window_gla < end;
    const bool ev = (w.exit_reason & 0xffff) == PROBE_EXIT_EPT_VIOLATION && (w.qualification & mmu::eptq::GLA_VALID) &&
                    w.gla - p.window_gla < end;
    if (pf || ev)
      return unsupported("L2 met no translation for one of the probe's pages after its MOV to CR3 (the global TLB "
                         "entry was not kept)");
  }
  if (p.l2_after_cr3_rip_off && w.rip == p.window_gla + p.l2_after_cr3_rip_off &&
      (w.exit_reason & 0xffff) != PROBE_EXIT_VMCALL)
    return unsupported("L2's code fetch after its MOV to CR3 found no translation (the global TLB entry was not kept)");
  switch (w.exit_reason & 0xffff) {
    case PROBE_EXIT_VMCALL:
      if (p.header.kind == PROBE_FETCH) return unexpected("a fetch case reached the probe's VMCALL");
      if (p.header.kind == PROBE_READ && w.al != PROBE_MARKER)
        return unexpected(fmt::format("the access read {:#x}, not the landing byte: it reached another address", w.al));
      if ((p.header.kind == PROBE_WRITE || p.header.kind == PROBE_SS_WRITE) && w.al != PROBE_WRITE_MARK)
        return unexpected("the write did not reach the landing byte: it went to another address");
      if (p.header.kind == PROBE_SS_READ && w.rip != p.window_gla + p.l2_ss_return_off)
        return unexpected(fmt::format("the shadow-stack read's RET went to {:#x}, not to the probe's VMCALL", w.rip));
      if ((p.header.kind & PROBE_IMPLICIT) && w.al != PROBE_LDT_ACCESSED)
        return unexpected(fmt::format("the implicit access ended with access byte {:#x}, not the landing descriptor's "
                                      "{:#x}: it reached another address",
                                      w.al, PROBE_LDT_ACCESSED));
      if (!p.has_leaf) return unexpected("the access completed though the walk has no present leaf");
      return completed();
    case PROBE_EXIT_EXCEPTION: {
      const unsigned vector = w.intr_info & 0xff;
      if (!(w.intr_info & 0x80000000u)) return unexpected("exception exit without valid interruption information");
      if (vector == 3 && p.header.kind == PROBE_FETCH) {
        if (w.rip != p.va) return unexpected(fmt::format("the fetch ended at {:#x}, not at the case's landing byte", w.rip));
        if (!p.has_leaf) return unexpected("the fetch completed though the walk has no present leaf");
        return completed();
      }
      if (vector == 14) {
        if (implicit_write && w.al != (PROBE_LDT_ACCESSED & ~1u))
          return unexpected(fmt::format("#PF on the implicit write, but the descriptor's access byte is {:#x}", w.al));
        if (w.qualification != p.va && !(implicit_write && in_descriptor(w.qualification))) {
          if (own_code) return unsupported("L2 faulted fetching the probe's own code (#PF), before the access");
          return unexpected(fmt::format("#PF error code {:#x} at {:#x}, not at the access's address", w.intr_error,
                                        w.qualification));
        }
        out.kind = mmu::OutcomeKind::page_fault;
        out.error_code = w.intr_error;
        out.cr2 = p.va;
        return o;
      }
      if (vector == 13 && w.intr_error == 0 && p.vmx_header.l2_loads_cr3 && (p.header.mode & 0xf) == PROBE_MODE_PAE &&
          w.rip == p.window_gla + p.l2_cr3_gp_rip_off) {
        // L2's MOV to CR3: a present PDPTE with a reserved bit (4.4.1)
        out.kind = mmu::OutcomeKind::general_protection;
        out.gp_reason = mmu::GpReason::pdpte_reserved;
        return o;
      }
      if (vector == 13 && w.intr_error == 0 && (p.header.mode & 0xf) == PROBE_MODE_L4) {
        out = mmu::Outcome{};
        out.has_ept = true;
        out.kind = mmu::OutcomeKind::general_protection;
        out.gp_reason = mmu::GpReason::non_canonical;
        return o;
      }
      if (vector == 21 && p.header.kind == PROBE_SS_READ)
        return unexpected(fmt::format("#CP (error code {:#x}): the shadow-stack read got another value than the "
                                      "landing spot's return address, so it reached another address",
                                      w.intr_error));
      return unexpected(fmt::format("exception {} (error code {:#x}) in L2 at {:#x}", vector, w.intr_error, w.rip));
    }
    case PROBE_EXIT_EPT_VIOLATION:
      if (implicit_write && (w.qualification & mmu::eptq::GLA_VALID) && w.gla != p.va && in_descriptor(w.gla) &&
          (w.qualification & mmu::eptq::TRANSLATED)) {
        // the accessed-flag write's byte (see observe() in probe_batch.cc):
        // its guest-physical address moves with it
        const u64 k = w.gla - p.va;
        w.gla -= k;
        w.gpa -= k;
      }
      if ((w.qualification & mmu::eptq::GLA_VALID) && w.gla != p.va) {
        if (own_code) return unsupported("L2's fetch of the probe's own code met the case's EPT fault first");
        return unexpected(fmt::format("EPT violation at guest-linear {:#x}, not the access's address", w.gla));
      }
      out.kind = mmu::OutcomeKind::ept_violation;
      out.qualification = w.qualification;
      out.gpa = w.gpa;
      if (w.qualification & mmu::eptq::GLA_VALID) out.gla = w.gla;
      return o;
    case PROBE_EXIT_EPT_MISCONFIG:
      // (the window's own pages: a misconfiguration the case's EPT shares with the window's path)
      if ((own_code && w.gpa == p.window_slot_gpa) ||
          (p.window_gpa != ~u64{0} && w.rip == p.window_gla + p.l2_entry_off &&
           w.gpa - p.window_gpa < kWindowPages * 4096ull))
        return unsupported("L2's fetch of the probe's own code met the case's EPT misconfiguration first");
      out.kind = mmu::OutcomeKind::ept_misconfig;
      out.gpa = w.gpa;
      return o;
    default:
      return unexpected(fmt::format("VM exit reason {} (qualification {:#x}) at L2 rip {:#x}", w.exit_reason,
                                    w.qualification, w.rip));
  }
}

}  // namespace mmucheck::probe
