// Exhaust spaces for the parts of KVM's MMU beyond guest paging's tables
// (replay/exhaust_kvm.cc), for exhaust.cc's registry and for tests.
//
//   const mmucheck::ExhaustSpace s = mmucheck::kvm_spaces::ept_entries();
#pragma once
#include "replay/exhaust.h"

namespace mmucheck::kvm_spaces {

ExhaustSpace ept_entries();       // "ept-entries": one L1 EPT entry's bits x level x capabilities x access
ExhaustSpace role_transitions();  // "role-transitions": an earlier vCPU state x the current one x access

}  // namespace mmucheck::kvm_spaces
