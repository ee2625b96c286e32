#include "replay/probe_known.h"

#include <algorithm>

#include "model/reference.h"

namespace mmucheck::probe {
namespace {

using mmu::u64;
using mmu::Rule;

constexpr u64 kA = 0x20;

// Adds, for `v` and each of its alternatives, an alternative with `f` applied.
template <typename F>
void add_alternative(mmu::Verdict& v, F f) {
  std::vector<mmu::Verdict> extra;
  auto one = [&](const mmu::Verdict& x) {
    mmu::Verdict y = x;
    y.alternatives.clear();
    if (f(y)) extra.push_back(std::move(y));
  };
  one(v);
  for (const mmu::Verdict& a : v.alternatives) one(a);
  for (auto& e : extra) v.alternatives.push_back(std::move(e));
}

void add_optional(mmu::Verdict& v, const mmu::Write& w) {
  v.optional_writes.push(w);
  for (mmu::Verdict& a : v.alternatives) add_optional(a, w);
}

bool rsvd_rule(Rule r) {
  switch (r) {
    case Rule::rsvd_phys:
    case Rule::rsvd_xd:
    case Rule::rsvd_ps_nonleaf:
    case Rule::rsvd_ps_1g:
    case Rule::rsvd_large_align:
    case Rule::rsvd_pse36:
    case Rule::rsvd_pae_pdpte:
    case Rule::rsvd_pae_high:
    case Rule::rsvd_amd_bit8: return true;
    default: return false;
  }
}

// The reference on a variant `d` of the case, as an alternative; and, as QEMU
// drops PK when another rule also faults (qemu-pk-with-other-fault), that
// variant of it too.
bool rsvd_rule(Rule r);

// (Only QEMU deviations use this: its other habits apply to the variant too --
// A set before the reserved-bit check, qemu-accessed-before-rsvd.)
void add_reference_alternative(mmu::Verdict& v, const mmu::Case& d) {
  mmu::Trace t;
  mmu::Verdict alt = mmu::reference::evaluate(d, &t);
  if (rsvd_rule(t.decided_by) && !t.steps.empty() && !(t.steps.back().value & kA))
    alt.optional_writes.push({mmu::Space::guest, t.steps.back().addr, t.steps.back().value | kA});
  if (alt.outcome.kind == mmu::OutcomeKind::page_fault && (alt.outcome.error_code & mmu::pferr::PK) &&
      t.decided_by != Rule::pk_ad && t.decided_by != Rule::pk_wd) {
    mmu::Verdict no_pk = alt;
    no_pk.outcome.error_code &= ~mmu::pferr::PK;
    v.alternatives.push_back(no_pk);
  }
  v.alternatives.push_back(alt);
}

bool is_pae(const mmu::Case& c) { return mmu::paging_mode(c.cpu) == mmu::PagingMode::pae; }

const std::vector<KnownDeviation>& table() {
  static const std::vector<KnownDeviation> entries{
      // First: the widenings after it (QEMU's A-flag habits) apply to its alternatives too.
      {"qemu-implicit-smap-ac", "qemu",
       "CR4.SMAP: QEMU TCG lets RFLAGS.AC = 1 at CPL < 3 allow implicit supervisor-mode reads of user-mode pages "
       "(descriptor-table reads), as for explicit ones; SDM 4.6.1: an implicit access may not read a user-mode "
       "address whatever AC is",
       [](const mmu::Case& c, const mmu::Verdict&, const mmu::Trace&) {
         return c.access.implicit && c.cpu.cpl < 3 && (c.cpu.rflags & mmu::rflags::AC) && (c.cpu.cr4 & mmu::cr4::SMAP);
       },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         mmu::Case d = c;  // the same access made explicitly at that CPL
         d.access.implicit = false;
         add_reference_alternative(v, d);
         // QEMU's vendor=AuthenticAMD habit (qemu-amd-bit8) holds for it too
         if (d.cpu.vendor == mmu::Vendor::amd) {
           d.cpu.vendor = mmu::Vendor::intel;
           add_reference_alternative(v, d);
         }
       }},
      {"qemu-pae-pdptes-not-loaded", "qemu",
       "PAE: QEMU TCG does not load (or check) the four PDPTEs when CR3 is loaded; it reads the one PDPTE the access "
       "uses during the walk and checks only its bits 63:M (a #PF), so a reserved bit in a present PDPTE gives no #GP",
       [](const mmu::Case&, const mmu::Verdict&, const mmu::Trace& t) { return t.decided_by == Rule::pdpte_load_reserved; },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         // What a walk-time check of the PDPTE the access uses gives: the
         // reference on the case with the reserved bits of the other three
         // cleared, or a reserved-bit #PF when the used one has them.
         const u64 cr3 = c.cpu.cr3 & mmu::bits(31, 5);
         const unsigned used = static_cast<unsigned>(mmu::field(c.access.addr, 31, 30));
         const u64 rsvd = mmu::bits(2, 1) | mmu::bits(8, 5) | mmu::bits(63, c.cpu.maxphyaddr);
         mmu::Case d = c;
         bool used_bad = false;
         // At walk time it checks only bits 63:M of the one it uses (bits 2:1
         // and 8:5 are not checked at all).
         const u64 walk_rsvd = mmu::bits(63, c.cpu.maxphyaddr);
         for (unsigned i = 0; i < 4; ++i) {
           const u64 a = cr3 + 8 * i, e = c.memory.read(a);
           if (!(e & 1) || !(e & rsvd)) continue;
           if (i == used && (e & walk_rsvd)) used_bad = true;
           else d.memory.set(a, e & ~rsvd);
         }
         if (used_bad) {
           mmu::Case np = d;  // the access's own error-code bits: the reference with that PDPTE absent
           np.memory.set(cr3 + 8 * used, 0);
           mmu::Verdict alt = mmu::reference::evaluate(np);
           alt.outcome.error_code |= mmu::pferr::P | mmu::pferr::RSVD;
           alt.optional_writes.clear();
           v.alternatives.push_back(alt);
         } else {
           add_reference_alternative(v, d);
         }
       }},
      {"qemu-amd-bit8", "qemu",
       "vendor=AuthenticAMD: QEMU TCG does not treat bit 8 of a PML4E/PML5E as reserved (AMD APM vol. 2, 5.3.3: "
       "must be zero)",
       [](const mmu::Case&, const mmu::Verdict&, const mmu::Trace& t) { return t.decided_by == Rule::rsvd_amd_bit8; },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         mmu::Case d = c;
         d.cpu.vendor = mmu::Vendor::intel;
         add_reference_alternative(v, d);
       }},
      {"qemu-pse36-reserved-bits", "qemu",
       "32-bit paging, 4-MByte page: QEMU TCG takes PDE bits 20:13 as physical-address bits 39:32 whatever MAXPHYADDR "
       "(phys-bits) is and whether or not CPUID reports PSE-36, so bits 20:(M-19) are not reserved; the access then goes to an address above the probe's RAM "
       "(the probe reports that it reached another physical address)",
       [](const mmu::Case&, const mmu::Verdict&, const mmu::Trace& t) { return t.decided_by == Rule::rsvd_pse36; },
       [](const mmu::Case& c, const mmu::Trace& t, mmu::Verdict& v) {
         // Its access rights still apply: the reference with those bits clear,
         // and where that translates, the access lands elsewhere.
         mmu::Case d = c;
         d.memory.set(t.steps.back().addr, t.steps.back().value & ~mmu::bits(21, 13));
         mmu::Verdict alt = mmu::reference::evaluate(d);
         if (alt.outcome.kind == mmu::OutcomeKind::ok) {
           alt = mmu::Verdict{};  // the engines' placeholder for "went to another physical address"
           alt.outcome.kind = mmu::OutcomeKind::general_protection;
         }
         v.alternatives.push_back(alt);
       }},
      {"qemu-1g-without-pdpe1gb", "qemu",
       "4-level/5-level: QEMU TCG maps a 1-GByte page for PS = 1 in a PDPTE even when CPUID does not report Page1GB "
       "(-cpu ...,pdpe1gb=off), where the bit is reserved",
       [](const mmu::Case&, const mmu::Verdict&, const mmu::Trace& t) { return t.decided_by == Rule::rsvd_ps_1g; },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         mmu::Case d = c;
         d.cpu.features.add(mmu::Feature::pdpe1gb);
         add_reference_alternative(v, d);
       }},
      {"qemu-rsvd-no-p", "qemu",
       "a #PF for a reserved bit reports P = 0 in the error code (QEMU TCG's walker builds the error code from RSVD "
       "alone)",
       [](const mmu::Case&, const mmu::Verdict&, const mmu::Trace&) { return true; },
       [](const mmu::Case&, const mmu::Trace&, mmu::Verdict& v) {
         add_alternative(v, [](mmu::Verdict& y) {
           if (y.outcome.kind != mmu::OutcomeKind::page_fault || !(y.outcome.error_code & mmu::pferr::RSVD)) return false;
           y.outcome.error_code &= ~mmu::pferr::P;
           return true;
         });
       }},
      {"qemu-accessed-before-rsvd", "qemu",
       "QEMU TCG sets the accessed flag of an entry before it checks that entry's reserved bits (and PS in a PDPTE "
       "without 1-GByte pages), so the entry that faults gets A = 1",
       [](const mmu::Case&, const mmu::Verdict&, const mmu::Trace& t) { return rsvd_rule(t.decided_by) && !t.steps.empty(); },
       [](const mmu::Case&, const mmu::Trace& t, mmu::Verdict& v) {
         const mmu::TraceStep& s = t.steps.back();
         if (!(s.value & kA)) add_optional(v, {mmu::Space::guest, s.addr, s.value | kA});
       }},
      {"qemu-pae-pdpte-accessed", "qemu",
       "PAE: QEMU TCG sets bit 5 (an accessed flag) in the PDPTE the walk uses; PAE PDPTEs have no accessed flag and "
       "bit 5 is reserved",
       [](const mmu::Case& c, const mmu::Verdict&, const mmu::Trace&) { return is_pae(c); },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         const u64 a = (c.cpu.cr3 & mmu::bits(31, 5)) + 8 * mmu::field(c.access.addr, 31, 30);
         const u64 e = c.memory.read(a);
         if ((e & 1) && !(e & kA)) add_optional(v, {mmu::Space::guest, a, e | kA});
       }},
      {"qemu-pk-with-other-fault", "qemu",
       "when another access-rights rule already faults, QEMU TCG does not report the PK flag though the protection "
       "key also forbids the access (SDM 4.7 sets PK from the key alone)",
       [](const mmu::Case&, const mmu::Verdict& ref, const mmu::Trace& t) {
         return ref.outcome.kind == mmu::OutcomeKind::page_fault && (ref.outcome.error_code & mmu::pferr::PK) &&
                t.decided_by != Rule::pk_ad && t.decided_by != Rule::pk_wd;
       },
       [](const mmu::Case&, const mmu::Trace&, mmu::Verdict& v) {
         add_alternative(v, [](mmu::Verdict& y) {
           if (y.outcome.kind != mmu::OutcomeKind::page_fault || !(y.outcome.error_code & mmu::pferr::PK)) return false;
           y.outcome.error_code &= ~mmu::pferr::PK;
           return true;
         });
       }},
      {"bochs-implicit-smap-ac", "bochs",
       "CR4.SMAP: Bochs 2.7 lets RFLAGS.AC = 1 allow implicit supervisor-mode reads of user-mode pages (descriptor-"
       "table reads) at every CPL, CPL 3 included; SDM 4.6.1: an implicit access may not read a user-mode address "
       "whatever AC is",
       [](const mmu::Case& c, const mmu::Verdict&, const mmu::Trace&) {
         return c.access.implicit && (c.cpu.rflags & mmu::rflags::AC) && (c.cpu.cr4 & mmu::cr4::SMAP);
       },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         mmu::Case d = c;  // an explicit supervisor-mode access with that AC: at CPL 0
         d.access.implicit = false;
         d.cpu.cpl = 0;
         mmu::Trace td;
         const mmu::Verdict alt = mmu::reference::evaluate(d, &td);
         v.alternatives.push_back(alt);
         // Bochs' PKRU habit (bochs-pkru-by-cpl: no access-disable for a
         // supervisor access) holds for that access too.
         for (const KnownDeviation& k : table())
           if (k.id == "bochs-pkru-by-cpl" && k.applies(d, alt, td)) {
             mmu::Verdict w = alt;
             w.alternatives.clear();
             k.widen(d, td, w);
             for (const mmu::Verdict& x : w.alternatives) v.alternatives.push_back(x);
           }
       }},
      {"bochs-ept-ad-paging-write-only", "bochs",
       "With EPT accessed/dirty flags enabled, Bochs 2.7 reports an EPT violation on a guest paging-structure access "
       "with exit-qualification bit 1 (write) alone; the SDM sets both bit 0 and bit 1",
       [](const mmu::Case& c, const mmu::Verdict&, const mmu::Trace&) {
         return c.ept && c.ept->ad_enabled();
       },
       [](const mmu::Case&, const mmu::Trace&, mmu::Verdict& v) {
         add_alternative(v, [](mmu::Verdict& y) {
           const u64 q = y.outcome.qualification, rw = mmu::eptq::READ | mmu::eptq::WRITE;
           if (y.outcome.kind != mmu::OutcomeKind::ept_violation || (q & rw) != rw || !(q & mmu::eptq::GLA_VALID) ||
               (q & mmu::eptq::TRANSLATED))
             return false;
           y.outcome.qualification &= ~mmu::eptq::READ;
           return true;
         });
       }},
      {"bochs-ept-large-leaf-bit12", "bochs",
       "Bochs 2.7 does not treat bit 12 of a 2-MByte or 1-GByte EPT leaf as reserved (it masks it like the PAT bit "
       "of a guest large page): the translation succeeds where the SDM has an EPT misconfiguration",
       [](const mmu::Case& c, const mmu::Verdict& v, const mmu::Trace&) {
         return c.ept && v.outcome.kind == mmu::OutcomeKind::ept_misconfig;
       },
       [](const mmu::Case& c, const mmu::Trace&, mmu::Verdict& v) {
         // the reference on the case with bit 12 cleared in every large EPT leaf
         mmu::Case d = c;
         bool changed = false;
         for (const auto& e : c.ept->memory.entries())
           if ((e.value & 0x80) && (e.value & 0x1000) && (e.value & 7)) {
             d.ept->memory.set(e.addr, e.value & ~u64{0x1000});
             changed = true;
           }
         if (!changed) return;
         mmu::Verdict alt = mmu::reference::evaluate(d);
         // the writes Bochs makes are to the case's own entries (bit 12 as given)
         auto restore = [&](mmu::WriteList& l) {
           for (std::size_t i = 0; i < l.size(); ++i)
             if (l[i].space == mmu::Space::ept && (c.ept->memory.read(l[i].addr) & 0x1000) &&
                 (c.ept->memory.read(l[i].addr) & 0x80))
               l.set(i, {l[i].space, l[i].addr, l[i].value | 0x1000});
         };
         restore(alt.outcome.writes);
         restore(alt.optional_writes);
         v.alternatives.push_back(std::move(alt));
       }},
      {"bochs-guest-ad-no-ept-write-check", "bochs",
       "Without EPT accessed/dirty flags, Bochs 2.7 sets the guest's accessed/dirty flags in paging-structure entries "
       "whose guest-physical page EPT maps read-only (no EPT write check), and does so before it translates the "
       "final access; the SDM treats those updates as writes subject to EPT (an EPT violation)",
       [](const mmu::Case& c, const mmu::Verdict&, const mmu::Trace& tr) {
         return c.ept && !c.ept->ad_enabled() && mmu::paging_mode(c.cpu) != mmu::PagingMode::none && !tr.steps.empty();
       },
       [](const mmu::Case& c, const mmu::Trace& t, mmu::Verdict& v) {
         // the reference with EPT write permission on the leaves that map the
         // guest's paging structures (and only those: the final access keeps its own)
         const unsigned M = c.cpu.maxphyaddr;
         // the EPT entries on the way to `gpa` (present ones), leaf last
         auto path_of = [&](u64 gpa) {
           std::vector<u64> path;
           u64 table = c.ept->eptp & mmu::bits(M - 1, 12);
           for (unsigned level = c.ept->levels(); level >= 1; --level) {
             const unsigned shift = 12 + 9 * (level - 1);
             const u64 a = table + 8 * mmu::field(gpa, shift + 8, shift);
             const u64 e = c.ept->memory.read(a);
             if (!(e & 7)) break;
             path.push_back(a);
             if (level == 1 || (level <= 3 && (e & 0x80))) break;
             table = e & mmu::bits(M - 1, 12);
           }
           return path;
         };
         std::vector<u64> guest_entries;
         for (const mmu::TraceStep& s : t.steps)
           if (s.space == mmu::Space::guest && s.kind == mmu::StepKind::entry) guest_entries.push_back(s.addr);
         // a write's final translation must keep its own permissions: leave
         // alone the entries on the final page's path (a read or fetch does
         // not depend on W)
         std::vector<u64> keep;
         if (c.access.kind == mmu::AccessKind::write) {
           auto note = [&](const mmu::Verdict& x) {
             const bool final_gpa = x.outcome.kind == mmu::OutcomeKind::ok ||
                                    (x.outcome.kind == mmu::OutcomeKind::ept_violation &&
                                     (x.outcome.qualification & mmu::eptq::TRANSLATED));
             if (final_gpa)
               for (u64 a : path_of(x.outcome.gpa)) keep.push_back(a);
           };
           note(v);
           for (const mmu::Verdict& a : v.alternatives) note(a);
         }
         mmu::Case d = c;
         bool changed = false;
         for (u64 g : guest_entries)
           for (u64 a : path_of(g)) {
             if (std::find(keep.begin(), keep.end(), a) != keep.end()) continue;
             const u64 e = d.ept->memory.read(a);
             if ((e & 1) && !(e & 2)) {
               d.ept->memory.set(a, e | 2);
               changed = true;
             }
           }
         if (!changed) return;
         mmu::Trace t2;
         mmu::Verdict alt = mmu::reference::evaluate(d, &t2);
         // Bochs writes A (and D in the leaf, for a write) before the final translation fails
         std::vector<mmu::Write> extra;
         const bool write = c.access.kind == mmu::AccessKind::write;
         std::size_t n = 0;
         for (const mmu::TraceStep& s : t2.steps)
           if (s.space == mmu::Space::guest && s.kind == mmu::StepKind::entry) ++n;
         std::size_t i = 0;
         for (const mmu::TraceStep& s : t2.steps) {
           if (s.space != mmu::Space::guest || s.kind != mmu::StepKind::entry) continue;
           const bool leaf = ++i == n;
           extra.push_back({mmu::Space::guest, s.addr, s.value | kA | (leaf && write ? 0x40 : 0)});
         }
         for (const mmu::Write& w : extra) add_optional(alt, w);
         v.alternatives.push_back(std::move(alt));
       }},
      {"bochs-pkru-by-cpl", "bochs",
       "Bochs 2.7 applies PKRU by the access's privilege instead of the address's: access-disable only for CPL-3 "
       "accesses (to user and supervisor pages alike, and not for supervisor accesses to user pages), write-disable "
       "for every write (user, or supervisor with CR0.WP), and reports PK ahead of the U/S check",
       [](const mmu::Case& c, const mmu::Verdict& v, const mmu::Trace& t) {
         const auto m = mmu::paging_mode(c.cpu);
         return (c.cpu.cr4 & mmu::cr4::PKE) && (m == mmu::PagingMode::level4 || m == mmu::PagingMode::level5) &&
                c.access.kind != mmu::AccessKind::fetch && !t.steps.empty() &&
                (t.decided_by == Rule::access_ok || t.decided_by == Rule::pk_ad || t.decided_by == Rule::pk_wd ||
                 t.decided_by == Rule::perm_user_supervisor || t.decided_by == Rule::perm_user_write ||
                 t.decided_by == Rule::perm_sup_write_wp || t.decided_by == Rule::perm_smap ||
                 t.decided_by == Rule::perm_ss_mode || t.decided_by == Rule::perm_ss_page ||
                 // under EPT: the guest walk passed (the final access's EPT translation decided)
                 (c.ept && (v.outcome.kind == mmu::OutcomeKind::ok ||
                            (v.outcome.kind == mmu::OutcomeKind::ept_violation &&
                             (v.outcome.qualification & mmu::eptq::TRANSLATED)))));
       },
       [](const mmu::Case& c, const mmu::Trace& t, mmu::Verdict& v) {
         mmu::Case d = c;  // the outcome without protection keys ...
         d.cpu.cr4 &= ~mmu::cr4::PKE;
         const mmu::Verdict base = mmu::reference::evaluate(d);
         // the guest's leaf: under EPT the trace ends with EPT entries
         u64 leaf = t.steps.back().value;
         for (const mmu::TraceStep& st : t.steps)
           if (st.space == mmu::Space::guest) leaf = st.value;
         const u64 key = mmu::field(leaf, 62, 59);
         const bool user = mmu::is_user_access(c.cpu, c.access), write = c.access.kind == mmu::AccessKind::write;
         const bool ad = user && ((c.cpu.pkru >> (2 * key)) & 1);
         const bool wd = write && ((c.cpu.pkru >> (2 * key + 1)) & 1) && (user || (c.cpu.cr0 & mmu::cr0::WP));
         // A shadow-stack write whose PK would come only from WD on a user-mode
         // address: whether WD applies there is the reference's reading of
         // 4.6.2 (docs/rules.md), not this deviation -- left to diverge.
         bool user_addr = true;
         for (const mmu::TraceStep& st : t.steps)
           if (st.space == mmu::Space::guest && st.kind == mmu::StepKind::entry) user_addr &= (st.value & 4) != 0;
         if (c.access.shadow_stack && user_addr && wd && !ad) return;
         if (!ad && !wd) {
           v.alternatives.push_back(base);  // ... when Bochs' key check passes
           return;
         }
         mmu::Verdict pf;  // ... else its PK fault, raised before the U/S and R/W checks
         pf.outcome.kind = mmu::OutcomeKind::page_fault;
         pf.outcome.error_code = mmu::pferr::P | mmu::pferr::PK | (user ? mmu::pferr::U : 0) | (write ? mmu::pferr::W : 0) |
                                 (c.access.shadow_stack ? mmu::pferr::SS : 0);
         pf.outcome.cr2 = c.access.addr;
         pf.outcome.has_ept = base.outcome.has_ept;
         mmu::Verdict pf_a = pf;
         for (const mmu::Write& w : base.outcome.writes) pf.optional_writes.push(w);
         for (const mmu::Write& w : base.optional_writes) pf.optional_writes.push(w);
         v.alternatives.push_back(pf);
         if (write) {
           // A faulting walk may set A without D (SDM 4.8; the reference's own
           // faults allow it): what the walk of the same read writes. The
           // probe's implicit writes read the descriptor first.
           mmu::Case r = d;
           r.access.kind = mmu::AccessKind::read;
           const mmu::Verdict rb = mmu::reference::evaluate(r);
           for (const mmu::Write& w : rb.outcome.writes) pf_a.optional_writes.push(w);
           for (const mmu::Write& w : rb.optional_writes) pf_a.optional_writes.push(w);
           v.alternatives.push_back(pf_a);
         }
       }},
  };
  return entries;
}

bool for_engine(const KnownDeviation& d, std::string_view engine) {
  std::string_view list = d.engines;
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (list.substr(0, comma) == engine) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::span<const KnownDeviation> known_deviations() { return table(); }

namespace {
// The probe sees the entries' final values, not the order the CPU wrote them
// in: the observed writes in the order `v` lists the same entries (required,
// then optional), the rest after them.
mmu::Outcome ordered_like(const mmu::Outcome& o, const mmu::Verdict& v) {
  mmu::Outcome r = o;
  r.writes.clear();
  std::vector<bool> taken(o.writes.size(), false);
  auto take = [&](const mmu::WriteList& order) {
    for (const mmu::Write& w : order)
      for (std::size_t i = 0; i < o.writes.size(); ++i)
        if (!taken[i] && o.writes[i].space == w.space && o.writes[i].addr == w.addr) {
          taken[i] = true;
          r.writes.push(o.writes[i]);
        }
  };
  take(v.outcome.writes);
  take(v.optional_writes);
  for (std::size_t i = 0; i < o.writes.size(); ++i)
    if (!taken[i]) r.writes.push(o.writes[i]);
  return r;
}
bool accepts_any_order(const mmu::Verdict& v, const mmu::Outcome& o) {
  if (mmu::accepts(v, o) || mmu::accepts(v, ordered_like(o, v))) return true;
  for (const mmu::Verdict& alt : v.alternatives)
    if (accepts_any_order(alt, o)) return true;
  return false;
}
}  // namespace

bool accepts_observed(const mmu::Case& c, const mmu::Verdict& v, const mmu::Outcome& observed) {
  return c.ept ? accepts_any_order(v, observed) : mmu::accepts(v, observed);
}

std::vector<const KnownDeviation*> explain(std::string_view engine, const mmu::Case& c, const mmu::Verdict& ref,
                                           const mmu::Trace& trace, const mmu::Outcome& observed) {
  if (accepts_observed(c, ref, observed)) return {};
  std::vector<const KnownDeviation*> applied;
  for (const KnownDeviation& d : table())
    if (for_engine(d, engine) && d.applies(c, ref, trace)) applied.push_back(&d);
  auto widened = [&](const std::vector<const KnownDeviation*>& set) {
    mmu::Verdict v = ref;
    for (const KnownDeviation* d : set) d->widen(c, trace, v);
    return v;
  };
  if (applied.empty() || !accepts_observed(c, widened(applied), observed)) return {};
  // Keep only the ones needed.
  for (std::size_t i = applied.size(); i-- > 0;) {
    auto without = applied;
    without.erase(without.begin() + static_cast<long>(i));
    if (accepts_observed(c, widened(without), observed)) applied = without;
  }
  return applied;
}

}  // namespace mmucheck::probe
