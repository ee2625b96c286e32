#include "smt/expr.h"

#include <chrono>

namespace smt {
namespace {

void need_bv(const Expr& a, const char* op) {
  if (!a.is_bv()) throw Error(std::string("smt: ") + op + " needs a bit-vector, got " + a.to_string());
}

void same_bv(const Expr& a, const Expr& b, const char* op) {
  need_bv(a, op);
  need_bv(b, op);
  if (a.width() != b.width())
    throw Error(std::string("smt: ") + op + " on widths " + std::to_string(a.width()) + " and " +
                std::to_string(b.width()));
}

void need_bool(const Expr& a, const char* op) {
  if (!a.is_bool()) throw Error(std::string("smt: ") + op + " needs a bool, got " + a.to_string());
}

// Runs a Z3 call, turning its exceptions into smt::Error.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const z3::exception& e) {
    throw Error(std::string("z3: ") + e.msg());
  }
}

}  // namespace

unsigned Expr::width() const {
  need_bv(*this, "width");
  return e_.get_sort().bv_size();
}

Expr operator&(const Expr& a, const Expr& b) { same_bv(a, b, "&"); return Expr(a.e_ & b.e_); }
Expr operator|(const Expr& a, const Expr& b) { same_bv(a, b, "|"); return Expr(a.e_ | b.e_); }
Expr operator^(const Expr& a, const Expr& b) { same_bv(a, b, "^"); return Expr(a.e_ ^ b.e_); }
Expr operator+(const Expr& a, const Expr& b) { same_bv(a, b, "+"); return Expr(a.e_ + b.e_); }
Expr operator-(const Expr& a, const Expr& b) { same_bv(a, b, "-"); return Expr(a.e_ - b.e_); }
Expr Expr::operator~() const { need_bv(*this, "~"); return Expr(~e_); }
Expr Expr::shl(const Expr& n) const { same_bv(*this, n, "shl"); return Expr(z3::shl(e_, n.e_)); }
Expr Expr::lshr(const Expr& n) const { same_bv(*this, n, "lshr"); return Expr(z3::lshr(e_, n.e_)); }
Expr Expr::shl(unsigned n) const {
  need_bv(*this, "shl");
  return Expr(z3::shl(e_, e_.ctx().bv_val(static_cast<std::uint64_t>(n), width())));
}
Expr Expr::lshr(unsigned n) const {
  need_bv(*this, "lshr");
  return Expr(z3::lshr(e_, e_.ctx().bv_val(static_cast<std::uint64_t>(n), width())));
}
Expr Expr::ult(const Expr& b) const { same_bv(*this, b, "ult"); return Expr(z3::ult(e_, b.e_)); }
Expr Expr::ule(const Expr& b) const { same_bv(*this, b, "ule"); return Expr(z3::ule(e_, b.e_)); }
Expr Expr::ugt(const Expr& b) const { same_bv(*this, b, "ugt"); return Expr(z3::ugt(e_, b.e_)); }
Expr Expr::uge(const Expr& b) const { same_bv(*this, b, "uge"); return Expr(z3::uge(e_, b.e_)); }

Expr Expr::extract(unsigned hi, unsigned lo) const {
  need_bv(*this, "extract");
  if (hi < lo || hi >= width())
    throw Error("smt: extract(" + std::to_string(hi) + ", " + std::to_string(lo) + ") of a " +
                std::to_string(width()) + "-bit vector");
  return Expr(e_.extract(hi, lo));
}
Expr Expr::bit(unsigned n) const { return extract(n, n) == 1; }
Expr Expr::zext_to(unsigned w) const {
  need_bv(*this, "zext");
  if (w < width()) throw Error("smt: zero-extending to a narrower width");
  return w == width() ? *this : Expr(z3::zext(e_, w - width()));
}
Expr Expr::trunc_to(unsigned w) const { return w == width() ? *this : extract(w - 1, 0); }
Expr Expr::is_zero() const { return *this == 0; }
Expr Expr::non_zero() const { return *this != 0; }
Expr Expr::any(u64 mask) const {
  need_bv(*this, "any");
  return Expr(e_ & e_.ctx().bv_val(static_cast<std::uint64_t>(mask), width())) != 0;
}

Expr operator==(const Expr& a, const Expr& b) {
  if (a.is_bv() || b.is_bv()) same_bv(a, b, "==");
  return Expr(a.e_ == b.e_);
}
Expr operator!=(const Expr& a, const Expr& b) { return !(a == b); }
Expr operator==(const Expr& a, u64 b) {
  need_bv(a, "== constant");
  if (a.width() < 64 && (b >> a.width()))
    throw Error("smt: constant " + std::to_string(b) + " does not fit " + std::to_string(a.width()) + " bits");
  return Expr(a.e_ == a.e_.ctx().bv_val(static_cast<std::uint64_t>(b), a.width()));
}
Expr operator!=(const Expr& a, u64 b) { return !(a == b); }

Expr operator&&(const Expr& a, const Expr& b) { need_bool(a, "&&"); need_bool(b, "&&"); return Expr(a.e_ && b.e_); }
Expr operator||(const Expr& a, const Expr& b) { need_bool(a, "||"); need_bool(b, "||"); return Expr(a.e_ || b.e_); }
Expr Expr::operator!() const { need_bool(*this, "!"); return Expr(!e_); }
Expr Expr::implies(const Expr& b) const { need_bool(*this, "implies"); need_bool(b, "implies"); return Expr(z3::implies(e_, b.e_)); }
Expr Expr::as_bv() const {
  need_bool(*this, "as_bv");
  z3::context& c = e_.ctx();
  return Expr(z3::ite(e_, c.bv_val(1u, 1), c.bv_val(0u, 1)));
}

Expr Expr::simplify() const { return guarded([&] { return Expr(e_.simplify()); }); }

Expr Expr::substitute(const Substitution& s) const {
  return guarded([&] {
    z3::expr_vector from = s.from(), to = s.to();
    return Expr(z3::expr(e_).substitute(from, to).simplify());
  });
}

Substitution::Substitution(Context& ctx) : ctx_(ctx), from_(ctx.z3()), to_(ctx.z3()) {}

Substitution::Substitution(const Substitution& o) : ctx_(o.ctx_), from_(o.ctx_.z3()), to_(o.ctx_.z3()) {
  for (unsigned i = 0; i < o.from_.size(); ++i) {
    from_.push_back(o.from_[i]);
    to_.push_back(o.to_[i]);
  }
}

void Substitution::set(const Expr& var, const Expr& value) {
  if (var.is_bv() != value.is_bv() || (var.is_bv() && var.width() != value.width()))
    throw Error("smt: substituting " + value.to_string() + " for " + var.to_string() + ": sorts differ");
  from_.push_back(var.z3());
  to_.push_back(value.z3());
}
void Substitution::set_bv(const Expr& var, u64 value) { set(var, ctx_.bv(value, var.width())); }
void Substitution::set_bool(const Expr& var, bool value) { set(var, ctx_.boolean(value)); }

std::optional<u64> Expr::as_u64() const {
  if (!e_.is_numeral()) return std::nullopt;
  std::uint64_t v = 0;
  if (!e_.is_numeral_u64(v)) return std::nullopt;
  return v;
}

std::optional<bool> Expr::as_bool() const {
  if (e_.is_true()) return true;
  if (e_.is_false()) return false;
  return std::nullopt;
}

std::string Expr::to_string() const { return e_.to_string(); }

Expr ite(const Expr& c, const Expr& a, const Expr& b) {
  need_bool(c, "ite condition");
  if (a.is_bv() || b.is_bv()) same_bv(a, b, "ite");
  else if (!a.is_bool() || !b.is_bool()) throw Error("smt: ite branches of different sorts");
  return Expr(z3::ite(c.z3(), a.z3(), b.z3()));
}

Expr concat(const Expr& hi, const Expr& lo) {
  need_bv(hi, "concat");
  need_bv(lo, "concat");
  return Expr(z3::concat(hi.z3(), lo.z3()));
}

// ---- Context -------------------------------------------------------------

Context::Context() = default;

Expr Context::bv(u64 value, unsigned width) {
  if (width == 0) throw Error("smt: zero-width bit-vector");
  if (width < 64 && (value >> width))
    throw Error("smt: constant " + std::to_string(value) + " does not fit " + std::to_string(width) + " bits");
  if (width <= 64) return Expr(ctx_.bv_val(static_cast<std::uint64_t>(value), width));
  return bv_words({value}, width);
}

Expr Context::bv_words(const std::vector<u64>& words, unsigned width) {
  if (width == 0) throw Error("smt: zero-width bit-vector");
  std::optional<Expr> out;
  unsigned done = 0;
  for (std::size_t i = 0; done < width; ++i) {
    const unsigned w = std::min(64u, width - done);
    u64 v = i < words.size() ? words[i] : 0;
    if (w < 64) v &= (u64{1} << w) - 1;
    Expr part(ctx_.bv_val(static_cast<std::uint64_t>(v), w));
    out = out ? concat(part, *out) : part;
    done += w;
  }
  return *out;
}

Expr Context::boolean(bool b) { return Expr(ctx_.bool_val(b)); }
Expr Context::bv_var(std::string_view name, unsigned width) {
  return Expr(ctx_.bv_const(std::string(name).c_str(), width));
}
Expr Context::bool_var(std::string_view name) { return Expr(ctx_.bool_const(std::string(name).c_str())); }

Expr Context::all(const std::vector<Expr>& es) {
  if (es.empty()) return boolean(true);
  z3::expr_vector v(ctx_);
  for (const Expr& e : es) {
    need_bool(e, "all");
    v.push_back(e.z3());
  }
  return Expr(z3::mk_and(v));
}

Expr Context::any(const std::vector<Expr>& es) {
  if (es.empty()) return boolean(false);
  z3::expr_vector v(ctx_);
  for (const Expr& e : es) {
    need_bool(e, "any");
    v.push_back(e.z3());
  }
  return Expr(z3::mk_or(v));
}

// ---- Model ---------------------------------------------------------------

u64 Model::value(const Expr& e) const {
  return guarded([&] {
    const z3::expr v = m_.eval(e.is_bool() ? e.as_bv().z3() : e.z3(), /*model_completion=*/true);
    std::uint64_t out = 0;
    if (!v.is_numeral_u64(out)) throw Error("smt: the model gives no 64-bit value for " + e.to_string());
    return out;
  });
}

bool Model::holds(const Expr& e) const { return value(e) != 0; }

// ---- Solver --------------------------------------------------------------

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::proved: return "proved";
    case Verdict::refuted: return "refuted";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

Solver::Solver(Context& ctx, unsigned timeout_ms) : ctx_(ctx), s_(ctx.z3(), "QF_BV") {
  z3::params p(ctx.z3());
  p.set("timeout", timeout_ms);
  s_.set(p);
}

void Solver::add(const Expr& e) {
  need_bool(e, "Solver::add");
  guarded([&] { s_.add(e.z3()); return 0; });
}

ProofResult Solver::prove(const Expr& claim) {
  need_bool(claim, "Solver::prove");
  ProofResult r;
  const auto start = std::chrono::steady_clock::now();
  const z3::check_result cr = guarded([&] {
    s_.push();
    s_.add(!claim.z3());
    return s_.check();
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  switch (cr) {
    case z3::unsat: r.verdict = Verdict::proved; break;
    case z3::sat: r.verdict = Verdict::refuted; r.model.emplace(s_.get_model()); break;
    case z3::unknown: r.verdict = Verdict::unknown; r.reason = s_.reason_unknown(); break;
  }
  s_.pop();
  return r;
}

std::string Solver::to_smt2(const Expr& claim) {
  need_bool(claim, "Solver::to_smt2");
  return guarded([&] {
    s_.push();
    s_.add(!claim.z3());
    std::string body = s_.to_smt2();
    s_.pop();
    return "(set-option :produce-models true)\n(set-logic QF_BV)\n" + body;
  });
}

}  // namespace smt
