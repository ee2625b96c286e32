// The host half of the probe (replay/probe/README.md): a case becomes a probe
// record (its paging structures relocated into the probe's RAM, the window
// slot chosen, the leaf frame pointed at a landing spot), records are packed
// into a checksummed batch disk, the probe's framed output is parsed, and each
// result is mapped back to an mmu::Outcome in the case's own addresses.
//
//   mmucheck::probe::CpuModel cpu = mmucheck::probe::qemu_model_for(c);
//   mmucheck::probe::Prepared p = mmucheck::probe::prepare(c, cpu);
//   if (p.unsupported) { /* "unsupported: " + *p.unsupported */ }
//   std::vector<std::uint8_t> disk = mmucheck::probe::pack({&p});
//   ... boot the image with `disk` as the second ATA disk, collect port 0xE9 ...
//   mmucheck::probe::Output out = mmucheck::probe::parse_output(bytes);
//   mmucheck::probe::Observed o = mmucheck::probe::observe(p, out.results.at(p.seq));
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/case.h"
#include "model/outcome.h"
#include "replay/probe/probe_abi.h"

namespace mmucheck::probe {

// What the emulated CPU offers. The probe runs a case only on a CPU whose
// CPUID matches what the case's behaviour depends on (docs/hardware.md).
struct CpuModel {
  std::string name;          // for messages: "qemu max", "bochs tigerlake", "host"
  unsigned maxphyaddr = 40;
  mmu::Vendor vendor = mmu::Vendor::intel;
  mmu::FeatureSet features;  // what CPUID reports
  bool cet_usable = false;   // CR4.CET can be set (QEMU 7.2 TCG: no)
  bool force_cr0_ne = false; // run with CR0.NE = 1 (VMX requires it; it only selects x87 error reporting)
  bool big_ram = false;      // the machine has 2 GiB of RAM: 1-GByte leaves land at 1 GiB (QEMU, KVM)
  bool vmx = false;          // VMX with EPT: EPT and nested cases run with the probe as L1
  mmu::EptFeatureSet ept_features;  // its EPT capabilities (the probe checks them against the MSRs)
};

// The CPU model QEMU is started with for this case (-cpu max with phys-bits,
// vendor, pse36 and pdpe1gb as the case says): cases that share it share a boot.
CpuModel qemu_model_for(const mmu::Case& c);
std::string qemu_cpu_option(const CpuModel& m);  // "max,phys-bits=46,vendor=GenuineIntel,..."
CpuModel bochs_model();                          // Bochs 2.7 `cpu: model=tigerlake`
CpuModel host_model();                           // this machine's CPU, from CPUID

// Why a case cannot run on `cpu` (CPUID that differs where the case's outcome
// depends on it, or a feature its registers use that the CPU lacks), or nullopt.
std::optional<std::string> cpu_mismatch(const mmu::Case& c, const CpuModel& cpu);

struct ReadbackEntry {
  std::uint64_t case_addr;   // the entry's address in the case
  std::uint64_t value;       // its value in the case
  mmu::Space space = mmu::Space::guest;  // guest-physical (guest entry) or host-physical (EPT entry)
};

struct Prepared {
  std::optional<std::string> unsupported;  // set: not run, and why
  std::uint32_t seq = 0;                   // set by pack()
  probe_case header{};
  std::vector<probe_entry> entries;        // relocated
  std::vector<std::uint64_t> readback;     // relocated addresses
  std::vector<ReadbackEntry> readback_case;
  unsigned entry_bytes = 8;
  bool has_leaf = false;                   // the walk's path ends in a present leaf
  std::uint64_t pa = 0, page_size = 0;     // the leaf's translation, in the case's addresses
  std::uint64_t va = 0;
  // VMX cases (replay/probe_vmx.cc): the probe is L1, the access runs in L2
  bool vmx = false;
  probe_vmx vmx_header{};
  std::uint64_t gpa = 0, ept_page_size = 0;  // ok: the guest-physical address and the EPT page's size
  std::uint64_t window_gla = 0;              // linear address of L2's code (the probe's own)
  std::uint64_t window_slot_gpa = ~std::uint64_t{0};  // the guest entry that maps that code
  std::uint64_t window_gpa = ~std::uint64_t{0};  // the window's guest-physical pages (PROBE_WINDOW_PAGES of them)
  std::uint64_t l2_cr3_gp_rip_off = 0;        // PAE, L2 loads CR3: the MOV to CR3's offset in the window
  std::uint64_t l2_after_cr3_rip_off = 0;     // 32-bit/4-level, L2 loads CR3: the nop after the MOV
  std::uint64_t l2_iret_rip_off = 0;          // L2 loads CR3, then IRETs to the case's CPL: the IRET's offset
  std::uint64_t l2_entry_off = 0;             // L2's first instruction, from window_gla (SYSENTER path: the user page)
  std::uint64_t l2_ss_return_off = 0;         // a shadow-stack read: where its RET returns to (the VMCALL)
};

// Why the implicit access of `c` cannot be staged (LAR / MOV FS through an
// LDT at its address), or nullopt (also for explicit accesses).
std::optional<std::string> implicit_unstageable(const mmu::Case& c);

// Relocates `c` for the probe. `cpu` is the CPU it will run on.
Prepared prepare(const mmu::Case& c, const CpuModel& cpu);
// The same for a case with `ept` (called by prepare()).
Prepared prepare_vmx(const mmu::Case& c, const CpuModel& cpu);

// A VMX case's result ('V' frame).
struct VmxResult {
  probe_vmx_wire wire{};
  std::vector<std::uint16_t> changed;
};

// The batch disk: header sector + records (seq = index in `cases`), padded to sectors.
std::vector<std::uint8_t> pack(std::span<Prepared* const> cases);

// What came out of port 0xE9.
struct Output {
  bool hello = false;
  bool end = false;
  std::uint32_t end_ran = 0, end_status = 0;
  std::map<std::uint32_t, probe_result> results;   // by seq
  std::map<std::uint32_t, VmxResult> vmx_results;  // by seq (EPT and nested cases)
  std::map<std::uint32_t, std::string> rejected;   // by seq: the probe's reason
  std::vector<std::string> problems;               // bad frames, probe faults
};
Output parse_output(std::string_view bytes);
// In a parsed probe_result: CR2 was the case's address (the wire leaves it out).
inline constexpr std::uint64_t kCr2IsTheAccess = ~std::uint64_t{0} - 1;

// A probe result in the case's terms.
struct Observed {
  enum class Status { ok, unsupported, unexpected } status = Status::ok;
  mmu::Outcome outcome;
  std::string detail;  // unsupported / unexpected: what happened
};
Observed observe(const Prepared& p, const probe_result& r);
Observed observe_vmx(const Prepared& p, const VmxResult& r);

}  // namespace mmucheck::probe
