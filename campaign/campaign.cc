#include "campaign/campaign.h"

#include <fmt/format.h>

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

#include "campaign/report.h"
#include "fuzz/decoder.h"
#include "model/kvm/mutants.h"
#include "model/rules.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/exhaust.h"
#include "replay/known.h"
#include "replay/minimize.h"
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
                {"coverage", {{"checked", json::object()}, {"fired", json::object()}}}};
    }
    state_["runs"].push_back({{"started", utc_now()}, {"budget_seconds", o_.seconds}, {"engines", o_.engines}});
    for (const std::string& name : o_.engines) engines_.push_back(make_engine(name));
  }

  int run() {
    bug_zoo();
    prove();
    exhaust();
    random_cases();
    save_state();
    write_report(o_.out, state_, store_);
    unsigned open = 0;
    for (const auto& e : store_.entries()) open += e.status == "new";
    log_ << fmt::format("campaign: done in {:.1f} s; {} divergences in the store ({} new); report: {}\n", elapsed(),
                        store_.entries().size(), open, (o_.out / "report.html").string());
    return open ? 1 : 0;
  }

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  double left() const { return o_.seconds - elapsed(); }

  void save_state() {
    state_["seconds_total"] = prior_seconds_ + elapsed();
    write_file_atomic(o_.out / "state.json", state_.dump(1) + "\n");
  }

  // A divergence between the reference and `engine` on `c`: stored (and
  // minimised) under its signature, or counted as known.
  void divergence(const Engine& engine, const mmu::Case& c, std::string_view where) {
    std::string known;
    const auto sig = divergence_signature(c, *ref_, engine, &known);
    if (!sig) return;
    const bool is_new = store_.record(*sig, fmt::format("ref,{}", engine.name()), c, [&] {
      return minimize(c, *ref_, engine, kMinimizeBudget).kase;
    });
    if (is_new) log_ << fmt::format("campaign: new divergence ({}): {}\n", where, *sig);
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
        ExhaustOptions xo{.jobs = o_.jobs, .keep = 3};
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

  // ---- random structured cases for the rest of the time --------------------------
  // One worker per job, each with its own engines (an engine need not be
  // thread-safe), taking batches of seeds from a shared counter and merging
  // each batch's counts into the state under a lock.
  struct Batch {
    std::uint64_t cases = 0;
    std::vector<std::uint64_t> checked, fired;
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
      for (const mmu::RuleInfo& ri : mmu::all_rules()) {
        const auto i = static_cast<unsigned>(ri.rule);
        json& ck = state_["coverage"]["checked"][std::string(ri.id)];
        json& fd = state_["coverage"]["fired"][std::string(ri.id)];
        ck = (ck.is_number() ? ck.get<std::uint64_t>() : 0) + b.checked[i];
        fd = (fd.is_number() ? fd.get<std::uint64_t>() : 0) + b.fired[i];
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
        b.checked.assign(static_cast<unsigned>(mmu::Rule::count_), 0);
        b.fired.assign(b.checked.size(), 0);
        const std::uint64_t seed0 = next_seed.fetch_add(kBatch);
        for (std::uint64_t seed = seed0; seed < seed0 + kBatch; ++seed) {
          std::mt19937_64 rng(seed);
          bytes.resize(64 + rng() % 320);
          for (auto& x : bytes) x = static_cast<std::uint8_t>(rng());
          fuzz::decode_into(bytes, opt, c);
          trace.clear();
          const mmu::Verdict rv = ref->evaluate(c, &trace);
          for (unsigned i = 0; i < b.checked.size(); ++i) {
            b.checked[i] += trace.checked.test(i);
            b.fired[i] += trace.fired.test(i);
          }
          for (std::size_t e = 0; e < engines.size(); ++e) {
            auto& n = b.engines[std::string(engines[e]->name())];
            if (engines[e]->unsupported(c)) {
              ++n[1];
              continue;
            }
            ++n[0];
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
    for (unsigned j = 1; j < std::max(1u, o_.jobs); ++j) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    const double dt = std::chrono::duration<double>(Clock::now() - last_flush).count();
    flush(dt > 0 ? since_flush / dt : 0, next_seed);
    log_ << fmt::format("campaign: {} random cases so far ({} jobs)\n", rs["cases"].get<std::uint64_t>(), o_.jobs);
  }

  // The random phase's progress to disk, with a timeline sample.
  void flush(double rate, std::uint64_t next_seed) {
    json& rs = state_["random"];
    rs["next_seed"] = next_seed;
    unsigned hit = 0;
    for (const mmu::RuleInfo& ri : mmu::all_rules()) hit += state_["coverage"]["checked"].value(std::string(ri.id), 0) > 0;
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
