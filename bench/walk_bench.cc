// One reference walk per paging mode (docs/performance.md has the figures and
// the command that produced them).
#include <benchmark/benchmark.h>

#include "model/builder.h"
#include "model/reference.h"
#include "model/validate.h"

namespace {

using namespace mmu;

constexpr u64 kFlags = 0x7;  // P | RW | US

Case base(PagingMode m) {
  Case c;
  c.cpu.features = FeatureSet::all();
  c.cpu.cr0 = cr0::PE | cr0::PG | cr0::WP;
  c.cpu.cpl = 3;
  c.cpu.maxphyaddr = 46;
  switch (m) {
    case PagingMode::none: c.cpu.cr0 = cr0::PE; break;
    case PagingMode::bit32: c.cpu.cr4 = cr4::PSE; break;
    case PagingMode::pae: c.cpu.cr4 = cr4::PAE; c.cpu.efer = efer::NXE; break;
    case PagingMode::level4: c.cpu.cr4 = cr4::PAE | cr4::SMEP | cr4::SMAP | cr4::PKE; c.cpu.efer = efer::LME | efer::LMA | efer::NXE; break;
    case PagingMode::level5: c.cpu.cr4 = cr4::PAE | cr4::LA57 | cr4::SMEP | cr4::SMAP | cr4::PKE; c.cpu.efer = efer::LME | efer::LMA | efer::NXE; break;
  }
  c.access = {0x12345678, AccessKind::write, false, false};
  return c;
}

Case mapped(PagingMode m, unsigned leaf_level) {
  Case c = base(m);
  if (m == PagingMode::level4 || m == PagingMode::level5) c.access.addr = 0x7fff'd234'5678;
  if (m == PagingMode::none) return c;
  ChainBuilder b(c, 0x1000);
  const unsigned levels = ChainBuilder::levels(m);
  const u64 ps = leaf_level > 1 ? bit(7) : 0;
  const u64 frame = leaf_level == 3 ? 0x40000000 : leaf_level == 2 ? (m == PagingMode::bit32 ? 0x400000 : 0x200000) : 0x5000;
  const u64 leaf = frame | ps | kFlags;
  switch (levels - leaf_level) {
    case 0: b.map(c.access.addr, leaf, leaf_level, {}); break;
    case 1: b.map(c.access.addr, leaf, leaf_level, {m == PagingMode::pae ? 1 : kFlags}); break;
    case 2: b.map(c.access.addr, leaf, leaf_level, {m == PagingMode::pae ? 1 : kFlags, kFlags}); break;
    case 3: b.map(c.access.addr, leaf, leaf_level, {kFlags, kFlags, kFlags}); break;
    case 4: b.map(c.access.addr, leaf, leaf_level, {kFlags, kFlags, kFlags, kFlags}); break;
  }
  return c;
}

void run(benchmark::State& state, const Case& c, bool with_trace) {
  if (auto err = validate(c)) {
    state.SkipWithError(err->message.c_str());
    return;
  }
  Trace trace;
  Verdict v;
  for (auto _ : state) {
    reference::evaluate_into(c, v, with_trace ? &trace : nullptr);
    benchmark::DoNotOptimize(v.outcome.pa);
    if (with_trace) trace.clear();
  }
  if (reference::evaluate(c).outcome.kind != OutcomeKind::ok) state.SkipWithError("case does not translate");
}

void BM_Walk(benchmark::State& state, PagingMode m, unsigned leaf_level) { run(state, mapped(m, leaf_level), false); }
void BM_WalkTraced(benchmark::State& state, PagingMode m, unsigned leaf_level) { run(state, mapped(m, leaf_level), true); }

BENCHMARK_CAPTURE(BM_Walk, none, PagingMode::none, 1);
BENCHMARK_CAPTURE(BM_Walk, 32bit_4k, PagingMode::bit32, 1);
BENCHMARK_CAPTURE(BM_Walk, 32bit_4m, PagingMode::bit32, 2);
BENCHMARK_CAPTURE(BM_Walk, pae_4k, PagingMode::pae, 1);
BENCHMARK_CAPTURE(BM_Walk, pae_2m, PagingMode::pae, 2);
BENCHMARK_CAPTURE(BM_Walk, 4level_4k, PagingMode::level4, 1);
BENCHMARK_CAPTURE(BM_Walk, 4level_2m, PagingMode::level4, 2);
BENCHMARK_CAPTURE(BM_Walk, 4level_1g, PagingMode::level4, 3);
BENCHMARK_CAPTURE(BM_Walk, 5level_4k, PagingMode::level5, 1);
BENCHMARK_CAPTURE(BM_WalkTraced, 4level_4k, PagingMode::level4, 1);

// A 4-level guest under 4-level EPT: five guest-physical translations (four
// guest tables and the final page), each a 4-level EPT walk.
Case nested_4on4(bool ad) {
  Case c = mapped(PagingMode::level4, 1);
  EptState e;
  e.eptp = 0x5000 | eptp::WB | eptp::WALK4 | (ad ? eptp::AD : 0);
  e.features = EptFeatureSet::all();
  EptChainBuilder eb(e);
  for (const auto& entry : c.memory.entries()) {
    const u64 page = entry.addr & ~u64{0xfff};
    eb.map(page, (0x4000000 + page) | 7 | (6 << 3), 1, {7, 7, 7});
  }
  eb.map(0x5000, 0x4005000 | 7 | (6 << 3), 1, {7, 7, 7});
  c.ept = e;
  return c;
}
void BM_Nested(benchmark::State& state, bool ad) { run(state, nested_4on4(ad), false); }
BENCHMARK_CAPTURE(BM_Nested, 4on4_4k, false);
BENCHMARK_CAPTURE(BM_Nested, 4on4_4k_ad, true);

}  // namespace

BENCHMARK_MAIN();
