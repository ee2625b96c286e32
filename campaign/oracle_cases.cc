#include "campaign/oracle_cases.h"

#include "fuzz/decoder.h"
#include "model/validate.h"
#include "replay/probe_batch.h"

namespace mmucheck {

std::optional<mmu::Case> fit_case(const mmu::Case& c, probe::Emulator e, bool one_cpu) {
  mmu::Case d = c;
  using F = mmu::Feature;
  if (e == probe::Emulator::bochs) {
    d.cpu.maxphyaddr = 40;
    d.cpu.vendor = mmu::Vendor::intel;
    d.cpu.features = probe::bochs_model().features;
  } else if (e == probe::Emulator::kvm) {
    const probe::CpuModel h = probe::host_model();
    d.cpu.maxphyaddr = h.maxphyaddr;
    d.cpu.vendor = h.vendor;
    d.cpu.features = h.features;
  } else {
    // A few CPU models, so that cases share boots: MAXPHYADDR 36, 40, 46 or
    // 52, the case's vendor, PSE-36 and 1-GByte pages always reported.
    static const unsigned ms[] = {36, 40, 46, 52};
    d.cpu.maxphyaddr = one_cpu ? 46 : ms[c.cpu.maxphyaddr % 4];
    if (one_cpu) d.cpu.vendor = mmu::Vendor::intel;
    for (F f : {F::nx, F::pse, F::pse36, F::pdpe1gb, F::smep, F::smap, F::pku, F::pks, F::la57}) d.cpu.features.add(f);
  }
  if (d.ept && e == probe::Emulator::bochs) {
    // Bochs cannot switch off its EPT capabilities: the case gets them. The
    // ones it lacks (MBEC, 5-level EPT, advanced exit information) stay where
    // the case has them, so that such a case is reported unsupported with that
    // reason rather than silently changed into another.
    const mmu::EptFeatureSet had = d.ept->features;
    d.ept->features = probe::bochs_model().ept_features;
    for (mmu::EptFeature f : {mmu::EptFeature::mbec, mmu::EptFeature::level5, mmu::EptFeature::advinfo})
      if (had.has(f)) d.ept->features.add(f);
  }
  // kvm-hw: the host's EPT capabilities are only known inside the guest (the
  // probe reads the VMX MSRs and rejects a case whose capabilities differ).
  for (auto& h : d.history) {
    h.maxphyaddr = d.cpu.maxphyaddr;
    h.vendor = d.cpu.vendor;
    h.features = d.cpu.features;
  }
  if (mmu::validate(d)) return std::nullopt;
  return d;
}

std::vector<mmu::Case> random_oracle_cases(probe::Emulator e, std::size_t n, std::mt19937_64& rng, bool one_cpu,
                                           fuzz::Shape shape) {
  fuzz::DecodeOptions opt;
  if (e == probe::Emulator::qemu) shape = fuzz::Shape::guest;  // QEMU TCG has no VMX
  opt.shape = shape;
  // Shadow-stack accesses: the probe runs them only on Bochs (QEMU 7.2 TCG
  // has no CET): for guest paging writes at CPL 0 and 3 and reads at CPL 3,
  // under EPT reads and writes at every CPL (docs/hardware.md).
  opt.shadow_stack = e == probe::Emulator::bochs;
  opt.cr4_clear = mmu::cr4::VMXE | mmu::cr4::SMXE | mmu::cr4::UINTR | mmu::cr4::KL;
  if (e == probe::Emulator::bochs) opt.cr4_clear |= mmu::cr4::LA57 | mmu::cr4::PKS;
  if (e == probe::Emulator::qemu) opt.cr4_clear |= mmu::cr4::CET;
  std::vector<mmu::Case> out;
  std::vector<std::uint8_t> bytes;
  for (std::size_t attempts = 0; out.size() < n && attempts < 50 * n; ++attempts) {
    bytes.resize(53 + 9 * 6 + (rng() % 24));
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    mmu::Case c = fuzz::decode(bytes, opt);
    // (implicit accesses stay: the probe stages reads and writes as LAR / MOV
    // FS through an LDT at the address; the decoder draws no implicit fetch)
    if (c.access.shadow_stack) {
      c.access.addr &= ~mmu::u64{7};  // WRSS needs an aligned address (#GP otherwise)
      c.access.implicit = false;      // the probe stages no implicit shadow-stack access
    }
    c.cpu.efer &= mmu::efer::SCE | mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
    c.cpu.rflags &= ~mmu::rflags::VM;
    c.history.clear();
    if (!c.ept && mmu::paging_mode(c.cpu) == mmu::PagingMode::none) continue;
    // random cases are drawn for what the emulator can run: its EPT capabilities exactly
    if (c.ept && e == probe::Emulator::bochs) c.ept->features = probe::bochs_model().ept_features;
    if (auto d = fit_case(c, e, one_cpu)) out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace mmucheck
