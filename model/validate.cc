#include "model/validate.h"

#include <cstdio>

namespace mmu {
namespace {

std::string hex(u64 v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

struct Cr4Gate {
  u64 bit;
  const char* name;
  Feature feature;
};
constexpr Cr4Gate kCr4Gates[] = {
    {cr4::PSE, "PSE", Feature::pse},    {cr4::LA57, "LA57", Feature::la57},
    {cr4::SMEP, "SMEP", Feature::smep}, {cr4::SMAP, "SMAP", Feature::smap},
    {cr4::PKE, "PKE", Feature::pku},    {cr4::PKS, "PKS", Feature::pks},
};

std::optional<InvalidCase> bad(std::string field, std::string message) {
  return InvalidCase{std::move(field), std::move(message)};
}

std::optional<InvalidCase> validate_cpu(const CpuState& c) {
  if (c.maxphyaddr < 32 || c.maxphyaddr > 52)
    return bad("cpu.maxphyaddr", "MAXPHYADDR must be 32..52, got " + std::to_string(c.maxphyaddr));
  if (c.cpl > 3) return bad("cpu.cpl", "CPL must be 0..3, got " + std::to_string(c.cpl));

  if (c.cr0 & bits(63, 32)) return bad("cpu.cr0", "bits 63:32 of CR0 are reserved: " + hex(c.cr0));
  if ((c.cr0 & cr0::PG) && !(c.cr0 & cr0::PE)) return bad("cpu.cr0", "CR0.PG = 1 requires CR0.PE = 1");
  if ((c.cr0 & cr0::NW) && !(c.cr0 & cr0::CD)) return bad("cpu.cr0", "CR0.NW = 1 requires CR0.CD = 1");

  if (c.cr4 & ~cr4::KNOWN) return bad("cpu.cr4", "reserved CR4 bits set: " + hex(c.cr4 & ~cr4::KNOWN));
  for (const Cr4Gate& g : kCr4Gates)
    if ((c.cr4 & g.bit) && !c.features.has(g.feature))
      return bad("cpu.cr4", std::string("CR4.") + g.name + " = 1 but CPUID does not report '" +
                                std::string(feature_name(g.feature)) + "'");
  if ((c.cr4 & cr4::CET) && !c.features.has(Feature::shstk) && !c.features.has(Feature::ibt))
    return bad("cpu.cr4", "CR4.CET = 1 but CPUID reports neither 'shstk' nor 'ibt'");
  if ((c.cr4 & cr4::CET) && !(c.cr0 & cr0::WP))
    return bad("cpu.cr4", "CR4.CET = 1 requires CR0.WP = 1 (SDM 2.5)");

  if (c.efer & ~efer::KNOWN) return bad("cpu.efer", "reserved EFER bits set: " + hex(c.efer & ~efer::KNOWN));
  if ((c.efer & efer::NXE) && !c.features.has(Feature::nx))
    return bad("cpu.efer", "EFER.NXE = 1 but CPUID does not report 'nx'");
  const bool lme = c.efer & efer::LME, pg = c.cr0 & cr0::PG, pae = c.cr4 & cr4::PAE;
  const bool lma = c.efer & efer::LMA;
  if (lme && pg && !pae) return bad("cpu.cr4", "EFER.LME = 1 with CR0.PG = 1 requires CR4.PAE = 1");
  if (lma != (lme && pg))
    return bad("cpu.efer", std::string("EFER.LMA must equal EFER.LME AND CR0.PG (") +
                               (lma ? "LMA = 1 without paging in long mode" : "LME = 1 and PG = 1 but LMA = 0") + ")");
  if ((c.cr4 & cr4::PCIDE) && !lma) return bad("cpu.cr4", "CR4.PCIDE = 1 requires IA-32e mode (EFER.LMA = 1)");

  if (c.rflags & rflags::RESERVED)
    return bad("cpu.rflags", "reserved RFLAGS bits set: " + hex(c.rflags & rflags::RESERVED));
  if (!(c.rflags & rflags::FIXED1)) return bad("cpu.rflags", "RFLAGS bit 1 is always 1");
  if (!(c.cr0 & cr0::PE) && c.cpl != 0) return bad("cpu.cpl", "CPL is 0 in real-address mode (CR0.PE = 0)");
  if (c.rflags & rflags::VM) {
    if (lma) return bad("cpu.rflags", "RFLAGS.VM = 1 is impossible in IA-32e mode");
    if (!(c.cr0 & cr0::PE)) return bad("cpu.rflags", "RFLAGS.VM = 1 requires CR0.PE = 1");
    if (c.cpl != 3) return bad("cpu.cpl", "virtual-8086 mode (RFLAGS.VM = 1) runs at CPL 3");
  }

  if (lma) {
    // Bits 62:M of CR3 are reserved (bit 63 is the PCID no-flush hint, never stored).
    const u64 rsvd = bits(62, c.maxphyaddr);
    if (c.cr3 & rsvd) return bad("cpu.cr3", "CR3 bits 62:MAXPHYADDR are reserved (LAM is not modelled): " + hex(c.cr3 & rsvd));
  } else if (c.cr3 & bits(63, c.maxphyaddr)) {
    // Outside IA-32e mode paging uses CR3 bits 31:5 or 31:12 only, but VM entry
    // can leave bits up to MAXPHYADDR-1 set; beyond that they are reserved.
    return bad("cpu.cr3", "CR3 bits 63:MAXPHYADDR are reserved: " + hex(c.cr3 & bits(63, c.maxphyaddr)));
  }
  return std::nullopt;
}

// VM-entry checks on the EPTP (SDM vol. 3C 27.2.1.1) and the capabilities it uses.
std::optional<InvalidCase> validate_ept(const EptState& ept, const CpuState& cpu) {
  const u64 mt = field(ept.eptp, 2, 0);
  if (mt != eptp::UC && mt != eptp::WB)
    return bad("ept.eptp", "EPTP memory type (bits 2:0) must be 0 (UC) or 6 (WB), got " + std::to_string(mt));
  const unsigned levels = ept.levels();
  if (levels != 4 && levels != 5)
    return bad("ept.eptp", "EPTP page-walk length (bits 5:3) must be 3 (4-level) or 4 (5-level)");
  if (levels == 5 && !ept.features.has(EptFeature::level5))
    return bad("ept.eptp", "5-level EPT needs the '5level' capability in ept.features");
  if (ept.ad_enabled() && !ept.features.has(EptFeature::ad))
    return bad("ept.eptp", "EPTP bit 6 (A/D enable) needs the 'ad' capability in ept.features");
  if (ept.eptp & eptp::SSS) return bad("ept.eptp", "EPTP bit 7 (supervisor shadow-stack control) is not modelled");
  if (ept.eptp & bits(11, 8)) return bad("ept.eptp", "EPTP bits 11:8 are reserved: " + hex(ept.eptp & bits(11, 8)));
  if (ept.eptp & bits(63, cpu.maxphyaddr))
    return bad("ept.eptp", "EPTP bits 63:MAXPHYADDR are reserved: " + hex(ept.eptp & bits(63, cpu.maxphyaddr)));
  for (const auto& e : ept.memory.entries()) {
    auto where = [&] { return "ept.memory." + hex(e.addr); };
    if (e.addr % 8) return bad(where(), "EPT entries are 8 bytes: the address must be 8-byte aligned");
    if (e.addr >> 52) return bad(where(), "physical addresses are at most 52 bits");
  }
  return std::nullopt;
}

// An earlier state of the same vCPU: a legal state, with the same CPUID.
std::optional<InvalidCase> validate_history(const Case& c) {
  for (std::size_t i = 0; i < c.history.size(); ++i) {
    const CpuState& h = c.history[i];
    // Named only on an error: fuzz targets validate every input.
    auto at = [i] { return "history[" + std::to_string(i) + "]"; };
    if (auto e = validate_cpu(h)) {
      if (e->field.starts_with("cpu")) e->field = at() + e->field.substr(3);
      return e;
    }
    if (h.maxphyaddr != c.cpu.maxphyaddr || h.vendor != c.cpu.vendor || !(h.features == c.cpu.features))
      return bad(at(), "an earlier state of the same vCPU has the same CPUID: maxphyaddr, vendor and features must equal cpu's");
  }
  return std::nullopt;
}

}  // namespace

std::optional<InvalidCase> validate(const Case& c) {
  if (auto e = validate_cpu(c.cpu)) return e;
  if (auto e = validate_history(c)) return e;

  const CpuState& cpu = c.cpu;
  const PagingMode mode = paging_mode(cpu);
  const Access& a = c.access;
  if (!(cpu.efer & efer::LMA) && (a.addr >> 32))
    return bad("access.addr", "outside IA-32e mode linear addresses are 32 bits: " + hex(a.addr));
  if (a.kind == AccessKind::fetch && a.implicit)
    return bad("access.implicit", "implicit supervisor-mode accesses are data accesses, not fetches");
  if (a.kind == AccessKind::fetch && a.shadow_stack)
    return bad("access.shadow_stack", "a shadow-stack access reads or writes; it is never a fetch");
  if (a.shadow_stack && !(cpu.cr4 & cr4::CET))
    return bad("access.shadow_stack", "shadow-stack accesses need CR4.CET = 1");
  if (a.shadow_stack && !cpu.features.has(Feature::shstk))
    return bad("access.shadow_stack", "shadow-stack accesses need CPUID 'shstk'");
  if (a.shadow_stack && !(cpu.cr0 & cr0::PG))
    return bad("access.shadow_stack", "shadow stacks operate only with paging on (CR0.PG = 1)");
  if (a.shadow_stack && (cpu.rflags & rflags::VM))
    return bad("access.shadow_stack", "shadow stacks are disabled in virtual-8086 mode");

  const unsigned width = entry_bytes(mode);
  for (const auto& e : c.memory.entries()) {
    // The field name is built only on error: exhaust validates millions of cases.
    auto where = [&] { return "memory." + hex(e.addr); };
    if (e.addr % width)
      return bad(where(), "entries are " + std::to_string(width) + " bytes in " + std::string(mode_name(mode)) +
                              " paging: the address must be " + std::to_string(width) + "-byte aligned");
    if (width == 4 && (e.value >> 32))
      return bad(where(), "32-bit paging entries are 4 bytes; value " + hex(e.value) + " does not fit");
    if (e.addr >> 52) return bad(where(), "physical addresses are at most 52 bits");
  }
  if (c.ept && cpu.vendor != Vendor::intel)
    return bad("ept", "EPT is part of Intel VMX: a case with 'ept' must have vendor intel");
  if (c.ept) return validate_ept(*c.ept, cpu);
  return std::nullopt;
}

}  // namespace mmu
