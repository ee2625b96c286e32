// Helpers for the reference-walker suites: CPU states for each paging mode,
// page-table chains (over mmu::ChainBuilder), and assertions on outcomes that
// print the whole outcome when they fail.
//
//   mmutest::Walk w(mmu::PagingMode::level4);
//   auto e = w.map(0x7f00'0000'1000, 0x5000 | P | RW | US);   // PML4E..PTE addresses
//   w.access(0x7f00'0000'1234, mmu::AccessKind::write, /*cpl=*/3);
//   EXPECT_TRUE(IsOk(w.run(), 0x5234, 4096));
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include "model/builder.h"
#include "model/case.h"
#include "model/cpu.h"
#include "model/outcome.h"
#include "model/reference.h"
#include "model/trace.h"
#include "model/validate.h"

namespace mmutest {

using mmu::AccessKind;
using mmu::bit;
using mmu::bits;
using mmu::Case;
using mmu::Feature;
using mmu::GpReason;
using mmu::OutcomeKind;
using mmu::PagingMode;
using mmu::u32;
using mmu::u64;
using mmu::Verdict;
using mmu::Write;

// Paging-structure entry flags (SDM 4.3-4.5).
inline constexpr u64 P = bit(0), RW = bit(1), US = bit(2), PWT = bit(3), PCD = bit(4), A = bit(5),
                     D = bit(6), PS = bit(7), G = bit(8), PAT_LARGE = bit(12), XD = bit(63);
inline constexpr u64 kPk = bits(62, 59);
constexpr u64 pkey(unsigned k) { return u64{k} << 59; }

inline constexpr u64 K4 = u64{1} << 12, M2 = u64{1} << 21, M4 = u64{1} << 22, G1 = u64{1} << 30;

// The levels a mode walks (32-bit: PDE, PTE; PAE: PDPTE, PDE, PTE; ...).
inline unsigned levels(PagingMode m) { return mmu::ChainBuilder::levels(m); }

inline std::string hex(u64 v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

inline std::string describe(const mmu::WriteList& w) {
  std::string s = "[";
  for (const Write& x : w)
    s += std::string(x.space == mmu::Space::guest ? "guest " : "ept ") + hex(x.addr) + "=" + hex(x.value) + " ";
  return s + "]";
}

inline std::string describe(const mmu::Outcome& o) {
  std::string s(mmu::outcome_kind_name(o.kind));
  switch (o.kind) {
    case OutcomeKind::ok: s += " pa=" + hex(o.pa) + " page_size=" + hex(o.page_size); break;
    case OutcomeKind::page_fault: s += " error_code=" + hex(o.error_code) + " cr2=" + hex(o.cr2); break;
    case OutcomeKind::general_protection: s += " reason=" + std::string(mmu::gp_reason_name(o.gp_reason)); break;
    default: break;
  }
  return s + " writes=" + describe(o.writes);
}

inline std::string describe(const Verdict& v) { return describe(v.outcome) + " optional=" + describe(v.optional_writes); }

inline Write gw(u64 addr, u64 value) { return Write{mmu::Space::guest, addr, value}; }

inline std::vector<Write> to_vec(const mmu::WriteList& w) { return std::vector<Write>(w.begin(), w.end()); }

inline bool same_writes(const mmu::WriteList& got, const std::vector<Write>& want) { return to_vec(got) == want; }

// ok with this pa and page size; `writes` (when given) are the exact A/D updates.
inline ::testing::AssertionResult IsOk(const Verdict& v, u64 pa, u64 page_size) {
  if (v.outcome.kind == OutcomeKind::ok && v.outcome.pa == pa && v.outcome.page_size == page_size &&
      v.optional_writes.empty())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected ok pa=" << hex(pa) << " page_size=" << hex(page_size)
                                       << ", got " << describe(v);
}
inline ::testing::AssertionResult IsOk(const Verdict& v, u64 pa, u64 page_size, const std::vector<Write>& writes) {
  auto r = IsOk(v, pa, page_size);
  if (!r) return r;
  if (!same_writes(v.outcome.writes, writes)) {
    mmu::WriteList want;
    for (const Write& w : writes) want.push(w);
    return ::testing::AssertionFailure() << "expected writes " << describe(want) << ", got " << describe(v);
  }
  return ::testing::AssertionSuccess();
}

// #PF with exactly this error code, CR2 = the access address, no required writes.
inline ::testing::AssertionResult IsPf(const Verdict& v, u64 error_code, u64 cr2) {
  if (v.outcome.kind == OutcomeKind::page_fault && v.outcome.error_code == error_code && v.outcome.cr2 == cr2 &&
      v.outcome.writes.empty())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected page_fault error_code=" << hex(error_code) << " cr2=" << hex(cr2)
                                       << ", got " << describe(v);
}

inline ::testing::AssertionResult IsGp(const Verdict& v, GpReason reason) {
  if (v.outcome.kind == OutcomeKind::general_protection && v.outcome.gp_reason == reason &&
      v.outcome.writes.empty() && v.optional_writes.empty())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected general_protection " << mmu::gp_reason_name(reason) << ", got "
                                       << describe(v);
}

// A valid CPU in `mode` with every feature reported: CR0.PE/ET/WP (+PG), and
// EFER.NXE in PAE/4-level/5-level paging. CR4.PSE, SMEP, SMAP, PKE, PKS and CET
// stay clear: tests turn on what they exercise.
inline Case make_case(PagingMode mode, unsigned maxphyaddr = 46) {
  Case c;
  c.cpu.features = mmu::FeatureSet::all();
  c.cpu.maxphyaddr = maxphyaddr;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::ET;
  c.cpu.cr4 = 0;
  c.cpu.efer = 0;
  if (mode != PagingMode::none) c.cpu.cr0 |= mmu::cr0::PG | mmu::cr0::WP;
  switch (mode) {
    case PagingMode::none:
    case PagingMode::bit32: break;
    case PagingMode::pae:
      c.cpu.cr4 = mmu::cr4::PAE;
      c.cpu.efer = mmu::efer::NXE;
      break;
    case PagingMode::level4:
      c.cpu.cr4 = mmu::cr4::PAE;
      c.cpu.efer = mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
      break;
    case PagingMode::level5:
      c.cpu.cr4 = mmu::cr4::PAE | mmu::cr4::LA57;
      c.cpu.efer = mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
      break;
  }
  return c;
}

// validate() must accept the case (every test case is a real machine state);
// then the reference evaluates it.
inline Verdict eval(const Case& c, mmu::Trace* trace = nullptr) {
  if (auto e = mmu::validate(c)) ADD_FAILURE() << "test built an invalid case: " << e->field << ": " << e->message;
  return mmu::reference::evaluate(c, trace);
}

// A case plus a ChainBuilder that keeps allocating fresh tables across map() calls.
class Walk {
 public:
  explicit Walk(PagingMode mode, unsigned maxphyaddr = 46, u64 cr3 = 0x1000)
      : c(make_case(mode, maxphyaddr)), b_(c, cr3) {}
  Walk(const Walk&) = delete;
  Walk& operator=(const Walk&) = delete;

  Case c;

  PagingMode mode() const { return mmu::paging_mode(c.cpu); }

  // Maps `va`: the entry at `leaf_level` is `leaf` verbatim; every entry above
  // points to a table and carries `upper` (a PAE PDPTE carries P only, since its
  // bits 2:1 and 8:5 are reserved). Returns the entry addresses, top level first.
  std::vector<u64> map(u64 va, u64 leaf, unsigned leaf_level = 1, u64 upper = P | RW | US) {
    const PagingMode m = mode();
    const unsigned top = levels(m);
    auto f = [&](unsigned level) { return (m == PagingMode::pae && level == 3) ? P : upper; };
    switch (top - leaf_level) {
      case 0: return b_.map(va, leaf, leaf_level, {});
      case 1: return b_.map(va, leaf, leaf_level, {f(top)});
      case 2: return b_.map(va, leaf, leaf_level, {f(top), f(top - 1)});
      case 3: return b_.map(va, leaf, leaf_level, {f(top), f(top - 1), f(top - 2)});
      case 4: return b_.map(va, leaf, leaf_level, {f(top), f(top - 1), f(top - 2), f(top - 3)});
    }
    ADD_FAILURE() << "map: bad leaf level " << leaf_level;
    return {};
  }

  u64 get(u64 addr) const { return c.memory.read(addr); }
  void set(u64 addr, u64 value) { c.memory.set(addr, value); }
  void or_bits(u64 addr, u64 m) { set(addr, get(addr) | m); }
  void clear_bits(u64 addr, u64 m) { set(addr, get(addr) & ~m); }

  void access(u64 va, AccessKind kind = AccessKind::read, unsigned cpl = 0, bool implicit = false,
              bool shadow_stack = false) {
    c.access = {.addr = va, .kind = kind, .implicit = implicit, .shadow_stack = shadow_stack};
    c.cpu.cpl = cpl;
  }

  Verdict run(mmu::Trace* trace = nullptr) const { return eval(c, trace); }

 private:
  mmu::ChainBuilder b_;
};

// Linear addresses chosen so that every level uses a different, non-zero index.
inline constexpr u64 kVa32 = 0xC040'1ABC;           // PDE 0x301, PTE 0x001, offset 0xABC
inline constexpr u64 kVaPae = 0x8040'1ABC;          // PDPTE 2, PDE 0x002, PTE 0x001
inline constexpr u64 kVa4 = 0x0000'5A5A'5ADE'FABC;  // canonical for 4-level paging
inline constexpr u64 kVa5 = 0x00AB'CDEF'1234'5ABC;  // canonical for 5-level paging only (bit 55 = 1, bit 56 = 0)

inline u64 va_for(PagingMode m) {
  switch (m) {
    case PagingMode::bit32: return kVa32;
    case PagingMode::pae: return kVaPae;
    case PagingMode::level4: return kVa4;
    default: return kVa5;
  }
}

// Page frames per page size (aligned, below 2^32 so any MAXPHYADDR reaches them).
inline u64 frame_for(PagingMode m, unsigned leaf_level) {
  if (leaf_level == 1) return 0x0123'4000;
  if (leaf_level == 3) return 0x8000'0000;
  return m == PagingMode::bit32 ? 0x0AC0'0000 : 0x0140'0000;
}

inline u64 size_for(PagingMode m, unsigned leaf_level) {
  if (leaf_level == 1) return K4;
  if (leaf_level == 3) return G1;
  return m == PagingMode::bit32 ? M4 : M2;
}

// One mapped page: a Walk in `mode` to a page at `leaf_level` (PS added above
// level 1) with `flags` in the leaf and `upper` in every entry above (PAE PDPTE:
// P only). A 32-bit 4-MByte page turns on CR4.PSE.
struct Page {
  Walk w;
  std::vector<u64> e;  // entry addresses, top first
  PagingMode m;
  unsigned leaf_level;

  Page(PagingMode mode, u64 flags, unsigned level = 1, u64 upper = P | RW | US) : w(mode), m(mode), leaf_level(level) {
    if (mode == PagingMode::bit32 && level == 2) w.c.cpu.cr4 |= mmu::cr4::PSE;
    e = w.map(va_for(mode), frame_for(mode, level) | (level > 1 ? PS : 0) | flags, level, upper);
  }
  u64 va() const { return va_for(m); }
  u64 pa() const { return frame_for(m, leaf_level) | (va() & (size() - 1)); }
  u64 size() const { return size_for(m, leaf_level); }
  u64 leaf() const { return e.back(); }
  Verdict run(AccessKind k, unsigned cpl = 0, bool implicit = false, bool shadow_stack = false) {
    w.access(va(), k, cpl, implicit, shadow_stack);
    return w.run();
  }
  // The A/D updates of a passing access: A in every entry lacking it (not PAE
  // PDPTEs), D in the leaf for writes, top first.
  std::vector<Write> ad_writes(bool write) const {
    std::vector<Write> out;
    for (unsigned j = m == PagingMode::pae ? 1 : 0; j < e.size(); ++j) {
      const bool is_leaf = j + 1 == e.size();
      const u64 old = w.get(e[j]);
      const u64 now = old | A | (is_leaf && write ? D : 0);
      if (now != old) out.push_back(gw(e[j], now));
    }
    return out;
  }
};

inline constexpr PagingMode kPagingModes[] = {PagingMode::bit32, PagingMode::pae, PagingMode::level4,
                                              PagingMode::level5};

// ---- findings of the kvm engines (docs/kvm.md, "Findings: the allow-list") ----
// Each says whether a divergence between the reference and a kvm engine on `c`
// is that finding.

// Finding 1: I/D reported in 32-bit paging with EFER.NX and no SMEP.
inline bool is_id_finding(const Case& c, const Verdict& ref, const mmu::Outcome& kvm) {
  return mmu::paging_mode(c.cpu) == PagingMode::bit32 && c.access.kind == AccessKind::fetch &&
         (c.cpu.efer & mmu::efer::NXE) && !(c.cpu.cr4 & mmu::cr4::SMEP) &&
         kvm.error_code == (ref.outcome.error_code | mmu::pferr::ID);
}

// Finding 2: PSE-36 reserved/address bits fixed at 17..21 / 13..16.
inline bool is_pse36_finding(const Case& c, const Verdict&, const mmu::Outcome&) {
  const u64 pde = c.memory.read((c.cpu.cr3 & bits(31, 12)) + mmu::field(c.access.addr, 31, 22) * 4);
  return mmu::paging_mode(c.cpu) == PagingMode::bit32 && (c.cpu.cr4 & mmu::cr4::PSE) && (pde & bit(7)) &&
         (pde & bits(21, 13));
}

inline const char* kind_name(AccessKind k) {
  return k == AccessKind::read ? "read" : k == AccessKind::write ? "write" : "fetch";
}

}  // namespace mmutest
