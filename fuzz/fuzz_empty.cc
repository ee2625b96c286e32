// fuzz_empty: does nothing with its input. Linked like every other target,
// it is the baseline of the throughput benchmark (bench/fuzz_throughput):
// a target's execs/s next to this one's says what the harness costs.
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
