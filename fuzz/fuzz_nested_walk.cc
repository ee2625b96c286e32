// fuzz_nested_walk: guest paging (every mode) under EPT: each guest
// paging-structure access and the final access go through EPT. The reference
// against the kvm engine.
#include "fuzz/harness.h"

MMUCHECK_FUZZ_TARGET("fuzz_nested_walk")
