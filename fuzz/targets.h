// The engine-comparing fuzz targets: their names, the engines they compare by
// default, and the cases they ask the decoder for. One table, used by the
// targets themselves (fuzz/harness.h), `mmucheck decode --target`, and the
// scripts that seed and run them.
//
//   const auto* t = mmucheck::fuzz::find_target("fuzz_ept_walk");
//   mmu::Case c = mmucheck::fuzz::decode(bytes, t->decode);
#pragma once
#include <span>
#include <string_view>

#include "fuzz/decoder.h"

namespace mmucheck::fuzz {

struct TargetSpec {
  std::string_view name;             // "fuzz_guest_walk"
  std::string_view default_engines;  // "ref,kvm": baseline first
  DecodeOptions decode;
  std::string_view description;
};

std::span<const TargetSpec> targets();
const TargetSpec* find_target(std::string_view name);  // null when unknown

}  // namespace mmucheck::fuzz
