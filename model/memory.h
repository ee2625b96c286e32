// Sparse physical memory: the entries a page walk reads.
#pragma once
#include <algorithm>
#include <vector>

#include "model/bits.h"

namespace mmu {

// Sparse physical memory holding the entries a walk reads. Absent addresses
// read as zero. Entries are kept sorted by address: a page walk touches at most
// a handful of them, and a linear scan over a small sorted array costs a few
// nanoseconds, where a node-based map would cost a cache miss per level.
class PhysMemory {
 public:
  struct Entry {
    u64 addr;
    u64 value;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  // Inserts or replaces the entry at `addr`.
  void set(u64 addr, u64 value) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), addr,
                               [](const Entry& e, u64 a) { return e.addr < a; });
    if (it != entries_.end() && it->addr == addr) it->value = value;
    else entries_.insert(it, Entry{addr, value});
  }
  // Replaces the value of the i-th entry in address order (i < entries().size()):
  // for generators that refill one layout millions of times without searching.
  void set_nth(std::size_t i, u64 value) { entries_[i].value = value; }
  // Removes every entry, keeping the storage for the next case.
  void clear() { entries_.clear(); }
  bool contains(u64 addr) const { return find(addr) != nullptr; }
  u64 read(u64 addr) const {
    const Entry* e = find(addr);
    return e ? e->value : 0;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  friend bool operator==(const PhysMemory&, const PhysMemory&) = default;

 private:
  const Entry* find(u64 addr) const {
    if (entries_.size() <= 16) {
      for (const Entry& e : entries_)
        if (e.addr >= addr) return e.addr == addr ? &e : nullptr;
      return nullptr;
    }
    auto it = std::lower_bound(entries_.begin(), entries_.end(), addr,
                               [](const Entry& e, u64 a) { return e.addr < a; });
    return (it != entries_.end() && it->addr == addr) ? &*it : nullptr;
  }
  std::vector<Entry> entries_;
};

}  // namespace mmu
