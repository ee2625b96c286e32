// The nested EPT MMU: KVM's tables for L1's EPT and its EPT walker, from
// facts-kvm.md and a reading of mmu.c (__reset_rsvds_bits_mask_ept,
// update_permission_bitmask with ept = true) and paging_tmpl.h (PTTYPE_EPT).
#include <algorithm>

#include "model/kvm/kvm_mmu.h"

namespace mmu::kvm {
namespace {

// EPT entry bits KVM's walker looks at:
//   51:M rsvd | M-1:12 address | 10 XU (MBEC) | 9 D | 8 A | 7 PS | 5:3 memory type | 2 X | 1 W | 0 R
constexpr u64 kR = bit(0), kW = bit(1), kX = bit(2), kA = bit(8), kD = bit(9), kXU = bit(10);

constexpr u64 rsvd_bits(unsigned s, unsigned e) { return bits(e, s); }

// A byte with bit i set for every ACC value i that has `acc` set.
constexpr std::uint8_t byte_mask(unsigned acc) {
  std::uint8_t m = 0;
  for (unsigned i = 0; i < 8; ++i)
    if (i & acc) m |= static_cast<std::uint8_t>(1u << i);
  return m;
}

// An 8-byte value with `b` in every byte.
constexpr u64 repeat_byte(u64 b) { return b * 0x0101010101010101ull; }

constexpr std::array<std::string_view, 6> kLevelNames{"", "EPTE", "EPDE", "EPDPTE", "EPML4E", "EPML5E"};

}  // namespace

EptRole ept_role(const EptState& ept, unsigned maxphyaddr) {
  EptRole r;
  r.level = ept.levels();
  r.ad = ept.ad_enabled();
  r.exec_only = ept.features.has(EptFeature::exec_only);
  r.mbec = ept.features.has(EptFeature::mbec);
  r.pages_2m = ept.features.has(EptFeature::pages_2m);
  r.pages_1g = ept.features.has(EptFeature::pages_1g);
  r.maxphyaddr = maxphyaddr;
  return r;
}

EptTables MmuAlgorithm::build_ept(const EptRole& role) const {
  EptTables t;
  update_ept_permission_bitmask(role, t);
  reset_ept_rsvds_bits_mask(role, t);
  return t;
}

// The EPT form of the permission truth table: the pfec's U slot means "a
// read", and an ACC value's U bit means "readable". No SMEP/SMAP/WP/NX here.
//   wf: a write to a page without W;  uf: a read of a page without R;  ff: a fetch from a page without X
void MmuAlgorithm::update_ept_permission_bitmask(const EptRole&, EptTables& t) const {
  const std::uint8_t x = byte_mask(ACC_EXEC), w = byte_mask(ACC_WRITE), u = byte_mask(ACC_USER);
  for (unsigned index = 0; index < 16; ++index) {
    const u64 pfec = u64{index} << 1;
    const std::uint8_t wf = (pfec & PFERR_WRITE) ? static_cast<std::uint8_t>(~w) : 0;
    const std::uint8_t uf = (pfec & PFERR_USER) ? static_cast<std::uint8_t>(~u) : 0;
    const std::uint8_t ff = (pfec & PFERR_FETCH) ? static_cast<std::uint8_t>(~x) : 0;
    t.permissions[index] = ff | uf | wf;
  }
}

// Indexed [bit 7][level - 1]; `high` = bits M..51.
//   EPML5E/EPML4E: high | 7:3          EPDPTE: high | 6:3 | (7 without 1G)   EPDE: high | 6:3 | (7 without 2M or 1G)
//   EPTE: high (5:3 is the memory type, 7 ignored)
//   1-GByte leaf: high | 29:12 | (7 without 1G)    2-MByte leaf: high | 20:12 | (7 without 2M or 1G)
// bad_mt_xwr, indexed by entry bits 5:0 (memory type 5:3, XWR 2:0):
//   memory type 2, 3 or 7: every XWR;  XWR 010 or 110: every type;  XWR 100 unless execute-only is supported.
void MmuAlgorithm::reset_ept_rsvds_bits_mask(const EptRole& role, EptTables& t) const {
  auto& m = t.rsvd_bits_mask;
  const u64 high = rsvd_bits(role.maxphyaddr, 51);
  const u64 no_1g = role.pages_1g ? 0 : rsvd_bits(7, 7);
  // KVM keeps one huge-page level from L1's EPT capabilities (1 GByte
  // whenever that bit is set), so 1-GByte support lets 2-MByte leaves through
  // too: the finding ept-1g-cap-allows-2m-pages (replay/known.h).
  const u64 no_2m = role.pages_2m || role.pages_1g ? 0 : rsvd_bits(7, 7);
  m[0][4] = high | rsvd_bits(3, 7);
  m[0][3] = high | rsvd_bits(3, 7);
  m[0][2] = high | rsvd_bits(3, 6) | no_1g;
  m[0][1] = high | rsvd_bits(3, 6) | no_2m;
  m[0][0] = high;
  m[1][4] = m[0][4];
  m[1][3] = m[0][3];
  m[1][2] = high | rsvd_bits(12, 29) | no_1g;
  m[1][1] = high | rsvd_bits(12, 20) | no_2m;
  m[1][0] = m[0][0];

  u64 bad = 0;
  for (u64 type : {2, 3, 7}) bad |= u64{0xff} << (8 * type);
  bad |= repeat_byte(bit(0b010)) | repeat_byte(bit(0b110));
  if (!role.exec_only) bad |= repeat_byte(bit(0b100));
  t.bad_mt_xwr = bad;
}

// Level 1 always ends the walk; above it, PS does (a PS that the level does
// not allow was already refused as reserved).
bool MmuAlgorithm::is_last_ept_gpte(const EptRole&, unsigned level, u64 epte) const {
  return level == 1 || (epte & bit(7));
}

bool MmuAlgorithm::is_present_ept_gpte(const EptRole& role, u64 epte) const {
  return (epte & (kR | kW | kX)) || (role.mbec && (epte & kXU));
}

// MBEC (as the 2025 MBEC series models it): XU governs fetches from
// user-mode linear addresses, X those from supervisor-mode ones.
bool MmuAlgorithm::ept_fetch_checks_xu(const EptRole& role, const EptRequest& r, const CpuState&) const {
  return role.mbec && r.user_linear;
}

bool MmuAlgorithm::ept_permission_fault(const EptRole&, const EptTables& t, unsigned pte_access, u64 pfec) const {
  return (t.permissions[(pfec & (PFERR_WRITE | PFERR_USER | PFERR_FETCH)) >> 1] >> pte_access) & 1;
}

// The raw R, W, X bits (and XU with MBEC) land in qualification bits 3, 4, 5 (and 6).
u64 MmuAlgorithm::ept_qualification_rights(const EptRole& role, u64 raw_rights) const {
  u64 q = (raw_rights & (kR | kW | kX)) << 3;
  if (role.mbec && (raw_rights & kXU)) q |= eptq::USER_EXECUTABLE;
  return q;
}

EptResult MmuAlgorithm::ept_walk(const EptRole& role, const EptTables& t, const Case& c, const EptRequest& r,
                                 WriteList& writes, Trace* trace) const {
  EptResult res;
  const EptState& ept = *c.ept;
  // handle_ept_violation(): the exit qualification's access bits become a pfec.
  const u64 pfec = (r.read ? PFERR_USER : 0) | (r.write ? PFERR_WRITE : 0) | (r.fetch ? PFERR_FETCH : 0);
  auto step = [&](unsigned level, u64 addr, u64 e) {
    if (trace) trace->steps.push_back({StepKind::entry, Space::ept, level, kLevelNames[level], addr, e, 0, Rule::none});
  };
  std::array<std::pair<u64, u64>, 6> used{};
  unsigned nused = 0;
  u64 raw_access = ~u64{0};  // the raw entry bits ANDed over the walk (pt_access & pte)
  auto violation = [&] {
    res.kind = OutcomeKind::ept_violation;
    // nested_ept_inject_page_fault(): GLA bits from the processor's
    // qualification, the rest from the walk.
    u64 q = (r.read ? eptq::READ : 0) | (r.write ? eptq::WRITE : 0) | (r.fetch ? eptq::FETCH : 0);
    if (r.gla_valid) q |= eptq::GLA_VALID | (r.translated ? eptq::TRANSLATED : 0);
    res.qualification = q | ept_qualification_rights(role, raw_access);
    return res;
  };

  unsigned level = role.level;
  u64 table = ept.eptp & bits(51, 12);
  u64 e = 0;
  for (;;) {
    // Below level 1 (only a broken last-level test gets here) KVM's index
    // arithmetic takes address bits 11:3.
    const unsigned shift = level ? 12 + 9 * (level - 1) : 3;
    const u64 addr = table + field(r.gpa, shift + 8, shift) * 8;
    e = written_value(writes, Space::ept, addr).value_or(ept.memory.read(addr));
    step(level, addr, e);
    raw_access &= e;
    if (!is_present_ept_gpte(role, e)) return violation();
    const u64 rsvd = level ? t.rsvd_bits_mask[(e >> 7) & 1][level - 1] : 0;
    // With MBEC an XU-only entry is as execute-only as an X-only one, so the
    // bad_mt_xwr lookup sees XU in the X slot.
    const u64 mt_xwr = (e & 0x3f) | (role.mbec && (e & kXU) ? kX : 0);
    if ((e & rsvd) || ((t.bad_mt_xwr >> mt_xwr) & 1)) {
      res.kind = OutcomeKind::ept_misconfig;
      return res;
    }
    if (nused < used.size()) used[nused++] = {addr, e};
    if (level == 0 || is_last_ept_gpte(role, level, e)) break;
    table = e & bits(51, 12);
    --level;
  }

  // FNAME(gpte_access) for EPT: W -> WRITE, X -> EXEC, R -> USER; with MBEC
  // a user-mode fetch is checked against XU in the EXEC slot.
  const bool xu = r.fetch && ept_fetch_checks_xu(role, r, c.cpu);
  const unsigned pte_access = ((raw_access & kW) ? ACC_WRITE : 0) | ((raw_access & kR) ? ACC_USER : 0) |
                              ((raw_access & (xu ? kXU : kX)) ? ACC_EXEC : 0);
  if (ept_permission_fault(role, t, pte_access, pfec)) return violation();

  const unsigned shift = level ? 12 + 9 * (level - 1) : 12;
  res.hpa = (e & bits(51, shift)) | (r.gpa & bits(shift - 1, 0));
  res.page_size = bit(shift);
  // update_accessed_dirty_bits(): A at every level, D at the leaf on a write.
  if (role.ad)
    for (unsigned i = 0; i < nused; ++i) {
      u64 v = used[i].second | kA;
      if (i + 1 == nused && r.write) v |= kD;
      if (v != used[i].second) merge_write(writes, {Space::ept, used[i].first, v});
    }
  return res;
}

}  // namespace mmu::kvm
