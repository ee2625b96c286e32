// Exhaust throughput per space (docs/performance.md has the figures and the
// command that produced them):
//   BM_Exhaust/SPACE/jobs:N  the whole space, ref vs kvm, as `mmucheck exhaust`
//                            runs it; counters: points/s and compared/s
//   BM_Make/SPACE            building one legal point's case
//   BM_Eval/SPACE/ENGINE     one engine on one legal point (evaluate_into)
// The per-point benchmarks cycle through 4096 legal points spread over the space.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "replay/engine.h"
#include "replay/exhaust.h"

namespace {

using mmu::u64;

// Up to `n` legal indices spread over the space: a walk with a large prime stride.
std::vector<u64> sample(const mmucheck::ExhaustSpace& s, std::size_t n) {
  constexpr u64 kStride = 1'000'003;
  std::vector<u64> out;
  mmu::Case c;
  u64 i = 0;
  for (u64 tries = 0; tries < 64 * n && out.size() < n; ++tries) {
    i = (i + kStride) % s.size;
    if (s.make(i, c)) out.push_back(i);
  }
  return out;
}

void BM_Exhaust(benchmark::State& state, const mmucheck::ExhaustSpace* s, unsigned jobs) {
  const auto ref = mmucheck::make_engine("ref");
  const auto kvm = mmucheck::make_engine("kvm");
  mmucheck::ExhaustResult r;
  for (auto _ : state) {
    r = mmucheck::exhaust(*s, *ref, *kvm, {.jobs = jobs});
    benchmark::DoNotOptimize(r.divergences);
  }
  state.counters["points/s"] = benchmark::Counter(static_cast<double>(r.points) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["compared/s"] =
      benchmark::Counter(static_cast<double>(r.compared) * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_Make(benchmark::State& state, const mmucheck::ExhaustSpace* s) {
  const std::vector<u64> points = sample(*s, 4096);
  if (points.empty()) return state.SkipWithError("no legal point found");
  mmu::Case c;
  std::size_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s->make(points[k], c));
    if (++k == points.size()) k = 0;
  }
}

void BM_Eval(benchmark::State& state, const mmucheck::ExhaustSpace* s, const char* engine_name) {
  const auto engine = mmucheck::make_engine(engine_name);
  std::vector<mmu::Case> cases;
  for (u64 i : sample(*s, 4096)) {
    mmu::Case c;
    s->make(i, c);
    if (!engine->unsupported(c)) cases.push_back(std::move(c));
  }
  if (cases.empty()) return state.SkipWithError("no supported legal point found");
  mmu::Verdict v;
  std::size_t k = 0;
  for (auto _ : state) {
    engine->evaluate_into(cases[k], v);
    benchmark::DoNotOptimize(v.outcome.kind);
    if (++k == cases.size()) k = 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const mmucheck::ExhaustSpace& s : mmucheck::exhaust_spaces()) {
    const std::string name(s.name);
    for (unsigned jobs : {1u, 2u})
      benchmark::RegisterBenchmark(("BM_Exhaust/" + name + "/jobs:" + std::to_string(jobs)).c_str(), BM_Exhaust, &s, jobs)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(("BM_Make/" + name).c_str(), BM_Make, &s);
    for (const char* e : {"ref", "kvm"})
      benchmark::RegisterBenchmark(("BM_Eval/" + name + "/" + e).c_str(), BM_Eval, &s, e);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
