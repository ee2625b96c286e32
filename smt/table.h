// A concrete function over a finite domain, turned into an SMT term.
//
// The theorems are about tables the C++ engine (model/kvm) really builds: for
// every point of a finite domain (a CPU role, a level, bit 7, ...) we run the
// engine and get a value; `tabulate` turns those values into one term over
// the fields' variables: a decision diagram (ite on each field in turn) in
// which equal sub-functions are shared, so a table that does not depend on a
// field costs nothing for that field.
//
//   std::vector<smt::Field> f{{level, {1, 2, 3, 4}}, {ps, {0, 1}}};
//   smt::Expr last = smt::tabulate(ctx, f, 1, [&](std::span<const unsigned> i) {
//     return algo.is_last_gpte(role, f[0].values[i[0]], f[1].values[i[1]] << 7);
//   });
#pragma once
#include <functional>
#include <span>
#include <vector>

#include "smt/expr.h"

namespace smt {

struct Field {
  Expr var;                 // a bit-vector term
  std::vector<u64> values;  // the values it ranges over (the domain constraint is the caller's)
};

// Values up to 64 bits wide.
Expr tabulate(Context& ctx, std::span<const Field> fields, unsigned width,
              const std::function<u64(std::span<const unsigned>)>& value);

// Wider values (up to any width), as 64-bit words least significant first.
Expr tabulate_wide(Context& ctx, std::span<const Field> fields, unsigned width,
                   const std::function<std::vector<u64>(std::span<const unsigned>)>& value);

// var is one of `values`.
Expr in_domain(Context& ctx, const Field& f);

}  // namespace smt
