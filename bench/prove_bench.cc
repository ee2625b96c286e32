// The SMT layer's speed (docs/performance.md has the figures and the command):
// the whole theorem suite for mainline kvm (target: under 10 s), and the smt
// engine's per-case cost (the encoding built once, each case substituted in).
#include <benchmark/benchmark.h>

#include "model/builder.h"
#include "model/validate.h"
#include "replay/engine.h"
#include "smt/prove.h"

namespace {

// Every theorem for `kvm`, as `mmucheck prove` runs them: one Z3 context, the
// engine's tables built once for all of them.
void BM_ProveAll(benchmark::State& state) {
  std::string error;
  const auto subject = smt::subject("kvm", error);
  for (auto _ : state) {
    const auto results = smt::prove(*subject, {});
    for (const auto& r : results)
      if (r.status == smt::Status::refuted || r.status == smt::Status::unknown) state.SkipWithError(r.name.c_str());
    benchmark::DoNotOptimize(results.data());
  }
}
BENCHMARK(BM_ProveAll)->Unit(benchmark::kMillisecond)->Iterations(3);

// One theorem on its own (it builds the tables it needs itself).
void BM_ProveOne(benchmark::State& state, const char* theorem) {
  std::string error;
  const auto subject = smt::subject("kvm", error);
  for (auto _ : state) benchmark::DoNotOptimize(smt::prove(*subject, {.only = {theorem}}).data());
}
BENCHMARK_CAPTURE(BM_ProveOne, T1_permissions, "T1-permissions")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_ProveOne, T3_reserved_bits, "T3-reserved-bits")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_ProveOne, T10_context_reset, "T10-context-reset")->Unit(benchmark::kMillisecond)->Iterations(3);

// The smt engine on one 4-level case (a successful user write: five walk
// steps, the rights and key checks, the address).
void BM_SmtEngine4Level(benchmark::State& state) {
  using namespace mmu;
  Case c;
  c.cpu.features = FeatureSet::all();
  c.cpu.cr0 = cr0::PE | cr0::PG | cr0::WP;
  c.cpu.cr4 = cr4::PAE | cr4::SMEP | cr4::SMAP | cr4::PKE;
  c.cpu.efer = efer::LME | efer::LMA | efer::NXE;
  c.cpu.cpl = 3;
  c.access = {0x7fff'd234'5678, AccessKind::write, false, false};
  ChainBuilder b(c, 0x1000);
  b.map(c.access.addr, 0x5000 | 0x7, 1, {0x7, 0x7, 0x7});
  if (auto err = validate(c)) {
    state.SkipWithError(err->message.c_str());
    return;
  }
  const auto engine = mmucheck::make_engine("smt");
  for (auto _ : state) benchmark::DoNotOptimize(engine->evaluate(c, nullptr).outcome.pa);
}
BENCHMARK(BM_SmtEngine4Level)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
