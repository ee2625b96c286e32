// Two exhaust spaces aimed at the parts of KVM's MMU outside guest paging's
// tables: L1's EPT entries (the nested EPT MMU's rsvd_bits_mask, bad_mt_xwr,
// permissions, last-level test and qualification), and role transitions (when
// the MMU context is rebuilt).
#include "replay/exhaust_kvm.h"

#include "model/builder.h"
#include "model/validate.h"

namespace mmucheck {
namespace {

using mmu::u64;

// Mixed-radix digits of a point index, least significant first.
class Digits {
 public:
  explicit Digits(u64 index) : rest_(index) {}
  unsigned next(unsigned radix) {
    const auto d = static_cast<unsigned>(rest_ % radix);
    rest_ /= radix;
    return d;
  }

 private:
  u64 rest_;
};

template <std::size_t N>
constexpr u64 product(const unsigned (&radix)[N]) {
  u64 n = 1;
  for (unsigned r : radix) n *= r;
  return n;
}

// A fresh case under EPT.
void reset_case(mmu::Case& c) {
  c = mmu::Case{};
  c.ept.emplace();
}

// ---- ept-entries ------------------------------------------------------------
// One EPT entry under test at one level of an otherwise plain walk, for an L2
// guest with paging off (the access's linear address is its guest-physical
// address): entry bits 7:0 (XWR, memory type, ignore-PAT, PS) x XU (bit 10) x
// one more bit (none, 12, 20, 21, 29: large-page alignment; 45: an address bit;
// 46, 51: above MAXPHYADDR 46; 63: suppress #VE) x level 1..5 x walk length 4/5
// x execute-only x 2M pages x 1G pages x MBEC x EPT A/D x access kind x CPL 0/3.
// The other entries are R/W/X pointers and a WB leaf; large leaves point at
// aligned frames.
constexpr unsigned kEptRadix[] = {256, 2, 9, 5, 2, 2, 2, 2, 2, 2, 3, 2};
constexpr unsigned kExtraBits[] = {0, 12, 20, 21, 29, 45, 46, 51, 63};

bool make_ept_entry_point(u64 index, mmu::Case& c) {
  using namespace mmu;
  Digits d(index);
  const u64 low = d.next(256);
  const bool xu = d.next(2);
  const unsigned extra = kExtraBits[d.next(9)];
  const unsigned level = 1 + d.next(5);
  const unsigned walk = 4 + d.next(2);
  const bool exec_only = d.next(2), pages_2m = d.next(2), pages_1g = d.next(2), mbec = d.next(2), ad = d.next(2);
  const auto kind = static_cast<AccessKind>(d.next(3));
  const unsigned cpl = d.next(2) ? 3 : 0;
  if (level > walk) return false;

  reset_case(c);
  c.cpu.features = FeatureSet::all();
  c.cpu.maxphyaddr = 46;
  c.cpu.cr0 = cr0::PE | cr0::ET;  // protected mode, paging off: CPL 3 is possible
  c.cpu.cpl = cpl;
  const u64 gpa = 0x4060'3123;  // indices: PML5/PML4 0, PDPT 1, PD 3, PT 3
  c.access = {gpa, kind, false, false};
  EptState& ept = *c.ept;
  ept.eptp = 0x10000 | eptp::WB | (walk == 5 ? eptp::WALK5 : eptp::WALK4) | (ad ? eptp::AD : 0);
  ept.features = {};
  if (walk == 5) ept.features.add(EptFeature::level5);
  if (ad) ept.features.add(EptFeature::ad);
  if (exec_only) ept.features.add(EptFeature::exec_only);
  if (pages_2m) ept.features.add(EptFeature::pages_2m);
  if (pages_1g) ept.features.add(EptFeature::pages_1g);
  if (mbec) ept.features.add(EptFeature::mbec);

  // The entry under test: what it points at follows the role PS gives it at
  // its level, so a well-formed large page maps an aligned frame.
  const bool ps = low & bit(7);
  const u64 frame = level == 3 && ps ? u64{1} << 30 : level == 2 && ps ? u64{2} << 20 : u64{0x20'0000'0000};
  const u64 entry = frame | low | (xu ? bit(10) : 0) | (extra ? bit(extra) : 0);
  const u64 pointer = 0x7, leaf = 0x7 | (6 << 3);
  EptChainBuilder b(ept, 0x11000);
  switch (walk - level) {
    case 0: b.map(gpa, entry, level, {}); break;
    case 1: b.map(gpa, entry, level, {pointer}); break;
    case 2: b.map(gpa, entry, level, {pointer, pointer}); break;
    case 3: b.map(gpa, entry, level, {pointer, pointer, pointer}); break;
    default: b.map(gpa, entry, level, {pointer, pointer, pointer, pointer}); break;
  }
  // Below a non-leaf entry under test, the rest of the chain (in the table it
  // names, when that is one of ours) down to a 4-KByte leaf.
  if (level > 1 && !(ps && ((level == 2 && pages_2m) || (level == 3 && pages_1g)))) {
    u64 table = entry & bits(45, 12);
    for (unsigned l = level - 1; l >= 1; --l) {
      const unsigned shift = 12 + 9 * (l - 1);
      const u64 next = 0x30000 + 0x1000 * l;
      ept.memory.set(table + field(gpa, shift + 8, shift) * 8, l == 1 ? 0x5000'0000 | leaf : next | pointer);
      table = next;
    }
  }
  return !validate(c);
}

// ---- role-transitions -----------------------------------------------------------
// An access on a vCPU that came from an earlier state: earlier and current
// CR0.WP, CR4.SMEP, CR4.SMAP, CR4.PKE, EFER.NXE x access kind x CPL 0/3 x
// EFLAGS.AC x the leaf's U/S and R/W x the leaf key's PKRU bits (none, AD,
// WD). 4-level paging; the reference does not look at the earlier state, so
// every divergence is a context that was not rebuilt.
constexpr unsigned kTransitionRadix[] = {32, 32, 3, 2, 2, 2, 2, 3};

void set_role_bits(mmu::CpuState& s, unsigned b) {
  using namespace mmu;
  s.cr0 = (s.cr0 & ~cr0::WP) | ((b & 1) ? cr0::WP : 0);
  s.cr4 = (s.cr4 & ~(cr4::SMEP | cr4::SMAP | cr4::PKE)) | ((b & 2) ? cr4::SMEP : 0) | ((b & 4) ? cr4::SMAP : 0) |
          ((b & 8) ? cr4::PKE : 0);
  s.efer = (s.efer & ~efer::NXE) | ((b & 16) ? efer::NXE : 0);
}

bool make_transition_point(u64 index, mmu::Case& c) {
  using namespace mmu;
  Digits d(index);
  const unsigned earlier = d.next(32), now = d.next(32);
  const auto kind = static_cast<AccessKind>(d.next(3));
  const unsigned cpl = d.next(2) ? 3 : 0;
  const bool ac = d.next(2), user_page = d.next(2), writable = d.next(2);
  const unsigned key_bits = d.next(3);
  if (earlier == now) return false;  // no transition: the other spaces cover it

  reset_case(c);
  c.ept.reset();
  c.cpu.features = FeatureSet::all();
  c.cpu.maxphyaddr = 46;
  c.cpu.cr0 = cr0::PE | cr0::ET | cr0::PG;
  c.cpu.cr4 = cr4::PAE;
  c.cpu.efer = efer::LME | efer::LMA;
  c.cpu.cpl = cpl;
  c.cpu.rflags |= ac ? rflags::AC : 0;
  const unsigned key = 5;
  c.cpu.pkru = key_bits == 0 ? 0 : (key_bits == 1 ? 1u : 2u) << (2 * key);
  c.access = {0x7fff'1234'5000, kind, false, false};
  ChainBuilder b(c, 0x1000);
  b.map(c.access.addr, 0x5000 | 0x1 | (writable ? 0x2 : 0) | (user_page ? 0x4 : 0) | (u64{key} << 59), 1,
        {0x7, 0x7, 0x7});
  CpuState before = c.cpu;
  set_role_bits(before, earlier);
  set_role_bits(c.cpu, now);
  c.history.push_back(before);
  return !validate(c);
}

}  // namespace

namespace kvm_spaces {

ExhaustSpace ept_entries() {
  return {"ept-entries",
          "L1's EPT: one entry's bits 7:0 (XWR, memory type, ignore-PAT, PS) x XU x one more bit (alignment, "
          "address, above MAXPHYADDR, suppress #VE) x level x walk length x execute-only x 2M x 1G x MBEC x A/D x "
          "access kind x CPL; L2 paging off",
          product(kEptRadix), make_ept_entry_point};
}

ExhaustSpace role_transitions() {
  return {"role-transitions",
          "an earlier vCPU state and the current one, each CR0.WP x CR4.SMEP x CR4.SMAP x CR4.PKE x EFER.NXE, x "
          "access kind x CPL x AC x leaf U/S x leaf R/W x the leaf key's PKRU bits; 4-level paging",
          product(kTransitionRadix), make_transition_point};
}

}  // namespace kvm_spaces
}  // namespace mmucheck
