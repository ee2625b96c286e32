#include "replay/case_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <set>

#include "model/rules.h"
#include "model/validate.h"

namespace mmucheck {
namespace {

using nlohmann::json;
using mmu::u64;

std::string join(const std::string& a, std::string_view b) { return a.empty() ? std::string(b) : a + "." + std::string(b); }

u64 to_u64(const json& j, const std::string& field) {
  if (j.is_number_unsigned()) return j.get<u64>();
  if (j.is_number_integer()) {
    if (j.get<long long>() < 0) throw CaseError(field, "must not be negative");
    return static_cast<u64>(j.get<long long>());
  }
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    std::string_view digits = s;
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      digits.remove_prefix(2);
      base = 16;
    }
    u64 v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size())
      throw CaseError(field, fmt::format("expected a hex string (\"0x...\") or a number up to 2^64-1, got \"{}\"", s));
    return v;
  }
  throw CaseError(field, fmt::format("expected a hex string or an unsigned integer, got {}", j.type_name()));
}

const json* member(const json& obj, const std::string& path, std::string_view key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) throw CaseError(join(path, key), "missing");
    return nullptr;
  }
  return &*it;
}

u64 get_u64(const json& obj, const std::string& path, std::string_view key, std::optional<u64> dflt) {
  const json* v = member(obj, path, key, !dflt.has_value());
  return v ? to_u64(*v, join(path, key)) : *dflt;
}

bool get_bool(const json& obj, const std::string& path, std::string_view key) {
  const json* v = member(obj, path, key, false);
  if (!v) return false;
  if (!v->is_boolean()) throw CaseError(join(path, key), fmt::format("expected true or false, got {}", v->type_name()));
  return v->get<bool>();
}

void only_keys(const json& obj, const std::string& path, std::initializer_list<std::string_view> keys) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (auto k : keys) known |= (it.key() == k);
    if (!known) {
      std::string list;
      for (auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
      throw CaseError(join(path, it.key()), "unknown field (known: " + list + ")");
    }
  }
}

const json& object(const json& j, const std::string& path) {
  if (!j.is_object()) throw CaseError(path, fmt::format("expected an object, got {}", j.type_name()));
  return j;
}

template <typename Enum>
mmu::EnumSet<Enum> flags_from_json(const json& v, const std::string& field, std::string_view what,
                                   std::optional<Enum> (*from_name)(std::string_view), std::string_view (*name)(Enum)) {
  if (!v.is_array()) throw CaseError(field, fmt::format("expected an array of {} names", what));
  mmu::EnumSet<Enum> set;
  for (const json& f : v) {
    auto flag = f.is_string() ? from_name(f.get<std::string>()) : std::nullopt;
    if (!flag) {
      throw CaseError(field, fmt::format("unknown {} {} (known: {})", what, f.dump(),
                                         fmt::join(names_of(mmu::EnumSet<Enum>::all(), name), ", ")));
    }
    set.add(*flag);
  }
  return set;
}

// `p` is where the state sits in the case: "cpu", or "history[N]".
mmu::CpuState cpu_from_json(const json& j, const std::string& p) {
  object(j, p);
  only_keys(j, p, {"cr0", "cr3", "cr4", "efer", "rflags", "cpl", "pkru", "pkrs", "maxphyaddr", "vendor", "features"});
  mmu::CpuState c;
  c.cr0 = get_u64(j, p, "cr0", std::nullopt);
  c.cr3 = get_u64(j, p, "cr3", std::nullopt);
  c.cr4 = get_u64(j, p, "cr4", std::nullopt);
  c.efer = get_u64(j, p, "efer", std::nullopt);
  c.rflags = get_u64(j, p, "rflags", mmu::rflags::FIXED1);
  const u64 cpl = get_u64(j, p, "cpl", 0);
  if (cpl > 3) throw CaseError(p + ".cpl", fmt::format("CPL must be 0..3, got {}", cpl));
  c.cpl = static_cast<unsigned>(cpl);
  const u64 pkru = get_u64(j, p, "pkru", 0), pkrs = get_u64(j, p, "pkrs", 0);
  if (pkru >> 32) throw CaseError(p + ".pkru", "PKRU is a 32-bit register");
  if (pkrs >> 32) throw CaseError(p + ".pkrs", "bits 63:32 of IA32_PKRS are reserved");
  c.pkru = static_cast<mmu::u32>(pkru);
  c.pkrs = static_cast<mmu::u32>(pkrs);
  const u64 maxphy = get_u64(j, p, "maxphyaddr", std::nullopt);
  if (maxphy < 32 || maxphy > 52) throw CaseError(p + ".maxphyaddr", fmt::format("MAXPHYADDR must be 32..52, got {}", maxphy));
  c.maxphyaddr = static_cast<unsigned>(maxphy);
  if (const json* v = member(j, p, "vendor", false)) {
    if (*v == "intel") c.vendor = mmu::Vendor::intel;
    else if (*v == "amd") c.vendor = mmu::Vendor::amd;
    else throw CaseError(p + ".vendor", fmt::format("expected \"intel\" or \"amd\", got {}", v->dump()));
  }
  if (const json* v = member(j, p, "features", false))
    c.features = flags_from_json(*v, p + ".features", "feature", mmu::feature_from_name, mmu::feature_name);
  return c;
}

mmu::Access access_from_json(const json& j) {
  const std::string p = "access";
  object(j, p);
  only_keys(j, p, {"addr", "kind", "implicit", "shadow_stack"});
  mmu::Access a;
  a.addr = get_u64(j, p, "addr", std::nullopt);
  const json& kind = *member(j, p, "kind", true);
  if (kind == "read") a.kind = mmu::AccessKind::read;
  else if (kind == "write") a.kind = mmu::AccessKind::write;
  else if (kind == "fetch") a.kind = mmu::AccessKind::fetch;
  else throw CaseError("access.kind", fmt::format("expected \"read\", \"write\" or \"fetch\", got {}", kind.dump()));
  a.implicit = get_bool(j, p, "implicit");
  a.shadow_stack = get_bool(j, p, "shadow_stack");
  return a;
}

mmu::PhysMemory memory_from_json(const json& j, const std::string& p) {
  object(j, p);
  mmu::PhysMemory m;
  std::set<u64> seen;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string field = p + "." + it.key();
    const u64 addr = to_u64(json(it.key()), field);
    if (!seen.insert(addr).second) throw CaseError(field, fmt::format("address {} given twice", hex(addr)));
    m.set(addr, to_u64(it.value(), field));
  }
  return m;
}

mmu::EptState ept_from_json(const json& j) {
  const std::string p = "ept";
  object(j, p);
  only_keys(j, p, {"eptp", "features", "memory"});
  mmu::EptState e;
  e.eptp = get_u64(j, p, "eptp", std::nullopt);
  if (const json* v = member(j, p, "features", false))
    e.features = flags_from_json(*v, "ept.features", "EPT capability", mmu::ept_feature_from_name, mmu::ept_feature_name);
  if (const json* m = member(j, p, "memory", false)) e.memory = memory_from_json(*m, "ept.memory");
  return e;
}

json writes_to_json(const mmu::WriteList& ws) {
  json a = json::array();
  for (const mmu::Write& w : ws)
    a.push_back({{"space", w.space == mmu::Space::guest ? "guest" : "ept"}, {"addr", hex(w.addr)}, {"value", hex(w.value)}});
  return a;
}

mmu::WriteList writes_from_json(const json& j, const std::string& p) {
  if (!j.is_array()) throw CaseError(p, "expected an array of writes");
  mmu::WriteList ws;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string wp = fmt::format("{}[{}]", p, i);
    object(j[i], wp);
    only_keys(j[i], wp, {"space", "addr", "value"});
    mmu::Write w;
    const json& space = *member(j[i], wp, "space", true);
    if (space == "guest") w.space = mmu::Space::guest;
    else if (space == "ept") w.space = mmu::Space::ept;
    else throw CaseError(wp + ".space", "expected \"guest\" or \"ept\"");
    w.addr = get_u64(j[i], wp, "addr", std::nullopt);
    w.value = get_u64(j[i], wp, "value", std::nullopt);
    if (ws.size() == mmu::WriteList::kCapacity) throw CaseError(p, "too many writes");
    ws.push(w);
  }
  return ws;
}

}  // namespace

std::string hex(u64 v) { return fmt::format("{:#x}", v); }

CaseFile case_from_json(const json& j) {
  object(j, "");
  CaseFile f;
  if (const json* n = member(j, "", "name", false)) {
    if (!n->is_string()) throw CaseError("name", "expected a string");
    f.kase.name = n->get<std::string>();
  }
  f.kase.cpu = cpu_from_json(*member(j, "", "cpu", true), "cpu");
  if (const json* h = member(j, "", "history", false)) {
    if (!h->is_array()) throw CaseError("history", "expected an array of earlier cpu states, oldest first");
    for (std::size_t i = 0; i < h->size(); ++i) f.kase.history.push_back(cpu_from_json((*h)[i], fmt::format("history[{}]", i)));
  }
  f.kase.access = access_from_json(*member(j, "", "access", true));
  if (const json* m = member(j, "", "memory", false)) f.kase.memory = memory_from_json(*m, "memory");
  if (const json* e = member(j, "", "ept", false)) f.kase.ept = ept_from_json(*e);
  if (auto err = mmu::validate(f.kase)) throw CaseError(err->field, err->message);
  if (const json* e = member(j, "", "expect", false)) {
    f.expect = verdict_from_json(*e, "expect");
    f.expect->outcome.has_ept = f.kase.ept.has_value();
    for (mmu::Verdict& alt : f.expect->alternatives) alt.outcome.has_ept = f.kase.ept.has_value();
  }
  return f;
}

static json cpu_to_json(const mmu::CpuState& c) {
  json cpu = {{"cr0", hex(c.cr0)},   {"cr3", hex(c.cr3)},   {"cr4", hex(c.cr4)},   {"efer", hex(c.efer)},
              {"rflags", hex(c.rflags)}, {"cpl", c.cpl}, {"pkru", hex(c.pkru)}, {"pkrs", hex(c.pkrs)},
              {"maxphyaddr", c.maxphyaddr}, {"vendor", c.vendor == mmu::Vendor::intel ? "intel" : "amd"}};
  cpu["features"] = names_of(c.features, mmu::feature_name);
  return cpu;
}

json case_to_json(const mmu::Case& c) {
  const json cpu = cpu_to_json(c.cpu);
  json access = {{"addr", hex(c.access.addr)},
                 {"kind", mmu::access_kind_name(c.access.kind)},
                 {"implicit", c.access.implicit},
                 {"shadow_stack", c.access.shadow_stack}};
  json memory = json::object();
  for (const auto& e : c.memory.entries()) memory[hex(e.addr)] = hex(e.value);
  json j = json::object();
  if (!c.name.empty()) j["name"] = c.name;
  j["cpu"] = cpu;
  if (!c.history.empty()) {
    json h = json::array();
    for (const mmu::CpuState& s : c.history) h.push_back(cpu_to_json(s));
    j["history"] = h;
  }
  j["access"] = access;
  j["memory"] = memory;
  if (c.ept) {
    json ef = names_of(c.ept->features, mmu::ept_feature_name);
    json em = json::object();
    for (const auto& e : c.ept->memory.entries()) em[hex(e.addr)] = hex(e.value);
    j["ept"] = {{"eptp", hex(c.ept->eptp)}, {"features", ef}, {"memory", em}};
  }
  return j;
}

json outcome_to_json(const mmu::Outcome& o) {
  json j = {{"outcome", std::string(mmu::outcome_kind_name(o.kind))}};
  switch (o.kind) {
    case mmu::OutcomeKind::ok:
      j["pa"] = hex(o.pa);
      j["page_size"] = o.page_size;
      if (o.has_ept) {
        j["gpa"] = hex(o.gpa);
        j["ept_page_size"] = o.ept_page_size;
      }
      j["writes"] = writes_to_json(o.writes);
      break;
    case mmu::OutcomeKind::page_fault:
      j["error_code"] = hex(o.error_code);
      j["cr2"] = hex(o.cr2);
      if (!o.writes.empty()) j["writes"] = writes_to_json(o.writes);
      break;
    case mmu::OutcomeKind::general_protection:
      j["reason"] = std::string(mmu::gp_reason_name(o.gp_reason));
      if (!o.writes.empty()) j["writes"] = writes_to_json(o.writes);  // EPT A/D of PAE PDPTE loads
      break;
    case mmu::OutcomeKind::ept_violation:
      j["qualification"] = hex(o.qualification);
      j["gpa"] = hex(o.gpa);
      if (o.qualification & mmu::eptq::GLA_VALID) j["gla"] = hex(o.gla);
      if (!o.writes.empty()) j["writes"] = writes_to_json(o.writes);
      break;
    case mmu::OutcomeKind::ept_misconfig:
      j["gpa"] = hex(o.gpa);
      if (!o.writes.empty()) j["writes"] = writes_to_json(o.writes);
      break;
  }
  return j;
}

json verdict_to_json(const mmu::Verdict& v) {
  json j = outcome_to_json(v.outcome);
  if (!v.optional_writes.empty()) j["may_write"] = writes_to_json(v.optional_writes);
  if (v.qualification_dont_care) j["qualification_undefined"] = hex(v.qualification_dont_care);
  if (!v.alternatives.empty()) {
    json alts = json::array();
    for (const mmu::Verdict& alt : v.alternatives) alts.push_back(verdict_to_json(alt));
    j["alternatives"] = alts;
  }
  return j;
}

mmu::Verdict verdict_from_json(const json& j, const std::string& p) {
  object(j, p);
  mmu::Verdict v;
  mmu::Outcome& o = v.outcome;
  const json& kind = *member(j, p, "outcome", true);
  if (kind == "ok") {
    only_keys(j, p, {"outcome", "pa", "page_size", "gpa", "ept_page_size", "writes", "alternatives"});
    o.kind = mmu::OutcomeKind::ok;
    o.pa = get_u64(j, p, "pa", std::nullopt);
    o.page_size = get_u64(j, p, "page_size", std::nullopt);
  } else if (kind == "page_fault") {
    only_keys(j, p, {"outcome", "error_code", "cr2", "writes", "may_write", "alternatives"});
    o.kind = mmu::OutcomeKind::page_fault;
    o.error_code = get_u64(j, p, "error_code", std::nullopt);
    o.cr2 = get_u64(j, p, "cr2", std::nullopt);
  } else if (kind == "general_protection") {
    only_keys(j, p, {"outcome", "reason", "writes", "may_write"});
    o.kind = mmu::OutcomeKind::general_protection;
    const json& r = *member(j, p, "reason", true);
    if (r == "non-canonical") o.gp_reason = mmu::GpReason::non_canonical;
    else if (r == "pdpte-reserved") o.gp_reason = mmu::GpReason::pdpte_reserved;
    else throw CaseError(p + ".reason", "expected \"non-canonical\" or \"pdpte-reserved\"");
  } else if (kind == "ept_violation") {
    only_keys(j, p, {"outcome", "qualification", "gpa", "gla", "writes", "may_write", "qualification_undefined", "alternatives"});
    o.kind = mmu::OutcomeKind::ept_violation;
    o.qualification = get_u64(j, p, "qualification", std::nullopt);
    o.gpa = get_u64(j, p, "gpa", std::nullopt);
    o.gla = get_u64(j, p, "gla", (o.qualification & mmu::eptq::GLA_VALID) ? std::nullopt : std::optional<u64>(0));
  } else if (kind == "ept_misconfig") {
    only_keys(j, p, {"outcome", "gpa", "writes", "may_write", "alternatives"});
    o.kind = mmu::OutcomeKind::ept_misconfig;
    o.gpa = get_u64(j, p, "gpa", std::nullopt);
  } else {
    throw CaseError(p + ".outcome", fmt::format("unknown outcome {}", kind.dump()));
  }
  if (o.kind == mmu::OutcomeKind::ok && j.contains("gpa")) {
    o.gpa = get_u64(j, p, "gpa", std::nullopt);
    o.ept_page_size = get_u64(j, p, "ept_page_size", std::nullopt);
  }
  if (const json* w = member(j, p, "writes", false)) o.writes = writes_from_json(*w, p + ".writes");
  if (const json* w = member(j, p, "may_write", false)) v.optional_writes = writes_from_json(*w, p + ".may_write");
  v.qualification_dont_care = get_u64(j, p, "qualification_undefined", 0);
  if (const json* a = member(j, p, "alternatives", false)) {
    if (!a->is_array()) throw CaseError(p + ".alternatives", "expected an array of verdicts");
    for (std::size_t i = 0; i < a->size(); ++i)
      v.alternatives.push_back(verdict_from_json((*a)[i], fmt::format("{}.alternatives[{}]", p, i)));
  }
  return v;
}

json trace_to_json(const mmu::Trace& t) {
  json steps = json::array();
  for (const mmu::TraceStep& s : t.steps) {
    json js = {{"kind", s.kind == mmu::StepKind::pdpte_load ? "pdpte_load" : "entry"},
               {"space", s.space == mmu::Space::guest ? "guest" : "ept"},
               {"level", s.level},
               {"name", std::string(s.name)},
               {"addr", hex(s.addr)},
               {"value", hex(s.value)}};
    if (s.mattered) js["mattered"] = hex(s.mattered);
    if (s.rule != mmu::Rule::none) js["rule"] = std::string(mmu::rule_info(s.rule).id);
    steps.push_back(std::move(js));
  }
  json checked = json::array(), fired = json::array();
  for (const mmu::RuleInfo& r : mmu::all_rules()) {
    const unsigned i = static_cast<unsigned>(r.rule);
    if (t.checked.test(i)) checked.push_back(std::string(r.id));
    if (t.fired.test(i)) fired.push_back(std::string(r.id));
  }
  const mmu::RuleInfo& d = mmu::rule_info(t.decided_by);
  return {{"steps", steps},
          {"decided_by", {{"rule", std::string(d.id)}, {"sdm", std::string(d.sdm)}, {"mask", hex(t.decided_mask)}}},
          {"rules_checked", checked},
          {"rules_fired", fired}};
}

unsigned locate_field(std::string_view text, std::string_view field) {
  // Walk the dotted path, finding each key as "key" after the previous one.
  std::size_t pos = 0;
  std::size_t found = std::string_view::npos;
  while (!field.empty()) {
    const std::size_t dot = field.find('.');
    std::string_view key = field.substr(0, dot);
    if (auto br = key.find('['); br != std::string_view::npos) key = key.substr(0, br);
    const std::string quoted = "\"" + std::string(key) + "\"";
    const std::size_t at = text.find(quoted, pos);
    if (at == std::string_view::npos) break;
    found = pos = at;
    if (dot == std::string_view::npos) break;
    field.remove_prefix(dot + 1);
  }
  if (found == std::string_view::npos) return 0;
  return 1 + static_cast<unsigned>(std::count(text.begin(), text.begin() + static_cast<long>(found), '\n'));
}

}  // namespace mmucheck
