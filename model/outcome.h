// What an engine says about a case, and how two answers are compared.
//
//   mmu::Verdict v = mmu::reference::evaluate(c);
//   if (!mmu::accepts(v, other_engine_outcome)) { /* divergence */ }
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include "model/bits.h"

namespace mmu {

enum class OutcomeKind : unsigned char { ok, page_fault, general_protection, ept_violation, ept_misconfig };
std::string_view outcome_kind_name(OutcomeKind k);

enum class GpReason : unsigned char { none, non_canonical, pdpte_reserved };
std::string_view gp_reason_name(GpReason r);

enum class Space : unsigned char { guest, ept };

// Trivially constructible on purpose: WriteList keeps dozens of these
// uninitialised until used.
struct Write {
  Space space;
  u64 addr;
  u64 value;
  friend bool operator==(const Write&, const Write&) = default;
};

// Fixed capacity, no heap: a walk records at most a few dozen updates, and the
// storage stays uninitialised until used so building an outcome costs nothing.
class WriteList {
 public:
  static constexpr std::size_t kCapacity = 48;
  WriteList() = default;
  // Copies only the used part: a full copy would move a kilobyte per outcome.
  WriteList(const WriteList& o) : size_(o.size_) { std::copy(o.begin(), o.end(), items_.data()); }
  WriteList& operator=(const WriteList& o) {
    size_ = o.size_;
    std::copy(o.begin(), o.end(), items_.data());
    return *this;
  }
  void push(const Write& w) {
    if (size_ < kCapacity) items_[size_++] = w;
  }
  void set(std::size_t i, const Write& w) { items_[i] = w; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Write& operator[](std::size_t i) const { return items_[i]; }
  const Write* begin() const { return items_.data(); }
  const Write* end() const { return items_.data() + size_; }
  void clear() { size_ = 0; }
  friend bool operator==(const WriteList& a, const WriteList& b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i)
      if (!(a.items_[i] == b.items_[i])) return false;
    return true;
  }

 private:
  std::array<Write, kCapacity> items_;
  std::size_t size_ = 0;
};

// Page-fault error code bits (SDM 4.7).
namespace pferr {
inline constexpr u64 P = bit(0), W = bit(1), U = bit(2), RSVD = bit(3), ID = bit(4), PK = bit(5),
                     SS = bit(6), HLAT = bit(7), SGX = bit(15);
}

// EPT-violation exit qualification bits (SDM vol. 3C, Table 28-7 "Exit
// Qualification for EPT Violations").
namespace eptq {
inline constexpr u64 READ = bit(0), WRITE = bit(1), FETCH = bit(2), READABLE = bit(3), WRITABLE = bit(4),
                     EXECUTABLE = bit(5), USER_EXECUTABLE = bit(6), GLA_VALID = bit(7), TRANSLATED = bit(8),
                     USER_LINEAR = bit(9), RW_LINEAR = bit(10), XD_LINEAR = bit(11), NMI_UNBLOCKING = bit(12),
                     SHADOW_STACK = bit(13);
}

struct Outcome {
  OutcomeKind kind = OutcomeKind::ok;
  // ok
  u64 pa = 0;              // host-physical when the case has EPT
  u64 page_size = 0;       // the guest's page size
  u64 gpa = 0;             // EPT: the guest-physical address (ok, violation, misconfig)
  u64 ept_page_size = 0;   // EPT: the size of the EPT mapping (ok)
  WriteList writes;
  // page_fault
  u64 error_code = 0;
  u64 cr2 = 0;
  // general_protection
  GpReason gp_reason = GpReason::none;
  // ept_violation
  u64 qualification = 0;
  u64 gla = 0;             // meaningful when qualification has GLA_VALID

  bool has_ept = false;    // the case ran under EPT: gpa/ept_page_size are part of the outcome

  friend bool operator==(const Outcome& a, const Outcome& b);
};

// The reference's answer. Where the SDM leaves behaviour open it says so:
// - `optional_writes`: A-bit updates an implementation may or may not make;
// - `qualification_dont_care`: exit-qualification bits the SDM calls undefined
//   or implementation-specific in this situation;
// - `alternatives`: other whole outcomes the SDM allows (rare; e.g. where the
//   order of an accessed-flag update and a later fault is not architectural),
//   each with its own open parts.
// Every other field is exact.
struct Verdict {
  Outcome outcome;
  WriteList optional_writes;
  u64 qualification_dont_care = 0;
  std::vector<Verdict> alternatives;
};

// True when `other` is one of the outcomes `v` allows: same kind and fields
// (qualification compared outside `qualification_dont_care`), and its writes
// are v's required writes, in order, interleaved with any subset of the
// optional ones; or one of v's alternatives accepts `other`.
bool accepts(const Verdict& v, const Outcome& other);

}  // namespace mmu
