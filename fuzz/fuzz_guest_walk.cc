// fuzz_guest_walk: guest paging in every mode (paging off, 32-bit, PAE,
// 4-level, 5-level), no EPT; the reference against the kvm engine by default.
// Any mutant: MMUCHECK_ENGINES=ref,kvm:stale-cr0-wp (fuzz/README.md).
#include "fuzz/harness.h"

MMUCHECK_FUZZ_TARGET("fuzz_guest_walk")
