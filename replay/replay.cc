#include "replay/replay.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "model/kvm/kvm_mmu.h"
#include "model/rules.h"
#include "model/reference.h"
#include "replay/known.h"
#include "replay/probe_known.h"

namespace mmucheck {
namespace {

using mmu::u64;

std::vector<mmu::Write> sorted(const mmu::WriteList& ws) {
  std::vector<mmu::Write> v(ws.begin(), ws.end());
  std::sort(v.begin(), v.end(), [](const mmu::Write& a, const mmu::Write& b) {
    return std::tie(a.space, a.addr, a.value) < std::tie(b.space, b.addr, b.value);
  });
  return v;
}

std::string describe_writes(const mmu::WriteList& ws) {
  std::string s;
  for (const mmu::Write& w : ws)
    s += fmt::format("{}{}[{:#x}]={:#x}", s.empty() ? "" : " ", w.space == mmu::Space::guest ? "g" : "ept", w.addr, w.value);
  return s;
}

// Entry flags worth naming in a trace line.
std::string decode_entry(const mmu::TraceStep& s) {
  struct Flag { unsigned bit; const char* name; };
  static constexpr Flag kFlags[] = {{0, "P"}, {1, "RW"}, {2, "US"}, {3, "PWT"}, {4, "PCD"}, {5, "A"},
                                    {6, "D"}, {7, "PS"}, {8, "G"}, {63, "XD"}};
  std::string out;
  for (const Flag& f : kFlags) {
    if (!mmu::test(s.value, f.bit)) continue;
    const bool mattered = mmu::test(s.mattered, f.bit);
    out += fmt::format("{}{}{}{}", out.empty() ? "" : " ", mattered ? "[" : "", f.name, mattered ? "]" : "");
  }
  const u64 other = s.mattered & ~(mmu::bit(0) | mmu::bits(8, 1) | mmu::bit(63));
  if (other) out += fmt::format(" [bits {:#x}]", other);
  return out;
}

std::string decode_ept_entry(const mmu::TraceStep& s) {
  struct Flag { unsigned bit; const char* name; };
  static constexpr Flag kFlags[] = {{0, "R"}, {1, "W"}, {2, "X"}, {6, "IPAT"}, {7, "PS"}, {8, "A"}, {9, "D"}, {10, "XU"}};
  std::string out;
  for (const Flag& f : kFlags) {
    if (!mmu::test(s.value, f.bit)) continue;
    const bool mattered = mmu::test(s.mattered, f.bit);
    out += fmt::format("{}{}{}{}", out.empty() ? "" : " ", mattered ? "[" : "", f.name, mattered ? "]" : "");
  }
  out += fmt::format(" MT={}", mmu::field(s.value, 5, 3));
  const u64 other = s.mattered & ~(mmu::bits(2, 0) | mmu::bits(10, 6));
  if (other) out += fmt::format(" [bits {:#x}]", other);
  return out;
}

}  // namespace

bool same_verdict(const mmu::Verdict& a, const mmu::Verdict& b) {
  if (!(a.outcome == b.outcome) || sorted(a.optional_writes) != sorted(b.optional_writes) ||
      a.qualification_dont_care != b.qualification_dont_care || a.alternatives.size() != b.alternatives.size())
    return false;
  for (const mmu::Verdict& alt : a.alternatives)
    if (std::none_of(b.alternatives.begin(), b.alternatives.end(),
                     [&](const mmu::Verdict& other) { return same_verdict(alt, other); }))
      return false;
  return true;
}

ReplayResult replay_case(const CaseFile& f, std::span<const Engine* const> engines) {
  ReplayResult r;
  r.file = f;
  r.runs.reserve(engines.size());  // baseline may point into runs: no reallocation
  const mmu::Verdict* baseline = r.file.expect ? &*r.file.expect : nullptr;
  std::string baseline_engine = r.file.expect ? "ref" : "";  // an expectation is the SDM's answer
  for (const Engine* e : engines) {
    EngineRun& run = r.runs.emplace_back();
    run.engine = std::string(e->name());
    run.unsupported = e->unsupported(f.kase);
    if (run.unsupported) continue;
    run.verdict = e->evaluate(f.kase, &run.trace);
    if (!baseline) {
      baseline = &run.verdict;  // the first engine that ran sets the bar
      baseline_engine = run.engine;
    } else if (run.engine == "ref" && f.expect) {
      run.agrees = same_verdict(*f.expect, run.verdict);
    } else {
      run.agrees = mmu::accepts(*baseline, run.verdict.outcome);
      if (!run.agrees)
        if (const KnownDivergence* k = known_divergence(baseline_engine, run.engine, f.kase, *baseline, run.verdict))
          run.known = std::string(k->id);
      // An emulator oracle against the reference: its documented deviations
      // (corpus/known-deviations/, replay/probe_known.h).
      if (!run.agrees && !run.known && baseline_engine == "ref") {
        mmu::Trace t;
        const mmu::Verdict ref = mmu::reference::evaluate(f.kase, &t);
        std::string ids;
        for (const auto* k : probe::explain(run.engine, f.kase, ref, t, run.verdict.outcome))
          ids += (ids.empty() ? "" : "+") + std::string(k->id);
        if (!ids.empty()) run.known = ids;
      }
    }
    r.agree &= run.agrees || run.known.has_value();
  }
  return r;
}

std::string describe_outcome(const mmu::Outcome& o) {
  switch (o.kind) {
    case mmu::OutcomeKind::ok:
      if (o.has_ept)
        return fmt::format("ok gpa={:#x} hpa={:#x} size={} ept_size={}{}", o.gpa, o.pa, o.page_size, o.ept_page_size,
                           o.writes.empty() ? "" : " writes: " + describe_writes(o.writes));
      return fmt::format("ok pa={:#x} size={}{}", o.pa, o.page_size,
                         o.writes.empty() ? "" : " writes: " + describe_writes(o.writes));
    case mmu::OutcomeKind::page_fault:
      return fmt::format("#PF ec={:#x} cr2={:#x}{}", o.error_code, o.cr2,
                         o.writes.empty() ? "" : " writes: " + describe_writes(o.writes));
    case mmu::OutcomeKind::general_protection:
      return fmt::format("#GP ({})", mmu::gp_reason_name(o.gp_reason));
    case mmu::OutcomeKind::ept_violation:
      return fmt::format("EPT violation qual={:#x} gpa={:#x}{}{}", o.qualification, o.gpa,
                         (o.qualification & mmu::eptq::GLA_VALID) ? fmt::format(" gla={:#x}", o.gla) : "",
                         o.writes.empty() ? "" : " writes: " + describe_writes(o.writes));
    case mmu::OutcomeKind::ept_misconfig:
      return fmt::format("EPT misconfig gpa={:#x}{}", o.gpa, o.writes.empty() ? "" : " writes: " + describe_writes(o.writes));
  }
  return "?";
}

std::string render_text(const ReplayResult& r, std::string_view source, bool color) {
  const mmu::Case& c = r.file.kase;
  const char* red = color ? "\x1b[1;31m" : "";
  const char* green = color ? "\x1b[32m" : "";
  const char* off = color ? "\x1b[0m" : "";
  std::string out = fmt::format("{}{}\n", source, c.name.empty() ? "" : " — " + c.name);
  const std::string feats = fmt::format("{}", fmt::join(names_of(c.cpu.features, mmu::feature_name), " "));
  out += fmt::format("  cpu     {} paging  CR0={:#x} CR3={:#x} CR4={:#x} EFER={:#x} RFLAGS={:#x} CPL={}\n",
                     mmu::mode_name(mmu::paging_mode(c.cpu)), c.cpu.cr0, c.cpu.cr3, c.cpu.cr4, c.cpu.efer,
                     c.cpu.rflags, c.cpu.cpl);
  out += fmt::format("          PKRU={:#x} PKRS={:#x} MAXPHYADDR={} {} [{}]\n", c.cpu.pkru, c.cpu.pkrs,
                     c.cpu.maxphyaddr, c.cpu.vendor == mmu::Vendor::intel ? "intel" : "amd", feats);
  for (std::size_t i = 0; i < c.history.size(); ++i) {
    const mmu::CpuState& h = c.history[i];
    out += fmt::format("  {:<8}{} paging  CR0={:#x} CR3={:#x} CR4={:#x} EFER={:#x} RFLAGS={:#x} CPL={}\n",
                       i == 0 ? "earlier" : "", mmu::mode_name(mmu::paging_mode(h)), h.cr0, h.cr3, h.cr4, h.efer,
                       h.rflags, h.cpl);
  }
  out += fmt::format("  access  {} {:#x} ({}{}{})\n", mmu::access_kind_name(c.access.kind), c.access.addr,
                     mmu::is_user_access(c.cpu, c.access) ? "user-mode" : "supervisor-mode",
                     c.access.implicit ? ", implicit" : "", c.access.shadow_stack ? ", shadow stack" : "");
  if (c.ept) {
    const std::string ef = fmt::format("{}", fmt::join(names_of(c.ept->features, mmu::ept_feature_name), " "));
    out += fmt::format("  ept     EPTP={:#x} ({}-level{}) [{}]\n", c.ept->eptp, c.ept->levels(),
                       c.ept->ad_enabled() ? ", A/D on" : "", ef);
  }
  if (r.file.expect) out += fmt::format("  {:<8}{}\n", "expect", describe_outcome(r.file.expect->outcome));
  for (const EngineRun& run : r.runs) {
    if (run.unsupported) {
      out += fmt::format("  {:<8}unsupported: {}\n", run.engine, *run.unsupported);
      continue;
    }
    const std::string mark = run.agrees ? "" : run.known ? "   <-- known finding: " + *run.known : "   <-- DIVERGES";
    out += fmt::format("  {:<8}{}{}{}{}\n", run.engine + (run.engine.size() >= 8 ? "  " : ""), run.agrees || run.known ? "" : red,
                       describe_outcome(run.verdict.outcome), mark, run.agrees || run.known ? "" : off);
    if (!run.verdict.optional_writes.empty())
      out += fmt::format("  {:<8}may also write: {}\n", "", describe_writes(run.verdict.optional_writes));
    if (run.verdict.qualification_dont_care)
      out += fmt::format("  {:<8}qualification bits left undefined by the SDM: {:#x}\n", "", run.verdict.qualification_dont_care);
    for (const mmu::Verdict& alt : run.verdict.alternatives)
      out += fmt::format("  {:<8}or, equally allowed: {}\n", "", describe_outcome(alt.outcome));
  }
  for (const EngineRun& run : r.runs) {
    if (run.unsupported || run.trace.steps.empty()) continue;
    out += fmt::format("  walk ({}):\n", run.engine);
    for (const mmu::TraceStep& s : run.trace.steps) {
      out += fmt::format("    {}{:<7}{} @{:#011x} = {:#018x}  {}", s.space == mmu::Space::ept ? "  " : "", s.name,
                         s.kind == mmu::StepKind::pdpte_load ? "*" : " ", s.addr, s.value,
                         s.space == mmu::Space::ept ? decode_ept_entry(s) : decode_entry(s));
      if (s.rule != mmu::Rule::none) out += fmt::format("  -> {}", mmu::rule_info(s.rule).id);
      out += "\n";
    }
    const mmu::RuleInfo& d = mmu::rule_info(run.trace.decided_by);
    out += fmt::format("    decided by {} (SDM {}): {}\n", d.id, d.sdm, d.summary);
    break;  // one trace is enough for a person; --json has them all
  }
  const bool any_known = std::any_of(r.runs.begin(), r.runs.end(), [](const EngineRun& run) { return run.known.has_value(); });
  out += !r.agree   ? fmt::format("  {}DIVERGENCE{}\n", red, off)
         : any_known ? fmt::format("  {}agree, but for known findings (docs/kvm.md){}\n", green, off)
                     : fmt::format("  {}agree{}\n", green, off);
  return out;
}

std::string render_kvm_tables(const mmu::Case& c) {
  const mmu::kvm::MmuAlgorithm mainline;
  // With history, the context the vCPU holds now (mainline rebuilds it on every role change).
  const auto [role, t] = mainline.context(c);
  std::string out = fmt::format(
      "cpu_role: level={} has_4_byte_gpte={} efer_nx={} efer_lma={} cr0_wp={} cr4_pse={} cr4_smep={} cr4_smap={} "
      "cr4_pke={} cr4_la57={}\nguest cpuid: maxphyaddr={} {} gbpages={} pse36={}\n",
      role.level, role.has_4_byte_gpte, role.efer_nx, role.efer_lma, role.cr0_wp, role.cr4_pse, role.cr4_smep,
      role.cr4_smap, role.cr4_pke, role.cr4_la57, role.maxphyaddr, role.amd ? "amd" : "intel", role.gbpages, role.pse36);
  out += "permissions[16]  (index = pfec >> 1: F U W | RSVD = SMAP override; bit i = fault for pte_access i = U W X)\n";
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned pfec = i << 1;
    out += fmt::format("  [{:2}] pfec={:#04x} {}{}{}{}  {:#04x}  {:08b}\n", i, pfec, (pfec & 16) ? "F" : "-",
                       (pfec & 8) ? "R" : "-", (pfec & 4) ? "U" : "-", (pfec & 2) ? "W" : "-", t.permissions[i],
                       t.permissions[i]);
  }
  out += fmt::format("pkru_mask        {:#010x}\n", t.pkru_mask);
  out += "rsvd_bits_mask[bit7][level-1]\n";
  for (unsigned b7 = 0; b7 < 2; ++b7)
    for (unsigned l = 0; l < 5; ++l)
      out += fmt::format("  [{}][{}] {:#018x}\n", b7, l, t.rsvd_bits_mask[b7][l]);
  if (role.level == 3) out += fmt::format("pdptr_rsvd_bits  {:#018x}\n", t.pdptr_rsvd);
  if (!c.ept) return out;
  const mmu::kvm::EptRole er = mmu::kvm::ept_role(*c.ept, c.cpu.maxphyaddr);
  const mmu::kvm::EptTables et = mainline.build_ept(er);
  out += fmt::format("\nnested EPT MMU role: level={} ad={} execonly={} mbec={} 2m={} 1g={} maxphyaddr={}\n", er.level,
                     er.ad, er.exec_only, er.mbec, er.pages_2m, er.pages_1g, er.maxphyaddr);
  out += "ept permissions[16]  (index = pfec >> 1: F U=read W; bit i = fault for pte_access i = R W X)\n";
  for (unsigned i = 0; i < 16; ++i)
    out += fmt::format("  [{:2}] pfec={:#04x}  {:#04x}  {:08b}\n", i, i << 1, et.permissions[i], et.permissions[i]);
  out += "ept rsvd_bits_mask[bit7][level-1]\n";
  for (unsigned b7 = 0; b7 < 2; ++b7)
    for (unsigned l = 0; l < 5; ++l) out += fmt::format("  [{}][{}] {:#018x}\n", b7, l, et.rsvd_bits_mask[b7][l]);
  out += fmt::format("bad_mt_xwr       {:#018x}  (bit n: entry bits 5:0 == n is a misconfiguration)\n", et.bad_mt_xwr);
  return out;
}

nlohmann::json render_json(const ReplayResult& r, std::string_view source) {
  nlohmann::json runs = nlohmann::json::array();
  for (const EngineRun& run : r.runs) {
    nlohmann::json j = {{"engine", run.engine}};
    if (run.unsupported) {
      j["unsupported"] = *run.unsupported;
    } else {
      j["verdict"] = verdict_to_json(run.verdict);
      j["agrees"] = run.agrees;
      if (run.known) j["known"] = *run.known;
      j["trace"] = trace_to_json(run.trace);
    }
    runs.push_back(std::move(j));
  }
  nlohmann::json j = {{"source", std::string(source)}, {"case", case_to_json(r.file.kase)}, {"runs", runs}, {"agree", r.agree}};
  if (r.file.expect) j["expect"] = verdict_to_json(*r.file.expect);
  return j;
}

}  // namespace mmucheck
