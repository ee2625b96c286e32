// The structure-aware fuzz input format: any byte string decodes to a valid
// mmu::Case (mmu::validate accepts it), and every valid case encodes to bytes
// that decode back to it. The fuzz targets, `mmucheck decode` and the seed
// corpora (encoded from corpus/**/*.json) all go through here.
//
//   mmucheck::fuzz::DecodeOptions opt{.shape = mmucheck::fuzz::Shape::guest};
//   mmu::Case c = mmucheck::fuzz::decode(bytes, opt);      // always valid
//   std::vector<std::uint8_t> seed = mmucheck::fuzz::encode(c);
//   // fits(c, opt) => decode(encode(c), opt) is c again (its name aside).
//
// The byte layout (fuzz/README.md has the full table): a fixed 53-byte header
// of raw registers, the access and the EPTP, each repaired into a legal value
// (identity on legal ones); then one slot (control byte + entry) for each
// paging-structure entry the walk visits, so the tables are laid out along
// the walk and reach the leaf most of the time; then tagged records: extra
// guest or EPT entries and earlier CPU states (`history`). Input that runs out
// reads as zeros, which decode as present entries.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "model/case.h"

namespace mmucheck::fuzz {

// Which cases a target wants; the decoder forces the shape.
enum class Shape : unsigned char {
  any,     // EPT when the header says so
  guest,   // no EPT (guest paging in every mode, paging off included)
  ept,     // EPT with guest paging off: the access's address is the guest-physical address
  nested,  // EPT under guest paging (CR0.PG = 1)
};
std::string_view shape_name(Shape s);
std::optional<Shape> shape_from_name(std::string_view name);

struct DecodeOptions {
  Shape shape = Shape::any;
  // CR4 bits never set in a decoded state (cpu and history), for engines that
  // do not model them (kvm-3.14: SMAP, PKE, PKS, LA57).
  mmu::u64 cr4_clear = 0;
  bool shadow_stack = true;  // false: never a shadow-stack access
  // At most this many earlier CPU states (further history records are read and dropped).
  static constexpr std::size_t kMaxHistory = 8;
};

// Decodes into `out`, reusing its storage (a fuzz loop calls this per input).
void decode_into(std::span<const std::uint8_t> data, const DecodeOptions& opt, mmu::Case& out);
mmu::Case decode(std::span<const std::uint8_t> data, const DecodeOptions& opt = {});

// The bytes of a valid case (precondition: mmu::validate(c) accepts it).
std::vector<std::uint8_t> encode(const mmu::Case& c);

// True when decode(encode(c), opt) gives c back: c is valid and has the
// shape and restrictions `opt` forces.
bool fits(const mmu::Case& c, const DecodeOptions& opt);

}  // namespace mmucheck::fuzz
