#include <array>
#include <utility>

#include "model/case.h"
#include "model/cpu.h"
#include "model/outcome.h"

namespace mmu {
namespace {

constexpr std::array<std::string_view, kFeatureCount> kFeatureNames{
    "nx", "pse", "pse36", "pdpe1gb", "smep", "smap", "pku", "pks", "la57", "shstk", "ibt"};

}  // namespace

std::string_view feature_name(Feature f) { return kFeatureNames[static_cast<unsigned>(f)]; }

std::optional<Feature> feature_from_name(std::string_view name) {
  for (unsigned i = 0; i < kFeatureCount; ++i)
    if (kFeatureNames[i] == name) return static_cast<Feature>(i);
  return std::nullopt;
}

std::string_view mode_name(PagingMode m) {
  switch (m) {
    case PagingMode::none: return "none";
    case PagingMode::bit32: return "32-bit";
    case PagingMode::pae: return "PAE";
    case PagingMode::level4: return "4-level";
    case PagingMode::level5: return "5-level";
  }
  return "?";
}

std::string_view access_kind_name(AccessKind k) {
  switch (k) {
    case AccessKind::read: return "read";
    case AccessKind::write: return "write";
    case AccessKind::fetch: return "fetch";
  }
  return "?";
}

std::string_view outcome_kind_name(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::ok: return "ok";
    case OutcomeKind::page_fault: return "page_fault";
    case OutcomeKind::general_protection: return "general_protection";
    case OutcomeKind::ept_violation: return "ept_violation";
    case OutcomeKind::ept_misconfig: return "ept_misconfig";
  }
  return "?";
}

std::string_view gp_reason_name(GpReason r) {
  switch (r) {
    case GpReason::none: return "";
    case GpReason::non_canonical: return "non-canonical";
    case GpReason::pdpte_reserved: return "pdpte-reserved";
  }
  return "?";
}

bool operator==(const Outcome& a, const Outcome& b) {
  if (a.kind != b.kind || a.has_ept != b.has_ept || !(a.writes == b.writes)) return false;
  switch (a.kind) {
    case OutcomeKind::ok:
      return a.pa == b.pa && a.page_size == b.page_size &&
             (!a.has_ept || (a.gpa == b.gpa && a.ept_page_size == b.ept_page_size));
    case OutcomeKind::page_fault:
      return a.error_code == b.error_code && a.cr2 == b.cr2;
    case OutcomeKind::general_protection:
      return a.gp_reason == b.gp_reason;
    case OutcomeKind::ept_violation:
      return a.qualification == b.qualification && a.gpa == b.gpa &&
             ((a.qualification & eptq::GLA_VALID) == 0 || a.gla == b.gla);
    case OutcomeKind::ept_misconfig:
      return a.gpa == b.gpa;
  }
  return false;
}

bool accepts(const Verdict& v, const Outcome& other) {
  // Nothing left open: the outcomes must be equal (no copies; exhaust compares millions).
  if (v.alternatives.empty() && v.optional_writes.empty() && v.qualification_dont_care == 0) return v.outcome == other;
  for (const Verdict& alt : v.alternatives)
    if (accepts(alt, other)) return true;
  Outcome required = v.outcome;
  Outcome candidate = other;
  required.writes.clear();
  candidate.writes.clear();
  required.qualification &= ~v.qualification_dont_care;
  candidate.qualification &= ~v.qualification_dont_care;
  if (!(required == candidate)) return false;
  // Walk other's writes: each is either the next required write or one of the
  // optional ones (each optional write used at most once).
  std::array<bool, WriteList::kCapacity> used{};
  std::size_t next = 0;
  for (const Write& w : other.writes) {
    if (next < v.outcome.writes.size() && v.outcome.writes[next] == w) {
      ++next;
      continue;
    }
    bool matched = false;
    for (std::size_t i = 0; i < v.optional_writes.size(); ++i) {
      if (!used[i] && v.optional_writes[i] == w) {
        used[i] = matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return next == v.outcome.writes.size();
}

}  // namespace mmu
