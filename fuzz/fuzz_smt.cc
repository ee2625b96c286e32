// fuzz_smt: the reference against the smt engine (the Z3 encoding of the
// SDM's rules evaluated on the concrete case), every shape: guest paging,
// EPT and nested. Where this build has no "smt" engine the target says so
// and exits 77 (skipped).
#include "fuzz/harness.h"

MMUCHECK_FUZZ_TARGET("fuzz_smt")
