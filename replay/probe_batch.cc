#include "replay/probe_batch.h"

#include <cpuid.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "model/reference.h"
#include "model/validate.h"

namespace mmucheck::probe {
namespace {

using mmu::u64;
using mmu::Feature;
using mmu::PagingMode;

constexpr u64 kP = 1, kPS = 0x80;

u64 mask(unsigned hi, unsigned lo) { return hi < lo ? 0 : mmu::bits(hi, lo); }

std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xffffffffu;
  while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

// One entry the walk reads, as the structure of the tables says (not whether
// the entry is legal: that is the CPU's to decide).
struct PathEntry {
  u64 addr;
  u64 value;
  unsigned level;
  bool leaf;         // maps a page (its frame goes to the landing spot)
  u64 next_page;     // when has_next: the next table's page
  bool has_next = false;
};

}  // namespace

CpuModel qemu_model_for(const mmu::Case& c) {
  CpuModel m;
  m.name = "qemu -cpu max";
  m.maxphyaddr = c.cpu.maxphyaddr;
  m.vendor = c.cpu.vendor;
  for (Feature f : {Feature::nx, Feature::pse, Feature::smep, Feature::smap, Feature::pku, Feature::pks, Feature::la57})
    m.features.add(f);
  if (c.cpu.features.has(Feature::pse36)) m.features.add(Feature::pse36);
  if (c.cpu.features.has(Feature::pdpe1gb)) m.features.add(Feature::pdpe1gb);
  m.cet_usable = false;
  m.big_ram = true;
  return m;
}

std::string qemu_cpu_option(const CpuModel& m) {
  return fmt::format("max,phys-bits={},vendor={},pse36={},pdpe1gb={}", m.maxphyaddr,
                     m.vendor == mmu::Vendor::amd ? "AuthenticAMD" : "GenuineIntel",
                     m.features.has(Feature::pse36) ? "on" : "off", m.features.has(Feature::pdpe1gb) ? "on" : "off");
}

CpuModel bochs_model() {
  CpuModel m;
  m.name = "bochs tigerlake";
  m.maxphyaddr = 40;
  for (Feature f : {Feature::nx, Feature::pse, Feature::pse36, Feature::pdpe1gb, Feature::smep, Feature::smap,
                    Feature::pku, Feature::shstk, Feature::ibt})
    m.features.add(f);
  m.cet_usable = true;
  m.vmx = true;
  // Bochs 2.7 tigerlake: no MBEC, no 5-level EPT
  for (mmu::EptFeature f : {mmu::EptFeature::exec_only, mmu::EptFeature::ad, mmu::EptFeature::pages_2m,
                            mmu::EptFeature::pages_1g})
    m.ept_features.add(f);
  return m;
}

CpuModel host_model() {
  CpuModel m;
  m.name = "host CPU (KVM)";
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) m.vendor = (b == 0x68747541u) ? mmu::Vendor::amd : mmu::Vendor::intel;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    m.vmx = (c >> 5) & 1;  // QEMU -cpu host passes VMX through when the host's KVM allows nesting
    if (d & (1u << 3)) m.features.add(Feature::pse);
    if (d & (1u << 17)) m.features.add(Feature::pse36);
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (b & (1u << 7)) m.features.add(Feature::smep);
    if (b & (1u << 20)) m.features.add(Feature::smap);
    if (c & (1u << 3)) m.features.add(Feature::pku);
    if (c & (1u << 16)) m.features.add(Feature::la57);
    if (c & (1u << 31)) m.features.add(Feature::pks);
    if (c & (1u << 7)) m.features.add(Feature::shstk);
    if (d & (1u << 20)) m.features.add(Feature::ibt);
  }
  if (__get_cpuid(0x80000001u, &a, &b, &c, &d)) {
    if (d & (1u << 20)) m.features.add(Feature::nx);
    if (d & (1u << 26)) m.features.add(Feature::pdpe1gb);
  }
  m.maxphyaddr = 36;
  if (__get_cpuid(0x80000008u, &a, &b, &c, &d)) m.maxphyaddr = a & 0xff;
  m.cet_usable = m.features.has(Feature::shstk) || m.features.has(Feature::ibt);
  m.big_ram = true;
  m.force_cr0_ne = true;
  return m;
}

std::optional<std::string> cpu_mismatch(const mmu::Case& c, const CpuModel& cpu) {
  const mmu::CpuState& s = c.cpu;
  if (s.maxphyaddr != cpu.maxphyaddr)
    return fmt::format("{} has MAXPHYADDR {}, the case {}", cpu.name, cpu.maxphyaddr, s.maxphyaddr);
  if (s.vendor != cpu.vendor) return fmt::format("{} is not the case's vendor", cpu.name);
  for (Feature f : {Feature::pse36, Feature::pdpe1gb})
    if (s.features.has(f) != cpu.features.has(f))
      return fmt::format("{} {} CPUID {}, which changes this case's paging", cpu.name,
                         cpu.features.has(f) ? "reports" : "does not report", mmu::feature_name(f));
  struct Need {
    bool used;
    Feature f;
    const char* what;
  };
  const Need needs[] = {
      {(s.cr4 & mmu::cr4::PSE) != 0, Feature::pse, "CR4.PSE"},
      {(s.cr4 & mmu::cr4::LA57) != 0, Feature::la57, "CR4.LA57 (5-level paging)"},
      {(s.cr4 & mmu::cr4::SMEP) != 0, Feature::smep, "CR4.SMEP"},
      {(s.cr4 & mmu::cr4::SMAP) != 0, Feature::smap, "CR4.SMAP"},
      {(s.cr4 & mmu::cr4::PKE) != 0, Feature::pku, "CR4.PKE"},
      {(s.cr4 & mmu::cr4::PKS) != 0, Feature::pks, "CR4.PKS"},
      {(s.efer & mmu::efer::NXE) != 0, Feature::nx, "EFER.NXE"},
      {c.access.shadow_stack, Feature::shstk, "a shadow-stack access"},
  };
  for (const Need& n : needs)
    if (n.used && !cpu.features.has(n.f)) return fmt::format("{} has no {} ({})", cpu.name, mmu::feature_name(n.f), n.what);
  if ((s.cr4 & mmu::cr4::CET) && !cpu.cet_usable) return fmt::format("{} has no CET (CR4.CET)", cpu.name);
  if ((s.cr4 & mmu::cr4::VMXE)) return "CR4.VMXE: the probe does not run VMX cases yet";
  if (s.efer & (mmu::efer::SVME | mmu::efer::LMSLE | mmu::efer::FFXSR | mmu::efer::TCE))
    return "EFER bits other than SCE, LME, LMA and NXE are not set by the probe";
  return std::nullopt;
}

std::optional<std::string> implicit_unstageable(const mmu::Case& c) {
  if (!c.access.implicit) return std::nullopt;
  const PagingMode mode = mmu::paging_mode(c.cpu);
  // The probe's implicit accesses read or load the 8-byte descriptor at the
  // case's address as LDT entry 0 (probe_abi.h, PROBE_IMPLICIT).
  if (c.access.kind == mmu::AccessKind::fetch)
    return "an implicit fetch: implicit supervisor-mode accesses are descriptor-table and TSS data "
           "accesses (SDM 3A 4.6), the probe stages them as LDT reads and writes";
  if ((c.access.addr & 0xfff) > 0xff8)
    return "implicit access: the 8-byte descriptor the probe reads at the address would cross a page";
  const bool ia32e = mode == PagingMode::level4 || mode == PagingMode::level5;
  const unsigned top_bit = mode == PagingMode::level5 ? 56 : 47;
  if (ia32e && mmu::sign_extend(c.access.addr, top_bit) != c.access.addr)
    return "implicit access at a non-canonical address: LLDT refuses a non-canonical LDT base "
           "(#GP(selector), SDM Vol. 2A LLDT), so no descriptor access happens there";
  if (c.access.kind == mmu::AccessKind::write) {
    // Setting a descriptor's accessed flag follows the read of that
    // descriptor (SDM 3A 3.4.5.1): where that read faults, the CPU reports
    // the read's fault, not the write the case describes.
    mmu::Case rd_case = c;
    rd_case.access.kind = mmu::AccessKind::read;
    if (mmu::reference::evaluate(rd_case).outcome.kind != mmu::OutcomeKind::ok)
      return "implicit write: the probe's accessed-flag write follows the descriptor read (SDM 3A "
             "3.4.5.1), and an implicit read at this address faults first";
    // Under EPT with A/D the read's completed translation sets EPT accessed
    // flags on the data page's path that a faulting write does not.
    if (c.ept && c.ept->ad_enabled() && mmu::reference::evaluate(c).outcome.kind != mmu::OutcomeKind::ok)
      return "implicit write under EPT with accessed flags: the descriptor read that precedes the faulting write "
             "completes and sets EPT accessed flags the write alone would not";
  }
  return std::nullopt;
}

Prepared prepare(const mmu::Case& c, const CpuModel& cpu) {
  Prepared p;
  p.va = c.access.addr;
  auto unsupported = [&](std::string why) {
    p.unsupported = std::move(why);
    return p;
  };
  if (c.ept) return prepare_vmx(c, cpu);
  const PagingMode mode = mmu::paging_mode(c.cpu);
  if (mode == PagingMode::none) return unsupported("paging is off: there is no walk for the probe to observe");
  if (c.cpu.rflags & mmu::rflags::VM) return unsupported("virtual-8086 mode is not run by the probe");
  if (auto why = cpu_mismatch(c, cpu)) return unsupported(*why);
  // Shadow-stack accesses: WRSS at CPL 3 (user) and CPL 0 (supervisor); reads
  // at CPL 3 as a RET with SSP at the address (docs/hardware.md).
  if (c.access.shadow_stack && c.access.kind == mmu::AccessKind::read && c.cpu.cpl != 3)
    return unsupported("supervisor shadow-stack reads are not run by the probe: only a RET or INCSSP reads the shadow "
                       "stack, at SSP, and at CPL 0-2 SSP can be pointed at an address only by SETSSBSY or RSTORSSP, "
                       "which write a token there");
  if (c.access.shadow_stack && (c.cpu.cpl == 1 || c.cpu.cpl == 2))
    return unsupported("shadow-stack writes at CPL 1/2 are not run by the probe: supervisor shadow stacks on for "
                       "them would make its IRET from CPL 0 pop a shadow-stack frame, and WRMSR cannot enable "
                       "them at CPL 1/2");
  if (c.access.shadow_stack && c.access.implicit)
    return unsupported("implicit shadow-stack accesses are not run by the probe");
  if (auto why = implicit_unstageable(c)) return unsupported(*why);

  const unsigned M = c.cpu.maxphyaddr;
  const u64 va = c.access.addr;
  if (c.access.shadow_stack) {
    const unsigned align = mode == PagingMode::level4 || mode == PagingMode::level5 ? 8 : 4;  // WRSSQ / WRSSD: #GP(0) when not aligned
    const bool write = c.access.kind == mmu::AccessKind::write;
    if (va & (align - 1))
      return unsupported(write ? fmt::format("WRSS{} needs a {}-byte aligned address", align == 8 ? "Q" : "D", align)
                               : fmt::format("shadow-stack reads are run only at {}-byte aligned addresses (the "
                                             "probe's RET pops its landing value there)", align));
    if (!write && align == 8 && mmu::sign_extend(va, mode == PagingMode::level5 ? 56 : 47) != va)
      return unsupported("a non-canonical shadow-stack read: IA32_PL3_SSP, where the probe's SSP comes from, cannot "
                         "hold the address");
    if (!write && (c.cpu.cr4 & mmu::cr4::PKE) && (c.cpu.pkru & 1) && align == 8)
      return unsupported("PKRU forbids reads with key 0: the probe's RET reads its data stack on the window's user page");
  }
  const bool l5 = mode == PagingMode::level5;
  const unsigned w = mmu::entry_bytes(mode);
  p.entry_bytes = w;
  const mmu::CpuState& s = c.cpu;

  // ---- the walk's path, as the structures say ----
  std::vector<PathEntry> path;
  std::vector<std::pair<u64, u64>> pdptes;  // PAE: the four loaded with CR3 (addr, value)
  u64 top_page;
  unsigned top_index;  // the access's slot in the top-level table
  u64 top_offset = 0;  // PAE: CR3 bits 11:5
  auto rd = [&](u64 a) { return c.memory.read(a); };
  // A leaf's frame bits (relocated to the landing spot) and the landing base.
  u64 leaf_frame_mask = 0, landing = 0;
  if (mode == PagingMode::bit32) {
    top_page = s.cr3 & mask(31, 12);
    top_index = static_cast<unsigned>(mmu::field(va, 31, 22));
    const u64 pde_addr = top_page + 4 * top_index;
    const u64 pde = rd(pde_addr);
    const bool big = (pde & kPS) && (s.cr4 & mmu::cr4::PSE);
    path.push_back({pde_addr, pde, 2, big && (pde & kP), pde & mask(31, 12), (pde & kP) && !big});
    if ((pde & kP) && big) {
      const unsigned m = s.features.has(Feature::pse36) ? std::min(M, 40u) : 32;
      leaf_frame_mask = mask(31, 22) | (m > 32 ? mask(13 + (m - 33), 13) : 0);
      landing = PROBE_LANDING_4M;
      p.page_size = u64{4} << 20;
      const u64 high = m > 32 ? mmu::field(pde, 20, 13) & mask(m - 33, 0) : 0;
      p.pa = (pde & mask(31, 22)) | (high << 32) | (va & mask(21, 0));
    } else if (pde & kP) {
      const u64 pte_addr = (pde & mask(31, 12)) + 4 * mmu::field(va, 21, 12);
      const u64 pte = rd(pte_addr);
      path.push_back({pte_addr, pte, 1, (pte & kP) != 0, 0, false});
      if (pte & kP) {
        leaf_frame_mask = mask(31, 12);
        landing = PROBE_LANDING_4K;
        p.page_size = 4096;
        p.pa = (pte & mask(31, 12)) | (va & 0xfff);
      }
    }
  } else if (mode == PagingMode::pae) {
    top_page = s.cr3 & mask(31, 12);
    top_offset = s.cr3 & mask(11, 5);
    top_index = static_cast<unsigned>(mmu::field(va, 31, 30));
    for (unsigned i = 0; i < 4; ++i) pdptes.emplace_back(top_page + top_offset + 8 * i, rd(top_page + top_offset + 8 * i));
    const auto [pdpte_addr, pdpte] = pdptes[top_index];
    path.push_back({pdpte_addr, pdpte, 3, false, pdpte & mask(M - 1, 12), (pdpte & kP) != 0});
    if (pdpte & kP) {
      const u64 pde_addr = (pdpte & mask(M - 1, 12)) + 8 * mmu::field(va, 29, 21);
      const u64 pde = rd(pde_addr);
      const bool big = (pde & kPS) != 0;
      path.push_back({pde_addr, pde, 2, big && (pde & kP), pde & mask(M - 1, 12), (pde & kP) && !big});
      if ((pde & kP) && big) {
        leaf_frame_mask = mask(M - 1, 21);
        landing = PROBE_LANDING_2M;
        p.page_size = u64{2} << 20;
        p.pa = (pde & mask(M - 1, 21)) | (va & mask(20, 0));
      } else if (pde & kP) {
        const u64 pte_addr = (pde & mask(M - 1, 12)) + 8 * mmu::field(va, 20, 12);
        const u64 pte = rd(pte_addr);
        path.push_back({pte_addr, pte, 1, (pte & kP) != 0, 0, false});
        if (pte & kP) {
          leaf_frame_mask = mask(M - 1, 12);
          landing = PROBE_LANDING_4K;
          p.page_size = 4096;
          p.pa = (pte & mask(M - 1, 12)) | (va & 0xfff);
        }
      }
    }
  } else {
    const unsigned levels = l5 ? 5 : 4;
    top_page = s.cr3 & mask(M - 1, 12);
    top_index = static_cast<unsigned>(mmu::field(va, 12 + 9 * (levels - 1) + 8, 12 + 9 * (levels - 1)));
    const unsigned top_bit = l5 ? 56 : 47;
    const bool canonical = mmu::sign_extend(va, top_bit) == va;
    u64 table = top_page;
    for (unsigned level = levels; canonical && level >= 1; --level) {
      const unsigned shift = 12 + 9 * (level - 1);
      const u64 addr = table + 8 * mmu::field(va, shift + 8, shift);
      const u64 e = rd(addr);
      const bool ps = (e & kPS) != 0;
      // PS in a PDPTE makes it a 1-GByte leaf for relocation even without
      // CPUID Page1GB (where it is reserved): an emulator that maps the page
      // anyway must land on the probe's landing byte, not on relocated tables.
      const bool leaf = level == 1 || (ps && (level == 2 || level == 3));
      if (!(e & kP)) {
        path.push_back({addr, e, level, false, 0, false});
        break;
      }
      if (leaf) {
        path.push_back({addr, e, level, true, 0, false});
        leaf_frame_mask = mask(M - 1, shift);
        landing = level == 1 ? PROBE_LANDING_4K : level == 2 ? PROBE_LANDING_2M : 0;
        p.page_size = u64{1} << shift;
        p.pa = (e & mask(M - 1, shift)) | (va & (p.page_size - 1));
        break;
      }
      path.push_back({addr, e, level, false, e & mask(M - 1, 12), true});
      table = e & mask(M - 1, 12);
    }
  }

  // ---- relocation: every table page the path touches gets a pool page ----
  std::map<u64, u64> reloc;  // case page -> pool page
  auto pool_page = [&](u64 page) {
    auto [it, fresh] = reloc.try_emplace(page, 0);
    if (fresh) it->second = PROBE_POOL_BASE + 4096 * (reloc.size() - 1);
    return it->second;
  };
  pool_page(top_page);
  for (const PathEntry& e : path) pool_page(e.addr & ~u64{0xfff});
  for (const PathEntry& e : path)
    if (!e.leaf && e.has_next) pool_page(e.next_page);
  if (reloc.size() > PROBE_POOL_PAGES) return unsupported("too many paging-structure pages");
  auto relocated = [&](u64 addr) { return reloc.at(addr & ~u64{0xfff}) + (addr & 0xfff); };

  std::map<u64, u64> written;  // relocated address -> value (one value per entry)
  auto write = [&](u64 case_addr, u64 value) -> bool {
    const u64 a = relocated(case_addr);
    auto [it, fresh] = written.try_emplace(a, value);
    return fresh || it->second == value;
  };
  u64 marker = 0;
  for (const PathEntry& e : path) {
    u64 v = e.value;
    if (e.leaf) {
      p.has_leaf = true;
      const u64 offset = va & (p.page_size - 1);
      if (landing == 0 && cpu.big_ram) {  // 1-GByte page: the probe's second GiB
        v = (v & ~leaf_frame_mask) | PROBE_LANDING_1G;
        marker = PROBE_LANDING_1G + offset;
      } else if (landing == 0) {  // 1-GByte page at frame 0: the offset must fall in free RAM
        if (offset < PROBE_FREE_1G_LO || offset >= PROBE_FREE_1G_HI)
          return unsupported(fmt::format("1-GByte page: offset {:#x} of the access lies outside the probe's free "
                                         "RAM [{:#x}, {:#x})",
                                         offset, PROBE_FREE_1G_LO, PROBE_FREE_1G_HI));
        v &= ~leaf_frame_mask;
        marker = offset;
      } else {
        v = (v & ~leaf_frame_mask) | landing;
        marker = landing + offset;
      }
    } else if (e.has_next) {
      const u64 addr_mask = mode == PagingMode::bit32 ? mask(31, 12) : mask(M - 1, 12);
      v = (v & ~addr_mask) | pool_page(e.next_page);
    }
    if (!write(e.addr, v))
      return unsupported("an entry serves the walk twice with different roles (table pointer and leaf)");
  }
  for (const auto& [a, v] : pdptes)
    if (!written.count(relocated(a))) write(a, v);  // loaded with CR3; never followed

  // ---- the window's slot in the top-level table ----
  unsigned first = 1, end = 0;
  switch (mode) {
    case PagingMode::bit32: first = 16, end = 1024; break;  // PDEs 0-15 map the probe's own RAM in its bridge
    case PagingMode::pae: end = 4; break;
    default: end = 256; break;
  }
  const u64 top_reloc = reloc.at(top_page) + top_offset;
  std::optional<unsigned> slot;
  for (unsigned i = first; i < end && !slot; ++i) {
    if (i == top_index) continue;
    const u64 a = top_reloc + static_cast<u64>(w) * i;
    bool used = false;
    for (const PathEntry& e : path) used |= relocated(e.addr) == a;
    if (used) continue;
    if (mode == PagingMode::pae) {
      const u64 v = pdptes[i].second;
      const u64 rsvd = mmu::bits(2, 1) | mmu::bits(8, 5) | mask(63, M);
      if ((v & kP) && (v & rsvd)) continue;  // its reserved bits decide the case: keep it
    }
    slot = i;
  }
  if (!slot) return unsupported("no top-level slot free for the probe's window");
  written.erase(top_reloc + static_cast<u64>(w) * *slot);  // PAE: the window's PDPTE replaces the case's (present, legal or absent)

  // ---- protection key of the window's supervisor pages ----
  unsigned key = 0;
  const bool ia32e = mode == PagingMode::level4 || mode == PagingMode::level5;
  // A key IA32_PKRS allows (the window's pages are supervisor pages) and,
  // because Bochs applies PKRU's write-disable bits to supervisor pages too
  // (corpus/known-deviations/README.md), one PKRU allows as well.
  const bool pks = s.cr4 & mmu::cr4::PKS, pke = s.cr4 & mmu::cr4::PKE;
  if (ia32e && (pks || pke)) {
    std::optional<unsigned> k;
    const bool wp = s.cr0 & mmu::cr0::WP;
    for (unsigned i = 0; i < 16 && !k; ++i) {
      const bool ad = pks && ((s.pkrs >> (2 * i)) & 1);
      const bool wd = wp && ((pks && ((s.pkrs >> (2 * i + 1)) & 1)) || (pke && ((s.pkru >> (2 * i + 1)) & 1)));
      if (!ad && !wd) k = i;
    }
    if (!k)
      return unsupported("IA32_PKRS/PKRU forbid supervisor writes with every key: the probe's stack would be unwritable");
    key = *k;
  }

  // ---- the record ----
  probe_case& h = p.header;
  h.mode = mode == PagingMode::bit32 ? PROBE_MODE_32 : mode == PagingMode::pae ? PROBE_MODE_PAE : l5 ? PROBE_MODE_L5 : PROBE_MODE_L4;
  h.kind = c.access.kind == mmu::AccessKind::read ? PROBE_READ : c.access.kind == mmu::AccessKind::write ? PROBE_WRITE : PROBE_FETCH;
  if (c.access.shadow_stack) h.kind = c.access.kind == mmu::AccessKind::write ? PROBE_SS_WRITE : PROBE_SS_READ;
  if (c.access.implicit) h.kind |= PROBE_IMPLICIT;
  h.cpl = static_cast<std::uint8_t>(s.cpl);
  h.pk_key = static_cast<std::uint8_t>(key);
  h.slot = *slot;
  h.pkru = s.pkru;
  h.pkrs = s.pkrs;
  // CR0 bits 28:19, 17 and 15:6 are reserved and ignored when written (SDM 2.5);
  // the probe writes them as zero (QEMU 7.2 TCG loops on some of them).
  h.cr0 = s.cr0 & (mmu::cr0::PE | mmu::cr0::MP | mmu::cr0::EM | mmu::cr0::TS | mmu::cr0::ET | mmu::cr0::NE |
                   mmu::cr0::WP | mmu::cr0::AM | mmu::cr0::NW | mmu::cr0::CD | mmu::cr0::PG);
  if (cpu.force_cr0_ne) h.cr0 |= mmu::cr0::NE;
  h.cr3 = reloc.at(top_page) | (s.cr3 & 0xfff);
  h.cr4 = s.cr4;
  h.efer = s.efer & ~mmu::efer::LMA;
  h.rflags = mmu::rflags::FIXED1 | (s.rflags & mmu::rflags::AC);
  h.va = va;
  h.marker = marker;
  for (const auto& [a, v] : written) p.entries.push_back({a, v});
  for (const PathEntry& e : path) {
    const u64 a = relocated(e.addr);
    if (std::find(p.readback.begin(), p.readback.end(), a) != p.readback.end()) continue;
    p.readback.push_back(a);
    p.readback_case.push_back({e.addr, e.value});
  }
  if (p.readback.size() > PROBE_MAX_READBACK) return unsupported("walk too long");
  h.nentries = static_cast<std::uint16_t>(p.entries.size());
  h.nreadback = static_cast<std::uint16_t>(p.readback.size());
  h.len = static_cast<std::uint32_t>(sizeof(probe_case) + p.entries.size() * sizeof(probe_entry) + p.readback.size() * 8);
  return p;
}

std::vector<std::uint8_t> pack(std::span<Prepared* const> cases) {
  std::vector<std::uint8_t> body;
  std::uint32_t n = 0;
  for (Prepared* p : cases) {
    if (p->unsupported) continue;
    p->seq = n++;
    p->header.seq = p->seq;
    const auto* hb = reinterpret_cast<const std::uint8_t*>(&p->header);
    body.insert(body.end(), hb, hb + sizeof(probe_case));
    if (p->vmx) {
      const auto* vb = reinterpret_cast<const std::uint8_t*>(&p->vmx_header);
      body.insert(body.end(), vb, vb + sizeof(probe_vmx));
    }
    const auto* eb = reinterpret_cast<const std::uint8_t*>(p->entries.data());
    body.insert(body.end(), eb, eb + p->entries.size() * sizeof(probe_entry));
    const auto* rb = reinterpret_cast<const std::uint8_t*>(p->readback.data());
    body.insert(body.end(), rb, rb + p->readback.size() * 8);
  }
  probe_batch_header h{};
  h.magic = PROBE_MAGIC;
  h.version = PROBE_VERSION;
  h.ncases = n;
  h.bytes = static_cast<std::uint32_t>(body.size());
  h.crc = crc32(body.data(), body.size());
  h.header_crc = crc32(reinterpret_cast<const std::uint8_t*>(&h), 24);
  // header sector, records, then zeros to a whole sector and one more
  std::vector<std::uint8_t> disk((512 + body.size() + 511) / 512 * 512 + 512, 0);
  std::memcpy(disk.data(), &h, sizeof h);
  if (!body.empty()) std::memcpy(disk.data() + 512, body.data(), body.size());
  return disk;
}

Output parse_output(std::string_view bytes) {
  Output out;
  std::size_t i = 0;
  while (true) {
    const std::size_t at = bytes.find("\xa5\x5a", i);
    if (at == std::string_view::npos || at + 4 > bytes.size()) break;
    const auto type = static_cast<std::uint8_t>(bytes[at + 2]);
    const auto len = static_cast<std::uint8_t>(bytes[at + 3]);
    if (at + 8 + len > bytes.size()) {
      out.problems.push_back(fmt::format("truncated frame at byte {}", at));
      break;
    }
    const auto* base = reinterpret_cast<const std::uint8_t*>(bytes.data()) + at;
    std::uint32_t crc;
    std::memcpy(&crc, base + 4 + len, 4);
    if (crc32(base + 2, 2u + len) != crc) {
      i = at + 1;  // not a frame (or damaged): look further
      continue;
    }
    const std::uint8_t* pl = base + 4;
    switch (type) {
      case 'H': out.hello = true; break;
      case 'R': {  // the compact wire form (probe_abi.h)
        probe_wire w{};
        if (len < sizeof w) {
          out.problems.push_back(fmt::format("short record frame at byte {}", at));
          break;
        }
        std::memcpy(&w, pl, sizeof w);
        const std::size_t need = sizeof w + 2u * w.nreadback + ((w.flags & PROBE_HAS_CR2) ? 8 : 0) +
                                 ((w.flags & PROBE_HAS_RIP) ? 8 : 0);
        if (w.nreadback > PROBE_MAX_READBACK || len != need) {
          out.problems.push_back(fmt::format("malformed record frame at byte {}", at));
          break;
        }
        probe_result r{};
        r.seq = w.seq;
        r.stage = w.stage;
        r.vector = w.vector;
        r.al = w.al;
        r.nreadback = w.nreadback;
        r.error_code = w.error_code;
        r.flags = w.flags & PROBE_RIP_IN_WINDOW;
        std::size_t off = sizeof w;
        std::memcpy(r.changed, pl + off, 2u * w.nreadback);
        off += 2u * w.nreadback;
        r.cr2 = kCr2IsTheAccess;
        if (w.flags & PROBE_HAS_CR2) {
          std::memcpy(&r.cr2, pl + off, 8);
          off += 8;
        }
        if (w.flags & PROBE_HAS_RIP) std::memcpy(&r.rip, pl + off, 8);
        out.results[r.seq] = r;
        break;
      }
      case 'V': {
        VmxResult v;
        if (len < sizeof v.wire) {
          out.problems.push_back(fmt::format("short VMX record frame at byte {}", at));
          break;
        }
        std::memcpy(&v.wire, pl, sizeof v.wire);
        if (v.wire.nreadback > PROBE_MAX_READBACK_VMX || len != sizeof v.wire + 2u * v.wire.nreadback) {
          out.problems.push_back(fmt::format("malformed VMX record frame at byte {}", at));
          break;
        }
        v.changed.resize(v.wire.nreadback);
        std::memcpy(v.changed.data(), pl + sizeof v.wire, 2u * v.wire.nreadback);
        out.vmx_results[v.wire.seq] = std::move(v);
        break;
      }
      case 'X': {
        std::uint32_t seq = 0;
        if (len >= 4) std::memcpy(&seq, pl, 4);
        out.rejected[seq] = std::string(reinterpret_cast<const char*>(pl) + 4, len >= 4 ? len - 4 : 0);
        break;
      }
      case 'E':
        if (len >= 8) {
          out.end = true;
          std::memcpy(&out.end_ran, pl, 4);
          std::memcpy(&out.end_status, pl + 4, 4);
        }
        break;
      case 'F': {
        u64 f[3] = {};
        std::memcpy(f, pl, std::min<std::size_t>(len, sizeof f));
        out.problems.push_back(fmt::format("the probe itself faulted: vector {} error code {:#x} at {:#x}", f[0], f[1], f[2]));
        break;
      }
      default: out.problems.push_back(fmt::format("unknown frame type {:#x}", type));
    }
    i = at + 8 + len;
  }
  return out;
}

Observed observe(const Prepared& p, const probe_result& r) {
  Observed o;
  mmu::Outcome& out = o.outcome;
  const auto unexpected = [&](std::string why) {
    o.status = Observed::Status::unexpected;
    o.detail = std::move(why);
    out.kind = mmu::OutcomeKind::general_protection;  // never what the reference says with reason none
    out.gp_reason = mmu::GpReason::none;
    return o;
  };
  const bool ia32e = p.header.mode >= PROBE_MODE_L4;
  const u64 width_mask = ia32e ? ~u64{0} : 0xffffffffu;
  const bool implicit_write = p.header.kind == (PROBE_IMPLICIT | PROBE_WRITE);
  if (r.stage == PROBE_STAGE_SETUP) {
    o.status = Observed::Status::unsupported;
    o.detail = fmt::format("the emulated CPU refused the case's registers (vector {} error code {:#x} at {:#x} while "
                           "loading CR0/CR4/EFER/PKRU/PKRS)",
                           r.vector, r.error_code, r.rip);
    return o;
  }
  // A/D (and any other) changes the walk made to the entries it used.
  for (std::size_t i = 0; i < p.readback_case.size() && i < r.nreadback; ++i) {
    const std::uint16_t ch = r.changed[i];
    if (!ch) continue;
    if (ch & 0x8000) return unexpected(fmt::format("entry at {:#x} changed above bit 11", p.readback_case[i].case_addr));
    const u64 nv = p.readback_case[i].value ^ (ch & 0xfff);
    out.writes.push({mmu::Space::guest, p.readback_case[i].case_addr, nv});
  }
  if (r.stage == PROBE_STAGE_CR3) {
    if (r.vector == 13 && p.header.mode == PROBE_MODE_PAE) {
      out.kind = mmu::OutcomeKind::general_protection;
      out.gp_reason = mmu::GpReason::pdpte_reserved;
      out.writes.clear();
      return o;
    }
    return unexpected(fmt::format("vector {} (error code {:#x}) loading CR3", r.vector, r.error_code));
  }
  switch (r.vector) {
    case 14:
      // An implicit write sets the accessed flag in byte 5 of the descriptor
      // at va; how wide that write is, and so which of its bytes CR2 names,
      // the SDM leaves open: any of the descriptor's bytes is the access's.
      if (implicit_write && r.al != (PROBE_LDT_ACCESSED & ~1u))
        return unexpected(fmt::format("#PF on the implicit write, but the descriptor's access byte is {:#x}", r.al));
      if (r.cr2 != kCr2IsTheAccess && r.cr2 != p.va && !(implicit_write && ((r.cr2 - p.va) & width_mask) < 8))
        return unexpected(fmt::format("#PF error code {:#x} at {:#x}, not at the access's address: the access went "
                                      "through and something else faulted (rip {:#x})",
                                      r.error_code, r.cr2, r.rip));
      out.kind = mmu::OutcomeKind::page_fault;
      out.error_code = r.error_code;
      out.cr2 = p.va;
      return o;
    case 13:  // (a shadow-stack read's address is canonical: a #GP there is the probe's staging)
      if (ia32e && r.error_code == 0 && p.header.kind != PROBE_SS_READ) {
        out.kind = mmu::OutcomeKind::general_protection;
        out.gp_reason = mmu::GpReason::non_canonical;
        out.writes.clear();
        return o;
      }
      return unexpected(fmt::format("#GP error code {:#x} at the access (rip {:#x})", r.error_code, r.rip));
    case 3: {
      const bool own = (r.flags & PROBE_RIP_IN_WINDOW) != 0;
      if (p.header.kind == PROBE_FETCH) {
        if (own || r.rip != ((p.va + 1) & width_mask))
          return unexpected(fmt::format("the fetch ended at {:#x}, not at the case's landing byte", r.rip));
      } else if (p.header.kind == PROBE_SS_READ && (!own || r.al != PROBE_MARKER)) {
        return unexpected("the shadow-stack read's RET did not return to the landing value's address");
      } else if (p.header.kind == PROBE_READ && (!own || r.al != PROBE_MARKER)) {
        return unexpected(fmt::format("the access read {:#x}, not the landing byte: it reached another physical address", r.al));
      } else if ((p.header.kind == PROBE_WRITE || p.header.kind == PROBE_SS_WRITE) &&
                 (!own || r.al != PROBE_WRITE_MARK)) {
        return unexpected("the write did not reach the landing byte: it went to another physical address");
      } else if ((p.header.kind & PROBE_IMPLICIT) && (!own || r.al != PROBE_LDT_ACCESSED)) {
        return unexpected(fmt::format("the implicit {} ended with access byte {:#x}, not the landing descriptor's {:#x} "
                                      "(it reached another physical address)",
                                      implicit_write ? "write" : "read", r.al, PROBE_LDT_ACCESSED));
      }
      if (!p.has_leaf) return unexpected("the access completed though the walk's path has no present leaf");
      out.kind = mmu::OutcomeKind::ok;
      out.pa = p.pa;
      out.page_size = p.page_size;
      return o;
    }
    default:
      return unexpected(fmt::format("vector {} (error code {:#x}) at the access, rip {:#x}", r.vector, r.error_code, r.rip));
  }
}

}  // namespace mmucheck::probe
