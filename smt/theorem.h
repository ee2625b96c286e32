// Internal to smt/: how a theorem is stated. A theorem, instantiated for a
// subject (an engine), is one Query: hypotheses (the domain), a claim, the
// allow-listed regions of known findings, and a way back from a model to a
// concrete case.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/kvm/kvm314.h"
#include "smt/expr.h"
#include "smt/prove.h"
#include "smt/roles.h"

namespace smt {

// The engine's tables for every role point, built on first use.
class Env {
 public:
  Env(Context& c, const Subject& s) : ctx(c), subject(s) {}
  Context& ctx;
  const Subject& subject;
  const mmu::kvm::MmuAlgorithm& algo() const { return *subject.algorithm; }
  const std::vector<mmu::kvm::Tables>& tables() {
    if (tables_.empty()) tables_ = build_all(algo());
    return tables_;
  }
  // The 3.14 tables (Tables314, 3.14's own layout) of every role point; the
  // subject must be the kvm-3.14 engine.
  const std::vector<mmu::kvm::Tables314>& tables314() {
    if (tables314_.empty()) {
      const auto* k = dynamic_cast<const mmu::kvm::Kvm314Algorithm*>(subject.algorithm.get());
      if (!k) throw Error("smt: a 3.14 theorem asked of " + subject.engine);
      tables314_.resize(RoleSpace::kPoints);
      for (std::size_t i = 0; i < RoleSpace::kPoints; ++i) tables314_[i] = k->tables(roles()[i]);
    }
    return tables314_;
  }
  // cpu_role() of every role point.
  const std::vector<mmu::kvm::CpuRole>& roles() {
    if (roles_.empty()) {
      roles_.resize(RoleSpace::kPoints);
      for (std::size_t i = 0; i < RoleSpace::kPoints; ++i) roles_[i] = mmu::kvm::cpu_role(cpu_state(RoleSpace::point_at(i)));
    }
    return roles_;
  }

  // A term several theorems share (they name their variables alike, so the
  // terms are the same): built by `make` the first time `key` is asked for.
  Expr memo(const std::string& key, const std::function<Expr()>& make) {
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    return memo_.emplace(key, make()).first->second;
  }

 private:
  std::map<std::string, Expr> memo_;
  std::vector<mmu::kvm::Tables> tables_;
  std::vector<mmu::kvm::CpuRole> roles_;
  std::vector<mmu::kvm::Tables314> tables314_;
};

// A case, or why the model could not be made one.
using CaseOrError = std::variant<mmu::Case, std::string>;

// A theorem may be asked as one query per value of a variable (the claim
// holds when it holds for each): the same statement, in pieces every solver
// decides quickly (cvc5 is slow on the reserved-bit queries over all
// MAXPHYADDR values at once, fast on each).
struct Split {
  Expr var;
  std::vector<u64> values;
  std::string name;  // in query labels and file names: "maxphyaddr"
};

struct Query {
  Expr domain;  // hypotheses
  Expr claim;   // proved when domain && !claim is unsatisfiable
  std::vector<std::pair<std::string_view, Expr>> known;  // allow-list id -> the region it covers
  std::function<CaseOrError(const Model&)> to_case;
  std::function<std::string(const Model&)> describe;
  std::optional<Split> split = std::nullopt;
};

struct Theorem {
  TheoremInfo info;
  Query (*build)(Env&);
};

std::span<const Theorem> all_theorems();

}  // namespace smt
