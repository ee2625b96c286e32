#include "smt/prove.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "model/kvm/kvm314.h"
#include "kvmsrc/kvmsrc.h"
#include "model/kvm/mutants.h"
#include "smt/theorem.h"

namespace smt {
namespace {

constexpr KnownFinding kKnown[] = {
    {"pse36-fixed-bits", "T3-reserved-bits",
     "32-bit paging, CR4.PSE = 1, CPUID PSE-36, a PDE with PS = 1 (4-MByte page)",
     "mainline KVM fixes the 4-MByte PDE reserved bits at 17..21 whatever MAXPHYADDR; the SDM (4.3 Table 4-4) "
     "reserves bits 21:(M-19), M = min(MAXPHYADDR, 40). Still how mainline behaves: docs/kvm.md finding 2, "
     "facts-kvm.md bug 16, corpus/guest_walk/32bit-pse36-*"},
    {"id-in-32bit-paging", "T7-error-code", "32-bit paging, an instruction fetch, EFER.NXE = 1, CR4.SMEP = 0",
     "KVM sets I/D when EFER.NX = 1 even with CR4.PAE = 0; SDM 4.7 sets it only with CR4.SMEP = 1 or (CR4.PAE = 1 "
     "and EFER.NXE = 1): docs/kvm.md finding 1, corpus/guest_walk/32bit-nxe-fetch-no-id.json"},
    {"pse36-fixed-bits", "T3-reserved-bits",
     "kvm-src: 32-bit paging, CR4.PSE = 1, a PDE with PS = 1 (with or without CPUID PSE-36)",
     "KVM's own code in 6.1 takes PSE-36 as always present (is_cpuid_PSE36() returns 1), as 3.14 did: bits 21:17 "
     "reserved and 16:13 address bits whatever CPUID and MAXPHYADDR say (docs/kvm-src.md; replay/known.h)"},
    {"1g-page-without-cpuid-support", "T3-reserved-bits",
     "kvm-src-tdp: 4- or 5-level paging, a PDPTE with PS = 1, no CPUID 1-GByte pages",
     "with TDP KVM takes 1-GByte page support from the host (guest_can_use_gbpages()), so the PDPTE maps a "
     "1-GByte page where the SDM makes PS reserved (docs/kvm-src.md; replay/known.h)"},
    {"ept-1g-cap-allows-2m-pages", "T4-ept-misconfig",
     "L1's EPT capabilities report 1-GByte pages but not 2-MByte pages, an EPT PDE with bit 7 = 1",
     "KVM's nested EPT MMU keeps one huge-page level (ept_caps_to_lpage_level(): 1G whenever the 1-GByte bit is "
     "set), so such a PDE maps a 2-MByte page; the SDM (3C 29.3.3.1) makes it a misconfiguration (docs/kvm-src.md; "
     "replay/known.h)"},
    {"pse36-fixed-bits", "T6-reserved-bits", "32-bit paging, CR4.PSE = 1, a PDE with PS = 1 (with or without PSE-36)",
     "KVM 3.14 takes PSE-36 as always present: bits 21:17 reserved whatever CPUID and MAXPHYADDR say (docs/kvm.md, "
     "\"The 3.14 form\"; replay/known.h)"},
    {"nonleaf-bit8-every-vendor", "T6-reserved-bits", "4-level paging, bit 8 of a PML4E or of a non-leaf PDPTE",
     "KVM 3.14 reserves bit 8 there for both vendors; the SDM ignores it on Intel, AMD reserves it in PML4Es only "
     "(fixed by a0c0feb57992 and 5ecad245de2a; replay/known.h)"},
    {"1g-page-without-cpuid-support", "T6-reserved-bits", "4-level paging, a PDPTE with PS = 1, no CPUID 1-GByte pages",
     "KVM 3.14 maps a 1-GByte page there; the SDM makes PS reserved (replay/known.h)"},
    {"pae-pdpte-bits-6-5-unchecked", "T6-reserved-bits", "PAE paging, a PDPTE with bit 5 or 6 set",
     "KVM 3.14 checks PDPTE bits 63:M, 8:7, 2:1 at CR3 load; the SDM also reserves 6:5 (replay/known.h)"},
};

std::string sanitize(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == ':' || c == '/' || c == ' ') c = '_';
  return out;
}

// One query: prove `claim` under `domain`, optionally writing it as SMT-LIB2.
ProofResult ask(Context& ctx, const Expr& domain, const Expr& claim, const ProveOptions& o, const std::string& path,
                TheoremResult& out, const std::string& label) {
  Solver s(ctx, o.timeout_ms);
  s.add(domain);
  std::string smt2;
  if (!o.emit_smt2_dir.empty()) smt2 = s.to_smt2(claim);
  ProofResult r = s.prove(claim);
  QueryRecord rec{label, std::string(verdict_name(r.verdict)), r.seconds, ""};
  if (!o.emit_smt2_dir.empty()) {
    std::ofstream f(path);
    f << "; mmucheck prove: " << out.name << ", " << label << "\n"
      << "; sat = refuted, unsat = proved\n"
      << "; z3: " << (r.verdict == Verdict::proved ? "unsat" : r.verdict == Verdict::refuted ? "sat" : "unknown") << "\n"
      << smt2;
    if (!f) throw std::runtime_error("--emit-smt2: cannot write " + path);
    rec.smt2_path = path;
  }
  out.queries.push_back(rec);
  out.solve_seconds += r.seconds;
  return r;
}

void take_counterexample(const Query& q, const Model& m, TheoremResult& out) {
  out.detail = q.describe(m);
  CaseOrError c = q.to_case(m);
  if (auto* kase = std::get_if<mmu::Case>(&c)) out.counterexample = std::move(*kase);
  else out.case_error = std::get<std::string>(c);
}

// One piece of a theorem (all of it, or one value of its split variable):
// the query, and when it is refuted inside the allow-list, the query outside it.
struct Piece {
  Status status = Status::proved;
  std::optional<Model> model;
  std::vector<std::string> known;
  std::string reason;
};

Piece run_piece(Context& ctx, const Query& q, const Expr& domain, const ProveOptions& o, const std::string& base,
                const std::string& label, TheoremResult& out) {
  Piece p;
  ProofResult all = ask(ctx, domain, q.claim, o, base + ".smt2", out, label);
  if (all.verdict == Verdict::proved) return p;
  if (all.verdict == Verdict::unknown) {
    p.status = Status::unknown;
    p.reason = all.reason;
    return p;
  }
  std::vector<Expr> regions;
  for (const auto& [id, region] : q.known) {
    regions.push_back(region);
    if (all.model->holds(region)) p.known.emplace_back(id);
  }
  if (p.known.empty()) {
    p.status = Status::refuted;
    p.model = std::move(all.model);
    return p;
  }
  // The counterexample is a known finding: does the theorem hold everywhere else?
  ProofResult rest = ask(ctx, domain, q.claim || ctx.any(regions), o, base + ".outside-known.smt2", out,
                         label + ", outside the allow-list");
  if (rest.verdict == Verdict::proved) {
    p.status = Status::known;
    p.model = std::move(all.model);
  } else if (rest.verdict == Verdict::refuted) {
    p.status = Status::refuted;
    p.known.clear();
    p.model = std::move(rest.model);
  } else {
    p.status = Status::unknown;
    p.reason = rest.reason;
  }
  return p;
}

TheoremResult run(const Theorem& t, const ProveOptions& o, Env& env, const std::string& dir) {
  TheoremResult out;
  out.name = std::string(t.info.name);
  const auto start = std::chrono::steady_clock::now();
  Context& ctx = env.ctx;
  const Query q = t.build(env);
  const std::string base = dir.empty() ? "" : dir + "/" + out.name;

  std::vector<std::pair<std::string, Expr>> pieces;  // (label, domain)
  if (q.split) {
    for (u64 v : q.split->values)
      pieces.emplace_back(q.split->name + "=" + std::to_string(v), q.domain && q.split->var == v);
  } else {
    pieces.emplace_back("all inputs", q.domain);
  }
  out.status = Status::proved;
  std::optional<Model> known_model;
  for (const auto& [label, domain] : pieces) {
    const std::string file = q.split ? base + "." + label : base;
    Piece p = run_piece(ctx, q, domain, o, file, label, out);
    if (p.status == Status::refuted) {
      out.status = Status::refuted;
      out.known.clear();
      take_counterexample(q, *p.model, out);
      break;
    }
    if (p.status == Status::unknown) {
      out.status = Status::unknown;
      out.detail = p.reason;
      break;
    }
    if (p.status == Status::known) {
      out.status = Status::known;
      if (!known_model) known_model = std::move(p.model);
    }
  }
  if (out.status == Status::known) take_counterexample(q, *known_model, out);
  // Which allow-list entries still reproduce (one query each, over the whole
  // domain): those are the theorem's known findings; the others are stale.
  if (out.status == Status::known || out.status == Status::proved) {
    for (const auto& [id, region] : q.known) {
      const std::string name(id);
      const ProofResult r = ask(ctx, q.domain, region.implies(q.claim), o, base + ".known-" + name + ".smt2", out,
                                "allow-list entry " + name + " reproduces");
      if (r.verdict == Verdict::refuted) out.known.push_back(name);
      else if (r.verdict == Verdict::proved) out.notes.push_back("allow-list entry " + name + " no longer reproduces: remove it");
      else out.notes.push_back("allow-list entry " + name + ": the solver could not decide whether it reproduces");
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace

std::span<const TheoremInfo> theorems() {
  static const std::vector<TheoremInfo> infos = [] {
    std::vector<TheoremInfo> v;
    for (const Theorem& t : all_theorems()) v.push_back(t.info);
    return v;
  }();
  return infos;
}

const TheoremInfo* find_theorem(std::string_view name) {
  for (const TheoremInfo& t : theorems())
    if (t.name == name) return &t;
  return nullptr;
}

std::span<const KnownFinding> known_findings() { return kKnown; }

std::optional<Subject> subject(std::string_view engine, std::string& error) {
  if (engine == "kvm") return Subject{"kvm", std::make_shared<mmu::kvm::MmuAlgorithm>(), false};
  if (engine.starts_with("kvm:")) {
    if (const mmu::kvm::Mutant* m = mmu::kvm::find_mutant(engine.substr(4)))
      return Subject{std::string(engine), std::shared_ptr<const mmu::kvm::MmuAlgorithm>(m->make()), false};
    error = "unknown mutant '" + std::string(engine.substr(4)) + "' (see mmucheck mutants)";
    return std::nullopt;
  }
  if (engine == "kvm-3.14") return Subject{"kvm-3.14", std::make_shared<mmu::kvm::Kvm314Algorithm>(), true};
  if (engine == "kvm-src" || engine == "kvm-src-tdp") {
    // KVM's own table builders from a Linux tree: the theorems about the
    // mainline layout apply unchanged (docs/kvm-src.md).
    if (auto algo = mmu::kvmsrc::make_algorithm(engine == "kvm-src-tdp"))
      return Subject{std::string(engine), std::move(algo), false};
    error = "engine '" + std::string(engine) + "' is absent from this build: " + std::string(mmu::kvmsrc::status().reason);
    return std::nullopt;
  }
  error = "prove works on the KVM-style engines: kvm, kvm:MUTANT, kvm-3.14, kvm-src, kvm-src-tdp; got '" +
          std::string(engine) + "'";
  return std::nullopt;
}

std::vector<const TheoremInfo*> theorems_for(const Subject& s) {
  std::vector<const TheoremInfo*> out;
  for (const TheoremInfo& t : theorems()) {
    if (t.about == "rules" || (t.about == "kvm" && !s.kvm314) || (t.about == "kvm-3.14" && s.kvm314)) out.push_back(&t);
  }
  return out;
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::proved: return "proved";
    case Status::refuted: return "refuted";
    case Status::known: return "known";
    case Status::unknown: return "unknown";
  }
  return "?";
}

std::vector<TheoremResult> prove(const Subject& s, const ProveOptions& o) {
  const std::vector<const TheoremInfo*> applicable = theorems_for(s);
  std::vector<const Theorem*> chosen;
  for (const std::string& name : o.only) {
    const TheoremInfo* info = find_theorem(name);
    if (!info) {
      std::string known;
      for (const TheoremInfo& t : theorems()) known += (known.empty() ? "" : ", ") + std::string(t.name);
      throw std::invalid_argument("unknown theorem '" + name + "' (known: " + known + ")");
    }
    if (std::find(applicable.begin(), applicable.end(), info) == applicable.end())
      throw std::invalid_argument("theorem " + name + " is about " + std::string(info->about) + ", not " + s.engine);
  }
  for (const Theorem& t : all_theorems()) {
    const bool applies =
        std::any_of(applicable.begin(), applicable.end(), [&](const TheoremInfo* i) { return i->name == t.info.name; });
    if (!applies) continue;
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), t.info.name) == o.only.end()) continue;
    chosen.push_back(&t);
  }

  std::string dir;
  if (!o.emit_smt2_dir.empty()) {
    dir = o.emit_smt2_dir + "/" + sanitize(s.engine);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("--emit-smt2: cannot create " + dir + ": " + ec.message());
  }
  Context ctx;
  Env env(ctx, s);
  std::vector<TheoremResult> results;
  for (const Theorem* t : chosen) results.push_back(run(*t, o, env, dir));
  return results;
}

}  // namespace smt
