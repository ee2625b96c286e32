// fuzz_ept_walk: EPT with guest paging off (the access's address is the
// guest-physical address): 4- and 5-level EPT, execute-only, 2M/1G pages,
// A/D, MBEC. The reference against the kvm engine (its nested EPT MMU).
#include "fuzz/harness.h"

MMUCHECK_FUZZ_TARGET("fuzz_ept_walk")
