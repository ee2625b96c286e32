// fuzz_kvm314: the reference against KVM's tables in their Linux 3.14 form
// (engine "kvm-3.14"), on what that engine models: guest paging without EPT,
// and the decoder never sets CR4.SMAP, PKE, PKS or LA57 nor makes a
// shadow-stack access. The engine's unsupported() is still honoured.
#include "fuzz/harness.h"

MMUCHECK_FUZZ_TARGET("fuzz_kvm314")
