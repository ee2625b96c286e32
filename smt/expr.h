// A small RAII layer over Z3's C++ API, in the style of Alive2's smt/: an
// Expr handle with operators for bit-vectors and booleans, a Context that
// owns the Z3 context and makes leaves, and a Solver whose prove() answers
// proved / refuted (with a Model) / unknown, with its time.
//
// This header includes z3++.h: only files under smt/ may include it. Code
// outside smt/ uses smt/prove.h and smt/evaluator.h, which do not.
//
//   smt::Context ctx;
//   smt::Expr e = ctx.bv_var("e", 64), m = ctx.bv_var("m", 8);
//   smt::Solver s(ctx);
//   s.add(m.uge(ctx.bv(32, 8)) && m.ule(ctx.bv(52, 8)));
//   smt::ProofResult r = s.prove((e & ~(e - ctx.bv(1, 64))) .ule(e));
//   if (r.verdict == smt::Verdict::refuted) std::cout << r.model->value(e);
#pragma once
#include <z3++.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace smt {

using u64 = std::uint64_t;

// Every Z3 failure and every misuse of the wrapper (mixed widths, a bool where
// a bit-vector is needed) is reported as an smt::Error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Context;

class Expr {
 public:
  explicit Expr(z3::expr e) : e_(std::move(e)) {}

  const z3::expr& z3() const { return e_; }
  bool is_bool() const { return e_.is_bool(); }
  bool is_bv() const { return e_.is_bv(); }
  unsigned width() const;  // bit-vectors only

  // ---- bit-vectors (operands must have the same width) ----
  friend Expr operator&(const Expr& a, const Expr& b);
  friend Expr operator|(const Expr& a, const Expr& b);
  friend Expr operator^(const Expr& a, const Expr& b);
  friend Expr operator+(const Expr& a, const Expr& b);
  friend Expr operator-(const Expr& a, const Expr& b);
  Expr operator~() const;
  Expr shl(const Expr& amount) const;   // logical, amount of the same width
  Expr lshr(const Expr& amount) const;
  Expr shl(unsigned amount) const;
  Expr lshr(unsigned amount) const;
  Expr ult(const Expr& b) const;
  Expr ule(const Expr& b) const;
  Expr ugt(const Expr& b) const;
  Expr uge(const Expr& b) const;
  Expr extract(unsigned hi, unsigned lo) const;
  Expr bit(unsigned n) const;        // bit n as a bool
  Expr zext_to(unsigned width) const;  // zero-extend (or keep) to `width`
  Expr trunc_to(unsigned width) const;
  Expr is_zero() const;
  Expr non_zero() const;
  Expr any(u64 mask) const;          // (this & mask) != 0, as a bool

  // ---- both ----
  friend Expr operator==(const Expr& a, const Expr& b);
  friend Expr operator!=(const Expr& a, const Expr& b);
  friend Expr operator==(const Expr& a, u64 b);  // bit-vector against a constant of its width
  friend Expr operator!=(const Expr& a, u64 b);

  // ---- booleans ----
  friend Expr operator&&(const Expr& a, const Expr& b);
  friend Expr operator||(const Expr& a, const Expr& b);
  Expr operator!() const;
  Expr implies(const Expr& b) const;
  Expr as_bv() const;  // a bool as a 1-bit vector

  Expr simplify() const;
  // Replaces variables by terms (usually constants), then simplifies.
  Expr substitute(const class Substitution& s) const;
  // The value of a constant (after simplification): nullopt for anything else.
  std::optional<u64> as_u64() const;
  std::optional<bool> as_bool() const;
  std::string to_string() const;

 private:
  z3::expr e_;
};

Expr ite(const Expr& c, const Expr& a, const Expr& b);
Expr concat(const Expr& hi, const Expr& lo);

class Context {
 public:
  Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  z3::context& z3() { return ctx_; }

  Expr bv(u64 value, unsigned width);
  // A constant wider than 64 bits, from 64-bit words, least significant first.
  Expr bv_words(const std::vector<u64>& words, unsigned width);
  Expr boolean(bool b);
  Expr bv_var(std::string_view name, unsigned width);
  Expr bool_var(std::string_view name);
  Expr all(const std::vector<Expr>& conjuncts);   // true when empty
  Expr any(const std::vector<Expr>& disjuncts);   // false when empty

 private:
  z3::context ctx_;
};

// Variables and the terms that replace them (Expr::substitute).
class Substitution {
 public:
  explicit Substitution(Context& ctx);
  // A copy owns its own lists (z3::expr_vector copies share theirs).
  Substitution(const Substitution& o);
  Substitution& operator=(const Substitution&) = delete;
  void set(const Expr& var, const Expr& value);
  void set_bv(const Expr& var, u64 value);

  void set_bool(const Expr& var, bool value);
  const z3::expr_vector& from() const { return from_; }
  const z3::expr_vector& to() const { return to_; }

 private:
  Context& ctx_;
  z3::expr_vector from_, to_;
};

// A satisfying assignment (the counterexample of a refuted claim).
class Model {
 public:
  explicit Model(z3::model m) : m_(std::move(m)) {}
  u64 value(const Expr& e) const;  // with model completion: unconstrained terms read as 0
  bool holds(const Expr& e) const;

 private:
  z3::model m_;
};

enum class Verdict { proved, refuted, unknown };
std::string_view verdict_name(Verdict v);

struct ProofResult {
  Verdict verdict = Verdict::unknown;
  double seconds = 0;
  std::optional<Model> model;  // refuted: an assignment where the claim is false
  std::string reason;          // unknown: why (timeout, ...)
};

class Solver {
 public:
  explicit Solver(Context& ctx, unsigned timeout_ms = 60000);
  void add(const Expr& assumption);  // a hypothesis every later prove() assumes
  // Proves `claim` under the hypotheses: asks whether hypotheses && !claim is
  // satisfiable. unsat: proved; sat: refuted, with the model; else unknown.
  ProofResult prove(const Expr& claim);
  // The query prove(claim) would ask, as an SMT-LIB2 script: QF_BV logic, the
  // assertions, (check-sat). "sat" means refuted, "unsat" means proved.
  std::string to_smt2(const Expr& claim);

 private:
  Context& ctx_;
  z3::solver s_;
};

}  // namespace smt
