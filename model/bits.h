// Bit helpers shared by every engine. Header-only, constexpr, no dependencies.
#pragma once
#include <cstdint>

namespace mmu {

using u64 = std::uint64_t;
using u32 = std::uint32_t;

constexpr u64 bit(unsigned n) { return u64{1} << n; }

// Bits hi..lo inclusive; empty when hi < lo (so "bits 51:M" with M = 52 is 0).
constexpr u64 bits(unsigned hi, unsigned lo) {
  if (hi < lo || lo > 63) return 0;
  const u64 upper = hi >= 63 ? ~u64{0} : (bit(hi + 1) - 1);
  return upper & ~(bit(lo) - 1);
}

constexpr bool test(u64 v, unsigned n) { return (v >> n) & 1; }

constexpr u64 field(u64 v, unsigned hi, unsigned lo) { return (v & bits(hi, lo)) >> lo; }

// Sign-extends from bit `top`: the canonical form of a linear address.
constexpr u64 sign_extend(u64 v, unsigned top) {
  const unsigned shift = 63 - top;
  return static_cast<u64>(static_cast<std::int64_t>(v << shift) >> shift);
}

// A set of the enumerators of an enum class whose last enumerator is count_.
template <typename Enum>
class EnumSet {
 public:
  static constexpr unsigned kCount = static_cast<unsigned>(Enum::count_);
  constexpr bool has(Enum f) const { return mask_ & bit(static_cast<unsigned>(f)); }
  constexpr EnumSet& add(Enum f) { mask_ |= bit(static_cast<unsigned>(f)); return *this; }
  constexpr EnumSet& remove(Enum f) { mask_ &= ~bit(static_cast<unsigned>(f)); return *this; }
  constexpr u64 mask() const { return mask_; }
  static constexpr EnumSet all() { EnumSet s; s.mask_ = bit(kCount) - 1; return s; }
  friend constexpr bool operator==(EnumSet, EnumSet) = default;

 private:
  u64 mask_ = 0;
};

}  // namespace mmu
