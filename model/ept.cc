// EPT translation of one guest-physical address (SDM vol. 3C 29.3).
#include "model/ept.h"

#include <array>

namespace mmu {
namespace {

// EPT entry bits (SDM vol. 3C Tables 29-1..29-6):
//   63 suppress #VE | 62:52 ign (60 SSS) | 51:M rsvd | M-1:12 address | 11 ign | 10 XU (MBEC)
//   9 D (leaf) | 8 A | 7 PS (PDPTE/PDE) / rsvd (PML5E/PML4E) / ign (PTE)
//   6 ignore PAT (leaf) | 5:3 memory type (leaf) / rsvd (non-leaf) | 2 X | 1 W | 0 R
constexpr u64 kR = bit(0), kW = bit(1), kX = bit(2), kPS = bit(7), kA = bit(8), kD = bit(9), kXU = bit(10);

constexpr std::array<std::string_view, kEptFeatureCount> kNames{"exec_only", "ad", "mbec", "2m", "1g", "5level", "advinfo"};
constexpr std::array<std::string_view, 6> kLevelNames{"", "EPTE", "EPDE", "EPDPTE", "EPML4E", "EPML5E"};

}  // namespace

std::string_view ept_feature_name(EptFeature f) { return kNames[static_cast<unsigned>(f)]; }

std::optional<EptFeature> ept_feature_from_name(std::string_view name) {
  for (unsigned i = 0; i < kEptFeatureCount; ++i)
    if (kNames[i] == name) return static_cast<EptFeature>(i);
  return std::nullopt;
}

void merge_write(WriteList& list, const Write& w) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Write& old = list[i];
    if (old.space == w.space && old.addr == w.addr) {
      list.set(i, Write{w.space, w.addr, old.value | w.value});
      return;
    }
  }
  list.push(w);
}

std::optional<u64> written_value(const WriteList& list, Space space, u64 addr) {
  for (const Write& w : list)
    if (w.space == space && w.addr == addr) return w.value;
  return std::nullopt;
}

EptResult ept_translate(const EptState& ept, unsigned M, const EptRequest& r, WriteList& writes,
                        WriteList& optional, Trace* trace) {
  EptResult res;
  const bool mbec = ept.features.has(EptFeature::mbec);
  const bool ad = ept.ad_enabled();
  const unsigned levels = ept.levels();
  // Rights ANDed over the walk (qualification bits 3-6).
  bool rd = true, wr = true, ex = true, exu = true;

  // Qualification bits that describe the access rather than the entries.
  u64 access_bits = (r.read ? eptq::READ : 0) | (r.write ? eptq::WRITE : 0) | (r.fetch ? eptq::FETCH : 0) |
                    (r.shadow_stack ? eptq::SHADOW_STACK : 0);
  if (r.gla_valid) access_bits |= eptq::GLA_VALID | (r.translated ? eptq::TRANSLATED : 0);
  u64 dont_care = r.read_dont_care ? eptq::READ : 0;
  if (!mbec) dont_care |= eptq::USER_EXECUTABLE;
  const bool info = r.gla_valid && r.translated && r.linear_info_defined && ept.features.has(EptFeature::advinfo);
  if (info) access_bits |= r.linear_info & (eptq::USER_LINEAR | eptq::RW_LINEAR | eptq::XD_LINEAR);
  else dont_care |= eptq::USER_LINEAR | eptq::RW_LINEAR | eptq::XD_LINEAR;

  std::array<std::pair<u64, u64>, 5> used{};  // (address, value) of each EPT entry passed
  unsigned nused = 0;
  auto step = [&](unsigned level, u64 addr, u64 e) {
    if (trace) trace->steps.push_back({StepKind::entry, Space::ept, level, kLevelNames[level], addr, e, 0, Rule::none});
  };
  auto mark = [&](Rule rule, u64 mattered) {
    if (trace) {
      trace->check(rule, true);
      trace->steps.back().rule = rule;
      trace->steps.back().mattered = mattered;
    }
  };
  auto fail = [&](OutcomeKind kind, Rule rule) {
    res.kind = kind;
    res.rule = rule;
    // As for guest paging, A on entries passed before a failure is not required.
    if (ad)
      for (unsigned i = 0; i < nused; ++i)
        if (!(used[i].second & kA)) merge_write(optional, {Space::ept, used[i].first, kA | used[i].second});
    if (kind == OutcomeKind::ept_violation) {
      res.qualification = access_bits | (rd ? eptq::READABLE : 0) | (wr ? eptq::WRITABLE : 0) |
                          (ex ? eptq::EXECUTABLE : 0) | (mbec && exu ? eptq::USER_EXECUTABLE : 0);
      res.dont_care = dont_care;
      if (trace && dont_care) trace->check(Rule::ept_qual_open, true);
    }
    return res;
  };

  u64 table = ept.eptp & bits(M - 1, 12);
  for (unsigned level = levels; level >= 1; --level) {
    const unsigned shift = 12 + 9 * (level - 1);
    const u64 addr = table + field(r.gpa, shift + 8, shift) * 8;
    const u64 e = written_value(writes, Space::ept, addr).value_or(ept.memory.read(addr));
    step(level, addr, e);
    const bool present = (e & (kR | kW | kX)) || (mbec && (e & kXU));
    rd &= (e & kR) != 0;
    wr &= (e & kW) != 0;
    ex &= (e & kX) != 0;
    exu &= (e & kXU) != 0;
    if (!present) {
      mark(Rule::ept_not_present, kR | kW | kX);
      return fail(OutcomeKind::ept_violation, Rule::ept_not_present);
    }
    // Misconfigurations (29.3.3.1), checked on every present entry.
    const u64 xwr = e & 7;
    if (xwr == 2 || xwr == 6) {
      mark(Rule::ept_misconfig_w_no_r, kR | kW);
      return fail(OutcomeKind::ept_misconfig, Rule::ept_misconfig_w_no_r);
    }
    if (!(e & (kR | kW)) && !ept.features.has(EptFeature::exec_only)) {
      mark(Rule::ept_misconfig_x_only, kR | kX | (mbec ? kXU : 0));
      return fail(OutcomeKind::ept_misconfig, Rule::ept_misconfig_x_only);
    }
    const bool ps = (e & kPS) != 0;
    const bool large_ok = (level == 2 && ept.features.has(EptFeature::pages_2m)) ||
                          (level == 3 && ept.features.has(EptFeature::pages_1g));
    const bool leaf = level == 1 || (ps && large_ok);
    struct Check { Rule rule; u64 mask; };
    const Check checks[] = {
        {Rule::ept_rsvd_phys, bits(51, M)},
        {Rule::ept_rsvd_level, level >= 4 ? bits(7, 3) : (!leaf ? bits(6, 3) : 0)},
        {Rule::ept_rsvd_ps, (level == 2 || level == 3) && !large_ok ? kPS : 0},
        {Rule::ept_rsvd_align, leaf && level > 1 ? bits(shift - 1, 12) : 0},
    };
    for (const Check& k : checks) {
      if (trace && k.mask) trace->check(k.rule, (e & k.mask) != 0);
      if (e & k.mask) {
        mark(k.rule, e & k.mask);
        return fail(OutcomeKind::ept_misconfig, k.rule);
      }
    }
    if (leaf) {
      const u64 mt = field(e, 5, 3);
      if (mt == 2 || mt == 3 || mt == 7) {
        mark(Rule::ept_misconfig_memtype, bits(5, 3));
        return fail(OutcomeKind::ept_misconfig, Rule::ept_misconfig_memtype);
      }
    }
    used[nused++] = {addr, e};
    if (!leaf) {
      table = e & bits(M - 1, 12);
      continue;
    }

    // The walk is complete: access rights (29.3.3.2).
    Rule denied = Rule::none;
    if (r.read && !rd) denied = Rule::ept_violation_read;
    else if (r.write && !wr) denied = Rule::ept_violation_write;
    else if (r.fetch && mbec && r.user_linear && !exu) denied = Rule::ept_violation_fetch_user;
    else if (r.fetch && !(mbec && r.user_linear) && !ex) denied = Rule::ept_violation_fetch;
    if (trace) {
      trace->check(Rule::ept_leaf, true);
      if (r.read) trace->check(Rule::ept_violation_read, !rd);
      if (r.write) trace->check(Rule::ept_violation_write, !wr);
      if (r.fetch) trace->check(mbec && r.user_linear ? Rule::ept_violation_fetch_user : Rule::ept_violation_fetch,
                                denied != Rule::none);
    }
    if (denied != Rule::none) {
      mark(denied, 0);
      // Entries that were used for a translation that then failed its access
      // check: their A is not required either.
      return fail(OutcomeKind::ept_violation, denied);
    }
    if (trace) trace->steps.back().rule = Rule::ept_leaf;
    res.hpa = (e & bits(M - 1, shift)) | (r.gpa & bits(shift - 1, 0));
    res.page_size = bit(shift);
    if (ad) {
      for (unsigned i = 0; i < nused; ++i) {
        u64 v = used[i].second | kA;
        if (i + 1 == nused && r.write) v |= kD;
        if (trace) {
          trace->check(Rule::ept_ad_accessed, !(used[i].second & kA));
          if (i + 1 == nused && r.write) trace->check(Rule::ept_ad_dirty, !(used[i].second & kD));
        }
        if (v != used[i].second) merge_write(writes, {Space::ept, used[i].first, v});
      }
    }
    return res;
  }
  return res;  // unreachable: level 1 is always a leaf
}

}  // namespace mmu
