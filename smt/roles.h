// The finite space of CPU roles the theorems range over, and the bridge from
// a role point to the engine's tables and back to a concrete case.
//
// A role point fixes everything KVM's guest-paging tables can depend on:
// paging mode, EFER.NXE, CR0.WP, CR4.SMEP/SMAP/PKE/PSE, vendor, CPUID
// 1-GByte pages and PSE-36, MAXPHYADDR 32..52: 4 * 2^9 * 21 = 43008 points.
// For each point the engine's own code builds the tables (cpu_role() then
// MmuAlgorithm::build()); the theorems tabulate them (smt/table.h).
#pragma once
#include <array>
#include <vector>

#include "model/case.h"
#include "model/kvm/kvm_mmu.h"
#include "smt/rules.h"
#include "smt/table.h"

namespace smt {

struct RolePoint {
  unsigned mode = 0;  // sdm::kMode32 .. kMode5
  bool nxe = false, wp = false, smep = false, smap = false, pke = false, pse = false, pse36 = false,
       gbpages = false, amd = false;
  unsigned maxphyaddr = 46;
};

class RoleSpace {
 public:
  // The fields, in tabulation order; their variables are `cpu`'s.
  static constexpr unsigned kFields = 11;
  static constexpr std::size_t kPoints = 4u * 512u * 21u;

  explicit RoleSpace(const sdm::Cpu& cpu);
  const std::vector<Field>& fields() const { return fields_; }
  // The point the first kFields indices of a tabulation choose.
  static RolePoint point(std::span<const unsigned> indices);
  static std::size_t index(std::span<const unsigned> indices);
  static RolePoint point_at(std::size_t index);
  // The point a model assigns to `cpu`'s variables.
  static RolePoint from_model(const Model& m, const sdm::Cpu& cpu);

 private:
  std::vector<Field> fields_;
};

// The CPU state of a role point: paging on in its mode, every CPUID feature
// but those the point turns off, CPL 0, EFLAGS.AC = 0.
mmu::CpuState cpu_state(const RolePoint& p);

// A case for `p`: its CPU state, a read at a linear address every mode maps
// (canonical in 4/5-level paging). Callers add the access and page tables.
mmu::Case base_case(const RolePoint& p);

// mainline-layout tables for every role point, built by `algo`.
std::vector<mmu::kvm::Tables> build_all(const mmu::kvm::MmuAlgorithm& algo);

std::string describe(const RolePoint& p);

// The nested EPT MMU's roles: EPT walk length 4 or 5, EPTP A/D, the
// execute-only, MBEC, 2-MByte and 1-GByte capabilities, MAXPHYADDR 32..52:
// 2 * 2^5 * 21 = 1344 points. Tables come from MmuAlgorithm::build_ept().
struct EptRolePoint {
  unsigned levels = 4;
  bool ad = false, exec_only = false, mbec = false, pages_2m = false, pages_1g = false;
  unsigned maxphyaddr = 46;
};

class EptRoleSpace {
 public:
  static constexpr unsigned kFields = 7;
  static constexpr std::size_t kPoints = 2u * 32u * 21u;

  explicit EptRoleSpace(const sdm::EptCaps& caps);
  const std::vector<Field>& fields() const { return fields_; }
  static EptRolePoint point(std::span<const unsigned> indices);
  static std::size_t index(std::span<const unsigned> indices);
  static EptRolePoint point_at(std::size_t index);
  static EptRolePoint from_model(const Model& m, const sdm::EptCaps& caps);

 private:
  std::vector<Field> fields_;
};

// L1's EPT state for a point: EPTP (root at 0x5000, WB, walk length, A/D) and
// the capabilities; no EPT entries yet.
mmu::EptState ept_state(const EptRolePoint& p);
mmu::kvm::EptRole ept_role_of(const EptRolePoint& p);
std::string describe(const EptRolePoint& p);

}  // namespace smt
