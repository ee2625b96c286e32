#include "smt/table.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace smt {
namespace {

using LeafFn = std::function<void(std::span<const unsigned>, u64* words)>;

// Reduced decision diagram over the fields, built depth first. Node keys live
// back to back in one pool and are interned through an open-addressing table,
// so equal sub-functions are one node and building allocates almost nothing
// per point (the role spaces have tens of thousands of points per theorem).
class Builder {
 public:
  Builder(Context& ctx, std::span<const Field> fields, unsigned width, const LeafFn& value)
      : ctx_(ctx), fields_(fields), width_(width), words_((width + 63) / 64), value_(value), choice_(fields.size()),
        scratch_(fields.size()) {
    for (std::size_t d = 0; d < fields.size(); ++d) {
      if (fields[d].values.empty()) throw Error("smt: tabulate over a field with no values");
      scratch_[d].resize(1 + fields[d].values.size());
    }
    leaf_.resize(1 + words_);
    slots_.assign(1u << 12, 0);
  }

  Expr run() { return expr(node(0)); }

 private:
  struct Node {
    std::size_t offset;
    std::size_t length;
  };

  static u64 hash(const u64* k, std::size_t n) {
    u64 h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ k[i]) * 0x100000001b3ull ^ (h >> 31);
    return h;
  }

  u64 intern(const u64* key, std::size_t n) {
    if (2 * (nodes_.size() + 1) > slots_.size()) grow();
    const u64 mask = slots_.size() - 1;
    for (u64 at = hash(key, n) & mask;; at = (at + 1) & mask) {
      const std::uint32_t s = slots_[at];
      if (s == 0) {
        nodes_.push_back({pool_.size(), n});
        pool_.insert(pool_.end(), key, key + n);
        slots_[at] = static_cast<std::uint32_t>(nodes_.size());
        return nodes_.size() - 1;
      }
      const Node& nd = nodes_[s - 1];
      if (nd.length == n && std::equal(key, key + n, pool_.data() + nd.offset)) return s - 1;
    }
  }

  void grow() {
    std::vector<std::uint32_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    const u64 mask = slots_.size() - 1;
    for (std::size_t id = 0; id < nodes_.size(); ++id) {
      const Node& nd = nodes_[id];
      u64 at = hash(pool_.data() + nd.offset, nd.length) & mask;
      while (slots_[at]) at = (at + 1) & mask;
      slots_[at] = static_cast<std::uint32_t>(id + 1);
    }
  }

  // Keys: leaves {0, words...}; inner nodes {1 + depth, children...}.
  u64 node(std::size_t depth) {
    if (depth == fields_.size()) {
      leaf_[0] = 0;
      std::fill(leaf_.begin() + 1, leaf_.end(), 0);
      value_(choice_, leaf_.data() + 1);
      if (width_ % 64) leaf_[words_] &= (u64{1} << (width_ % 64)) - 1;
      return intern(leaf_.data(), leaf_.size());
    }
    std::vector<u64>& key = scratch_[depth];
    key[0] = 1 + depth;
    bool all_same = true;
    const std::size_t n = fields_[depth].values.size();
    for (unsigned i = 0; i < n; ++i) {
      choice_[depth] = i;
      key[1 + i] = node(depth + 1);
      all_same &= key[1 + i] == key[1];
    }
    if (all_same) return key[1];
    return intern(key.data(), key.size());
  }

  Expr expr(u64 id) {
    if (auto it = exprs_.find(id); it != exprs_.end()) return it->second;
    const Node nd = nodes_[id];
    const u64* key = pool_.data() + nd.offset;
    std::optional<Expr> out;
    if (key[0] == 0) {
      out = ctx_.bv_words(std::vector<u64>(key + 1, key + nd.length), width_);
    } else {
      const Field& f = fields_[key[0] - 1];
      // Group the field's values by child: one ite per distinct child, the
      // last distinct child as the default.
      std::vector<std::pair<u64, std::vector<u64>>> groups;  // child id -> values
      for (std::size_t i = 0; i < f.values.size(); ++i) {
        const u64 child = key[1 + i];
        auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& p) { return p.first == child; });
        if (g == groups.end()) groups.push_back({child, {f.values[i]}});
        else g->second.push_back(f.values[i]);
      }
      out = expr(groups.back().first);
      for (std::size_t gi = groups.size() - 1; gi-- > 0;) {
        std::vector<Expr> eqs;
        for (u64 v : groups[gi].second) eqs.push_back(f.var == v);
        out = ite(ctx_.any(eqs), expr(groups[gi].first), *out);
      }
    }
    exprs_.emplace(id, *out);
    return *out;
  }

  Context& ctx_;
  std::span<const Field> fields_;
  unsigned width_;
  std::size_t words_;
  const LeafFn& value_;
  std::vector<unsigned> choice_;
  std::vector<std::vector<u64>> scratch_;  // one key buffer per depth
  std::vector<u64> leaf_;
  std::vector<u64> pool_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> slots_;  // node id + 1, 0 = empty
  std::unordered_map<u64, Expr> exprs_;
};

}  // namespace

Expr tabulate_wide(Context& ctx, std::span<const Field> fields, unsigned width,
                   const std::function<std::vector<u64>(std::span<const unsigned>)>& value) {
  const std::size_t words = (width + 63) / 64;
  const LeafFn leaf = [&](std::span<const unsigned> i, u64* out) {
    const std::vector<u64> w = value(i);
    std::copy_n(w.begin(), std::min(words, w.size()), out);
  };
  return Builder(ctx, fields, width, leaf).run();
}

Expr tabulate(Context& ctx, std::span<const Field> fields, unsigned width,
              const std::function<u64(std::span<const unsigned>)>& value) {
  if (width > 64 || width == 0) throw Error("smt: tabulate takes values of 1..64 bits; use tabulate_wide");
  const LeafFn leaf = [&](std::span<const unsigned> i, u64* out) { out[0] = value(i); };
  return Builder(ctx, fields, width, leaf).run();
}

Expr in_domain(Context& ctx, const Field& f) {
  std::vector<Expr> eqs;
  for (u64 v : f.values) eqs.push_back(f.var == v);
  return ctx.any(eqs);
}

}  // namespace smt
