// Builds page-table chains into a case's memory, for tests, benchmarks and
// generators. It writes exactly the entries asked for; it never decides a rule.
//
//   mmu::Case c = ...;                                  // cpu set, paging mode derived
//   mmu::ChainBuilder b(c, /*cr3=*/0x1000);
//   // 4-level, 4-KByte page: PML4E, PDPTE, PDE flags top-down, then the PTE value.
//   auto addrs = b.map(0x7fff0000'1000, /*leaf=*/0x5000 | 0x7, /*leaf_level=*/1, {0x7, 0x7, 0x7});
#pragma once
#include <initializer_list>
#include <stdexcept>
#include <vector>

#include "model/case.h"
#include "model/ept.h"

namespace mmu {

class ChainBuilder {
 public:
  // Points CR3 at `cr3` (keeping CR3's low control bits) and allocates new
  // tables from `next_free` upwards, one 4-KByte page each.
  ChainBuilder(Case& c, u64 cr3, u64 next_free = 0x100000) : c_(c), next_free_(next_free) {
    c_.cpu.cr3 = (c_.cpu.cr3 & bits(11, 0)) | cr3;
  }

  static unsigned levels(PagingMode m) {
    switch (m) {
      case PagingMode::bit32: return 2;
      case PagingMode::pae: return 3;
      case PagingMode::level4: return 4;
      case PagingMode::level5: return 5;
      case PagingMode::none: break;
    }
    return 0;
  }

  // Writes the chain for `va`: upper entries (top level first) point to tables
  // (reused when an upper entry is already present) and carry `upper_flags`;
  // the entry at `leaf_level` is `leaf` verbatim. Returns the entry addresses, top first.
  std::vector<u64> map(u64 va, u64 leaf, unsigned leaf_level, std::initializer_list<u64> upper_flags) {
    const PagingMode mode = paging_mode(c_.cpu);
    const unsigned top = levels(mode);
    if (top == 0 || leaf_level < 1 || leaf_level > top || upper_flags.size() != top - leaf_level)
      throw std::invalid_argument("ChainBuilder::map: levels do not match the paging mode");
    const unsigned width = entry_bytes(mode);
    u64 table = mode == PagingMode::pae ? c_.cpu.cr3 & bits(31, 5) : c_.cpu.cr3 & bits(51, 12);
    std::vector<u64> addrs;
    auto flag = upper_flags.begin();
    for (unsigned level = top; level >= leaf_level; --level) {
      const u64 addr = table + index(mode, va, level) * width;
      addrs.push_back(addr);
      if (level == leaf_level) {
        c_.memory.set(addr, leaf);
        break;
      }
      const u64 existing = c_.memory.read(addr);
      u64 next;
      if (existing & 1) {
        next = existing & (width == 4 ? bits(31, 12) : bits(51, 12));
      } else {
        next = next_free_;
        next_free_ += 0x1000;
      }
      c_.memory.set(addr, next | *flag++);
      table = next;
    }
    return addrs;
  }

  static u64 index(PagingMode mode, u64 va, unsigned level) {
    if (mode == PagingMode::bit32) return level == 2 ? field(va, 31, 22) : field(va, 21, 12);
    if (mode == PagingMode::pae && level == 3) return field(va, 31, 30);
    const unsigned shift = 12 + 9 * (level - 1);
    return field(va, shift + 8, shift);
  }

 private:
  Case& c_;
  u64 next_free_;
};

// The same for EPT: writes an EPT chain for one guest-physical address into
// `ept.memory`, below the root table that EPTP names.
//
//   mmu::EptChainBuilder eb(ept);   // ept.eptp already set
//   eb.map(0x3000, /*leaf=*/0x9000 | 0x7 | (6 << 3), 1, {0x7, 0x7, 0x7});
class EptChainBuilder {
 public:
  explicit EptChainBuilder(EptState& ept, u64 next_free = 0x800000) : ept_(ept), next_free_(next_free) {}

  std::vector<u64> map(u64 gpa, u64 leaf, unsigned leaf_level, std::initializer_list<u64> upper_flags) {
    const unsigned top = ept_.levels();
    if (leaf_level < 1 || leaf_level > top || upper_flags.size() != top - leaf_level)
      throw std::invalid_argument("EptChainBuilder::map: levels do not match the EPTP walk length");
    u64 table = ept_.eptp & bits(51, 12);
    std::vector<u64> addrs;
    auto flag = upper_flags.begin();
    for (unsigned level = top; level >= leaf_level; --level) {
      const unsigned shift = 12 + 9 * (level - 1);
      const u64 addr = table + field(gpa, shift + 8, shift) * 8;
      addrs.push_back(addr);
      if (level == leaf_level) {
        ept_.memory.set(addr, leaf);
        break;
      }
      const u64 existing = ept_.memory.read(addr);
      u64 next;
      if (existing & 7) {
        next = existing & bits(51, 12);
      } else {
        next = next_free_;
        next_free_ += 0x1000;
      }
      ept_.memory.set(addr, next | *flag++);
      table = next;
    }
    return addrs;
  }

 private:
  EptState& ept_;
  u64 next_free_;
};

}  // namespace mmu
