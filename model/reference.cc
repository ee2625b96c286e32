// The reference walker. Each paging mode has its own function that reads the
// entries and checks their reserved bits; the access-rights rules (SDM 4.6),
// which do not depend on the mode beyond "does it have XD and protection
// keys", are decided once in check_access().
#include "model/reference.h"

#include <array>
#include <initializer_list>

namespace mmu::reference {
namespace {

// Entry bits shared by every paging mode (SDM 4.3-4.5):
//   63     XD (PAE, 4/5-level, EFER.NXE = 1)
//   62:59  protection key (4/5-level leaves)
//   M-1:12 physical address (frame)
//   8 G    7 PS (non-leaf levels) / PAT (PTE)    6 D    5 A
//   4 PCD  3 PWT   2 U/S   1 R/W   0 P
constexpr u64 kP = bit(0), kRW = bit(1), kUS = bit(2), kA = bit(5), kD = bit(6), kPS = bit(7),
              kXD = bit(63);

struct RsvdCheck {
  Rule rule;
  u64 mask;
};

struct UsedEntry {
  u64 addr;
  u64 value;
};

class Walker {
 public:
  Walker(const Case& c, Verdict& out, Trace* trace)
      : v_(out),
        c_(c),
        cpu_(c.cpu),
        trace_(trace),
        mode_(paging_mode(c.cpu)),
        user_(is_user_access(c.cpu, c.access)),
        write_(c.access.kind == AccessKind::write),
        fetch_(c.access.kind == AccessKind::fetch),
        shadow_stack_(c.access.shadow_stack),
        nxe_(cpu_.efer_bit(efer::NXE) && (mode_ == PagingMode::pae || mode_ == PagingMode::level4 ||
                                          mode_ == PagingMode::level5)),
        M_(cpu_.maxphyaddr),
        ept_(c.ept ? &*c.ept : nullptr) {
    v_.outcome.has_ept = ept_ != nullptr;
  }

  // pk.wd-ss-open: the walk where WD blocks shadow-stack writes too.
  void wd_blocks_shadow_stack() { wd_blocks_shadow_stack_ = true; }

  const Verdict& run() {
    switch (mode_) {
      case PagingMode::none: return walk_none();
      case PagingMode::bit32: return walk_32bit();
      case PagingMode::pae: return walk_pae();
      case PagingMode::level4: return walk_ia32e(4);
      case PagingMode::level5: return walk_ia32e(5);
    }
    return v_;
  }

 private:
  // ---- paging off -------------------------------------------------------
  const Verdict& walk_none() {
    check(Rule::mode_none, true, 0);
    return finish(c_.access.addr, 4096, Rule::mode_none, 0);
  }

  // ---- 32-bit paging (SDM 4.3) --------------------------------------------
  // CR3:  31:12 page-directory base
  // PDE (PS = 1, CR4.PSE = 1), 4-MByte page:
  //   31:22 PA 31:22 | 21 rsvd | 20:13 PA (M-1):32 | 12 PAT | 8 G | 7 PS=1 | 6 D | 5 A | 4:0
  // PDE (PS = 0, or CR4.PSE = 0): 31:12 page-table base | 7 ignored | 5 A | 4:0
  // PTE: 31:12 page frame | 8 G | 7 PAT | 6 D | 5 A | 4:0
  const Verdict& walk_32bit() {
    const u64 va = c_.access.addr;
    const u64 pde_addr = (cpu_.cr3 & bits(31, 12)) + field(va, 31, 22) * 4;
    u64 pde;
    if (!read_guest(pde_addr, pde)) return v_;
    step(StepKind::entry, 2, "PDE", pde_addr, pde);
    if (!(pde & kP)) return not_present();
    if (pde & kPS) {
      const bool pse = cpu_.cr4_bit(cr4::PSE);
      check(Rule::ps_ignored_no_pse, !pse, kPS);
      if (pse) {
        // M is the physical-address width a 4-MByte page can reach.
        const unsigned m = cpu_.features.has(Feature::pse36) ? (M_ < 40 ? M_ : 40) : 32;
        if (reserved(pde, {{Rule::rsvd_pse36, bits(21, m - 19)}})) return v_;
        use(pde_addr, pde);
        combine(pde);
        const u64 high = m > 32 ? field(pde, 20, 13) & bits(m - 33, 0) : 0;
        const u64 pa = (pde & bits(31, 22)) | (high << 32) | (va & bits(21, 0));
        return translated(pa, u64{4} << 20, Rule::leaf_4m, pde, /*has_pk=*/false, 0);
      }
    }
    use(pde_addr, pde);
    combine(pde);
    upper_rw_ &= (pde & kRW) != 0;
    const u64 pte_addr = (pde & bits(31, 12)) + field(va, 21, 12) * 4;
    u64 pte;
    if (!read_guest(pte_addr, pte)) return v_;
    step(StepKind::entry, 1, "PTE", pte_addr, pte);
    if (!(pte & kP)) return not_present();
    use(pte_addr, pte);
    combine(pte);
    return translated((pte & bits(31, 12)) | (va & bits(11, 0)), 4096, Rule::leaf_4k, pte, false, 0);
  }

  // ---- PAE paging (SDM 4.4) -----------------------------------------------
  // CR3:  31:5 PDPT base. The four PDPTEs are loaded when CR3 is loaded.
  // PDPTE: 63:M rsvd | M-1:12 page-directory base | 8:5 rsvd | 4 PCD | 3 PWT | 2:1 rsvd | 0 P
  // PDE (PS = 1), 2-MByte page: 63 XD | 62:M rsvd | M-1:21 PA | 20:13 rsvd | 12 PAT | 7 PS | 6 D | 5 A | 4:0
  // PDE (PS = 0): 63 XD | 62:M rsvd | M-1:12 page-table base | 5 A | 4:0
  // PTE:          63 XD | 62:M rsvd | M-1:12 page frame | 7 PAT | 6 D | 5 A | 4:0
  const Verdict& walk_pae() {
    const u64 va = c_.access.addr;
    const u64 pdpt = cpu_.cr3 & bits(31, 5);
    const u64 pdpte_rsvd = bits(2, 1) | bits(8, 5) | bits(63, M_);
    std::array<u64, 4> pdptes{};
    for (unsigned i = 0; i < 4; ++i) {
      if (!read_pdpte(pdpt + 8 * i, pdptes[i])) return v_;
      step(StepKind::pdpte_load, 3, "PDPTE", pdpt + 8 * i, pdptes[i]);
      const u64 bad = (pdptes[i] & kP) ? pdptes[i] & pdpte_rsvd : 0;
      check(Rule::pdpte_load_reserved, bad != 0, bad);
      if (bad) {
        v_.outcome.kind = OutcomeKind::general_protection;
        v_.outcome.gp_reason = GpReason::pdpte_reserved;
        mark_step(Rule::pdpte_load_reserved, bad);
        decide(Rule::pdpte_load_reserved, bad);
        return v_;
      }
    }
    const unsigned index = static_cast<unsigned>(field(va, 31, 30));
    const u64 pdpte = pdptes[index];
    step(StepKind::entry, 3, "PDPTE", pdpt + 8 * index, pdpte);
    if (!(pdpte & kP)) return not_present();
    // PDPTEs carry no R/W, U/S or XD and have no accessed flag.
    const RsvdCheck common[] = {{Rule::rsvd_pae_high, bits(62, M_)}, {Rule::rsvd_xd, nxe_ ? 0 : kXD}};

    const u64 pde_addr = (pdpte & bits(M_ - 1, 12)) + field(va, 29, 21) * 8;
    u64 pde;
    if (!read_guest(pde_addr, pde)) return v_;
    step(StepKind::entry, 2, "PDE", pde_addr, pde);
    if (!(pde & kP)) return not_present();
    const bool large = pde & kPS;
    if (reserved(pde, {common[0], common[1], {Rule::rsvd_large_align, large ? bits(20, 13) : 0}})) return v_;
    use(pde_addr, pde);
    combine(pde);
    if (large)
      return translated((pde & bits(M_ - 1, 21)) | (va & bits(20, 0)), u64{2} << 20, Rule::leaf_2m, pde, false, 0);
    upper_rw_ &= (pde & kRW) != 0;

    const u64 pte_addr = (pde & bits(M_ - 1, 12)) + field(va, 20, 12) * 8;
    u64 pte;
    if (!read_guest(pte_addr, pte)) return v_;
    step(StepKind::entry, 1, "PTE", pte_addr, pte);
    if (!(pte & kP)) return not_present();
    if (reserved(pte, {common[0], common[1]})) return v_;
    use(pte_addr, pte);
    combine(pte);
    return translated((pte & bits(M_ - 1, 12)) | (va & bits(11, 0)), 4096, Rule::leaf_4k, pte, false, 0);
  }

  // ---- 4-level and 5-level paging (SDM 4.5) --------------------------------
  // CR3: M-1:12 base of the top table.
  // PML5E/PML4E: 63 XD | 62:52 ign | 51:M rsvd | M-1:12 next | 8 ign (AMD: rsvd) | 7 PS rsvd | 5 A | 4:0
  // PDPTE (PS = 1), 1-GByte page: 63 XD | 62:59 PK | 58:52 ign | 51:M rsvd | M-1:30 PA | 29:13 rsvd | 12 PAT | 7 PS | 6 D | 5 A | 4:0
  // PDE (PS = 1), 2-MByte page:   63 XD | 62:59 PK | 58:52 ign | 51:M rsvd | M-1:21 PA | 20:13 rsvd | 12 PAT | 7 PS | 6 D | 5 A | 4:0
  // PDPTE/PDE (PS = 0):            63 XD | 62:52 ign | 51:M rsvd | M-1:12 next | 5 A | 4:0
  // PTE:                           63 XD | 62:59 PK | 58:52 ign | 51:M rsvd | M-1:12 frame | 7 PAT | 6 D | 5 A | 4:0
  const Verdict& walk_ia32e(unsigned levels) {
    static constexpr std::array<std::string_view, 6> kNames{"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
    static constexpr std::array<Rule, 4> kLeafRule{Rule::none, Rule::leaf_4k, Rule::leaf_2m, Rule::leaf_1g};
    const u64 va = c_.access.addr;
    const unsigned top = levels == 5 ? 56 : 47;
    const bool canonical = sign_extend(va, top) == va;
    check(Rule::addr_canonical, !canonical, canonical ? 0 : bits(63, top) & va);
    if (!canonical) {
      v_.outcome.kind = OutcomeKind::general_protection;
      v_.outcome.gp_reason = GpReason::non_canonical;
      decide(Rule::addr_canonical, bits(63, top));
      return v_;
    }
    const u64 high = bits(51, M_);
    const u64 xd_rsvd = nxe_ ? 0 : kXD;
    const bool amd = cpu_.vendor == Vendor::amd;
    const bool gb_pages = cpu_.features.has(Feature::pdpe1gb);
    u64 table = cpu_.cr3 & bits(M_ - 1, 12);
    for (unsigned level = levels; level >= 1; --level) {
      const unsigned shift = 12 + 9 * (level - 1);
      const u64 addr = table + field(va, shift + 8, shift) * 8;
      u64 e;
      if (!read_guest(addr, e)) return v_;
      step(StepKind::entry, level, kNames[level], addr, e);
      if (!(e & kP)) return not_present();
      const bool ps = (e & kPS) != 0;
      const bool leaf = level == 1 || (ps && (level == 2 || (level == 3 && gb_pages)));
      if (reserved(e, {{Rule::rsvd_phys, high},
                       {Rule::rsvd_xd, xd_rsvd},
                       {Rule::rsvd_ps_nonleaf, level >= 4 ? kPS : 0},
                       {Rule::rsvd_amd_bit8, level >= 4 && amd ? bit(8) : 0},
                       {Rule::rsvd_ps_1g, level == 3 && !gb_pages ? kPS : 0},
                       {Rule::rsvd_large_align, leaf && level > 1 ? bits(shift - 1, 13) : 0}}))
        return v_;
      use(addr, e);
      combine(e);
      if (leaf) {
        const u64 size = bit(shift);
        const u64 pa = (e & bits(M_ - 1, shift)) | (va & (size - 1));
        return translated(pa, size, kLeafRule[level], e, /*has_pk=*/true, field(e, 62, 59));
      }
      upper_rw_ &= (e & kRW) != 0;
      table = e & bits(M_ - 1, 12);
    }
    return v_;  // unreachable: level 1 is always a leaf
  }

  // ---- shared pieces ------------------------------------------------------
  // The error-code bits that describe the access (SDM 4.7).
  u64 access_error_bits() {
    u64 ec = 0;
    if (write_) ec |= pferr::W;
    if (user_) ec |= pferr::U;
    if (shadow_stack_) ec |= pferr::SS;
    if (fetch_) {
      const bool id = cpu_.cr4_bit(cr4::SMEP) || (cpu_.cr4_bit(cr4::PAE) && cpu_.efer_bit(efer::NXE));
      check(Rule::errcode_id, !id, 0);
      if (id) ec |= pferr::ID;
    }
    return ec;
  }

  void combine(u64 e) {
    user_addr_ &= (e & kUS) != 0;
    writable_ &= (e & kRW) != 0;
    if (nxe_) xd_ |= (e & kXD) != 0;
  }

  void use(u64 addr, u64 value) { used_[nused_++] = {addr, value}; }

  // ---- guest-physical accesses: through EPT when the case has it ------------
  EptRequest paging_structure_request(u64 gpa) const {
    EptRequest r;
    r.gpa = gpa;
    r.read = true;
    r.translated = false;
    r.gla = c_.access.addr;
    return r;
  }

  // A guest paging-structure read. Under EPT its guest-physical address is
  // translated first: a read, or a write when EPTP enables A/D (29.3.3.2, in
  // which case the qualification reports both read and write).
  bool read_guest(u64 gpa, u64& value) {
    if (ept_) {
      EptRequest r = paging_structure_request(gpa);
      r.write = ept_->ad_enabled();
      check(Rule::ept_ad_paging_write, r.write, 0);
      const EptResult res = ept_translate(*ept_, M_, r, v_.outcome.writes, v_.optional_writes, trace_);
      if (res.kind != OutcomeKind::ok) return ept_exit(res, gpa);
    }
    value = c_.memory.read(gpa);
    return true;
  }

  // PAE PDPTE loads: reads even with EPT A/D, and not part of a linear-address
  // translation, so a violation there has GLA-valid clear (29.3.3.2, 4.4.1).
  bool read_pdpte(u64 gpa, u64& value) {
    if (ept_) {
      EptRequest r = paging_structure_request(gpa);
      r.gla_valid = false;
      check(Rule::nested_pdpte_load, true, 0);
      const EptResult res = ept_translate(*ept_, M_, r, v_.outcome.writes, v_.optional_writes, trace_);
      if (res.kind != OutcomeKind::ok) return ept_exit(res, gpa);
    }
    value = c_.memory.read(gpa);
    return true;
  }

  // Ends the walk with the VM exit an EPT translation produced.
  bool ept_exit(const EptResult& res, u64 gpa) {
    fill_ept_exit(v_.outcome, res, gpa);
    v_.qualification_dont_care = res.dont_care;
    // Guest entries used before the exit: their A update is open, as for a #PF.
    optional_guest_accessed();
    add_level_by_level_alternative();
    decide(res.rule, 0);
    return false;
  }

  // Under EPT without A/D, a processor that sets A while it walks meets an EPT
  // violation at the first update EPT forbids, before whatever this walk met
  // later; one that sets A only at the end does not (nested.order-open).
  void add_level_by_level_alternative() {
    if (!ept_ || ept_->ad_enabled()) return;
    for (unsigned i = 0; i < nused_; ++i) {
      if (used_[i].value & kA) continue;
      const EptResult upd = guest_update_translation(used_[i].addr);
      if (upd.kind == OutcomeKind::ok) continue;
      Verdict alt;
      alt.outcome = v_.outcome;
      alt.outcome.error_code = alt.outcome.cr2 = 0;
      alt.outcome.gp_reason = GpReason::none;
      fill_ept_exit(alt.outcome, upd, used_[i].addr);
      alt.qualification_dont_care = upd.dont_care;
      for (unsigned j = 0; j < i; ++j)  // the updates that processor made before it
        if (!(used_[j].value & kA) && guest_update_translation(used_[j].addr).kind == OutcomeKind::ok)
          merge_write(alt.optional_writes, {Space::guest, used_[j].addr, used_[j].value | kA});
      if (!(alt.outcome == v_.outcome)) {
        v_.alternatives.push_back(std::move(alt));
        check(Rule::nested_order_open, true, 0);
      }
      return;
    }
  }

  // On a walk that ends in a fault or VM exit, the A updates of the guest
  // entries used so far may or may not have happened (ad.fault-open) -- but
  // only those that could happen: under EPT without A/D an update is an EPT
  // write, and one EPT forbids would have been an exit of its own.
  void optional_guest_accessed() {
    for (unsigned i = 0; i < nused_; ++i) {
      if (used_[i].value & kA) continue;
      if (ept_ && !ept_->ad_enabled() && guest_update_translation(used_[i].addr).kind != OutcomeKind::ok) continue;
      merge_write(v_.optional_writes, {Space::guest, used_[i].addr, used_[i].value | kA});
    }
  }

  void fill_ept_exit(Outcome& o, const EptResult& res, u64 gpa) const {
    o.kind = res.kind;
    o.gpa = gpa;
    if (res.kind == OutcomeKind::ept_violation) {
      o.qualification = res.qualification;
      if (res.qualification & eptq::GLA_VALID) o.gla = c_.access.addr;
    }
  }

  // The guest's A/D update of entry `addr` as an EPT data write (29.3.3.2); only
  // checked when EPT A/D is off (with it on, the entry's page was already
  // translated as a write). Writes into scratch lists: nothing is recorded.
  EptResult guest_update_translation(u64 addr) const {
    EptRequest r = paging_structure_request(addr);
    r.read = false;
    r.write = true;
    r.read_dont_care = true;  // a read-modify-write: bit 0 is implementation-specific
    WriteList scratch, scratch_optional;
    return ept_translate(*ept_, M_, r, scratch, scratch_optional, nullptr);
  }

  // SDM 4.8: A in every entry used, D in the leaf on a write. Entries are
  // distinct within one walk unless tables are shared; merge in that case.
  void guest_ad_updates(WriteList& out) {
    for (unsigned i = 0; i < nused_; ++i) {
      u64 value = used_[i].value | kA;
      const bool is_leaf = i + 1 == nused_;
      if (is_leaf && write_) value |= kD;
      check(Rule::ad_accessed, !(used_[i].value & kA), kA);
      if (is_leaf && write_) check(Rule::ad_dirty, !(used_[i].value & kD), kD);
      if (value == used_[i].value) continue;
      bool shared = false;
      for (unsigned j = 0; j < i; ++j) shared |= used_[j].addr == used_[i].addr;
      if (shared) merge_write(out, {Space::guest, used_[i].addr, value});
      else out.push({Space::guest, used_[i].addr, value});
    }
  }

  // Guest A/D updates and, under EPT, the final access. `addr` is the
  // guest-physical (or, without EPT, physical) address the walk produced.
  const Verdict& finish(u64 addr, u64 size, Rule rule, u64 mattered) {
    v_.outcome.kind = OutcomeKind::ok;
    v_.outcome.page_size = size;
    if (!ept_) {
      v_.outcome.pa = addr;
      guest_ad_updates(v_.outcome.writes);
      decide(rule, mattered);
      return v_;
    }
    WriteList guest_updates;
    guest_ad_updates(guest_updates);

    // The final access through EPT (its EPT A/D land in a scratch copy until we
    // know whether a guest update faults first).
    EptRequest fin;
    fin.gpa = addr;
    fin.read = !write_ && !fetch_;
    fin.write = write_;
    fin.fetch = fetch_;
    fin.shadow_stack = shadow_stack_;
    // With CR0.PG = 0 every linear address counts as user-mode and read/write
    // (3C Table 28-7), which is where user_addr_/writable_ start.
    fin.user_linear = user_addr_;
    fin.gla = c_.access.addr;
    fin.linear_info_defined = true;
    fin.linear_info = (user_addr_ ? eptq::USER_LINEAR : 0) | (writable_ ? eptq::RW_LINEAR : 0) | (xd_ ? eptq::XD_LINEAR : 0);
    WriteList final_writes = v_.outcome.writes, final_optional = v_.optional_writes;
    const EptResult res = ept_translate(*ept_, M_, fin, final_writes, final_optional, trace_);

    if (!ept_->ad_enabled()) {
      for (const Write& w : guest_updates) {
        check(Rule::nested_guest_ad_write, true, 0);
        const EptResult upd = guest_update_translation(w.addr);
        if (upd.kind == OutcomeKind::ok) continue;
        // Whether the processor updates A/D before or after it translates the
        // final access is not architectural: if that also fails, both exits are allowed.
        if (res.kind != OutcomeKind::ok) {
          Verdict alt;
          alt.outcome = v_.outcome;
          fill_ept_exit(alt.outcome, res, addr);
          alt.qualification_dont_care = res.dont_care;
          alt.optional_writes = final_optional;
          for (const Write& g : guest_updates)
            if (guest_update_translation(g.addr).kind == OutcomeKind::ok) merge_write(alt.optional_writes, g);
          v_.alternatives.push_back(std::move(alt));
          check(Rule::nested_order_open, true, 0);
        }
        ept_exit(upd, w.addr);
        return v_;
      }
    }
    if (res.kind != OutcomeKind::ok) {
      // The final access faulted: the guest's A/D updates may or may not have
      // happened (a processor may make them before it translates the access),
      // as long as EPT lets them be written.
      v_.optional_writes = final_optional;
      for (const Write& g : guest_updates)
        if (ept_->ad_enabled() || guest_update_translation(g.addr).kind == OutcomeKind::ok)
          merge_write(v_.optional_writes, g);
      fill_ept_exit(v_.outcome, res, addr);
      v_.qualification_dont_care = res.dont_care;
      decide(res.rule, 0);
      return v_;
    }
    v_.outcome.writes = final_writes;
    for (const Write& w : guest_updates) merge_write(v_.outcome.writes, w);
    v_.outcome.pa = res.hpa;
    v_.outcome.gpa = addr;
    v_.outcome.ept_page_size = res.page_size;
    decide(rule, mattered);
    return v_;
  }

  // Checks `checks` in order; on the first violation raises #PF with RSVD.
  bool reserved(u64 e, std::initializer_list<RsvdCheck> checks) {
    if (!trace_) {  // fast path: nothing to record when no reserved bit is set
      u64 any = 0;
      for (const RsvdCheck& rc : checks) any |= rc.mask;
      if (!(e & any)) return false;
    }
    for (const RsvdCheck& rc : checks) {
      if (!rc.mask) continue;
      const u64 hit = e & rc.mask;
      check(rc.rule, hit != 0, hit);
      if (hit) {
        page_fault(pferr::P | pferr::RSVD | access_error_bits(), rc.rule, hit);
        return true;
      }
    }
    return false;
  }

  const Verdict& not_present() {
    check(Rule::walk_not_present, true, kP);
    page_fault(access_error_bits(), Rule::walk_not_present, kP);
    return v_;
  }

  void page_fault(u64 ec, Rule rule, u64 mattered) {
    v_.outcome.kind = OutcomeKind::page_fault;
    v_.outcome.error_code = ec;
    v_.outcome.cr2 = c_.access.addr;
    // SDM 4.8 does not say whether A is set in entries read before a fault.
    optional_guest_accessed();
    check(Rule::ad_fault_open, !v_.optional_writes.empty(), 0);
    add_level_by_level_alternative();
    mark_step(rule, mattered);
    decide(rule, mattered);
  }

  // The walk reached a leaf: decide the access rights, then A/D.
  const Verdict& translated(u64 pa, u64 size, Rule leaf_rule, u64 leaf, bool has_pk, u64 pkey) {
    check(leaf_rule, true, 0);
    const bool ss_page = upper_rw_ && !(leaf & kRW) && (leaf & kD);
    const bool wp = cpu_.cr0_bit(cr0::WP);
    const bool smap_blocks = cpu_.cr4_bit(cr4::SMAP) && (c_.access.implicit || !(cpu_.rflags & rflags::AC));

    // SDM 4.6.1, checked in a fixed order; the first that holds is reported.
    struct Cond { Rule rule; bool applies; bool holds; u64 mattered; };
    const Cond conds[] = {
        {Rule::perm_user_supervisor, user_ && !shadow_stack_, !user_addr_, kUS},
        {Rule::perm_ss_mode, shadow_stack_, user_ != user_addr_, kUS},
        {Rule::perm_ss_page, shadow_stack_, !ss_page, kRW | kD},
        {Rule::perm_smep, fetch_ && !user_, user_addr_ && cpu_.cr4_bit(cr4::SMEP), kUS},
        {Rule::perm_xd, fetch_ && nxe_, xd_, kXD},
        {Rule::perm_smap, !fetch_ && !shadow_stack_ && !user_, user_addr_ && smap_blocks, kUS},
        {Rule::perm_user_write, write_ && user_ && !shadow_stack_, !writable_, kRW},
        {Rule::perm_sup_write_wp, write_ && !user_ && !shadow_stack_, !writable_ && wp, kRW},
    };
    Rule fired = Rule::none;
    u64 mattered = 0;
    for (const Cond& k : conds) {
      if (!k.applies) continue;
      check(k.rule, k.holds, k.mattered);
      if (k.holds && fired == Rule::none) {
        fired = k.rule;
        mattered = k.mattered;
      }
    }

    // SDM 4.6.2: protection keys, 4/5-level paging only, data accesses only.
    // PKRU governs user-mode addresses (CR4.PKE), IA32_PKRS supervisor-mode
    // ones (CR4.PKS). The PK error-code flag is reported whenever the key
    // forbids the access, whether or not another rule also does (SDM 4.7).
    Rule pk_rule = Rule::none;
    if (has_pk && !fetch_) {
      const bool enabled = user_addr_ ? cpu_.cr4_bit(cr4::PKE) : cpu_.cr4_bit(cr4::PKS);
      if (enabled) {
        const u32 reg = user_addr_ ? cpu_.pkru : cpu_.pkrs;
        const bool ad = test(reg, 2 * static_cast<unsigned>(pkey));
        const bool wd = test(reg, 2 * static_cast<unsigned>(pkey) + 1);
        check(Rule::pk_ad, ad, bits(62, 59));
        if (ad) pk_rule = Rule::pk_ad;
        if (write_ && (!shadow_stack_ || wd_blocks_shadow_stack_)) {
          const bool wd_blocks = wd && (user_ || wp);
          check(Rule::pk_wd, wd_blocks, bits(62, 59));
          if (wd_blocks && pk_rule == Rule::none) pk_rule = Rule::pk_wd;
        }
      }
    }

    if (fired != Rule::none || pk_rule != Rule::none) {
      const u64 ec = pferr::P | access_error_bits() | (pk_rule != Rule::none ? pferr::PK : 0);
      if (fired == Rule::none) {
        fired = pk_rule;
        mattered = bits(62, 59);
      }
      // The walk completed, so every entry including the leaf was "used".
      page_fault(ec, fired, mattered);
      return v_;
    }
    check(Rule::access_ok, true, 0);
    if (trace_) trace_->steps.back().rule = leaf_rule;
    return finish(pa, size, Rule::access_ok, mattered);
  }

  // ---- trace ----------------------------------------------------------------
  void step(StepKind kind, unsigned level, std::string_view name, u64 addr, u64 value) {
    if (trace_) trace_->steps.push_back({kind, Space::guest, level, name, addr, value, 0, Rule::none});
  }
  void mark_step(Rule r, u64 mattered) {
    if (trace_ && !trace_->steps.empty()) {
      trace_->steps.back().rule = r;
      trace_->steps.back().mattered = mattered;
    }
  }
  void check(Rule r, bool fired, u64) {
    if (trace_) trace_->check(r, fired);
  }
  void decide(Rule r, u64 mattered) {
    if (trace_) {
      trace_->decided_by = r;
      trace_->decided_mask = mattered;
    }
  }

  Verdict& v_;  // written in place: a Verdict is a few KiB and copying it would dominate a walk
  const Case& c_;
  const CpuState& cpu_;
  Trace* trace_;
  const PagingMode mode_;
  const bool user_, write_, fetch_, shadow_stack_;
  bool wd_blocks_shadow_stack_ = false;
  const bool nxe_;  // XD is honoured: PAE/4-level/5-level with EFER.NXE = 1
  const unsigned M_;
  const EptState* ept_;  // null: no EPT

  std::array<UsedEntry, 5> used_;
  unsigned nused_ = 0;
  bool user_addr_ = true;  // U/S = 1 at every level so far
  bool writable_ = true;   // R/W = 1 at every level so far
  bool xd_ = false;        // XD = 1 at some level (only when nxe_)
  bool upper_rw_ = true;   // R/W = 1 in every non-leaf entry (shadow-stack pages)
};

}  // namespace

void evaluate_into(const Case& c, Verdict& out, Trace* trace) {
  Outcome& o = out.outcome;
  o.kind = OutcomeKind::ok;
  o.pa = o.page_size = o.error_code = o.cr2 = 0;
  o.gp_reason = GpReason::none;
  o.gpa = o.ept_page_size = o.qualification = o.gla = 0;
  o.writes.clear();
  out.optional_writes.clear();
  out.qualification_dont_care = 0;
  out.alternatives.clear();
  Walker(c, out, trace).run();
  // pk.wd-ss-open (docs/rules.md, "Decisions"): the reference reads SDM 4.6.2
  // as WD not applying to shadow-stack writes; until that is confirmed the
  // outcome where it does apply is allowed too.
  const PagingMode mode = paging_mode(c.cpu);
  const bool keys = (c.cpu.cr4 & (cr4::PKE | cr4::PKS)) && (mode == PagingMode::level4 || mode == PagingMode::level5);
  if (c.access.shadow_stack && c.access.kind == AccessKind::write && keys) {
    Verdict alt;
    Walker w(c, alt, nullptr);
    w.wd_blocks_shadow_stack();
    w.run();
    if (!(alt.outcome == o)) {
      out.alternatives.push_back(std::move(alt));
      if (trace) trace->check(Rule::pk_wd_ss_open, true);
    }
  }
}

Verdict evaluate(const Case& c, Trace* trace) {
  Verdict v;
  evaluate_into(c, v, trace);
  return v;
}

}  // namespace mmu::reference
