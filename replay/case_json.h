// The edge between the model and the outside world: cases, outcomes and traces
// as JSON (docs/case-format.md). Everything here throws CaseError on bad input;
// nothing in model/ knows about JSON.
//
//   nlohmann::json j = nlohmann::json::parse(text);
//   mmucheck::CaseFile f = mmucheck::case_from_json(j);   // validated
//   std::cout << mmucheck::outcome_to_json(verdict).dump();
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/case.h"
#include "model/outcome.h"
#include "model/trace.h"

namespace mmucheck {

// Bad input: `field` is the dotted path of the offending field ("" for the
// whole document), `what()` says what is wrong.
class CaseError : public std::runtime_error {
 public:
  CaseError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// A case as stored in a file: the case, plus the expected verdict that
// regression cases carry in their "expect" member.
struct CaseFile {
  mmu::Case kase;
  std::optional<mmu::Verdict> expect;
};

CaseFile case_from_json(const nlohmann::json& j);  // parses and validates
nlohmann::json case_to_json(const mmu::Case& c);

// An outcome in the contract's form; the verdict form adds "may_write" (the
// A-bit updates the SDM allows but does not require) when there are any.
nlohmann::json outcome_to_json(const mmu::Outcome& o);
nlohmann::json verdict_to_json(const mmu::Verdict& v);
mmu::Verdict verdict_from_json(const nlohmann::json& j, const std::string& where = "expect");

nlohmann::json trace_to_json(const mmu::Trace& t);

std::string hex(mmu::u64 v);

// The names of the members of a feature set, in enumerator order.
template <typename Enum>
std::vector<std::string> names_of(mmu::EnumSet<Enum> set, std::string_view (*name)(Enum)) {
  std::vector<std::string> out;
  for (unsigned i = 0; i < mmu::EnumSet<Enum>::kCount; ++i)
    if (set.has(static_cast<Enum>(i))) out.emplace_back(name(static_cast<Enum>(i)));
  return out;
}

// 1-based line of `field` (a dotted path) in the JSON text `text`, or 0 when it
// cannot be found. Used to point error messages at a line of a pretty file.
unsigned locate_field(std::string_view text, std::string_view field);

}  // namespace mmucheck
