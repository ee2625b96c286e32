#include "smt/roles.h"

#include <string>

namespace smt {
namespace {

// Radix of each field, in tabulation order: mode, nxe, wp, smep, smap, pke,
// pse, pse36, gbpages, amd, maxphyaddr.
constexpr std::array<unsigned, RoleSpace::kFields> kRadix{4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 21};

Field flag(const Expr& b) { return Field{b.as_bv(), {0, 1}}; }

}  // namespace

RoleSpace::RoleSpace(const sdm::Cpu& cpu) {
  std::vector<u64> m;
  for (u64 v = 32; v <= 52; ++v) m.push_back(v);
  fields_ = {Field{cpu.mode, {0, 1, 2, 3}}, flag(cpu.nxe),  flag(cpu.wp),    flag(cpu.smep),
             flag(cpu.smap),               flag(cpu.pke),  flag(cpu.pse),   flag(cpu.pse36),
             flag(cpu.gbpages),            flag(cpu.amd),  Field{cpu.maxphyaddr, m}};
}

RolePoint RoleSpace::point(std::span<const unsigned> i) {
  RolePoint p;
  p.mode = i[0];
  p.nxe = i[1];
  p.wp = i[2];
  p.smep = i[3];
  p.smap = i[4];
  p.pke = i[5];
  p.pse = i[6];
  p.pse36 = i[7];
  p.gbpages = i[8];
  p.amd = i[9];
  p.maxphyaddr = 32 + i[10];
  return p;
}

std::size_t RoleSpace::index(std::span<const unsigned> i) {
  std::size_t n = 0;
  for (unsigned f = 0; f < kFields; ++f) n = n * kRadix[f] + i[f];
  return n;
}

RolePoint RoleSpace::point_at(std::size_t index) {
  std::array<unsigned, kFields> i{};
  for (unsigned f = kFields; f-- > 0;) {
    i[f] = static_cast<unsigned>(index % kRadix[f]);
    index /= kRadix[f];
  }
  return point(i);
}

RolePoint RoleSpace::from_model(const Model& m, const sdm::Cpu& cpu) {
  RolePoint p;
  p.mode = static_cast<unsigned>(m.value(cpu.mode));
  p.nxe = m.holds(cpu.nxe);
  p.wp = m.holds(cpu.wp);
  p.smep = m.holds(cpu.smep);
  p.smap = m.holds(cpu.smap);
  p.pke = m.holds(cpu.pke);
  p.pse = m.holds(cpu.pse);
  p.pse36 = m.holds(cpu.pse36);
  p.gbpages = m.holds(cpu.gbpages);
  p.amd = m.holds(cpu.amd);
  p.maxphyaddr = static_cast<unsigned>(m.value(cpu.maxphyaddr));
  return p;
}

mmu::CpuState cpu_state(const RolePoint& p) {
  using namespace mmu;
  CpuState c;
  c.features = FeatureSet::all();
  if (!p.gbpages) c.features.remove(Feature::pdpe1gb);
  if (!p.pse36) c.features.remove(Feature::pse36);
  c.maxphyaddr = p.maxphyaddr;
  c.vendor = p.amd ? Vendor::amd : Vendor::intel;
  c.cr0 = cr0::PE | cr0::ET | cr0::PG | (p.wp ? cr0::WP : 0);
  c.cr4 = (p.mode != sdm::kMode32 ? cr4::PAE : 0) | (p.mode == sdm::kMode5 ? cr4::LA57 : 0) | (p.pse ? cr4::PSE : 0) |
          (p.smep ? cr4::SMEP : 0) | (p.smap ? cr4::SMAP : 0) | (p.pke ? cr4::PKE : 0);
  c.efer = (p.mode >= sdm::kMode4 ? efer::LME | efer::LMA : 0) | (p.nxe ? efer::NXE : 0);
  return c;
}

mmu::Case base_case(const RolePoint& p) {
  mmu::Case c;
  c.cpu = cpu_state(p);
  const bool long_mode = p.mode >= sdm::kMode4;
  c.access.addr = long_mode ? u64{0x7fff'1234'5000} : u64{0x1234'5000};
  c.access.kind = mmu::AccessKind::read;
  return c;
}

std::vector<mmu::kvm::Tables> build_all(const mmu::kvm::MmuAlgorithm& algo) {
  std::vector<mmu::kvm::Tables> out(RoleSpace::kPoints);
  for (std::size_t i = 0; i < RoleSpace::kPoints; ++i) out[i] = algo.build(mmu::kvm::cpu_role(cpu_state(RoleSpace::point_at(i))));
  return out;
}

std::string describe(const RolePoint& p) {
  static constexpr const char* kModes[] = {"32-bit", "PAE", "4-level", "5-level"};
  std::string s = kModes[p.mode];
  auto add = [&](bool on, const char* n) {
    if (on) s += std::string(" ") + n;
  };
  add(p.nxe, "EFER.NXE");
  add(p.wp, "CR0.WP");
  add(p.pse, "CR4.PSE");
  add(p.smep, "CR4.SMEP");
  add(p.smap, "CR4.SMAP");
  add(p.pke, "CR4.PKE");
  add(p.gbpages, "pdpe1gb");
  add(p.pse36, "pse36");
  add(p.amd, "AMD");
  s += " MAXPHYADDR=" + std::to_string(p.maxphyaddr);
  return s;
}

// ---- EPT roles -------------------------------------------------------------

namespace {
// levels, ad, exec_only, mbec, 2m, 1g, maxphyaddr
constexpr std::array<unsigned, EptRoleSpace::kFields> kEptRadix{2, 2, 2, 2, 2, 2, 21};
}  // namespace

EptRoleSpace::EptRoleSpace(const sdm::EptCaps& caps) {
  std::vector<u64> m;
  for (u64 v = 32; v <= 52; ++v) m.push_back(v);
  fields_ = {Field{caps.levels, {4, 5}}, flag(caps.ad),       flag(caps.exec_only), flag(caps.mbec),
             flag(caps.pages_2m),       flag(caps.pages_1g), Field{caps.maxphyaddr, m}};
}

EptRolePoint EptRoleSpace::point(std::span<const unsigned> i) {
  EptRolePoint p;
  p.levels = 4 + i[0];
  p.ad = i[1];
  p.exec_only = i[2];
  p.mbec = i[3];
  p.pages_2m = i[4];
  p.pages_1g = i[5];
  p.maxphyaddr = 32 + i[6];
  return p;
}

std::size_t EptRoleSpace::index(std::span<const unsigned> i) {
  std::size_t n = 0;
  for (unsigned f = 0; f < kFields; ++f) n = n * kEptRadix[f] + i[f];
  return n;
}

EptRolePoint EptRoleSpace::point_at(std::size_t index) {
  std::array<unsigned, kFields> i{};
  for (unsigned f = kFields; f-- > 0;) {
    i[f] = static_cast<unsigned>(index % kEptRadix[f]);
    index /= kEptRadix[f];
  }
  return point(i);
}

EptRolePoint EptRoleSpace::from_model(const Model& m, const sdm::EptCaps& caps) {
  EptRolePoint p;
  p.levels = static_cast<unsigned>(m.value(caps.levels));
  p.ad = m.holds(caps.ad);
  p.exec_only = m.holds(caps.exec_only);
  p.mbec = m.holds(caps.mbec);
  p.pages_2m = m.holds(caps.pages_2m);
  p.pages_1g = m.holds(caps.pages_1g);
  p.maxphyaddr = static_cast<unsigned>(m.value(caps.maxphyaddr));
  return p;
}

mmu::EptState ept_state(const EptRolePoint& p) {
  using mmu::EptFeature;
  mmu::EptState e;
  e.eptp = 0x5000 | mmu::eptp::WB | (p.levels == 5 ? mmu::eptp::WALK5 : mmu::eptp::WALK4) | (p.ad ? mmu::eptp::AD : 0);
  if (p.levels == 5) e.features.add(EptFeature::level5);
  if (p.ad) e.features.add(EptFeature::ad);
  if (p.exec_only) e.features.add(EptFeature::exec_only);
  if (p.mbec) e.features.add(EptFeature::mbec);
  if (p.pages_2m) e.features.add(EptFeature::pages_2m);
  if (p.pages_1g) e.features.add(EptFeature::pages_1g);
  return e;
}

mmu::kvm::EptRole ept_role_of(const EptRolePoint& p) { return mmu::kvm::ept_role(ept_state(p), p.maxphyaddr); }

std::string describe(const EptRolePoint& p) {
  std::string s = std::to_string(p.levels) + "-level EPT";
  auto add = [&](bool on, const char* n) {
    if (on) s += std::string(" ") + n;
  };
  add(p.ad, "A/D");
  add(p.exec_only, "exec-only");
  add(p.mbec, "MBEC");
  add(p.pages_2m, "2M");
  add(p.pages_1g, "1G");
  s += " MAXPHYADDR=" + std::to_string(p.maxphyaddr);
  return s;
}

}  // namespace smt
