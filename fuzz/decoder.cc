// The fuzz input format (fuzz/decoder.h; layout table in fuzz/README.md).
//
// Decoding and encoding share one traversal, `lay_out`: it follows the page
// walk of the access (guest levels top-down; under EPT, the EPT chain of each
// guest-physical address the walk touches, before it is touched) and asks a
// callback for each paging-structure entry it has not visited yet. The decoder's
// callback reads a slot from the input and writes the entry; the encoder's
// reads the entry from the case and writes a raw slot. Because the traversal
// only looks at entries it has been given, both sides visit the same
// addresses in the same order, and whatever the case holds beyond them is
// carried by extra-entry records.
#include "fuzz/decoder.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "model/builder.h"
#include "model/validate.h"

namespace mmucheck::fuzz {
namespace {

using mmu::AccessKind;
using mmu::bit;
using mmu::bits;
using mmu::Case;
using mmu::CpuState;
using mmu::EptFeature;
using mmu::EptFeatureSet;
using mmu::EptState;
using mmu::Feature;
using mmu::FeatureSet;
using mmu::field;
using mmu::PagingMode;
using mmu::Space;
using mmu::u64;
namespace cr0 = mmu::cr0;
namespace cr4 = mmu::cr4;
namespace efer = mmu::efer;
namespace rflags = mmu::rflags;

// Slot control byte: what to do with the entry value that follows it.
constexpr unsigned kLinkFrom = 0xE0;    // [0x00, 0xE0): clean, [0xE0, 0xE8): link
constexpr unsigned kRawFrom = 0xE8;     // [0xE8, 0xF8): raw
constexpr unsigned kAbsentFrom = 0xF8;  // [0xF8, 0xFF]: absent
constexpr unsigned kCtlRaw = 0xF0, kCtlAbsent = 0xFF;

// Record tags (low two bits of the tag byte).
constexpr unsigned kRecEnd = 0, kRecGuest = 1, kRecEpt = 2, kRecHistory = 3;

// Header bits.
constexpr unsigned kMiscAmd = 0x4, kMiscEpt = 0x8;
constexpr unsigned kAccImplicit = 0x4, kAccShadowStack = 0x8, kAccRawAddress = 0x10;

// Where fresh tables go when a slot asks for a link (guest-physical and
// host-physical): below 4 GiB, so 32-bit and PAE tables can point there.
constexpr u64 kGuestTables = 0x7f000000, kEptTables = 0x7e000000;

// Byte plumbing carries no information a fuzzer could use: keep it out of
// coverage and comparison tracing (every traced byte compare costs time per input).
#if defined(__clang__) && __clang_major__ >= 13
#define MMUCHECK_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define MMUCHECK_NO_COVERAGE
#endif

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> d) : d_(d) {}
  // n bytes (n <= 8), little-endian; past the end the input reads as zeros.
  MMUCHECK_NO_COVERAGE u64 get(unsigned n) {
    std::uint8_t b[8] = {};
    if (pos_ < d_.size()) std::memcpy(b, d_.data() + pos_, std::min<std::size_t>(n, d_.size() - pos_));
    pos_ += n;
    u64 v;
    std::memcpy(&v, b, 8);  // x86: little-endian
    return n == 8 ? v : v & ((u64{1} << (8 * n)) - 1);
  }
  bool exhausted() const { return pos_ >= d_.size(); }

 private:
  std::span<const std::uint8_t> d_;
  std::size_t pos_ = 0;
};

class Writer {
 public:
  void put(u64 v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> out;
};

template <typename Enum>
mmu::EnumSet<Enum> set_from_mask(u64 mask) {
  mmu::EnumSet<Enum> s;
  for (unsigned i = 0; i < mmu::EnumSet<Enum>::kCount; ++i)
    if (mask & bit(i)) s.add(static_cast<Enum>(i));
  return s;
}

// ---- registers -------------------------------------------------------------

// The five registers in header and history order (cr0, cr3, cr4, efer, rflags).
void read_regs(Reader& r, CpuState& s) {
  s.cr0 = r.get(4);
  s.cr3 = r.get(8);
  s.cr4 = r.get(4);
  s.efer = r.get(2);
  s.rflags = r.get(4);
}
void write_regs(Writer& w, const CpuState& s) {
  w.put(s.cr0, 4);
  w.put(s.cr3, 8);
  w.put(s.cr4, 4);
  w.put(s.efer, 2);
  w.put(s.rflags, 4);
}

struct Cr4Gate {
  u64 bit;
  Feature feature;
};
constexpr Cr4Gate kCr4Gates[] = {{cr4::PSE, Feature::pse},   {cr4::LA57, Feature::la57}, {cr4::SMEP, Feature::smep},
                                 {cr4::SMAP, Feature::smap}, {cr4::PKE, Feature::pku},   {cr4::PKS, Feature::pks}};

// Makes `s` a legal state (model/validate.cc's rules); the identity on legal
// states. `features` is the CPUID: for the current state (`grow`) a register
// bit that needs an absent feature adds it; an earlier state (history) must
// have the same CPUID, so there the bit is cleared instead. `s.maxphyaddr` is set.
void repair_cpu(CpuState& s, FeatureSet& features, bool grow, bool current, const DecodeOptions& opt) {
  auto need = [&](u64& reg, u64 b, Feature f) {
    if (!(reg & b) || features.has(f)) return;
    if (grow) features.add(f);
    else reg &= ~b;
  };
  s.cr0 &= bits(31, 0);
  if (current && opt.shape == Shape::ept) s.cr0 &= ~cr0::PG;
  if (current && opt.shape == Shape::nested) s.cr0 |= cr0::PG | cr0::PE;
  if ((s.cr0 & cr0::PG) && !(s.cr0 & cr0::PE)) s.cr0 |= cr0::PE;
  if ((s.cr0 & cr0::NW) && !(s.cr0 & cr0::CD)) s.cr0 |= cr0::CD;

  s.cr4 &= cr4::KNOWN & ~opt.cr4_clear;
  for (const Cr4Gate& g : kCr4Gates) need(s.cr4, g.bit, g.feature);
  if ((s.cr4 & cr4::CET) && !(s.cr0 & cr0::WP)) s.cr4 &= ~cr4::CET;
  if ((s.cr4 & cr4::CET) && !features.has(Feature::shstk) && !features.has(Feature::ibt)) {
    if (grow) features.add(Feature::shstk);
    else s.cr4 &= ~cr4::CET;
  }

  s.efer &= efer::KNOWN;
  need(s.efer, efer::NXE, Feature::nx);
  if ((s.efer & efer::LME) && (s.cr0 & cr0::PG) && !(s.cr4 & cr4::PAE)) s.efer &= ~efer::LME;
  const bool lma = (s.efer & efer::LME) && (s.cr0 & cr0::PG);
  s.efer = lma ? s.efer | efer::LMA : s.efer & ~efer::LMA;
  if ((s.cr4 & cr4::PCIDE) && !lma) s.cr4 &= ~cr4::PCIDE;

  s.rflags = (s.rflags & ~rflags::RESERVED) | rflags::FIXED1;
  s.cpl &= 3;
  if (!(s.cr0 & cr0::PE)) s.cpl = 0;
  if ((s.rflags & rflags::VM) && (lma || !(s.cr0 & cr0::PE) || s.cpl != 3)) s.rflags &= ~rflags::VM;

  s.cr3 &= lma ? ~bits(62, s.maxphyaddr) : ~bits(63, s.maxphyaddr);
}

// The role bits the header's toggle byte flips, bit i -> kToggles[i].
struct Toggle {
  unsigned reg;  // 0 CR0, 4 CR4, 8 EFER
  u64 bit;
};
constexpr Toggle kToggles[8] = {{0, cr0::WP},  {4, cr4::SMAP}, {4, cr4::SMEP}, {4, cr4::PKE},
                                {8, efer::NXE}, {4, cr4::PSE},  {4, cr4::PAE},  {0, cr0::PG}};

unsigned canonical_top(const CpuState& c) { return (c.cr4 & cr4::LA57) ? 56 : 47; }

// ---- the walk the tables are laid out along ---------------------------------

struct SlotValue {
  u64 value = 0;
  bool present = false;  // false: the case has no entry at this address
};

class Visited {
 public:
  const SlotValue* find(u64 addr) const {
    for (unsigned i = 0; i < n_; ++i)
      if (items_[i].addr == addr) return &items_[i].slot;
    return nullptr;
  }
  void add(u64 addr, SlotValue s) {
    if (n_ < items_.size()) items_[n_++] = {addr, s};
  }
  bool contains(u64 addr) const { return find(addr) != nullptr; }

 private:
  struct Item {
    u64 addr;
    SlotValue slot;
  };
  std::array<Item, 64> items_;  // a walk visits at most 5 guest entries and 6 EPT chains of 5
  unsigned n_ = 0;
};

// Whether a guest entry with PS = 1 at `level` maps a page (SDM 4.3-4.5).
bool large_ok(const CpuState& cpu, PagingMode m, unsigned level) {
  switch (m) {
    case PagingMode::bit32: return level == 2 && (cpu.cr4 & cr4::PSE);
    case PagingMode::pae: return level == 2;
    case PagingMode::level4:
    case PagingMode::level5: return level == 2 || (level == 3 && cpu.features.has(Feature::pdpe1gb));
    case PagingMode::none: break;
  }
  return false;
}

bool guest_leaf(const CpuState& cpu, PagingMode m, u64 v, unsigned level) {
  return level == 1 || ((v & bit(7)) && large_ok(cpu, m, level));
}

// The guest-physical address the access reaches through leaf `v` at `level`.
u64 leaf_gpa(PagingMode m, u64 v, unsigned level, u64 va) {
  u64 frame, offset;
  if (level == 1) {
    frame = v & (m == PagingMode::bit32 ? bits(31, 12) : bits(51, 12));
    offset = va & bits(11, 0);
  } else if (m == PagingMode::bit32) {
    frame = (v & bits(31, 22)) | (field(v, 20, 13) << 32);  // PSE-36
    offset = va & bits(21, 0);
  } else {
    const unsigned shift = level == 2 ? 21 : 30;
    frame = v & bits(51, shift);
    offset = va & bits(shift - 1, 0);
  }
  return (frame | offset) & bits(51, 0);
}

bool ept_present(const EptState& e, u64 v) { return (v & 7) || (e.features.has(EptFeature::mbec) && (v & bit(10))); }
bool ept_large_ok(const EptState& e, unsigned level) {
  return (level == 2 && e.features.has(EptFeature::pages_2m)) || (level == 3 && e.features.has(EptFeature::pages_1g));
}
bool ept_leaf(const EptState& e, u64 v, unsigned level) { return level == 1 || ((v & bit(7)) && ept_large_ok(e, level)); }

// Visits every paging-structure entry the access's walk reads, in walk order:
// for each guest level the EPT chain of the entry's guest-physical address,
// then the entry; finally the EPT chain of the page reached. `decide(space,
// addr, level, final)` gives each entry the first time its address comes up;
// `final` is false for the EPT entries of a chain that maps a guest paging
// structure (true for the page the access reaches, and for guest entries). The
// traversal stops where a walk would: at an absent or not-present entry, or a leaf.
template <typename Decide>
void lay_out(const Case& c, Visited& guest, Visited& ept, Decide&& decide) {
  auto slot = [&](Space sp, u64 addr, unsigned level, bool final) {
    Visited& v = sp == Space::guest ? guest : ept;
    if (const SlotValue* s = v.find(addr)) return *s;
    const SlotValue s = decide(sp, addr, level, final);
    v.add(addr, s);
    return s;
  };
  auto ept_chain = [&](u64 gpa, bool final) {
    if (!c.ept) return;
    const EptState& e = *c.ept;
    u64 table = e.eptp & bits(51, 12);
    for (unsigned level = e.levels(); level >= 1; --level) {
      const unsigned shift = 12 + 9 * (level - 1);
      const SlotValue s = slot(Space::ept, table + field(gpa, shift + 8, shift) * 8, level, final);
      if (!s.present || !ept_present(e, s.value) || ept_leaf(e, s.value, level)) return;
      table = s.value & bits(51, 12);
    }
  };

  const CpuState& cpu = c.cpu;
  const PagingMode mode = mmu::paging_mode(cpu);
  const u64 va = c.access.addr;
  if (mode == PagingMode::none) {
    ept_chain(va, true);
    return;
  }
  const unsigned width = mmu::entry_bytes(mode);
  u64 table = mode == PagingMode::bit32 ? cpu.cr3 & bits(31, 12)
              : mode == PagingMode::pae ? cpu.cr3 & bits(31, 5)
                                        : cpu.cr3 & bits(51, 12);
  for (unsigned level = mmu::ChainBuilder::levels(mode); level >= 1; --level) {
    const u64 addr = table + mmu::ChainBuilder::index(mode, va, level) * width;
    ept_chain(addr, false);
    const SlotValue s = slot(Space::guest, addr, level, true);
    if (!s.present || !(s.value & 1)) return;
    if (guest_leaf(cpu, mode, s.value, level)) {
      ept_chain(leaf_gpa(mode, s.value, level, va), true);
      return;
    }
    table = s.value & (width == 4 ? bits(31, 12) : bits(51, 12));
  }
}

// ---- decoding ----------------------------------------------------------------

// Turns a slot (control byte + raw value) into an entry. "Clean" slots keep
// the raw value's rights and attributes but make the entry present, without
// reserved bits, and pointing at a fresh table (non-leaf) or at the raw
// value's frame (leaf) -- non-leaf EPT entries get every right, and leaves
// that map a guest paging structure read and write; "link" slots keep every non-address bit as given and
// point non-leaf entries at a fresh table; "raw" slots are the value verbatim.
class SlotDecoder {
 public:
  SlotDecoder(Reader& r, Case& c) : r_(r), c_(c), mode_(mmu::paging_mode(c.cpu)), m_(c.cpu.maxphyaddr) {
    width_ = mmu::entry_bytes(mode_);
  }

  SlotValue operator()(Space sp, u64 addr, unsigned level, bool final) {
    const unsigned ctl = static_cast<unsigned>(r_.get(1));
    const u64 raw = r_.get(sp == Space::guest ? width_ : 8);
    if (ctl >= kAbsentFrom) return {};
    u64 v = raw;
    if (ctl < kRawFrom)
      v = sp == Space::guest ? guest_entry(raw, level, ctl < kLinkFrom) : ept_entry(raw, level, ctl < kLinkFrom, final);
    (sp == Space::guest ? c_.memory : c_.ept->memory).set(addr, v);
    return {v, true};
  }

 private:
  u64 guest_entry(u64 raw, unsigned level, bool clean) {
    const u64 ps = bit(7);
    const bool wide = width_ == 8;
    const bool ok_large = large_ok(c_.cpu, mode_, level);
    const u64 addr_bits = wide ? bits(51, 12) : bits(31, 12);
    if (!clean) {
      if (!guest_leaf(c_.cpu, mode_, raw, level)) return (raw & ~addr_bits) | fresh(next_guest_);
      return wide ? raw & ~bits(51, m_) : raw;
    }
    u64 flags;
    if (mode_ == PagingMode::pae && level == 3) {
      flags = raw & (bit(3) | bit(4));  // PAE PDPTE: PWT, PCD; everything else is reserved
    } else {
      flags = raw & bits(11, 0);
      if (wide && (c_.cpu.efer & efer::NXE)) flags |= raw & bit(63);
      if (wide && mode_ != PagingMode::pae) flags |= raw & bits(62, 52);  // ignored, or protection keys
      if (level > 1 && !ok_large) flags &= ~ps;  // PS only where it makes a large page
    }
    flags |= 1;
    if (!guest_leaf(c_.cpu, mode_, flags, level)) return flags | fresh(next_guest_);
    if (level == 1) return flags | (raw & (wide ? bits(m_ - 1, 12) : bits(31, 12)));
    // A large page: PAT is bit 12; the bits between it and the frame are reserved (or PSE-36 address bits).
    const unsigned shift = mode_ == PagingMode::bit32 ? 22 : level == 2 ? 21 : 30;
    return flags | (raw & bit(12)) | (raw & (wide ? bits(m_ - 1, shift) : bits(31, 22)));
  }

  u64 ept_entry(u64 raw, unsigned level, bool clean, bool final) {
    const EptState& e = *c_.ept;
    if (!clean) {
      if (!ept_leaf(e, raw, level)) return (raw & ~bits(51, 12)) | fresh(next_ept_);
      return raw & ~bits(51, m_);
    }
    const bool leaf = level == 1 || ((raw & bit(7)) && ept_large_ok(e, level));
    // Non-leaf: every right (as hypervisors build them), so that the rights
    // that vary are the leaf's; A, XU and the ignored bits as given.
    if (!leaf) return 7 | (raw & bits(11, 8)) | fresh(next_ept_);
    const bool exec_only = e.features.has(EptFeature::exec_only);
    const bool xu = e.features.has(EptFeature::mbec) && (raw & bit(10));
    u64 rwx = raw & 7;
    if (!final) rwx |= 3;  // a guest paging structure: readable and writable (A/D updates)
    if ((rwx & 2) && !(rwx & 1)) rwx |= 1;          // write without read: misconfiguration
    if (rwx == 4 && !exec_only) rwx |= 1;           // execute-only without the capability
    if (rwx == 0 && !(xu && exec_only)) rwx |= 1;   // not present (an XU-only entry counts as execute-only)
    u64 v = rwx | (raw & bits(11, 8));              // A, D, XU, ignored bits
    u64 mt = field(raw, 5, 3);
    if (mt == 2 || mt == 3 || mt == 7) mt = 6;      // reserved memory types
    v |= (mt << 3) | (raw & bit(6));
    if (level == 1) return v | (raw & bits(m_ - 1, 12));
    return v | bit(7) | (raw & bits(m_ - 1, level == 2 ? 21 : 30));
  }

  static u64 fresh(u64& next) {
    const u64 t = next;
    next += 0x1000;
    return t;
  }

  Reader& r_;
  Case& c_;
  PagingMode mode_;
  unsigned m_;
  unsigned width_;
  u64 next_guest_ = kGuestTables, next_ept_ = kEptTables;
};

}  // namespace

std::string_view shape_name(Shape s) {
  switch (s) {
    case Shape::any: return "any";
    case Shape::guest: return "guest";
    case Shape::ept: return "ept";
    case Shape::nested: return "nested";
  }
  return "?";
}

std::optional<Shape> shape_from_name(std::string_view name) {
  for (Shape s : {Shape::any, Shape::guest, Shape::ept, Shape::nested})
    if (shape_name(s) == name) return s;
  return std::nullopt;
}

void decode_into(std::span<const std::uint8_t> data, const DecodeOptions& opt, Case& out) {
  Reader r(data);
  out.name.clear();
  out.memory.clear();
  out.history.clear();

  // Header: 53 bytes.
  CpuState& cpu = out.cpu;
  cpu = CpuState{};
  read_regs(r, cpu);
  const unsigned misc = static_cast<unsigned>(r.get(1));
  cpu.cpl = misc & 3;
  cpu.vendor = (misc & kMiscAmd) ? mmu::Vendor::amd : mmu::Vendor::intel;
  const unsigned mpa = static_cast<unsigned>(r.get(1));
  cpu.maxphyaddr = mpa >= 32 && mpa <= 52 ? mpa : 32 + mpa % 21;
  FeatureSet features = set_from_mask<Feature>(r.get(2));
  cpu.pkru = static_cast<mmu::u32>(r.get(4));
  cpu.pkrs = static_cast<mmu::u32>(r.get(4));
  mmu::Access& a = out.access;
  a.addr = r.get(8);
  const unsigned acc = static_cast<unsigned>(r.get(1));
  u64 eptp = r.get(8);
  EptFeatureSet ept_features = set_from_mask<EptFeature>(r.get(1));
  const unsigned toggles = static_cast<unsigned>(r.get(1));
  const bool has_ept = opt.shape == Shape::any ? (misc & kMiscEpt) != 0 : opt.shape != Shape::guest;

  repair_cpu(cpu, features, /*grow=*/true, /*current=*/true, opt);
  const bool lma = cpu.efer & efer::LMA;
  static constexpr AccessKind kKinds[4] = {AccessKind::read, AccessKind::write, AccessKind::fetch, AccessKind::read};
  a.kind = kKinds[acc & 3];
  a.implicit = (acc & kAccImplicit) && a.kind != AccessKind::fetch;
  a.shadow_stack = (acc & kAccShadowStack) && opt.shadow_stack && a.kind != AccessKind::fetch &&
                   (cpu.cr4 & cr4::CET) && (cpu.cr0 & cr0::PG) && !(cpu.rflags & rflags::VM);
  if (a.shadow_stack) features.add(Feature::shstk);
  if (!lma) a.addr &= bits(31, 0);
  else if (!(acc & kAccRawAddress)) a.addr = mmu::sign_extend(a.addr, canonical_top(cpu));
  cpu.features = features;

  if (has_ept) {
    if (const u64 mt = eptp & 7; mt != mmu::eptp::UC && mt != mmu::eptp::WB) eptp = (eptp & ~u64{7}) | mmu::eptp::WB;
    if (const u64 walk = field(eptp, 5, 3); walk != 3 && walk != 4) eptp = (eptp & ~bits(5, 3)) | mmu::eptp::WALK4;
    if (field(eptp, 5, 3) == 4) ept_features.add(EptFeature::level5);
    if (eptp & mmu::eptp::AD) ept_features.add(EptFeature::ad);
    eptp &= ~(mmu::eptp::SSS | bits(11, 8) | bits(63, cpu.maxphyaddr));
    cpu.vendor = mmu::Vendor::intel;  // EPT is Intel VMX
    if (!out.ept) out.ept.emplace();
    out.ept->memory.clear();
    out.ept->eptp = eptp;
    out.ept->features = ept_features;
  } else {
    out.ept.reset();
  }

  // Slots, along the walk.
  Visited guest, ept;
  lay_out(out, guest, ept, SlotDecoder(r, out));

  // Records, until an end tag or the end of the input.
  const unsigned width = mmu::entry_bytes(mmu::paging_mode(cpu));
  while (!r.exhausted()) {
    const unsigned tag = static_cast<unsigned>(r.get(1)) & 3;
    if (tag == kRecEnd) break;
    if (tag == kRecGuest) {
      const u64 addr = r.get(8) & bits(51, 0) & ~u64{width - 1};
      out.memory.set(addr, r.get(width));
    } else if (tag == kRecEpt) {
      const u64 addr = r.get(8) & bits(51, 3);
      const u64 value = r.get(8);
      if (out.ept) out.ept->memory.set(addr, value);
    } else {
      // An earlier state is stored as its difference (XOR) from the current
      // one: an empty record repeats the current state, and a mutation of the
      // header's registers moves every state together (what the context-reset
      // bugs need: e.g. CR0.WP = 0 before and after a change of CR4.SMAP).
      CpuState h;
      read_regs(r, h);
      h.cr0 ^= cpu.cr0;
      h.cr3 ^= cpu.cr3;
      h.cr4 ^= cpu.cr4;
      h.efer ^= cpu.efer;
      h.rflags ^= cpu.rflags;
      h.cpl = cpu.cpl ^ static_cast<unsigned>(r.get(1));
      h.pkru = cpu.pkru ^ static_cast<mmu::u32>(r.get(4));
      h.pkrs = cpu.pkrs ^ static_cast<mmu::u32>(r.get(4));
      h.maxphyaddr = cpu.maxphyaddr;
      h.vendor = cpu.vendor;
      h.features = cpu.features;
      repair_cpu(h, features, /*grow=*/false, /*current=*/false, opt);
      if (out.history.size() + (toggles ? 1 : 0) < DecodeOptions::kMaxHistory) out.history.push_back(h);
    }
  }
  // The header's toggle byte: one more earlier state, the latest, that differs
  // from the current one in the role bits it names (a one-byte mutation away
  // from every context-reset transition).
  if (toggles) {
    CpuState h = cpu;
    for (unsigned i = 0; i < 8; ++i) {
      if (!(toggles & (1u << i))) continue;
      const Toggle& t = kToggles[i];
      (t.reg == 0 ? h.cr0 : t.reg == 4 ? h.cr4 : h.efer) ^= t.bit;
    }
    repair_cpu(h, features, /*grow=*/false, /*current=*/false, opt);
    out.history.push_back(h);
  }
}

Case decode(std::span<const std::uint8_t> data, const DecodeOptions& opt) {
  Case c;
  decode_into(data, opt, c);
  return c;
}

std::vector<std::uint8_t> encode(const Case& c) {
  Writer w;
  const CpuState& cpu = c.cpu;
  write_regs(w, cpu);
  w.put((cpu.cpl & 3) | (cpu.vendor == mmu::Vendor::amd ? kMiscAmd : 0) | (c.ept ? kMiscEpt : 0), 1);
  w.put(cpu.maxphyaddr, 1);
  w.put(cpu.features.mask(), 2);
  w.put(cpu.pkru, 4);
  w.put(cpu.pkrs, 4);
  const mmu::Access& a = c.access;
  w.put(a.addr, 8);
  const bool raw_address = (cpu.efer & efer::LMA) && mmu::sign_extend(a.addr, canonical_top(cpu)) != a.addr;
  w.put(static_cast<unsigned>(a.kind) | (a.implicit ? kAccImplicit : 0) | (a.shadow_stack ? kAccShadowStack : 0) |
            (raw_address ? kAccRawAddress : 0),
        1);
  w.put(c.ept ? c.ept->eptp : 0, 8);
  w.put(c.ept ? c.ept->features.mask() : 0, 1);
  w.put(0, 1);  // no toggled state: history goes in records

  const unsigned width = mmu::entry_bytes(mmu::paging_mode(cpu));
  Visited guest, ept;
  lay_out(c, guest, ept, [&](Space sp, u64 addr, unsigned, bool) {
    const mmu::PhysMemory& m = sp == Space::guest ? c.memory : c.ept->memory;
    const unsigned n = sp == Space::guest ? width : 8;
    if (!m.contains(addr)) {
      w.put(kCtlAbsent, 1);
      w.put(0, n);
      return SlotValue{};
    }
    const u64 v = m.read(addr);
    w.put(kCtlRaw, 1);
    w.put(v, n);
    return SlotValue{v, true};
  });

  for (const auto& e : c.memory.entries()) {
    if (guest.contains(e.addr)) continue;
    w.put(kRecGuest, 1);
    w.put(e.addr, 8);
    w.put(e.value, width);
  }
  if (c.ept) {
    for (const auto& e : c.ept->memory.entries()) {
      if (ept.contains(e.addr)) continue;
      w.put(kRecEpt, 1);
      w.put(e.addr, 8);
      w.put(e.value, 8);
    }
  }
  for (const CpuState& h : c.history) {
    CpuState delta = h;
    delta.cr0 ^= cpu.cr0;
    delta.cr3 ^= cpu.cr3;
    delta.cr4 ^= cpu.cr4;
    delta.efer ^= cpu.efer;
    delta.rflags ^= cpu.rflags;
    w.put(kRecHistory, 1);
    write_regs(w, delta);
    w.put(h.cpl ^ cpu.cpl, 1);
    w.put(h.pkru ^ cpu.pkru, 4);
    w.put(h.pkrs ^ cpu.pkrs, 4);
  }
  return std::move(w.out);
}

bool fits(const Case& c, const DecodeOptions& opt) {
  if (mmu::validate(c)) return false;
  const bool pg = c.cpu.cr0 & cr0::PG;
  switch (opt.shape) {
    case Shape::any: break;
    case Shape::guest: if (c.ept) return false; break;
    case Shape::ept: if (!c.ept || pg) return false; break;
    case Shape::nested: if (!c.ept || !pg) return false; break;
  }
  if (c.cpu.cr4 & opt.cr4_clear) return false;
  for (const CpuState& h : c.history)
    if (h.cr4 & opt.cr4_clear) return false;
  if (c.access.shadow_stack && !opt.shadow_stack) return false;
  return c.history.size() <= DecodeOptions::kMaxHistory;
}

}  // namespace mmucheck::fuzz
