// The probe's host side (replay/probe_batch, probe_runner, probe_known):
// relocation, packing and frames, records -> outcomes, the allow-list, and,
// where QEMU and the probe image are present, hang/crash attribution.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "model/builder.h"
#include "model/reference.h"
#include "replay/probe_batch.h"
#include "replay/probe_known.h"
#include "replay/probe_runner.h"

namespace {

using namespace mmucheck::probe;
using mmu::u64;

// 4-level: PML4 at 0x7f000000 (far outside the probe's RAM), a 4 KiB page.
mmu::Case four_level(mmu::AccessKind kind = mmu::AccessKind::read, unsigned cpl = 0) {
  mmu::Case c;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::PG | mmu::cr0::WP;
  c.cpu.cr4 = mmu::cr4::PAE;
  c.cpu.efer = mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
  c.cpu.cr3 = 0x7f000000;
  c.cpu.cpl = cpl;
  c.cpu.maxphyaddr = 46;
  c.cpu.features.add(mmu::Feature::nx).add(mmu::Feature::pdpe1gb);
  c.access = {.addr = 0x8080604abc, .kind = kind};
  c.memory.set(0x7f000000 + 8 * 1, 0x7f001007);
  c.memory.set(0x7f001000 + 8 * 2, 0x7f002007);
  c.memory.set(0x7f002000 + 8 * 3, 0x7f003007);
  c.memory.set(0x7f003000 + 8 * 4, 0x1234005);
  return c;
}

TEST(ProbeBatch, RelocatesTheWalkIntoThePoolAndTheLeafToTheLandingPage) {
  const mmu::Case c = four_level();
  const Prepared p = prepare(c, qemu_model_for(c));
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_EQ(p.header.mode, PROBE_MODE_L4);
  EXPECT_EQ(p.header.cr3 & ~u64{0xfff}, PROBE_POOL_BASE);
  ASSERT_EQ(p.readback.size(), 4u);
  for (const probe_entry& e : p.entries) {
    EXPECT_GE(e.addr, PROBE_POOL_BASE);
    EXPECT_LT(e.addr, PROBE_POOL_BASE + PROBE_POOL_PAGES * 4096ull);
  }
  // The leaf keeps its rights (P, U/S) and points at the landing page; the
  // marker sits at the access's offset there.
  const probe_entry& leaf = p.entries.back();
  EXPECT_EQ(leaf.value, PROBE_LANDING_4K | 0x5);
  EXPECT_EQ(p.header.marker, PROBE_LANDING_4K + 0xabc);
  EXPECT_EQ(p.pa, 0x1234abcu);
  // The window's slot is not the access's (PML4 index 1).
  EXPECT_NE(p.header.slot, 1u);
  EXPECT_NE(p.header.slot, 0u);
}

TEST(ProbeBatch, SaysWhyItCannotRunACase) {
  mmu::Case c = four_level();
  c.access.implicit = true;
  c.access.addr |= 0xffd;  // the 8-byte descriptor would cross a page
  EXPECT_NE(prepare(c, qemu_model_for(c)).unsupported->find("cross a page"), std::string::npos);
  c = four_level(mmu::AccessKind::write);  // the descriptor read faults (not present) before the write
  c.access.implicit = true;
  c.memory.set(0x7f003000 + 8 * 4, 0x1234002);
  EXPECT_NE(prepare(c, qemu_model_for(c)).unsupported->find("faults first"), std::string::npos);
  c = four_level();
  c.cpu.cr0 = mmu::cr0::PE;
  c.cpu.efer = 0;
  c.cpu.cr4 = 0;
  EXPECT_NE(prepare(c, qemu_model_for(c)).unsupported->find("paging is off"), std::string::npos);
  c = four_level();
  EXPECT_NE(prepare(c, bochs_model()).unsupported->find("MAXPHYADDR 40"), std::string::npos);
  c.ept.emplace();
  EXPECT_NE(prepare(c, qemu_model_for(c)).unsupported->find("EPT"), std::string::npos);
}

TEST(ProbeBatch, PacksAChecksummedBatchAndParsesFrames) {
  mmu::Case c = four_level();
  Prepared a = prepare(c, qemu_model_for(c)), b = prepare(c, qemu_model_for(c));
  Prepared* ps[] = {&a, &b};
  const std::vector<std::uint8_t> disk = pack(ps);
  ASSERT_EQ(disk.size() % 512, 0u);
  probe_batch_header h;
  std::memcpy(&h, disk.data(), sizeof h);
  EXPECT_EQ(h.magic, PROBE_MAGIC);
  EXPECT_EQ(h.ncases, 2u);
  EXPECT_EQ(b.seq, 1u);

  // A frame as the probe writes it: magic, type, len, payload, CRC-32 of type..payload.
  auto frame = [](char type, const void* payload, std::uint8_t len) {
    std::string f = "\xa5\x5a";
    f += type;
    f += static_cast<char>(len);
    f.append(static_cast<const char*>(payload), len);
    std::uint32_t crc = 0xffffffffu;
    for (std::size_t i = 2; i < f.size(); ++i) {
      crc ^= static_cast<std::uint8_t>(f[i]);
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
    }
    crc ^= 0xffffffffu;
    f.append(reinterpret_cast<const char*>(&crc), 4);
    return f;
  };
  // an 'R' frame on the wire: probe_wire, changed[nreadback], cr2 when it is not the access's
  struct {
    probe_wire w;
    std::uint16_t changed[2];
    std::uint64_t cr2;
  } __attribute__((packed)) r{{1, PROBE_STAGE_ACCESS, 14, 0, 2, 0x5, PROBE_HAS_CR2}, {0x20, 0}, 0x8080604abc};
  std::string out = "bochs says hello\n" + frame('R', &r, sizeof r);
  std::string damaged = frame('R', &r, sizeof r);
  damaged[10] ^= 1;  // a corrupted frame is skipped, not misread
  out += damaged;
  const std::uint32_t end[2] = {1, 0};
  out += frame('E', end, 8);
  const Output o = parse_output(out);
  EXPECT_TRUE(o.end);
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results.at(1).error_code, 0x5u);
  EXPECT_EQ(o.results.at(1).cr2, 0x8080604abcu);
  EXPECT_EQ(o.results.at(1).changed[0], 0x20u);
  r.w.flags = 0;  // the length no longer matches the flags: reported, not misread
  EXPECT_TRUE(parse_output(frame('R', &r, sizeof r)).results.empty());
}

TEST(ProbeBatch, MapsRecordsBackToTheCase) {
  const mmu::Case c = four_level(mmu::AccessKind::write, 3);
  const Prepared p = prepare(c, qemu_model_for(c));
  ASSERT_FALSE(p.unsupported);
  probe_result r{};
  r.stage = PROBE_STAGE_ACCESS;
  r.vector = 14;
  r.error_code = 0x7;
  r.cr2 = c.access.addr;
  r.nreadback = 4;
  r.changed[0] = 0x20;  // A set in the PML4E
  Observed o = observe(p, r);
  ASSERT_EQ(o.status, Observed::Status::ok);
  EXPECT_EQ(o.outcome.kind, mmu::OutcomeKind::page_fault);
  ASSERT_EQ(o.outcome.writes.size(), 1u);
  EXPECT_EQ(o.outcome.writes[0].addr, 0x7f000008u);
  EXPECT_EQ(o.outcome.writes[0].value, 0x7f001027u);
  r.cr2 = 0x1000;  // a fault elsewhere is not the access's outcome
  EXPECT_EQ(observe(p, r).status, Observed::Status::unexpected);
  r.stage = PROBE_STAGE_SETUP;
  EXPECT_EQ(observe(p, r).status, Observed::Status::unsupported);
  // A completed write must have reached the landing byte.
  r = {};
  r.stage = PROBE_STAGE_ACCESS;
  r.vector = 3;
  r.flags = PROBE_RIP_IN_WINDOW;
  r.al = 0;
  EXPECT_EQ(observe(p, r).status, Observed::Status::unexpected);
  r.al = PROBE_WRITE_MARK;
  EXPECT_EQ(observe(p, r).outcome.kind, mmu::OutcomeKind::ok);
}

TEST(ProbeKnown, ExplainsOnlyWhatADeviationSays) {
  mmu::Case c = four_level();
  c.memory.set(0x7f003000 + 8 * 4, 0x1234005 | (u64{1} << 50));  // reserved at MAXPHYADDR 46
  mmu::Trace t;
  const mmu::Verdict ref = mmu::reference::evaluate(c, &t);
  ASSERT_EQ(ref.outcome.error_code, 0x9u);
  mmu::Outcome qemu = ref.outcome;
  qemu.error_code = 0x8;  // RSVD without P
  qemu.writes.clear();
  const auto k = explain("qemu", c, ref, t, qemu);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0]->id, "qemu-rsvd-no-p");
  EXPECT_TRUE(explain("bochs", c, ref, t, qemu).empty());  // not a Bochs deviation
  qemu.error_code = 0x1;  // something else entirely
  EXPECT_TRUE(explain("qemu", c, ref, t, qemu).empty());
}

// Hang and crash attribution on the real emulator: every other case keeps its result.
TEST(ProbeRunner, AttributesHangsAndCrashesToTheirCases) {
  RunnerOptions opt;
  opt.sabotage = {{3, PROBE_SELFTEST_CRASH}, {9, PROBE_SELFTEST_HANG}};
  opt.boot_timeout = std::chrono::milliseconds(3000);
  Runner sab(Emulator::qemu, opt), clean(Emulator::qemu);
  if (auto why = clean.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (unsigned i = 0; i < 12; ++i) {
    mmu::Case c = four_level(i % 3 == 0 ? mmu::AccessKind::write : mmu::AccessKind::read, i % 2 ? 3 : 0);
    c.access.addr += 8 * i;
    cases.push_back(c);
  }
  std::vector<const mmu::Case*> ptrs;
  for (const auto& c : cases) ptrs.push_back(&c);
  const auto good = clean.run(ptrs);
  const auto bad = sab.run(ptrs);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (i == 3) {
      EXPECT_EQ(bad[i].status, CaseResult::Status::crash) << bad[i].detail;
    } else if (i == 9) {
      EXPECT_EQ(bad[i].status, CaseResult::Status::hang) << bad[i].detail;
    } else {
      ASSERT_EQ(good[i].status, CaseResult::Status::ok) << good[i].detail;
      EXPECT_EQ(bad[i].status, CaseResult::Status::ok) << i << ": " << bad[i].detail;
      EXPECT_TRUE(bad[i].outcome == good[i].outcome) << i;
      EXPECT_TRUE(mmu::accepts(mmu::reference::evaluate(cases[i]), good[i].outcome)) << i;
    }
  }
  EXPECT_EQ(sab.stats().hangs, 1u);
  EXPECT_EQ(sab.stats().crashes, 1u);
}

// Runs `cases` on `runner` in one batch; each must run and agree with the
// reference (or a documented deviation). Returns what each gave.
std::vector<CaseResult> run_agreeing(Runner& runner, const std::vector<mmu::Case>& cases) {
  std::vector<const mmu::Case*> ptrs;
  for (const auto& c : cases) ptrs.push_back(&c);
  auto got = runner.run(ptrs);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got[i].status, CaseResult::Status::ok) << i << ": " << got[i].detail;
    EXPECT_TRUE(accepts_observed(cases[i], mmu::reference::evaluate(cases[i]), got[i].outcome)) << i;
  }
  return got;
}

// Implicit supervisor-mode accesses (LAR / MOV FS through an LDT at the
// address): supervisor accesses at every CPL (no U/S fault at CPL 3, U/S
// clear in the error code), SMAP regardless of AC, the accessed-flag write
// through a read-only page faulting with W, the D flag it sets.
std::vector<mmu::Case> implicit_cases() {
  std::vector<mmu::Case> cases;
  auto add = [&](mmu::AccessKind kind, unsigned cpl, u64 leaf, u64 cr4 = 0, u64 rflags = 0) {
    mmu::Case c = four_level(kind, cpl);
    c.cpu.maxphyaddr = 40;
    c.cpu.features = bochs_model().features;
    c.cpu.cr4 |= cr4;
    c.cpu.rflags = mmu::rflags::FIXED1 | rflags;
    c.access.implicit = true;
    c.memory.set(0x7f003000 + 8 * 4, leaf);
    cases.push_back(c);
  };
  using K = mmu::AccessKind;
  for (unsigned cpl : {0u, 3u}) {
    add(K::read, cpl, 0x1234001);                       // 0: supervisor page: ok at CPL 3 too
    add(K::write, cpl, 0x1234003);                      // 1: ok, sets A and D
    add(K::write, cpl, 0x1234001);                      // 2: read-only, WP: #PF P|W
    add(K::read, cpl, 0x1234000);                       // 3: not present: #PF 0
    add(K::read, cpl, 0x1234005, mmu::cr4::SMAP);       // 4: SMAP, user page: #PF P
    add(K::write, cpl, 0x1234007, mmu::cr4::SMAP);      // 5: SMAP on the write: #PF P|W (the read faults first)
  }
  cases.erase(cases.begin() + 11);  // the SMAP write's descriptor read faults first: unsupported (tested above)
  cases.erase(cases.begin() + 5);
  mmu::Case pse = cases[1];  // 32-bit paging, a 4-MByte page, CPL 3 write
  pse.cpu.cr4 = mmu::cr4::PSE;
  pse.cpu.efer = 0;
  pse.cpu.cr3 = 0x7f000000;
  pse.cpu.cpl = 3;
  pse.access.addr = 0x80604abc;
  pse.memory = {};
  pse.memory.set(0x7f000000 + 4 * 0x201, 0x12000083);
  cases.push_back(pse);
  return cases;
}

void check_implicit(const std::vector<CaseResult>& got) {
  for (unsigned half : {0u, 5u}) {
    EXPECT_EQ(got[half + 0].outcome.kind, mmu::OutcomeKind::ok) << half;
    EXPECT_EQ(got[half + 1].outcome.kind, mmu::OutcomeKind::ok) << half;
    EXPECT_EQ(got[half + 2].outcome.kind, mmu::OutcomeKind::page_fault) << half;
    EXPECT_EQ(got[half + 2].outcome.error_code, 0x3u) << half;
    EXPECT_EQ(got[half + 3].outcome.error_code, 0x0u) << half;
    EXPECT_EQ(got[half + 4].outcome.kind, mmu::OutcomeKind::page_fault) << half;
    EXPECT_EQ(got[half + 4].outcome.error_code, 0x1u) << half;
  }
  EXPECT_EQ(got[10].outcome.kind, mmu::OutcomeKind::ok);
  EXPECT_FALSE(got[10].outcome.writes.empty());
}

// An implicit write's #PF may name any byte of the descriptor as CR2 (the
// width of the accessed-flag write is the implementation's); not beyond it.
TEST(ProbeImplicit, TakesAnyDescriptorByteAsTheWritesCr2) {
  mmu::Case c = implicit_cases()[7];  // CPL 3, read-only page: #PF P|W
  const Prepared p = prepare(c, bochs_model());
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_EQ(p.header.kind, PROBE_IMPLICIT | PROBE_WRITE);
  probe_result r{};
  r.stage = PROBE_STAGE_ACCESS;
  r.vector = 14;
  r.error_code = 0x3;
  r.al = PROBE_LDT_ACCESSED & ~1u;  // A still clear
  r.cr2 = c.access.addr + 5;
  Observed o = observe(p, r);
  ASSERT_EQ(o.status, Observed::Status::ok) << o.detail;
  EXPECT_EQ(o.outcome.cr2, c.access.addr);
  r.cr2 = c.access.addr + 8;
  EXPECT_EQ(observe(p, r).status, Observed::Status::unexpected);
  r.cr2 = c.access.addr;
  r.al = PROBE_LDT_ACCESSED;  // a #PF, yet the flag got set
  EXPECT_EQ(observe(p, r).status, Observed::Status::unexpected);
}

TEST(ProbeImplicit, RunsImplicitAccessesOnQemu) {
  Runner qemu(Emulator::qemu);
  if (auto why = qemu.unavailable()) GTEST_SKIP() << *why;
  const auto cases = implicit_cases();
  for (const auto& c : cases) ASSERT_FALSE(prepare(c, qemu_model_for(c)).unsupported);
  check_implicit(run_agreeing(qemu, cases));
}

TEST(ProbeImplicit, RunsImplicitAccessesOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  const auto cases = implicit_cases();
  for (const auto& c : cases) ASSERT_FALSE(prepare(c, bochs_model()).unsupported) << *prepare(c, bochs_model()).unsupported;
  check_implicit(run_agreeing(bochs, cases));
}

// An EPT-only case (paging off in L2) for the VMX probe: 4-level EPT, RWX WB
// 4-KByte leaf, Bochs' CPUID and EPT capabilities.
mmu::Case ept_only(mmu::AccessKind kind, u64 leaf = 0x9876037) {
  mmu::Case c;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::ET;
  c.cpu.maxphyaddr = 40;
  c.cpu.features = bochs_model().features;
  c.access = {.addr = 0xc0604abc, .kind = kind};
  mmu::EptState e;
  e.eptp = 0x50000 | mmu::eptp::WB | mmu::eptp::WALK4;
  e.features = bochs_model().ept_features;
  e.memory.set(0x50000, 0x51007);
  e.memory.set(0x51018, 0x52007);
  e.memory.set(0x52018, 0x53007);
  e.memory.set(0x53020, leaf);
  c.ept = e;
  return c;
}

TEST(ProbeVmx, RelocatesTheEptAndKeepsGuestPhysicalAddresses) {
  const mmu::Case c = ept_only(mmu::AccessKind::read);
  const Prepared p = prepare(c, bochs_model());
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_TRUE(p.vmx);
  EXPECT_EQ(p.header.mode, PROBE_MODE_VMX | PROBE_MODE_L4);
  EXPECT_EQ(p.vmx_header.eptp & ~u64{0xfff}, PROBE_POOL_BASE);  // the case's PML4 page, relocated
  EXPECT_EQ(p.vmx_header.eptp & 0xfff, c.ept->eptp & 0xfff);
  EXPECT_EQ(p.header.va, c.access.addr);                        // the guest-physical address stays
  EXPECT_EQ(p.gpa, 0xc0604abcu);
  EXPECT_EQ(p.pa, 0x9876abcu);                                  // reported in the case's host-physical terms
  ASSERT_EQ(p.readback.size(), 4u);                             // the four EPT entries
  for (const ReadbackEntry& r : p.readback_case) EXPECT_EQ(r.space, mmu::Space::ept);
  // the leaf points at a probe page, with the case's permission and memory-type bits
  bool leaf = false;
  for (const probe_entry& e : p.entries)
    if ((e.value & 0xfff) == 0x037) leaf = (e.value & ~u64{0xfff}) >= PROBE_POOL_BASE;
  EXPECT_TRUE(leaf);
  EXPECT_NE(p.header.marker, 0u);
}

TEST(ProbeVmx, SaysWhyItCannotRunACase) {
  mmu::Case c = ept_only(mmu::AccessKind::read);
  const CpuModel q = qemu_model_for(c);
  const Prepared p = prepare(c, q);
  ASSERT_TRUE(p.unsupported);
  EXPECT_NE(p.unsupported->find("no VMX"), std::string::npos) << *p.unsupported;
  // PAE guest paging under EPT, L2 loading CR3 (a PDPTE with a reserved
  // bit), with all four PDPTEs present: no slot for the window's
  mmu::Case pae = c;
  pae.cpu.cr0 |= mmu::cr0::PG;
  pae.cpu.cr4 = mmu::cr4::PAE;
  pae.cpu.cr3 = 0xc0604000;  // mapped by the case's EPT
  pae.cpu.cpl = 2;
  for (unsigned i = 0; i < 4; ++i) pae.memory.set(0xc0604000 + 8 * i, i == 1 ? 0x2021 : 0x2001);
  const Prepared pp = prepare(pae, bochs_model());
  ASSERT_TRUE(pp.unsupported);
  EXPECT_NE(pp.unsupported->find("PAE"), std::string::npos) << *pp.unsupported;
  // a capability the case has and Bochs lacks goes to the probe, which refuses it
  mmu::Case mbec = c;
  mbec.ept->features.add(mmu::EptFeature::mbec);
  const Prepared pm = prepare(mbec, bochs_model());
  ASSERT_FALSE(pm.unsupported);
  EXPECT_TRUE(pm.vmx_header.caps_need & PROBE_CAP_MBEC);
}

// A 4-level guest at CPL 0 under EPT whose tables (PML4, PDPT, PD, PT at
// `t[0..3]`) and data page lie in identity EPT pages of `size` (2 MiB or
// 1 GiB), one leaf entry per large page touched; va 0x8080604abc.
mmu::Case large_nested(u64 size, const std::array<u64, 4>& t, u64 data, mmu::AccessKind kind = mmu::AccessKind::read) {
  mmu::Case c;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::ET | mmu::cr0::PG | mmu::cr0::WP;
  c.cpu.cr4 = mmu::cr4::PAE;
  c.cpu.efer = mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
  c.cpu.cr3 = t[0];
  c.cpu.maxphyaddr = 40;
  c.cpu.features = bochs_model().features;
  c.access = {.addr = 0x8080604abc, .kind = kind};
  c.memory.set(t[0] + 8 * 1, t[1] | 0x3);
  c.memory.set(t[1] + 8 * 2, t[2] | 0x3);
  c.memory.set(t[2] + 8 * 3, t[3] | 0x3);
  c.memory.set(t[3] + 8 * 4, data | 0x3);
  mmu::EptState e;
  e.eptp = 0x50000 | mmu::eptp::WB | mmu::eptp::WALK4;
  e.features = bochs_model().ept_features;
  e.memory.set(0x50000, 0x51007);
  for (u64 g : {t[0], t[1], t[2], t[3], data}) {
    const u64 i = (g >> 30) & 511, frame = g & ~(size - 1);
    if (size == (u64{1} << 30)) {
      e.memory.set(0x51000 + 8 * i, frame | 0xb7);  // RWX, WB, 1-GByte page
    } else {
      e.memory.set(0x51000 + 8 * i, (0x60000 + 0x1000 * i) | 7);
      e.memory.set(0x60000 + 0x1000 * i + 8 * ((g >> 21) & 511), frame | 0xb7);
    }
  }
  c.ept = e;
  return c;
}

constexpr u64 k1G = u64{1} << 30;

// Large EPT leaves share a landing region unless two guest-physical pages the
// case uses would meet in one host-physical page: then the next region, or
// unsupported with the reason.
TEST(ProbeVmx, LargeEptLeavesShareALandingRegionWithoutAliasing) {
  CpuModel big = bochs_model();
  big.big_ram = true;
  auto leaf_values = [](const Prepared& p) {
    std::vector<u64> v;
    for (const probe_entry& e : p.entries)
      if ((e.value & 0xfff) == 0xb7) v.push_back(e.value & ~u64{0xfff});
    std::sort(v.begin(), v.end());
    return v;
  };
  // two 1-GByte leaves, different pages in the free 32-64 MiB: both at host-physical 0 in 64 MiB
  const std::array<u64, 4> t = {0x2001000, 0x2002000, 0x2003000, 0x2004000};
  const Prepared two = prepare(large_nested(k1G, t, k1G + 0x2005000), bochs_model());
  ASSERT_FALSE(two.unsupported) << *two.unsupported;
  EXPECT_EQ(leaf_values(two), (std::vector<u64>{0, 0}));
  EXPECT_EQ(two.header.marker, 0x2005abcu);
  EXPECT_EQ(two.pa, k1G + 0x2005abc);  // the case's own host-physical address
  // the data page at the PML4's offset: one host page for two guest-physical pages in 64 MiB ...
  const mmu::Case alias = large_nested(k1G, t, k1G + 0x2001000);
  const Prepared a = prepare(alias, bochs_model());
  ASSERT_TRUE(a.unsupported);
  EXPECT_NE(a.unsupported->find("would share host-physical page 0x2001000"), std::string::npos) << *a.unsupported;
  // ... while with 2 GiB the first leaf lands at 1 GiB and the second at 0
  const Prepared ab = prepare(alias, big);
  ASSERT_FALSE(ab.unsupported) << *ab.unsupported;
  EXPECT_EQ(leaf_values(ab), (std::vector<u64>{0, PROBE_LANDING_1G}));
  EXPECT_EQ(ab.header.marker, 0x2001abcu);
  // outside the free RAM, where only the 1-GiB region can take them: refused
  const std::array<u64, 4> low = {0x101000, 0x102000, 0x103000, 0x104000};
  const Prepared r = prepare(large_nested(k1G, low, k1G + 0x101000), big);
  ASSERT_TRUE(r.unsupported);
  EXPECT_NE(r.unsupported->find("1-GByte EPT pages: guest-physical pages 0x101000 and 0x40101000 would share"),
            std::string::npos)
      << *r.unsupported;
  EXPECT_TRUE(prepare(large_nested(k1G, low, k1G + 0x105000), big).unsupported == std::nullopt);
  // five 2-MByte leaves: the PD's page meets the PML4's at offset 0x1000 and goes to the next region
  const Prepared m = prepare(large_nested(2 << 20, {0x201000, 0x402000, 0x601000, 0x803000}, 0xa04000), bochs_model());
  ASSERT_FALSE(m.unsupported) << *m.unsupported;
  EXPECT_EQ(leaf_values(m), (std::vector<u64>{PROBE_LANDING_2M, PROBE_LANDING_2M, PROBE_LANDING_2M,
                                              PROBE_LANDING_2M, PROBE_LANDING_2M + (2 << 20)}));
  // two leaf entries with one frame are two guest-physical pages: two landing pages
  mmu::Case same = large_nested(2 << 20, {0x201000, 0x402000, 0x603000, 0x804000}, 0xa01000);
  same.ept->memory.set(0x60000 + 8 * 5, 0x200000 | 0xb7);  // the data's 2 MiB -> the PML4's frame
  const Prepared sm = prepare(same, bochs_model());
  ASSERT_FALSE(sm.unsupported) << *sm.unsupported;
  EXPECT_EQ(leaf_values(sm).back(), PROBE_LANDING_2M + (2 << 20));
}

// On Bochs: cases with several large EPT leaves sharing a landing region (two
// 1-GByte leaves in 64 MiB, the same at one offset in a 2-GiB boot, five
// 2-MByte leaves) run and agree with the reference.
TEST(ProbeVmx, RunsCasesWithSharedLandingRegionsOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  const std::array<u64, 4> t = {0x2001000, 0x2002000, 0x2003000, 0x2004000};
  std::vector<mmu::Case> cases;
  for (auto kind : {mmu::AccessKind::read, mmu::AccessKind::write, mmu::AccessKind::fetch}) {
    cases.push_back(large_nested(k1G, t, k1G + 0x2005000, kind));
    cases.push_back(large_nested(k1G, t, k1G + 0x2001000, kind));
    cases.push_back(large_nested(2 << 20, {0x201000, 0x402000, 0x601000, 0x803000}, 0xa04000, kind));
  }
  cases.push_back(large_nested(k1G, t, k1G + 0x2005000));
  cases.back().ept->eptp |= mmu::eptp::AD;  // EPT A/D: the walks set accessed flags in both leaves
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ok) << i;
    EXPECT_FALSE(got[i].outcome.writes.empty()) << i;  // the guest's accessed flags
  }
}

// Implicit accesses with the probe as L1: the VMCS's LDTR is based at the
// case's address, L2 runs LAR / MOV FS. EPT-only and nested (4-level guest
// at CPL 3, supervisor pages): completed reads and writes, and the
// accessed-flag write meeting a read-only EPT leaf (an EPT violation whose
// guest-linear address is a byte of the descriptor, taken as the access's).
TEST(ProbeImplicit, RunsImplicitEptAndNestedCasesOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  using K = mmu::AccessKind;
  std::vector<mmu::Case> cases = {ept_only(K::read), ept_only(K::write), ept_only(K::write, 0x9876035)};
  for (K kind : {K::read, K::write}) {
    cases.push_back(large_nested(2 << 20, {0x201000, 0x402000, 0x601000, 0x803000}, 0xa04000, kind));
    cases.back().cpu.cpl = 3;
  }
  cases.push_back(cases.back());
  cases.back().ept->eptp |= mmu::eptp::AD;
  for (auto& c : cases) {
    c.access.implicit = true;
    const Prepared p = prepare(c, bochs_model());
    ASSERT_FALSE(p.unsupported) << *p.unsupported;
  }
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i : {0, 1, 3, 4, 5}) EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ok) << i;
  EXPECT_EQ(got[2].outcome.kind, mmu::OutcomeKind::ept_violation);
  EXPECT_EQ(got[2].outcome.gla, cases[2].access.addr);
}

// On Bochs: EPT outcomes as the reference has them; a capability Bochs lacks
// is unsupported, with the reason; a hang and a crash among EPT cases are
// attributed to their cases.
TEST(ProbeVmx, RunsEptCasesOnBochs) {
  RunnerOptions opt;
  opt.sabotage = {{2, PROBE_SELFTEST_CRASH}, {5, PROBE_SELFTEST_HANG}};
  opt.boot_timeout = std::chrono::milliseconds(3000);
  Runner sab(Emulator::bochs, opt), clean(Emulator::bochs);
  if (auto why = clean.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (unsigned i = 0; i < 8; ++i) {
    const auto kind = i % 3 == 0 ? mmu::AccessKind::write : i % 3 == 1 ? mmu::AccessKind::read : mmu::AccessKind::fetch;
    // 0x9876035: read/execute, no write: writes are EPT violations
    cases.push_back(ept_only(kind, i % 2 ? 0x9876035 : 0x9876037));
    cases.back().access.addr += 8 * i;
  }
  mmu::Case mbec = ept_only(mmu::AccessKind::read);
  mbec.ept->features.add(mmu::EptFeature::mbec);
  cases.push_back(mbec);
  std::vector<const mmu::Case*> ptrs;
  for (const auto& c : cases) ptrs.push_back(&c);
  const auto good = clean.run(ptrs);
  const auto bad = sab.run(ptrs);
  for (std::size_t i = 0; i + 1 < cases.size(); ++i) {
    ASSERT_EQ(good[i].status, CaseResult::Status::ok) << i << ": " << good[i].detail;
    EXPECT_TRUE(accepts_observed(cases[i], mmu::reference::evaluate(cases[i]), good[i].outcome)) << i;
    if (i == 2) EXPECT_EQ(bad[i].status, CaseResult::Status::crash) << bad[i].detail;
    else if (i == 5) EXPECT_EQ(bad[i].status, CaseResult::Status::hang) << bad[i].detail;
    else EXPECT_TRUE(bad[i].status == CaseResult::Status::ok && bad[i].outcome == good[i].outcome) << i;
  }
  EXPECT_EQ(good[3].outcome.kind, mmu::OutcomeKind::ept_violation);
  EXPECT_EQ(good.back().status, CaseResult::Status::unsupported);
  EXPECT_NE(good.back().detail.find("mode-based execute"), std::string::npos) << good.back().detail;
}

// A PAE guest at CPL 0 under EPT (an identity 2-MByte EPT page over the low
// 2 MiB): PDPT 0x1000, PD 0x2000, PT 0x3000, va 0x5abc -> gpa 0x4abc.
mmu::Case pae_nested(mmu::AccessKind kind) {
  mmu::Case c;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::ET | mmu::cr0::PG;
  c.cpu.cr4 = mmu::cr4::PAE;
  c.cpu.cr3 = 0x1000;
  c.cpu.maxphyaddr = 40;
  c.cpu.features = bochs_model().features;
  c.access = {.addr = 0x5abc, .kind = kind};
  c.memory.set(0x1000, 0x2001);
  c.memory.set(0x2000, 0x3023);
  c.memory.set(0x3028, 0x4023);
  mmu::EptState e;
  e.eptp = 0x50000 | mmu::eptp::WB | mmu::eptp::WALK4;
  e.features = bochs_model().ept_features;
  e.memory.set(0x50000, 0x51007);
  e.memory.set(0x51000, 0x52007);
  e.memory.set(0x52000, 0x0000b7);  // 2-MByte page at 0, RWX, WB
  c.ept = e;
  return c;
}

// PAE PDPTE loads that must go through EPT (L2 loads CR3 itself): the load's
// EPT violation (GLA not valid), a PDPTE with a reserved bit (#GP), and an
// ordinary access through L2-loaded PDPTEs, each as the reference says.
TEST(ProbeVmx, RunsPaePdpteLoadsOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (auto kind : {mmu::AccessKind::read, mmu::AccessKind::write, mmu::AccessKind::fetch}) {
    mmu::Case unmapped = pae_nested(kind);  // the PDPT above the EPT's 2 MiB
    unmapped.cpu.cr3 = 0x300000;
    cases.push_back(unmapped);
    mmu::Case rsvd = pae_nested(kind);  // PDPTE 2 with bit 5 set
    rsvd.memory.set(0x1010, 0x2021);
    cases.push_back(rsvd);
    mmu::Case ok = pae_nested(kind);  // EPT A/D on: the load sets EPT accessed flags, the access completes
    ok.ept->eptp |= mmu::eptp::AD;
    cases.push_back(ok);
  }
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i = 0; i < cases.size(); i += 3) {
    EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ept_violation) << i;
    EXPECT_FALSE(got[i].outcome.qualification & mmu::eptq::GLA_VALID) << i;
    EXPECT_EQ(got[i + 1].outcome.kind, mmu::OutcomeKind::general_protection) << i;
    EXPECT_EQ(got[i + 1].outcome.gp_reason, mmu::GpReason::pdpte_reserved) << i;
  }
  EXPECT_EQ(got[2].outcome.kind, mmu::OutcomeKind::ok);
  EXPECT_EQ(got[2].outcome.gpa, 0x4abcu);
  EXPECT_FALSE(got[2].outcome.writes.empty());  // the EPT accessed flags the load (and the walk) set
}

// The same at CPL 3 (L2 loads CR3 at CPL 0, then SYSEXIT): a user page is
// read, a supervisor page faults with U/S set in the error code, an
// unmapped PDPT is the load's EPT violation.
TEST(ProbeVmx, RunsPaePdpteLoadsAtCpl3OnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (unsigned i = 0; i < 3; ++i) {
    mmu::Case c = pae_nested(mmu::AccessKind::read);
    c.cpu.cpl = 3;
    c.ept->eptp |= mmu::eptp::AD;  // the load sets EPT accessed flags: L2 must load CR3 itself
    c.memory.set(0x2000, 0x3027);
    c.memory.set(0x3028, i == 1 ? 0x4023 : 0x4027);
    if (i == 2) c.cpu.cr3 = 0x300000;
    cases.push_back(c);
  }
  for (const auto& c : cases) ASSERT_FALSE(prepare(c, bochs_model()).unsupported);
  const auto got = run_agreeing(bochs, cases);
  EXPECT_EQ(got[0].outcome.kind, mmu::OutcomeKind::ok);
  EXPECT_EQ(got[1].outcome.kind, mmu::OutcomeKind::page_fault);
  EXPECT_EQ(got[1].outcome.error_code, 0x5u);
  EXPECT_EQ(got[2].outcome.kind, mmu::OutcomeKind::ept_violation);
}

// PAE at CPL 1 or 2 whose PDPTE load must go through EPT: L2 enters at CPL
// 0, loads CR3, then IRETs to the case's CPL through a frame and a GDT in a
// window page (read-only, accessed, no walk of the case's reads it).
TEST(ProbeVmx, StagesAnIretToCpl1Or2AfterThePdpteLoad) {
  for (unsigned cpl : {1u, 2u}) {
    mmu::Case c = pae_nested(mmu::AccessKind::read);
    c.cpu.cpl = cpl;
    c.cpu.rflags = mmu::rflags::FIXED1 | mmu::rflags::AC;
    c.ept->eptp |= mmu::eptp::AD;  // the load sets EPT accessed flags: L2 must load CR3 itself
    const Prepared p = prepare(c, bochs_model());
    ASSERT_FALSE(p.unsupported) << *p.unsupported;
    EXPECT_EQ(p.header.cpl, 0u) << cpl;  // VM entry at CPL 0, for the MOV to CR3
    EXPECT_EQ(p.vmx_header.l2_loads_cr3, 1u);
    EXPECT_EQ(p.vmx_header.gdtr_base, p.window_gla + 0x2000);
    EXPECT_EQ(p.l2_iret_rip_off, 13u);
    const u64 cs = 0x20 + 16 * (cpl - 1) + cpl;
    const u64 dpl = u64{cpl} << 45;
    bool code = false, data = false, frame = false, frame_flags = false, pte = false;
    for (const probe_entry& e : p.entries) {
      code |= e.value == (0x00cf9b000000ffffull | dpl);  // flat 32-bit code, accessed
      data |= e.value == (0x00cf93000000ffffull | dpl);
      frame |= e.value == ((p.window_gla + 14) | cs << 32);  // EIP, CS
      frame_flags |= (e.value & 0xffffffffu) == (mmu::rflags::FIXED1 | mmu::rflags::AC);  // EFLAGS: the case's AC
      pte |= (e.value & 0xfff) == 0x021 && e.value >> 12 == (p.window_gpa >> 12) + 3;  // present, accessed
    }
    EXPECT_TRUE(code && data && frame && frame_flags && pte) << cpl;
    for (const ReadbackEntry& r : p.readback_case)  // the probe's pages are none of the case's
      EXPECT_FALSE(r.space == mmu::Space::guest && r.case_addr >> 12 == (p.window_gpa >> 12) + 3);
  }
}

// On Bochs, at CPL 1 and 2 (IRET after the MOV to CR3): a supervisor read,
// a write to a read-only page with CR0.WP, a fetch, a user page read under
// SMAP with RFLAGS.AC clear and set, the load's EPT violation and #GP.
TEST(ProbeVmx, RunsPaePdpteLoadsAtCpl1And2OnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (unsigned cpl : {1u, 2u})
    for (unsigned i = 0; i < 7; ++i) {
      const auto kind = i == 1 ? mmu::AccessKind::write : i == 2 ? mmu::AccessKind::fetch : mmu::AccessKind::read;
      mmu::Case c = pae_nested(kind);
      c.cpu.cpl = cpl;
      c.ept->eptp |= mmu::eptp::AD;
      if (i == 1) {
        c.cpu.cr0 |= mmu::cr0::WP;
        c.memory.set(0x3028, 0x4021);
      }
      if (i == 3 || i == 4) {
        c.cpu.cr4 |= mmu::cr4::SMAP;
        c.memory.set(0x2000, 0x3027);
        c.memory.set(0x3028, 0x4027);
        if (i == 4) c.cpu.rflags |= mmu::rflags::AC;
      }
      if (i == 5) c.cpu.cr3 = 0x300000;        // the PDPT above the EPT's 2 MiB
      if (i == 6) c.memory.set(0x1010, 0x2021);  // PDPTE 2 with bit 5 set
      cases.push_back(c);
    }
  for (const auto& c : cases) ASSERT_FALSE(prepare(c, bochs_model()).unsupported) << *prepare(c, bochs_model()).unsupported;
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t b = 0; b < cases.size(); b += 7) {
    EXPECT_EQ(got[b].outcome.kind, mmu::OutcomeKind::ok) << b;
    EXPECT_EQ(got[b].outcome.gpa, 0x4abcu) << b;
    EXPECT_EQ(got[b + 1].outcome.kind, mmu::OutcomeKind::page_fault) << b;
    EXPECT_EQ(got[b + 1].outcome.error_code, 0x3u) << b;  // supervisor: U/S clear
    EXPECT_EQ(got[b + 2].outcome.kind, mmu::OutcomeKind::ok) << b;
    EXPECT_EQ(got[b + 3].outcome.kind, mmu::OutcomeKind::page_fault) << b;  // SMAP
    EXPECT_EQ(got[b + 3].outcome.error_code, 0x1u) << b;
    EXPECT_EQ(got[b + 4].outcome.kind, mmu::OutcomeKind::ok) << b;  // AC set: SMAP allows it
    EXPECT_EQ(got[b + 5].outcome.kind, mmu::OutcomeKind::ept_violation) << b;
    EXPECT_FALSE(got[b + 5].outcome.qualification & mmu::eptq::GLA_VALID) << b;
    EXPECT_EQ(got[b + 6].outcome.kind, mmu::OutcomeKind::general_protection) << b;
    EXPECT_EQ(got[b + 6].outcome.gp_reason, mmu::GpReason::pdpte_reserved) << b;
  }
}

// 32-bit and 4-level guests at CPL 0-2 whose top-level table's EPT
// translation faults (L2 starts on the probe's tables, code page global, and
// loads the case's CR3; at CPL 1/2 it then IRETs through a global frame and
// GDT page it read first): the access's own EPT violation (GLA valid, the
// access's address) or misconfiguration at the top-level table, as the
// reference says.
TEST(ProbeVmx, RunsCasesWhoseTopLevelTableFaultsOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (unsigned cpl : {0u, 1u, 2u, 3u})
  for (bool lm : {false, true})
    for (auto kind : {mmu::AccessKind::read, mmu::AccessKind::write, mmu::AccessKind::fetch})
      for (bool misconfig : {false, true}) {
        mmu::Case c = pae_nested(kind);
        c.cpu.cpl = cpl;
        c.cpu.cr4 = lm ? mmu::cr4::PAE : 0;
        if (lm) c.cpu.efer = mmu::efer::LME | mmu::efer::LMA;
        c.cpu.cr3 = 0x300000;  // above the EPT's 2 MiB: not mapped
        if (misconfig) c.ept->memory.set(0x52008, 0x2000b2);  // write-only 2-MByte page over it
        cases.push_back(c);
      }
  for (const auto& c : cases) {
    const Prepared p = prepare(c, bochs_model());
    ASSERT_FALSE(p.unsupported) << *p.unsupported;
    // a fetch: L2 starts at the address, at the case's CPL, on the case's tables
    if (c.access.kind == mmu::AccessKind::fetch) {
      EXPECT_EQ(p.header.cpl, c.cpu.cpl);
      EXPECT_EQ(p.vmx_header.l2_loads_cr3, 0u);
      EXPECT_EQ(p.vmx_header.rip, c.access.addr);
      continue;
    }
    // CPL 3 enters there (its user code page's global entry filled at CPL 3), then SYSENTERs to load CR3
    EXPECT_EQ(p.header.cpl, c.cpu.cpl == 3 ? 3u : 0u);
    EXPECT_EQ(p.l2_iret_rip_off != 0, c.cpu.cpl == 1 || c.cpu.cpl == 2);
    EXPECT_EQ(p.vmx_header.sysenter_eip != 0, c.cpu.cpl == 3);
  }
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ept_violation) << i;
      EXPECT_EQ(got[i].outcome.gla, cases[i].access.addr) << i;
    } else {
      EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ept_misconfig) << i;
    }
    EXPECT_EQ(got[i].outcome.gpa, 0x300000u) << i;
  }
}

}  // namespace

namespace {

// The window's EPT slot hangs below an EPT entry L2's own fetches can pass:
// never below the case's faulting entry (a misconfigured EPT PML4E above the
// guest's top-level table), but below another usable one when there is one.
mmu::Case top_level_misconfig(bool lm) {
  mmu::Case c = pae_nested(mmu::AccessKind::read);
  c.cpu.cr4 = lm ? mmu::cr4::PAE : 0;
  if (lm) c.cpu.efer = mmu::efer::LME | mmu::efer::LMA;
  c.cpu.cr3 = 0x300000;
  c.ept->memory.set(0x50000, 0x5100f);  // EPT PML4E 0: bit 3 reserved, a misconfiguration
  return c;
}

TEST(ProbeVmx, PutsTheWindowBelowAnEptEntryItsFetchesCanPass) {
  // 32-bit paging reaches guest-physical addresses below 4 GiB only, all under EPT PML4E 0
  const Prepared refused = prepare(top_level_misconfig(false), bochs_model());
  ASSERT_TRUE(refused.unsupported);
  EXPECT_NE(refused.unsupported->find("no EPT slot free"), std::string::npos) << *refused.unsupported;
  // ... but a fetch needs no window: L2 starts at the address, its first fetch meets the misconfiguration
  mmu::Case fetch = top_level_misconfig(false);
  fetch.access.kind = mmu::AccessKind::fetch;
  const Prepared bare = prepare(fetch, bochs_model());
  ASSERT_FALSE(bare.unsupported) << *bare.unsupported;
  EXPECT_EQ(bare.window_gpa, ~u64{0});
  // 4-level: the guest's PML4E points above 512 GiB, so PML4E 1 is used too; it is usable
  mmu::Case c = top_level_misconfig(true);
  c.memory.set(0x300000, 0x8000001027);
  c.ept->memory.set(0x50008, 0x51007);
  const Prepared p = prepare(c, bochs_model());
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_EQ(p.window_gpa, 0x8040000000u);  // the first 1-GByte region below PML4E 1 no walk uses
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  const auto got = run_agreeing(bochs, {c, fetch});
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ept_misconfig) << i;
    EXPECT_EQ(got[i].outcome.gpa, 0x300000u) << i;
  }
}

// A shadow-stack write in `mode` (CR4.CET, Bochs' CPUID) to a 4 KiB page whose
// leaf is `leaf` (frame 0x1234000), the entries above carrying `upper`.
mmu::Case shadow_stack_write(mmu::PagingMode mode, u64 leaf, unsigned cpl = 3, u64 upper = 0x7) {
  mmu::Case c;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::PG | mmu::cr0::WP | mmu::cr0::ET;
  c.cpu.cr4 = mmu::cr4::CET;
  u64 va = 0xc0401ab8;
  unsigned levels = 2;
  if (mode != mmu::PagingMode::bit32) c.cpu.cr4 |= mmu::cr4::PAE;
  if (mode == mmu::PagingMode::pae) levels = 3;
  if (mode == mmu::PagingMode::level4) {
    c.cpu.efer = mmu::efer::LME | mmu::efer::LMA | mmu::efer::NXE;
    va = 0x8080604ab8;
    levels = 4;
  }
  c.cpu.maxphyaddr = 40;
  c.cpu.features = bochs_model().features;
  c.access = {.addr = va, .kind = mmu::AccessKind::write, .shadow_stack = true};
  c.cpu.cpl = cpl;
  mmu::ChainBuilder b(c, 0x7f000000, 0x7f001000);
  const u64 pdpte = mode == mmu::PagingMode::pae ? 1 : upper;  // a PAE PDPTE has no R/W or U/S
  if (levels == 2) b.map(va, leaf, 1, {upper});
  else if (levels == 3) b.map(va, leaf, 1, {pdpte, upper});
  else b.map(va, leaf, 1, {upper, upper, upper});
  return c;
}

// WRSS at CPL 3 (user shadow-stack writes, SDM 4.6.1): it completes on a user
// shadow-stack page (leaf R/W = 0, D = 1, R/W = 1 above) and faults with SS in
// the error code on an ordinary writable page, a read-only clean page, a
// supervisor shadow-stack page, below a read-only upper entry, and on an
// absent leaf; at CPL 0 it completes on a supervisor shadow-stack page only;
// in every paging mode Bochs runs.
TEST(ProbeShadowStack, RunsUserShadowStackWritesOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  using mmu::PagingMode;
  std::vector<mmu::Case> cases;
  // 4-level first: its CPL 0 cases leave SSP above 4 GiB, which the 32-bit
  // ones must survive (the probe lowers SSP before a 32-bit IRET to CPL 3)
  for (PagingMode m : {PagingMode::level4, PagingMode::bit32, PagingMode::pae}) {
    cases.push_back(shadow_stack_write(m, 0x1234045));         // user shadow-stack page
    cases.push_back(shadow_stack_write(m, 0x1234067));         // ordinary writable page, dirty
    cases.push_back(shadow_stack_write(m, 0x1234025));         // read-only, clean
    cases.push_back(shadow_stack_write(m, 0x1234041));         // supervisor shadow-stack page
    cases.push_back(shadow_stack_write(m, 0x1234045, 3, 0x5)); // R/W = 0 above
    cases.push_back(shadow_stack_write(m, 0x1234044));         // not present
    // CPL 0 (supervisor shadow-stack writes): a supervisor shadow-stack page,
    // a user one, a writable one
    cases.push_back(shadow_stack_write(m, 0x1234041, 0));
    cases.push_back(shadow_stack_write(m, 0x1234045, 0));
    cases.push_back(shadow_stack_write(m, 0x1234063, 0));
  }
  const auto got = run_agreeing(bochs, cases);
  using mmu::pferr::P, mmu::pferr::W, mmu::pferr::U, mmu::pferr::SS;
  for (std::size_t i = 0; i < cases.size(); i += 9) {
    EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ok) << i;
    for (std::size_t k = 1; k < 5; ++k) {
      EXPECT_EQ(got[i + k].outcome.kind, mmu::OutcomeKind::page_fault) << i + k;
      EXPECT_EQ(got[i + k].outcome.error_code, P | W | U | SS) << i + k;
    }
    EXPECT_EQ(got[i + 5].outcome.error_code, W | U | SS) << i + 5;
    EXPECT_EQ(got[i + 6].outcome.kind, mmu::OutcomeKind::ok) << i + 6;
    for (std::size_t k = 7; k < 9; ++k) {
      EXPECT_EQ(got[i + k].outcome.kind, mmu::OutcomeKind::page_fault) << i + k;
      EXPECT_EQ(got[i + k].outcome.error_code, P | W | SS) << i + k;
    }
  }
}

// User shadow-stack reads (a RET with SSP at the address): complete on a user
// shadow-stack page, fault with P|U|SS on a writable page and on a supervisor
// shadow-stack page, U|SS on an absent leaf.
TEST(ProbeShadowStack, RunsUserShadowStackReadsOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  using mmu::PagingMode;
  std::vector<mmu::Case> cases;
  for (PagingMode m : {PagingMode::level4, PagingMode::bit32, PagingMode::pae})
    for (u64 leaf : {0x1234045ull, 0x1234067ull, 0x1234041ull, 0x1234044ull}) {
      cases.push_back(shadow_stack_write(m, leaf));
      cases.back().access.kind = mmu::AccessKind::read;
    }
  const auto got = run_agreeing(bochs, cases);
  using mmu::pferr::P, mmu::pferr::U, mmu::pferr::SS;
  for (std::size_t i = 0; i < cases.size(); i += 4) {
    EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ok) << i;
    EXPECT_EQ(got[i + 1].outcome.error_code, P | U | SS) << i + 1;
    EXPECT_EQ(got[i + 2].outcome.error_code, P | U | SS) << i + 2;
    EXPECT_EQ(got[i + 3].outcome.error_code, U | SS) << i + 3;
  }
}

TEST(ProbeShadowStack, SaysWhyItCannotRunACase) {
  mmu::Case c = shadow_stack_write(mmu::PagingMode::level4, 0x1234045);
  EXPECT_FALSE(prepare(c, bochs_model()).unsupported);
  EXPECT_EQ(prepare(c, bochs_model()).header.kind, PROBE_SS_WRITE);
  EXPECT_NE(prepare(c, qemu_model_for(c)).unsupported->find("has no shstk"), std::string::npos);
  c.access.addr += 4;
  EXPECT_NE(prepare(c, bochs_model()).unsupported->find("8-byte aligned"), std::string::npos);
  c = shadow_stack_write(mmu::PagingMode::level4, 0x1234041, 2);
  EXPECT_NE(prepare(c, bochs_model()).unsupported->find("CPL 1/2"), std::string::npos);
  c = shadow_stack_write(mmu::PagingMode::level4, 0x1234041, 0);
  c.access.kind = mmu::AccessKind::read;
  EXPECT_NE(prepare(c, bochs_model()).unsupported->find("supervisor shadow-stack reads"), std::string::npos);
  c.cpu.cpl = 3;
  EXPECT_EQ(prepare(c, bochs_model()).header.kind, PROBE_SS_READ);
}

// shadow_stack_write() under EPT: 2-MByte EPT pages map the guest's tables
// (0x7f000000) and the data page's region (0x1200000, `data_ept` its flags).
mmu::Case nested_shadow_stack(mmu::PagingMode mode, u64 leaf, unsigned cpl, mmu::AccessKind kind,
                              u64 data_ept = 0xb7) {
  mmu::Case c = shadow_stack_write(mode, leaf, cpl);
  c.access.kind = kind;
  mmu::EptState e;
  e.eptp = 0x50000 | mmu::eptp::WB | mmu::eptp::WALK4;
  e.features = bochs_model().ept_features;
  e.memory.set(0x50000, 0x51007);
  e.memory.set(0x51000, 0x52007);                       // GPA 0-1 GiB
  e.memory.set(0x51008, 0x53007);                       // GPA 1-2 GiB
  e.memory.set(0x52000 + 8 * 9, 0x1200000 | data_ept);  // the data page's 2 MiB
  e.memory.set(0x53000 + 8 * 0x1f8, 0x7f0000b7);        // the guest's tables, RWX WB
  c.ept = e;
  return c;
}

// Shadow-stack accesses under EPT on Bochs (L2 runs WRSS, or a RET with SSP
// at the address, with the VMCS's guest CET state): user and supervisor
// writes and reads complete on shadow-stack pages of their mode -- at CPL 1
// and 2 too, and supervisor reads, which guest paging cannot stage -- fault
// with SS in the error code elsewhere, and meet EPT's write permission (an
// EPT violation whose qualification says shadow-stack access, bit 13).
TEST(ProbeShadowStack, RunsShadowStackAccessesUnderEptOnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  using mmu::PagingMode;
  using K = mmu::AccessKind;
  using mmu::OutcomeKind;
  using mmu::pferr::P, mmu::pferr::W, mmu::pferr::U, mmu::pferr::SS;
  struct Want {
    mmu::Case c;
    OutcomeKind kind;
    u64 error_code = 0;
  };
  std::vector<Want> want;
  for (PagingMode m : {PagingMode::level4, PagingMode::bit32, PagingMode::pae}) {
    want.push_back({nested_shadow_stack(m, 0x1234045, 3, K::write), OutcomeKind::ok});
    want.push_back({nested_shadow_stack(m, 0x1234067, 3, K::write), OutcomeKind::page_fault, P | W | U | SS});
    want.push_back({nested_shadow_stack(m, 0x1234045, 3, K::write, 0xb5), OutcomeKind::ept_violation});
    for (unsigned cpl : {0u, 1u, 2u})
      want.push_back({nested_shadow_stack(m, 0x1234041, cpl, K::write), OutcomeKind::ok});
    want.push_back({nested_shadow_stack(m, 0x1234045, 0, K::write), OutcomeKind::page_fault, P | W | SS});
    want.push_back({nested_shadow_stack(m, 0x1234045, 3, K::read), OutcomeKind::ok});
    want.push_back({nested_shadow_stack(m, 0x1234041, 3, K::read), OutcomeKind::page_fault, P | U | SS});
    want.push_back({nested_shadow_stack(m, 0x1234041, 0, K::read), OutcomeKind::ok});
    want.push_back({nested_shadow_stack(m, 0x1234041, 2, K::read, 0xb4), OutcomeKind::ept_violation});
  }
  std::vector<mmu::Case> cases;
  for (const Want& w : want) cases.push_back(w.c);
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].outcome.kind, want[i].kind) << i;
    if (want[i].kind == OutcomeKind::page_fault) {
      EXPECT_EQ(got[i].outcome.error_code, want[i].error_code) << i;
    }
    if (want[i].kind == OutcomeKind::ept_violation) {
      EXPECT_TRUE(got[i].outcome.qualification & mmu::eptq::SHADOW_STACK) << i;
    }
  }
}

TEST(ProbeShadowStack, SaysWhyItCannotRunOneUnderEpt) {
  using K = mmu::AccessKind;
  mmu::Case c = nested_shadow_stack(mmu::PagingMode::level4, 0x1234045, 3, K::write);
  Prepared p = prepare(c, bochs_model());
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_EQ(p.header.kind, PROBE_SS_WRITE);
  c.access.addr += 4;
  EXPECT_NE(prepare(c, bochs_model()).unsupported->find("8-byte aligned"), std::string::npos);
  c = nested_shadow_stack(mmu::PagingMode::level4, 0x1234045, 3, K::read);
  p = prepare(c, bochs_model());
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_EQ(p.header.kind, PROBE_SS_READ);
  EXPECT_EQ(p.header.marker, 0u);  // the landing spot holds the RET's return address, written as an entry
  c.access.implicit = true;
  EXPECT_NE(prepare(c, bochs_model()).unsupported->find("implicit shadow-stack"), std::string::npos);
  // where L2 loads CR3 itself (the guest's tables not mapped by EPT), the
  // IRET to CPL 2 pops its frame from a supervisor shadow stack at VM entry's SSP
  c = nested_shadow_stack(mmu::PagingMode::level4, 0x1234041, 2, K::read);
  c.ept->memory.set(0x53000 + 8 * 0x1f8, 0);
  p = prepare(c, bochs_model());
  ASSERT_FALSE(p.unsupported) << *p.unsupported;
  EXPECT_EQ(p.header.cpl, 0u);
  EXPECT_EQ(p.vmx_header.s_cet, 3u);
  EXPECT_EQ(p.vmx_header.ssp, p.window_gla + 0x2fd0);
}

// Where L2 loads CR3 itself: PAE under EPT with accessed flags (the PDPTE
// load sets them, so it goes through EPT) at CPL 0, by IRET at CPL 1 and 2
// (through a supervisor shadow-stack frame) and by SYSEXIT at CPL 3; 4-level
// guests whose top-level table EPT does not map (L2 on global pages, IRET,
// SYSENTER at CPL 3), where the access's walk meets that EPT violation.
TEST(ProbeShadowStack, RunsShadowStackAccessesWhereL2LoadsCr3OnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  using K = mmu::AccessKind;
  std::vector<mmu::Case> cases;
  for (unsigned cpl : {0u, 1u, 2u, 3u})
    for (K kind : {K::read, K::write}) {
      mmu::Case c = nested_shadow_stack(mmu::PagingMode::pae, cpl == 3 ? 0x1234045 : 0x1234041, cpl, kind);
      c.ept->eptp |= mmu::eptp::AD;
      ASSERT_EQ(prepare(c, bochs_model()).vmx_header.l2_loads_cr3, 1u);
      cases.push_back(c);
      c = nested_shadow_stack(mmu::PagingMode::level4, cpl == 3 ? 0x1234045 : 0x1234041, cpl, kind);
      c.ept->memory.set(0x53000 + 8 * 0x1f8, 0);
      ASSERT_EQ(prepare(c, bochs_model()).vmx_header.l2_loads_cr3, 1u);
      cases.push_back(c);
    }
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i = 0; i < cases.size(); i += 2) {
    EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ok) << i;
    EXPECT_EQ(got[i + 1].outcome.kind, mmu::OutcomeKind::ept_violation) << i + 1;
  }
}

// Where L2 loads CR3 itself (PAE PDPTEs through EPT), at CPL 0, 3 (SYSEXIT)
// and 1/2 (IRET): implicit reads and writes of a supervisor page complete.
TEST(ProbeImplicit, RunsImplicitAccessesWhereL2LoadsCr3OnBochs) {
  Runner bochs(Emulator::bochs);
  if (auto why = bochs.unavailable()) GTEST_SKIP() << *why;
  std::vector<mmu::Case> cases;
  for (unsigned cpl : {0u, 1u, 3u})
    for (auto kind : {mmu::AccessKind::read, mmu::AccessKind::write}) {
      mmu::Case c = pae_nested(kind);
      c.cpu.cpl = cpl;
      c.ept->eptp |= mmu::eptp::AD;  // the PDPTE load sets EPT accessed flags: L2 must load CR3
      c.access.implicit = true;
      const Prepared p = prepare(c, bochs_model());
      ASSERT_FALSE(p.unsupported) << *p.unsupported;
      EXPECT_EQ(p.vmx_header.l2_loads_cr3, 1u);
      cases.push_back(c);
    }
  const auto got = run_agreeing(bochs, cases);
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(got[i].outcome.kind, mmu::OutcomeKind::ok) << i;
}

}  // namespace
