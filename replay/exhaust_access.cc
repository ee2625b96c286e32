// The access.c space: every flag combination kvm-unit-tests' x86/access.c
// runs, as one 4-level case each (docs/cli.md, "access-c"). Written from a
// reading of access.c (ac_test_legal, ac_test_setup_ptes, ac_test_do_access,
// ac_emulate_access); none of its code is copied.
#include <string>

#include "model/case.h"
#include "replay/exhaust_spaces.h"

namespace mmucheck::access_c {
namespace {

using mmu::u32;
using mmu::u64;

constexpr u64 kP = mmu::bit(0), kW = mmu::bit(1), kU = mmu::bit(2), kA = mmu::bit(5), kD = mmu::bit(6),
              kPS = mmu::bit(7), kXD = mmu::bit(63);

bool has(u32 flags, Flag f) { return flags & mask(f); }

// Entry addresses of the one walk every point makes: the root (CR3) at kRoot,
// then the PDPT, PD and PT access.c allocates from its pool at 33 MiB.
constexpr u64 entry_addr(u64 table, unsigned level) {
  const unsigned shift = 12 + 9 * (level - 1);
  return table + mmu::field(kLinear, shift + 8, shift) * 8;
}
constexpr u64 kPml4eAt = entry_addr(kRoot, 4), kPdpteAt = entry_addr(kPdpt, 3), kPdeAt = entry_addr(kPd, 2),
              kPteAt = entry_addr(kPt, 1);
static_assert(kPml4eAt < kPdpteAt && kPdpteAt < kPdeAt && kPdeAt < kPteAt, "PhysMemory keeps entries sorted");

bool has_layout(const mmu::PhysMemory& m) {
  const auto& e = m.entries();
  return e.size() == 4 && e[0].addr == kPml4eAt && e[1].addr == kPdpteAt && e[2].addr == kPdeAt && e[3].addr == kPteAt;
}

// Whether the first, untimed access of AC_ACCESS_TWICE (a supervisor read of
// the same address) completes, as access.c expects it to. It sets A in the
// PDE when it gets past a non-leaf PDE, and in the leaf when it completes.
struct FirstRead {
  bool pde_walked = false;  // a valid non-leaf PDE was used
  bool completed = false;
};

FirstRead first_read(u32 flags) {
  FirstRead r;
  const bool nx_reserved = !has(flags, efer_nx);
  const bool pde_ok = has(flags, pde_present) && !has(flags, pde_bit51) && !has(flags, pde_bit36) &&
                      !has(flags, pde_bit13) && !(has(flags, pde_nx) && nx_reserved);
  if (!pde_ok) return r;
  bool user_page = has(flags, pde_user);
  if (!has(flags, pde_pse)) {
    r.pde_walked = true;
    const bool pte_ok = has(flags, pte_present) && !has(flags, pte_bit51) && !has(flags, pte_bit36) &&
                        !(has(flags, pte_nx) && nx_reserved);
    if (!pte_ok) return r;
    user_page = user_page && has(flags, pte_user);
  }
  // A supervisor read with SMAP off faults only on the key's access-disable
  // bit, which applies to user pages.
  r.completed = !(user_page && has(flags, pte_pkey) && has(flags, cr4_pke) && has(flags, pkru_ad));
  return r;
}

}  // namespace

void build(u32 flags, mmu::Case& c) {
  using namespace mmu;
  // A case this function filled before has the four entries, no name, no EPT
  // and no history: then only values change (no allocation, no clearing of a
  // whole Case, which costs more than the walks). Anything else starts afresh.
  if (!has_layout(c.memory) || !c.name.empty() || c.ept || !c.history.empty()) {
    c = Case{};
    for (u64 at : {kPml4eAt, kPdpteAt, kPdeAt, kPteAt}) c.memory.set(at, 0);
  }

  // A 64-bit guest at CPL 0, or CPL 3 for user accesses; SMAP stays off.
  CpuState& cpu = c.cpu;
  cpu = CpuState{};
  cpu.features = FeatureSet::all();
  cpu.maxphyaddr = 46;
  cpu.cr0 = cr0::PE | cr0::ET | cr0::PG | (has(flags, cr0_wp) ? cr0::WP : 0);
  cpu.cr4 = cr4::PAE | (has(flags, cr4_smep) ? cr4::SMEP : 0) | (has(flags, cr4_pke) ? cr4::PKE : 0);
  cpu.efer = efer::LME | efer::LMA | (has(flags, efer_nx) ? efer::NXE : 0);
  cpu.cpl = has(flags, access_user) ? 3 : 0;
  cpu.cr3 = kRoot;
  // Key 1 is the page's (AD/WD from the flags), key 2 the PDE's (ignored:
  // not a leaf) has both set. Without PKE, access.c leaves 0xfffffffc in PKRU.
  cpu.pkru = has(flags, cr4_pke) ? 0x30u | (has(flags, pkru_wd) ? 8u : 0u) | (has(flags, pkru_ad) ? 4u : 0u)
                                 : 0xfffffffcu;
  const AccessKind kind = has(flags, access_fetch)   ? AccessKind::fetch
                          : has(flags, access_write) ? AccessKind::write
                                                     : AccessKind::read;
  c.access = {kLinear, kind, false, false};

  // PML4E and PDPTE: present, user; writable unless pdpte.ro. Their A bits
  // are set (access.c keeps them across points, and earlier points set them).
  const u64 pml4e = kPdpt | kP | kW | kU | kA;
  const u64 pdpte = kPd | kP | kU | kA | (has(flags, pdpte_read_only) ? 0 : kW);
  const bool pse = has(flags, pde_pse);
  u64 pde = pse ? (kDataPage | kPS | (has(flags, pte_pkey) ? u64{1} << 59 : 0))
                : (kPt | (has(flags, pte_pkey) ? u64{2} << 59 : 0));
  pde |= (has(flags, pde_present) ? kP : 0) | (has(flags, pde_writable) ? kW : 0) | (has(flags, pde_user) ? kU : 0) |
         (has(flags, pde_accessed) ? kA : 0) | (has(flags, pde_dirty) ? kD : 0) | (has(flags, pde_nx) ? kXD : 0) |
         (has(flags, pde_bit51) ? bit(51) : 0) | (has(flags, pde_bit36) ? bit(36) : 0) |
         (has(flags, pde_bit13) ? bit(13) : 0);
  // With a 2-MByte PDE access.c does not touch the PT; here its entry is 0.
  u64 pte = 0;
  if (!pse) {
    pte = kDataPage | (has(flags, pte_pkey) ? u64{1} << 59 : 0) | (has(flags, pte_present) ? kP : 0) |
          (has(flags, pte_writable) ? kW : 0) | (has(flags, pte_user) ? kU : 0) | (has(flags, pte_accessed) ? kA : 0) |
          (has(flags, pte_dirty) ? kD : 0) | (has(flags, pte_nx) ? kXD : 0) | (has(flags, pte_bit51) ? bit(51) : 0) |
          (has(flags, pte_bit36) ? bit(36) : 0);
  }
  if (has(flags, access_twice)) {
    // The point is the second access, after the first has set its A bits.
    const FirstRead first = first_read(flags);
    if (first.pde_walked || (pse && first.completed)) pde |= kA;
    if (!pse && first.completed) pte |= kA;
  }
  c.memory.set_nth(0, pml4e);  // has_layout(): kPml4eAt, kPdpteAt, kPdeAt, kPteAt
  c.memory.set_nth(1, pdpte);
  c.memory.set_nth(2, pde);
  c.memory.set_nth(3, pte);
}

std::string describe(u32 flags) {
  static constexpr const char* kNames[flag_count] = {
      "pte.rw", "pte.user", "pte.a",  "pte.d",    "pte.nx",  "pte.p",    "pte.51",   "pte.36",
      "pde.rw", "pde.user", "pde.a",  "pde.d",    "pde.pse", "pde.nx",   "pde.p",    "pde.51",
      "pde.36", "pde.13",   "pdpte.ro", "pkru.ad", "pkru.wd", "pkey=1",  "user",     "write",
      "fetch",  "twice",    "efer.nx", "cr0.wp",  "cr4.smep", "cr4.pke", "fep"};
  std::string s;
  for (unsigned f = 0; f < flag_count; ++f)
    if (flags & (u32{1} << f)) {
      if (!s.empty()) s += ' ';
      s += kNames[f];
    }
  return s;
}

namespace {

template <bool kSmep>
bool make_point(u64 index, mmu::Case& c) {
  const u32 flags = flags_of(index);
  if (!legal(flags, kSmep)) return false;
  build(flags, c);
  return true;
}

// Index bits 16 and up are flags 18..29 (PDPTE, PKRU, access, CPU): the rules
// on them alone (SMEP, fetch and write, PKRU without PKE) reject whole blocks
// of 2^16 points, which next_candidate skips at once.
constexpr unsigned kBlockBits = 16;
static_assert((flags_of(u64{1} << kBlockBits) & ((u32{1} << 18) - 1)) == 0 &&
              (flags_of((u64{1} << kBlockBits) - 1) >> 18) == 0, "blocks split the flag word at flag 18");

template <bool kSmep>
u64 next_candidate(u64 index) {
  constexpr u64 kEnd = u64{1} << kIndexBits;
  u64 i = index + 1;
  while (i < kEnd) {
    if (!legal(flags_of(i) & ~((u32{1} << 18) - 1), kSmep)) {
      i = ((i >> kBlockBits) + 1) << kBlockBits;
    } else if (legal(flags_of(i), kSmep)) {
      return i;
    } else {
      ++i;
    }
  }
  return kEnd;
}

}  // namespace

ExhaustSpace space() {
  return {"access-c",
          "kvm-unit-tests x86/access.c: every flag word (PTE/PDE P, R/W, U/S, A, D, NX, PS, reserved bits 51/13, "
          "read-only PDPTE, PKRU AD/WD and key, user/write/fetch/twice, EFER.NX, CR0.WP, CR4.SMEP, CR4.PKE) on a "
          "4-level walk; ac_test_legal's rules, which today skip all of CR4.SMEP (19 169 280 legal)",
          u64{1} << kIndexBits, make_point<false>, next_candidate<false>};
}

ExhaustSpace space_smep() {
  return {"access-c-smep",
          "the access-c space with the CR4.SMEP combinations access.c ran before it stopped testing SMEP "
          "(28 753 920 legal)",
          u64{1} << kIndexBits, make_point<true>, next_candidate<true>};
}

}  // namespace mmucheck::access_c
