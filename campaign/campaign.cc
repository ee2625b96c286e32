#include "campaign/campaign.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "campaign/fuzzers.h"
#include "campaign/oracle_cases.h"
#include "campaign/report.h"
#include "fuzz/decoder.h"
#include "model/kvm/mutants.h"
#include "model/rules.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/known.h"
#include "replay/minimize.h"
#include "replay/probe_compare.h"
#include "replay/probe_runner.h"
#include "replay/store.h"
#include "smt/prove.h"

namespace mmucheck {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr unsigned kMinimizeBudget = 3000;  // candidate cases per new divergence

class Campaign {
 public:
  Campaign(const CampaignOptions& o, std::ostream& log)
      : o_(o), log_(log), start_(Clock::now()), store_(o.out / "divergences"), ref_(make_engine("ref")) {
    const auto path = o_.out / "state.json";
    if (std::filesystem::exists(path)) {
      std::ifstream in(path);
      try {
        state_ = json::parse(in);
      } catch (const json::exception& e) {
        throw std::runtime_error(fmt::format("{}: not a campaign state ({}); use another --out", path.string(), e.what()));
      }
      if (state_.value("version", 0) != 1)
        throw std::runtime_error(fmt::format("{}: unsupported campaign state version", path.string()));
      prior_seconds_ = state_.value("seconds_total", 0.0);
      log_ << fmt::format("campaign: resuming {} ({:.0f} s done before)\n", o_.out.string(), prior_seconds_);
    } else {
      state_ = {{"version", 1}, {"seconds_total", 0.0}, {"runs", json::array()}, {"proofs", json::object()},
                {"exhaust", json::object()}, {"bug_zoo", json::object()}, {"timeline", json::array()},
                {"random", {{"cases", 0}, {"next_seed", 1}, {"engines", json::object()}}},
                {"coverage", json::object()}, {"fuzz", {{"targets", json::object()}, {"timeline", json::array()}}}};
    }
    // Older states kept one coverage table (the reference's) and no fuzzing.
    if (state_["coverage"].contains("checked")) state_["coverage"] = {{"ref", state_["coverage"]}};
    if (!state_.contains("oracles")) state_["oracles"] = json::object();
    if (!state_.contains("fuzz")) state_["fuzz"] = {{"targets", json::object()}, {"timeline", json::array()}};
    state_["runs"].push_back({{"started", utc_now()}, {"budget_seconds", o_.seconds}, {"engines", o_.engines}});
    for (const std::string& name : o_.engines) engines_.push_back(make_engine(name));
    jobs_ = std::max(1u, o_.jobs);
  }

  int run() {
    start_fuzzers();
    bug_zoo();
    prove();
    oracles();
    exhaust();
    random_cases();
    if (pool_) pool_->join();  // its slots end at the deadline
    save_state();
    write_report(o_.out, state_, store_);
    unsigned open = 0;
    for (const auto& e : store_.entries()) open += e.status == "new";
    const unsigned crashes = open_crashes();
    log_ << fmt::format("campaign: done in {:.1f} s; {} divergences in the store ({} new){}; report: {}\n", elapsed(),
                        store_.entries().size(), open,
                        crashes ? fmt::format(", {} fuzz target crashes", crashes) : std::string(),
                        (o_.out / "report.html").string());
    return open || crashes ? 1 : 0;
  }

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  double left() const { return o_.seconds - elapsed(); }

  void save_state() {
    drain_fuzzers();
    state_["seconds_total"] = prior_seconds_ + elapsed();
    write_file_atomic(o_.out / "state.json", state_.dump(1) + "\n");
  }

  // A divergence between the reference and `engine` on `c`: stored (and
  // minimised) under its signature, or counted as known. An engine that
  // prefers batches (an emulator: one boot per evaluation) is not minimised
  // here; `mmucheck minimize` does it on demand.
  void divergence(const Engine& engine, const mmu::Case& c, std::string_view where) {
    std::string known;
    const auto sig = divergence_signature(c, *ref_, engine, &known);
    if (!sig) return;
    const bool is_new = store_.record(*sig, fmt::format("ref,{}", engine.name()), c, [&] {
      return engine.prefers_batches() ? c : minimize(c, *ref_, engine, kMinimizeBudget).kase;
    });
    if (is_new) log_ << fmt::format("campaign: new divergence ({}): {}\n", where, *sig);
  }

  // ---- coverage-guided fuzzing, alongside everything else ---------------------
  void start_fuzzers() {
    if (o_.fuzzers.empty() || !std::filesystem::is_directory(o_.fuzzers)) {
      log_ << fmt::format("campaign: no fuzz build in {}, fuzz targets skipped (cmake --preset fuzz builds them)\n",
                          o_.fuzzers.string());
      return;
    }
    const unsigned slots = std::max(1u, jobs_ / 2);
    pool_ = std::make_unique<FuzzerPool>(FuzzerPoolOptions{.bin = o_.fuzzers,
                                                           .work = o_.out / "fuzz",
                                                           .corpus = o_.corpus,
                                                           .engines = o_.engines,
                                                           .slots = slots,
                                                           .slice_seconds = std::clamp(o_.seconds / 6, 10.0, 300.0)});
    if (pool_->targets().empty()) {
      log_ << fmt::format("campaign: no libFuzzer targets in {}, fuzz targets skipped\n", o_.fuzzers.string());
      pool_.reset();
      return;
    }
    jobs_ = std::max(1u, jobs_ - slots);
    log_ << fmt::format("campaign: fuzzing {} targets from {} on {} core(s), other phases on {}\n",
                        pool_->targets().size(), o_.fuzzers.string(), slots, jobs_);
    pool_->start(start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.seconds)));
  }

  // Finished fuzz runs into the state; the divergences they wrote into the store.
  void drain_fuzzers() {
    if (!pool_) return;
    for (const FuzzRun& r : pool_->drain()) {
      json& t = state_["fuzz"]["targets"][r.target];
      if (!t.is_object()) t = {{"runs", 0}, {"seconds", 0.0}, {"execs", 0}, {"coverage", 0}, {"divergences", 0},
                               {"crashes", json::array()}};
      t["runs"] = t["runs"].get<std::uint64_t>() + 1;
      t["seconds"] = t["seconds"].get<double>() + r.seconds;
      t["execs"] = t["execs"].get<std::uint64_t>() + r.execs;
      t["coverage"] = std::max(t["coverage"].get<std::uint64_t>(), static_cast<std::uint64_t>(r.coverage));
      t["last_execs_per_second"] = r.execs_per_second;
      t["last_log"] = (o_.out / "fuzz" / r.target / "last.log").string();
      if (!r.error.empty()) t["last_error"] = r.error;
      state_["fuzz"]["timeline"].push_back({{"t", prior_seconds_ + r.started + r.seconds}, {"target", r.target},
                                            {"execs_per_second", r.execs_per_second}, {"coverage", r.coverage}});
      for (const auto& file : r.divergences) {
        t["divergences"] = t["divergences"].get<std::uint64_t>() + 1;
        import_divergence(file, r.target);
      }
      // A crash input with no divergence file is a crash of the target itself
      // (a sanitizer report, a decoder producing an invalid case): a bug in
      // mmucheck, kept with the line that says what happened.
      if (r.crashed && r.divergences.empty())
        for (const auto& input : r.crash_inputs)
          t["crashes"].push_back({{"input", input.string()}, {"error", r.error}, {"status", "new"}});
    }
  }

  void import_divergence(const std::filesystem::path& file, const std::string& target) {
    std::ifstream in(file);
    json j;
    try {
      j = json::parse(in);
      const std::string engine = j.at("divergence").at("engines").at(1);
      const auto e = make_engine(engine);
      if (!e) throw std::runtime_error("unknown engine " + engine);
      j.erase("divergence");
      j.erase("expect");
      divergence(*e, case_from_json(j).kase, fmt::format("fuzz target {}", target));
    } catch (const std::exception& ex) {
      log_ << fmt::format("campaign: {}: cannot import the divergence ({})\n", file.string(), ex.what());
    }
  }

  unsigned open_crashes() const {
    unsigned n = 0;
    for (const auto& [name, t] : state_["fuzz"]["targets"].items())
      for (const auto& c : t["crashes"]) n += c.value("status", "new") == "new";
    return n;
  }

  // ---- the bug zoo's regression cases ---------------------------------------
  void bug_zoo() {
    const auto dir = o_.corpus / "bug_zoo";
    if (!std::filesystem::is_directory(dir)) {
      log_ << fmt::format("campaign: no {}, bug-zoo status skipped\n", dir.string());
      return;
    }
    for (const auto& m : mmu::kvm::mutants()) {
      const auto path = dir / (std::string(m.name) + ".json");
      json entry = {{"case", path.string()}, {"commit", m.commit}, {"description", m.description}};
      if (!std::filesystem::exists(path)) {
        entry["status"] = "no regression case";
      } else {
        std::ifstream in(path);
        const CaseFile f = case_from_json(json::parse(in));
        const auto mutant = make_engine("kvm:" + std::string(m.name));
        std::string known;
        const bool caught = divergence_signature(f.kase, *ref_, *mutant, &known).has_value();
        entry["status"] = caught ? "caught" : !known.empty() ? "known finding: " + known : "NOT caught";
      }
      state_["bug_zoo"][std::string(m.name)] = entry;
    }
    save_state();
    log_ << fmt::format("campaign: bug zoo: {} mutants checked on their regression cases\n", mmu::kvm::mutants().size());
  }

  // ---- proofs -----------------------------------------------------------------
  void prove() {
    for (const std::string& name : o_.engines) {
      if (state_["proofs"].contains(name)) continue;
      if (elapsed() > 0.35 * o_.seconds) {
        log_ << fmt::format("campaign: proofs for {} left for a later run (time)\n", name);
        continue;
      }
      std::string error;
      const auto subject = smt::subject(name, error);
      if (!subject) continue;  // not a KVM-style engine: nothing to prove
      json results = json::array();
      for (const smt::TheoremResult& r : smt::prove(*subject, {})) {
        json j = {{"theorem", r.name}, {"status", smt::status_name(r.status)}, {"seconds", r.seconds},
                  {"detail", r.detail}, {"known", r.known}};
        if (r.status == smt::Status::refuted && r.counterexample) {
          const auto engine = make_engine(name);
          divergence(*engine, *r.counterexample, "proof " + r.name);
          j["counterexample"] = case_to_json(*r.counterexample);
        }
        results.push_back(j);
      }
      state_["proofs"][name] = results;
      save_state();
      log_ << fmt::format("campaign: proofs for {}: {} theorems ({:.1f} s elapsed)\n", name, results.size(), elapsed());
    }
  }

  // ---- exhaustive spaces -------------------------------------------------------
  void exhaust() {
    std::vector<const ExhaustSpace*> spaces;
    for (const ExhaustSpace& s : exhaust_spaces()) spaces.push_back(&s);
    std::sort(spaces.begin(), spaces.end(), [](auto* x, auto* y) { return x->size < y->size; });
    for (const ExhaustSpace* s : spaces)
      for (const auto& engine : engines_) {
        const std::string key = fmt::format("{}/{}", engine->name(), s->name);
        if (state_["exhaust"].contains(key)) continue;
        if (elapsed() > 0.7 * o_.seconds) {
          log_ << fmt::format("campaign: space {} left for a later run (time)\n", key);
          continue;
        }
        ExhaustOptions xo{.jobs = jobs_, .keep = 3};
        xo.stop = [this] { return elapsed() > 0.8 * o_.seconds; };
        const ExhaustResult r = mmucheck::exhaust(*s, *ref_, *engine, xo);
        for (const auto& [index, c] : r.first) divergence(*engine, c, fmt::format("{} point {}", key, index));
        if (!r.complete) {  // not recorded as done: a later run does it again, whole
          log_ << fmt::format("campaign: space {} stopped for time after {} points; left for a later run\n", key,
                              r.points);
          continue;
        }
        json known = json::object();
        for (const auto& [id, n] : r.known) known[std::string(id)] = n;
        state_["exhaust"][key] = {{"engine", engine->name()}, {"space", s->name}, {"points", r.points},
                                  {"compared", r.compared}, {"illegal", r.illegal}, {"unsupported", r.unsupported},
                                  {"divergences", r.divergences}, {"known", known}, {"seconds", r.seconds}};
        save_state();
        log_ << fmt::format("campaign: exhaust {}: {} compared, {} divergences ({:.1f} s elapsed)\n", key, r.compared,
                            r.divergences, elapsed());
      }
  }

  // ---- the emulator oracles -----------------------------------------------------
  // Each run puts `oracle_cases` fresh random guest-paging cases that the
  // oracle can run (others are drawn and counted with the reason, not run)
  // through every oracle asked for and available here, in one batch (a boot
  // or two), compared with the reference as `mmucheck oracle` does
  // (replay/probe_compare.h: known deviations counted as known, hangs and
  // crashes blamed on their own case).
  //
  // Whether the phase runs is decided once, at its start (before half the
  // budget), for every oracle alike: a slow first emulator must not crowd out
  // the next. The emulators are processes of their own, so with jobs to spare
  // they are sampled at once, one thread each; the results are recorded after.
  struct OracleSample {
    std::string name;
    json* st = nullptr;
    std::unique_ptr<probe::Runner> runner;
    std::uint64_t seed = 1;
    unsigned wanted = 0;  // cases to draw
    std::vector<mmu::Case> cases;
    std::uint64_t drawn_unsupported = 0;
    std::map<std::string, std::uint64_t> drawn_unsupported_reasons;
    probe::OracleReport rep;
    std::optional<std::string> error;
    double seconds = 0;
  };

  void oracles() {
    const bool in_budget = o_.oracle_cases > 0 && elapsed() <= 0.5 * o_.seconds;
    std::vector<OracleSample> samples;
    for (const auto e : {probe::Emulator::qemu, probe::Emulator::bochs, probe::Emulator::kvm}) {
      const std::string name(probe::emulator_engine_name(e));
      json& st = state_["oracles"][name];
      if (!st.is_object()) st = {{"cases", 0}, {"compared", 0}, {"agree", 0}, {"unsupported", 0}, {"divergences", 0},
                                 {"known", json::object()}, {"unsupported_reasons", json::object()}, {"seconds", 0.0},
                                 {"next_seed", 1}};
      if (std::find(o_.oracles.begin(), o_.oracles.end(), name) == o_.oracles.end()) {
        st["status"] = fmt::format("not asked for (--oracles {},{})", fmt::join(o_.oracles, ","), name);
        continue;
      }
      // No boot after 60 % of the budget: a hanging emulator (bisected one
      // boot at a time) must not hold the campaign past its time.
      probe::RunnerOptions ro;
      ro.deadline = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(0.6 * o_.seconds));
      auto runner = std::make_unique<probe::Runner>(e, ro);
      if (const auto why = runner->unavailable()) {
        st["status"] = "not available here: " + *why;
        continue;
      }
      if (!in_budget) {
        st["status"] = "available; not run this time (budget)";
        continue;
      }
      samples.push_back({.name = name, .st = &st, .runner = std::move(runner),
                         .seed = st.value("next_seed", std::uint64_t{1}), .wanted = o_.oracle_cases});
    }
    if (jobs_ >= 2 && samples.size() >= 2) {
      std::vector<std::thread> threads;
      for (OracleSample& s : samples) threads.emplace_back([this, &s] { sample_oracle(s); });
      for (auto& t : threads) t.join();
    } else {
      for (OracleSample& s : samples) sample_oracle(s);
    }
    for (OracleSample& s : samples) {
      if (s.error) {  // an emulator that fails here must not end the campaign
        (*s.st)["status"] = fmt::format("failed: {}", *s.error);
        log_ << fmt::format("campaign: oracle {} failed: {}\n", s.name, *s.error);
      } else {
        record_oracle(s);
      }
      save_state();
    }
  }

  static std::optional<probe::Emulator> probe_emulator(std::string_view name) {
    for (const auto e : {probe::Emulator::qemu, probe::Emulator::bochs, probe::Emulator::kvm})
      if (probe::emulator_engine_name(e) == name) return e;
    return std::nullopt;
  }

  // An engine that answers with what an oracle was seen to do, so that a
  // finding is signed and stored without booting the emulator again.
  class Observed final : public Engine {
   public:
    Observed(std::string name, mmu::Outcome o) : name_(std::move(name)), o_(std::move(o)) {}
    std::string_view name() const override { return name_; }
    std::string_view description() const override { return "an emulator oracle's recorded answer"; }
    mmu::Verdict evaluate(const mmu::Case&, mmu::Trace*) const override { return {.outcome = o_}; }
    bool prefers_batches() const override { return true; }  // not minimised in-process

   private:
    std::string name_;
    mmu::Outcome o_;
  };

  // Draws the sample and runs it; touches nothing shared (it may run on a
  // thread of its own beside another oracle's).
  static void sample_oracle(OracleSample& s) {
    const auto t0 = Clock::now();
    try {
      // Fitted to the emulated CPU, so that they share a boot or a few.
      std::mt19937_64 rng(s.seed++ ^ 0x6f7261636c65ULL);  // "oracle": apart from the random phase's seeds
      for (mmu::Case& x : random_oracle_cases(*probe_emulator(s.name), s.wanted, rng)) {
        if (const auto why = s.runner->unsupported(x)) {
          ++s.drawn_unsupported;
          ++s.drawn_unsupported_reasons[*why];
        } else {
          s.cases.push_back(std::move(x));
        }
      }
      std::vector<const mmu::Case*> ptrs;
      for (const mmu::Case& x : s.cases) ptrs.push_back(&x);
      s.rep = probe::compare_with_reference(*s.runner, ptrs);
    } catch (const std::exception& e) {
      s.error = e.what();
    }
    s.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }

  void record_oracle(const OracleSample& s) {
    json& st = *s.st;
    const std::string& name = s.name;
    const probe::OracleReport& rep = s.rep;
    auto count_unsupported = [&](const std::string& reason, std::uint64_t n) {
      const std::string why = reason.substr(0, reason.find(':'));  // without the case-specific tail
      st["unsupported_reasons"][why] = st["unsupported_reasons"].value(why, std::uint64_t{0}) + n;
    };
    for (const auto& [why, n] : s.drawn_unsupported_reasons) count_unsupported(why, n);
    for (const auto& [why, n] : rep.unsupported_by_reason) count_unsupported(why, n);
    for (const auto& [id, n] : rep.known_by_id) st["known"][id] = st["known"].value(id, std::uint64_t{0}) + n;
    for (const probe::Finding& f : rep.findings) {
      const mmu::Case& fc = s.cases.at(f.index);
      if (f.kind == "diverge") {
        divergence(Observed(name, f.observed), fc, "oracle " + name);
        continue;
      }
      // A hang, a crash, or a result the probe could not express: signed by
      // its kind, stored as it is.
      const std::string sig = fmt::format("ref vs {}: {} ({})", name, f.kind, f.detail.substr(0, f.detail.find(':')));
      if (store_.record(sig, "ref," + name, fc, [&] { return fc; }))
        log_ << fmt::format("campaign: new divergence (oracle {}): {}\n", name, sig);
    }
    const std::uint64_t divergences = rep.diverge + rep.unexpected + rep.hang + rep.crash;
    st["cases"] = st["cases"].get<std::uint64_t>() + s.drawn_unsupported + rep.cases;
    st["compared"] = st["compared"].get<std::uint64_t>() + rep.compared;
    st["agree"] = st["agree"].get<std::uint64_t>() + rep.agree;
    st["unsupported"] = st["unsupported"].get<std::uint64_t>() + s.drawn_unsupported + rep.unsupported;
    st["divergences"] = st["divergences"].get<std::uint64_t>() + divergences;
    st["seconds"] = st["seconds"].get<double>() + s.seconds;
    st["next_seed"] = s.seed;
    st["status"] = "available";
    log_ << fmt::format("campaign: oracle {}: {} cases in {:.1f} s: {} agree, {} known deviations, {} diverge, {} unsupported\n",
                        name, rep.cases, s.seconds, rep.agree, rep.known, divergences, rep.unsupported);
  }

  // ---- random structured cases for the rest of the time --------------------------
  // One worker per job, each with its own engines (an engine need not be
  // thread-safe), taking batches of seeds from a shared counter and merging
  // each batch's counts into the state under a lock.
  struct Batch {
    std::uint64_t cases = 0;
    // Per rule, the reference's walks that evaluated it (checked) and that it
    // decided (fired): [0] over every case, [1 + e] over the cases engine e
    // was compared on.
    std::vector<std::vector<std::uint64_t>> checked, fired;
    std::map<std::string, std::array<std::uint64_t, 3>> engines;  // compared, unsupported, divergences
    std::map<std::string, std::map<std::string, std::uint64_t>> known;
    std::vector<std::pair<std::size_t, mmu::Case>> diverging;  // (engine index, case)
  };

  void random_cases() {
    json& rs = state_["random"];
    if (!rs["engines"].is_object()) rs["engines"] = json::object();
    std::atomic<std::uint64_t> next_seed{rs.value("next_seed", std::uint64_t{1})};
    std::mutex lock;
    auto last_flush = Clock::now();
    std::uint64_t since_flush = 0;
    constexpr std::uint64_t kBatch = 256;

    // Under `lock`: the batch's counts into the state, its divergences into
    // the store, and every two seconds the state to disk.
    auto merge = [&](Batch& b, const std::vector<std::unique_ptr<Engine>>& engines) {
      rs["cases"] = rs.value("cases", std::uint64_t{0}) + b.cases;
      for (std::size_t k = 0; k < b.checked.size(); ++k) {
        json& cov = state_["coverage"][k == 0 ? std::string("ref") : std::string(engines[k - 1]->name())];
        for (const mmu::RuleInfo& ri : mmu::all_rules()) {
          const auto i = static_cast<unsigned>(ri.rule);
          json& ck = cov["checked"][std::string(ri.id)];
          json& fd = cov["fired"][std::string(ri.id)];
          ck = (ck.is_number() ? ck.get<std::uint64_t>() : 0) + b.checked[k][i];
          fd = (fd.is_number() ? fd.get<std::uint64_t>() : 0) + b.fired[k][i];
        }
      }
      for (const auto& [name, n] : b.engines) {
        json& pe = rs["engines"][name];
        if (!pe.is_object()) pe = {{"compared", 0}, {"unsupported", 0}, {"divergences", 0}, {"known", json::object()}};
        pe["compared"] = pe["compared"].get<std::uint64_t>() + n[0];
        pe["unsupported"] = pe["unsupported"].get<std::uint64_t>() + n[1];
        pe["divergences"] = pe["divergences"].get<std::uint64_t>() + n[2];
        for (const auto& [id, k] : b.known[name]) pe["known"][id] = pe["known"].value(id, std::uint64_t{0}) + k;
      }
      for (const auto& [e, c] : b.diverging) divergence(*engines[e], c, "random case");
      since_flush += b.cases;
      const double dt = std::chrono::duration<double>(Clock::now() - last_flush).count();
      if (dt >= 2.0) flush(since_flush / dt, next_seed), last_flush = Clock::now(), since_flush = 0;
    };

    auto worker = [&] {
      auto ref = make_engine("ref");
      std::vector<std::unique_ptr<Engine>> engines;
      for (const std::string& name : o_.engines) engines.push_back(make_engine(name));
      std::vector<std::uint8_t> bytes;
      mmu::Case c;
      mmu::Trace trace;
      const fuzz::DecodeOptions opt{};
      // At least one batch per worker, so even a run whose budget the proofs
      // used up samples every engine.
      for (bool first = true; first || left() > 0; first = false) {
        Batch b;
        const std::vector<std::uint64_t> zeros(static_cast<unsigned>(mmu::Rule::count_), 0);
        b.checked.assign(1 + engines.size(), zeros);
        b.fired.assign(1 + engines.size(), zeros);
        const std::uint64_t seed0 = next_seed.fetch_add(kBatch);
        for (std::uint64_t seed = seed0; seed < seed0 + kBatch; ++seed) {
          std::mt19937_64 rng(seed);
          bytes.resize(64 + rng() % 320);
          for (auto& x : bytes) x = static_cast<std::uint8_t>(rng());
          fuzz::decode_into(bytes, opt, c);
          trace.clear();
          const mmu::Verdict rv = ref->evaluate(c, &trace);
          auto count_rules = [&](std::size_t k) {
            for (unsigned i = 0; i < zeros.size(); ++i) {
              b.checked[k][i] += trace.checked.test(i);
              b.fired[k][i] += trace.fired.test(i);
            }
          };
          count_rules(0);
          for (std::size_t e = 0; e < engines.size(); ++e) {
            auto& n = b.engines[std::string(engines[e]->name())];
            if (engines[e]->unsupported(c)) {
              ++n[1];
              continue;
            }
            ++n[0];
            count_rules(1 + e);
            const mmu::Verdict ev = engines[e]->evaluate(c, nullptr);
            if (mmu::accepts(rv, ev.outcome)) continue;
            if (const KnownDivergence* k = known_divergence("ref", engines[e]->name(), c, rv, ev)) {
              ++b.known[std::string(engines[e]->name())][std::string(k->id)];
              continue;
            }
            ++n[2];
            if (b.diverging.size() < 8) b.diverging.emplace_back(e, c);
          }
          ++b.cases;
        }
        std::lock_guard<std::mutex> g(lock);
        merge(b, engines);
      }
    };
    std::vector<std::thread> threads;
    for (unsigned j = 1; j < jobs_; ++j) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    const double dt = std::chrono::duration<double>(Clock::now() - last_flush).count();
    flush(dt > 0 ? since_flush / dt : 0, next_seed);
    log_ << fmt::format("campaign: {} random cases so far ({} jobs)\n", rs["cases"].get<std::uint64_t>(), jobs_);
  }

  // The random phase's progress to disk, with a timeline sample.
  void flush(double rate, std::uint64_t next_seed) {
    json& rs = state_["random"];
    rs["next_seed"] = next_seed;
    unsigned hit = 0;
    for (const mmu::RuleInfo& ri : mmu::all_rules())
      hit += state_["coverage"]["ref"]["checked"].value(std::string(ri.id), 0) > 0;
    state_["timeline"].push_back({{"t", prior_seconds_ + elapsed()}, {"cases", rs.value("cases", std::uint64_t{0})},
                                  {"execs_per_second", rate}, {"rules_checked", hit}});
    save_state();
  }

  const CampaignOptions& o_;
  std::ostream& log_;
  Clock::time_point start_;
  double prior_seconds_ = 0;
  json state_;
  DivergenceStore store_;
  std::unique_ptr<Engine> ref_;
  std::vector<std::unique_ptr<Engine>> engines_;
  unsigned jobs_ = 1;  // threads for the in-process phases (the fuzzers have their own)
  std::unique_ptr<FuzzerPool> pool_;
};

}  // namespace

int run_campaign(const CampaignOptions& o, std::ostream& log) {
  if (o.seconds <= 0) {
    log << "mmucheck campaign: --time must be positive\n";
    return 2;
  }
  for (const std::string& name : o.engines)
    if (name == "ref" || !make_engine(name)) {
      log << fmt::format("mmucheck campaign: unknown engine '{}' (the reference is always the baseline)\n", name);
      return 2;
    }
  try {
    std::filesystem::create_directories(o.out);
    return Campaign(o, log).run();
  } catch (const std::exception& e) {
    log << "mmucheck campaign: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mmucheck
