// Exhaustive enumeration of finite case spaces through two engines
// (`mmucheck exhaust`). A space maps each index in [0, size) to a case, or
// says the point is not a legal machine state.
//
//   const auto* space = mmucheck::find_space("permissions");
//   auto r = mmucheck::exhaust(*space, *ref, *kvm, {.jobs = 2});
//   std::cout << r.points << " points, " << r.divergences << " divergences\n";
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/case.h"
#include "replay/engine.h"

namespace mmucheck {

struct ExhaustSpace {
  std::string_view name;
  std::string_view description;
  mmu::u64 size;
  // Fills `c` for point `index`; false when the point is not a legal state.
  // `c` is the case the previous call filled (or a fresh one): make may reuse
  // its storage, but must set every field.
  std::function<bool(mmu::u64 index, mmu::Case& c)> make;
  // Optional, for sparse spaces: after make rejected `index`, the next index
  // that may be legal (every index in between is illegal; may be >= size).
  std::function<mmu::u64(mmu::u64 index)> next_candidate = nullptr;
};

const std::vector<ExhaustSpace>& exhaust_spaces();
const ExhaustSpace* find_space(std::string_view name);

struct ExhaustOptions {
  unsigned jobs = 1;
  std::size_t keep = 5;  // divergent cases kept (the first ones found, by index)
  // Called now and then with the number of points done (from one thread at a time).
  std::function<void(mmu::u64 done)> progress;
  // Points handed to a thread at a time (contiguous indices).
  mmu::u64 chunk = 1u << 16;
  // Checked between chunks: when it returns true, no further chunk is started
  // and the result says it is not complete (a campaign's time budget).
  std::function<bool()> stop;
};

struct ExhaustResult {
  // `divergences` counts only those the allow-list (replay/known.h) does not
  // explain; `known` the others, by finding id.
  mmu::u64 points = 0, illegal = 0, unsupported = 0, compared = 0, divergences = 0;
  std::vector<std::pair<std::string_view, mmu::u64>> known;
  std::vector<std::pair<mmu::u64, mmu::Case>> first;  // (index, case) of the first divergences
  double seconds = 0;
  bool complete = true;  // false: stopped early (ExhaustOptions::stop); the counts cover what was done
};

// Runs every point of `space` through `a` and `b`; a point diverges when a's
// verdict does not allow b's outcome.
ExhaustResult exhaust(const ExhaustSpace& space, const Engine& a, const Engine& b, const ExhaustOptions& options);

}  // namespace mmucheck
