#!/usr/bin/env python3
"""Writes the guest-walk regression corpus (corpus/guest_walk/*.json).

Every expected outcome below was derived by hand from the Intel SDM vol. 3A
chapter 4 (plus the project conventions in docs / the corpus brief), NOT from
mmucheck's output. This script only places entries and formats JSON: it does
no paging arithmetic of its own. Entry addresses, physical addresses, error
codes and A/D values are written out literally.

Standard layouts (indices chosen so the arithmetic is easy to check by hand):

  32-bit  va 0x00c04abc: PDE index 3  -> CR3 0x1000 + 3*4  = 0x100c
                         PTE index 4  -> PT  0x2000 + 4*4  = 0x2010, page 0x5000
  PAE     va 0x40604abc: PDPTE index 1 -> CR3 0x1000 + 1*8 = 0x1008
                         PDE index 3   -> PD 0x3000 + 3*8  = 0x3018
                         PTE index 4   -> PT 0x4000 + 4*8  = 0x4020, page 0x5000
  4-level va 0x8080604abc = 1<<39 | 2<<30 | 3<<21 | 4<<12 | 0xabc
                         PML4E 0x1008, PDPTE 0x2010, PDE 0x3018, PTE 0x4020, page 0x5000
  5-level va 0x1008080604abc = 1<<48 | (4-level va)
                         PML5E 0x1008, PML4E 0x2008, PDPTE 0x3010, PDE 0x4018, PTE 0x5020, page 0x6000

Run:  python3 corpus/gen_guest_walk.py   (from /work/main)
"""
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_walk")

# ---------------------------------------------------------------- cpu presets
CR0_PG_WP = 0x80010011  # PG | WP | ET | PE
CR0_PG = 0x80000011     # PG | ET | PE (WP = 0)
CR4_PSE, CR4_PAE, CR4_LA57 = 0x10, 0x20, 0x1000
CR4_SMEP, CR4_SMAP, CR4_PKE, CR4_CET, CR4_PKS = 0x100000, 0x200000, 0x400000, 0x800000, 0x1000000
EFER_LM, EFER_LM_NX, EFER_NX = 0x500, 0xD00, 0x800
RF, RF_AC = 0x2, 0x40002

MODES = {
    "off": dict(cr0=0x11, cr3=0x0, cr4=0x0, efer=0x0, features=[]),
    "32": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=0x0, efer=0x0, features=[]),
    "pae": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=CR4_PAE, efer=0x0, features=[]),
    "4l": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=CR4_PAE, efer=EFER_LM_NX, features=["nx", "pdpe1gb"]),
    "5l": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=CR4_PAE | CR4_LA57, efer=EFER_LM_NX, features=["nx", "pdpe1gb", "la57"]),
}


def h(v):
    return hex(v)


def cpu(mode, **kw):
    c = dict(MODES[mode])
    c.update(rflags=RF, cpl=0, pkru=0, pkrs=0, maxphyaddr=46, vendor="intel")
    c.update(kw)
    return {
        "cr0": h(c["cr0"]), "cr3": h(c["cr3"]), "cr4": h(c["cr4"]), "efer": h(c["efer"]),
        "rflags": h(c["rflags"]), "cpl": c["cpl"], "pkru": h(c["pkru"]), "pkrs": h(c["pkrs"]),
        "maxphyaddr": c["maxphyaddr"], "vendor": c["vendor"], "features": c["features"],
    }


def acc(addr, kind="read", implicit=False, ss=False):
    return {"addr": h(addr), "kind": kind, "implicit": implicit, "shadow_stack": ss}


def mem(d):
    return {h(a): h(v) for a, v in sorted(d.items())}


def W(pairs):
    return [{"space": "guest", "addr": h(a), "value": h(v)} for a, v in pairs]


def ok(pa, size, writes=()):
    return {"outcome": "ok", "pa": h(pa), "page_size": size, "writes": W(writes)}


def pf(ec, cr2, may=()):
    e = {"outcome": "page_fault", "error_code": h(ec), "cr2": h(cr2)}
    if may:
        e["may_write"] = W(may)
    return e


def alt(e, *alts):
    """`e` with other whole outcomes also allowed (docs/rules.md, open rules)."""
    e = dict(e)
    e["alternatives"] = list(alts)
    return e


def gp(reason):
    return {"outcome": "general_protection", "reason": reason}


CASES = []


def case(fname, name, c, a, m, e):
    CASES.append((fname, {"name": name, "cpu": c, "access": a, "memory": mem(m), "expect": e}))


# Standard addresses
VA32 = 0x00C04ABC
VAP = 0x40604ABC
VA4 = 0x8080604ABC
VA5 = 0x1008080604ABC

K4M, K2M, K1G = 4 << 20, 2 << 20, 1 << 30


def m32(pde=0x2007, pte=0x5007):
    return {0x100C: pde, 0x2010: pte}


def mpae(pdpte=0x3001, pde=0x4007, pte=0x5007, extra=None):
    d = {0x1008: pdpte, 0x3018: pde, 0x4020: pte}
    d.update(extra or {})
    return d


def m4(pml4e=0x2007, pdpte=0x3007, pde=0x4007, pte=0x5007):
    return {0x1008: pml4e, 0x2010: pdpte, 0x3018: pde, 0x4020: pte}


def m5(pml5e=0x2007, pml4e=0x3007, pdpte=0x4007, pde=0x5007, pte=0x6007):
    return {0x1008: pml5e, 0x2008: pml4e, 0x3010: pdpte, 0x4018: pde, 0x5020: pte}


# A-bit writes of the untouched standard 4-level user walk (all entries 0x...7)
W4_READ = [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5027)]
W4_WRITE = [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5067)]
# Supervisor-only 4-level walk (all entries 0x...3)
S4 = dict(pml4e=0x2003, pdpte=0x3003, pde=0x4003, pte=0x5003)
W4S_READ = [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, 0x5023)]

# =============================================================== paging off
case("off-read-identity.json", "CR0.PG=0: linear = physical, no walk (SDM 4.1.1)",
     cpu("off"), acc(0x12345678), {}, ok(0x12345678, 4096))
case("off-fetch-cpl0.json", "CR0.PG=0: fetch at CPL 0 at the reset vector, identity (SDM 4.1.1)",
     cpu("off"), acc(0xFFFFFFF0, "fetch"), {}, ok(0xFFFFFFF0, 4096))
case("off-realmode-write.json", "real-address mode (CR0=0x10): write is identity-mapped (SDM 4.1.1)",
     cpu("off", cr0=0x10), acc(0xB8000, "write"), {}, ok(0xB8000, 4096))
case("off-cpl3-write-tables-ignored.json",
     "CR0.PG=0 with CR4.PAE=1, EFER.LME=1 (LMA=0) and a page table in memory: still no paging, no A/D writes (SDM 4.1.1)",
     cpu("off", cr3=0x1000, cr4=CR4_PAE, efer=0x100, cpl=3), acc(0x1008, "write"),
     {0x1000: 0x2007, 0x1008: 0x3007}, ok(0x1008, 4096))

# =============================================================== 32-bit paging
case("32bit-4k-read-sets-a.json", "32-bit paging 4K read: A set in PDE and PTE, 4-byte values (SDM 4.3, 4.8)",
     cpu("32"), acc(VA32), m32(), ok(0x5ABC, 4096, [(0x100C, 0x2027), (0x2010, 0x5027)]))
case("32bit-4k-user-write-sets-ad.json", "32-bit paging 4K user write: A in PDE, A+D in PTE (SDM 4.3, 4.8)",
     cpu("32", cpl=3), acc(VA32, "write"), m32(), ok(0x5ABC, 4096, [(0x100C, 0x2027), (0x2010, 0x5067)]))
case("32bit-4k-ad-already-set.json", "32-bit paging: A/D already set are not rewritten (SDM 4.8)",
     cpu("32"), acc(VA32, "write"), m32(0x2027, 0x5067), ok(0x5ABC, 4096))
case("32bit-4k-write-only-d-missing.json", "32-bit paging: write with A set everywhere, D clear: only the PTE is written (SDM 4.8)",
     cpu("32"), acc(VA32, "write"), m32(0x2027, 0x5027), ok(0x5ABC, 4096, [(0x2010, 0x5067)]))
case("32bit-4k-read-leaves-d-clear.json", "32-bit paging: a read never sets D (SDM 4.8)",
     cpu("32"), acc(VA32), m32(0x2027, 0x5007), ok(0x5ABC, 4096, [(0x2010, 0x5027)]))
case("32bit-cr3-pwt-pcd-ignored.json", "32-bit paging: CR3 bits 11:0 (PWT/PCD) do not move the page directory (SDM 4.3 Table 4-3)",
     cpu("32", cr3=0x1018), acc(VA32), m32(), ok(0x5ABC, 4096, [(0x100C, 0x2027), (0x2010, 0x5027)]))
case("32bit-pte-high-frame.json", "32-bit paging: PTE frame 0xfffff000 gives PA 0xfffffabc (SDM 4.3 Table 4-6)",
     cpu("32"), acc(VA32), m32(0x2027, 0xFFFFF027), ok(0xFFFFFABC, 4096))
case("32bit-pde-not-present.json", "32-bit paging: PDE P=0 -> #PF P=0, user read (SDM 4.3, 4.7)",
     cpu("32", cpl=3), acc(VA32), m32(0x2006), pf(0x4, VA32))
case("32bit-pte-not-present.json", "32-bit paging: PTE P=0 -> #PF P=0, supervisor write; PDE A may be set (SDM 4.3, 4.7)",
     cpu("32"), acc(VA32, "write"), m32(0x2007, 0x0), pf(0x2, VA32, [(0x100C, 0x2027)]))
case("32bit-4m-pse-read.json", "32-bit paging CR4.PSE=1: PDE PS=1 maps a 4M page, PA 31:22 from PDE (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse"]), acc(VA32), {0x100C: 0x01800087},
     ok(0x01804ABC, K4M, [(0x100C, 0x018000A7)]))
case("32bit-4m-write-sets-d.json", "32-bit 4M page write: D set in the PDE (SDM 4.8)",
     cpu("32", cr4=CR4_PSE, features=["pse"]), acc(VA32, "write"), {0x100C: 0x018000A7},
     ok(0x01804ABC, K4M, [(0x100C, 0x018000E7)]))
case("32bit-4m-pat-bit12-ok.json", "32-bit 4M page: bit 12 is PAT, not an address bit, not reserved (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse"]), acc(VA32), {0x100C: 0x018010A7}, ok(0x01804ABC, K4M))
case("32bit-ps-ignored-without-pse.json",
     "32-bit paging CR4.PSE=0 (CPUID has pse): PDE.PS ignored, PDE 0x2087 points to a page table; bit 13 is address, not reserved (SDM 4.3 Table 4-5)",
     cpu("32", features=["pse"]), acc(VA32), m32(0x2087, 0x5007),
     ok(0x5ABC, 4096, [(0x100C, 0x20A7), (0x2010, 0x5027)]))
case("32bit-4m-no-pse36-rsvd-bit13.json",
     "32-bit 4M page without PSE-36 (M=32): PDE bits 21:13 reserved, bit 13 set -> #PF RSVD (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse"]), acc(VA32), {0x100C: 0x01802087}, pf(0x9, VA32))
case("32bit-pse36-maxphy32-rsvd-bit13-fetch.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 32 (M=32): bit 13 reserved; fetch without SMEP has no I/D (SDM 4.3, 4.7)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=32), acc(VA32, "fetch"),
     {0x100C: 0x01802087}, pf(0x9, VA32))
case("32bit-pse36-maxphy36-addr-bits.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 36: PDE bits 16:13 = PA 35:32 (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=36), acc(VA32),
     {0x100C: 0x0181E087}, ok(0xF01804ABC, K4M, [(0x100C, 0x0181E0A7)]))
case("32bit-pse36-maxphy36-rsvd-bit17.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 36: PDE bits 21:17 reserved, bit 17 set, user write -> #PF P|W|U|RSVD (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=36, cpl=3), acc(VA32, "write"),
     {0x100C: 0x01820087}, pf(0xF, VA32))
case("32bit-pse36-maxphy38-addr-bit37.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 38: PDE bit 18 = PA bit 37 (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=38), acc(VA32),
     {0x100C: 0x018400A7}, ok(0x2001804ABC, K4M))
case("32bit-pse36-maxphy38-rsvd-bit19.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 38: PDE bits 21:19 reserved, bit 19 set -> #PF RSVD (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=38), acc(VA32),
     {0x100C: 0x018800A7}, pf(0x9, VA32))
case("32bit-pse36-maxphy40-addr-bits.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 40: PDE bits 20:13 = PA 39:32 (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=40), acc(VA32),
     {0x100C: 0x019FE087}, ok(0xFF01804ABC, K4M, [(0x100C, 0x019FE0A7)]))
case("32bit-pse36-maxphy40-rsvd-bit21.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 40: PDE bit 21 reserved (SDM 4.3 Table 4-4)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=40), acc(VA32),
     {0x100C: 0x01A00087}, pf(0x9, VA32))
case("32bit-pse36-maxphy46-capped-at-40.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 46: M = min(46,40) = 40, PDE bit 20 = PA bit 39 (SDM 4.3)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=46), acc(VA32),
     {0x100C: 0x019000A7}, ok(0x8001804ABC, K4M))
case("32bit-pse36-maxphy46-rsvd-bit21-user.json",
     "32-bit 4M page, PSE-36, MAXPHYADDR 46 (M=40): bit 21 reserved, user read -> #PF P|U|RSVD (SDM 4.3)",
     cpu("32", cr4=CR4_PSE, features=["pse", "pse36"], maxphyaddr=46, cpl=3), acc(VA32),
     {0x100C: 0x01A00087}, pf(0xD, VA32))
case("32bit-nxe-fetch-no-id.json",
     "32-bit paging with EFER.NXE=1, SMEP off: fetch #PF has no I/D (CR4.PAE=0) (SDM 4.7)",
     cpu("32", efer=EFER_NX, features=["nx"], cpl=3), acc(VA32, "fetch"), m32(0x2007, 0x0),
     pf(0x4, VA32, [(0x100C, 0x2027)]))
case("32bit-nxe-bit-not-in-entries.json",
     "32-bit paging with EFER.NXE=1: no XD bit exists (4-byte entries), fetch succeeds (SDM 4.3, 4.6)",
     cpu("32", efer=EFER_NX, features=["nx"], cpl=3), acc(VA32, "fetch"), m32(),
     ok(0x5ABC, 4096, [(0x100C, 0x2027), (0x2010, 0x5027)]))
case("32bit-smep-fetch-user-page.json",
     "32-bit paging CR4.SMEP=1: supervisor fetch from user page -> #PF P|I/D (SDM 4.6.1, 4.7)",
     cpu("32", cr4=CR4_SMEP, features=["smep"]), acc(VA32, "fetch"), m32(),
     pf(0x11, VA32, [(0x100C, 0x2027), (0x2010, 0x5027)]))
case("32bit-smep-fetch-supervisor-page-ok.json",
     "32-bit paging CR4.SMEP=1: supervisor fetch from supervisor page is allowed (SDM 4.6.1)",
     cpu("32", cr4=CR4_SMEP, features=["smep"]), acc(VA32, "fetch"), m32(0x2003, 0x5003),
     ok(0x5ABC, 4096, [(0x100C, 0x2023), (0x2010, 0x5023)]))
case("32bit-smep-notpresent-fetch-id.json",
     "32-bit paging CR4.SMEP=1: not-present fetch reports I/D (SDM 4.7)",
     cpu("32", cr4=CR4_SMEP, features=["smep"]), acc(VA32, "fetch"), m32(0x2006),
     pf(0x10, VA32))
case("32bit-user-read-supervisor-pte.json",
     "32-bit paging: user read, PTE U/S=0 -> #PF P|U (SDM 4.6.1)",
     cpu("32", cpl=3), acc(VA32), m32(0x2007, 0x5003),
     pf(0x5, VA32, [(0x100C, 0x2027), (0x2010, 0x5023)]))
case("32bit-user-read-supervisor-pde.json",
     "32-bit paging: user read, PDE U/S=0 -> #PF P|U (U/S ANDed over PDE and PTE, SDM 4.6.1)",
     cpu("32", cpl=3), acc(VA32), m32(0x2003, 0x5007),
     pf(0x5, VA32, [(0x100C, 0x2023), (0x2010, 0x5027)]))
case("32bit-user-write-readonly-pde.json",
     "32-bit paging: user write, PDE R/W=0 -> #PF P|W|U (SDM 4.6.1)",
     cpu("32", cpl=3), acc(VA32, "write"), m32(0x2005, 0x5007),
     pf(0x7, VA32, [(0x100C, 0x2025), (0x2010, 0x5027)]))
case("32bit-user-write-readonly-pte.json",
     "32-bit paging: user write, PTE R/W=0 -> #PF P|W|U (SDM 4.6.1)",
     cpu("32", cpl=3), acc(VA32, "write"), m32(0x2007, 0x5005),
     pf(0x7, VA32, [(0x100C, 0x2027), (0x2010, 0x5025)]))
case("32bit-sup-write-readonly-wp0-ok.json",
     "32-bit paging CR0.WP=0: supervisor write to read-only page allowed, D set (SDM 4.6.1)",
     cpu("32", cr0=CR0_PG), acc(VA32, "write"), m32(0x2005, 0x5005),
     ok(0x5ABC, 4096, [(0x100C, 0x2025), (0x2010, 0x5065)]))
case("32bit-sup-write-readonly-wp1.json",
     "32-bit paging CR0.WP=1: supervisor write to read-only page -> #PF P|W (SDM 4.6.1)",
     cpu("32"), acc(VA32, "write"), m32(0x2005, 0x5005),
     pf(0x3, VA32, [(0x100C, 0x2025), (0x2010, 0x5025)]))
case("32bit-smap-read-user-page-ac0.json",
     "32-bit paging CR4.SMAP=1, AC=0: supervisor read of user page -> #PF P (SDM 4.6.1)",
     cpu("32", cr4=CR4_SMAP, features=["smap"]), acc(VA32), m32(),
     pf(0x1, VA32, [(0x100C, 0x2027), (0x2010, 0x5027)]))
case("32bit-smap-read-user-page-ac1-ok.json",
     "32-bit paging CR4.SMAP=1, AC=1 explicit: supervisor read of user page allowed (SDM 4.6.1)",
     cpu("32", cr4=CR4_SMAP, features=["smap"], rflags=RF_AC), acc(VA32), m32(),
     ok(0x5ABC, 4096, [(0x100C, 0x2027), (0x2010, 0x5027)]))
case("32bit-4m-user-read-supervisor.json",
     "32-bit 4M page with U/S=0: user read -> #PF P|U (SDM 4.6.1)",
     cpu("32", cr4=CR4_PSE, features=["pse"], cpl=3), acc(VA32), {0x100C: 0x01800083},
     pf(0x5, VA32, [(0x100C, 0x018000A3)]))
case("32bit-4m-user-write-readonly.json",
     "32-bit 4M page with R/W=0: user write -> #PF P|W|U (SDM 4.6.1)",
     cpu("32", cr4=CR4_PSE, features=["pse"], cpl=3), acc(VA32, "write"), {0x100C: 0x01800085},
     pf(0x7, VA32, [(0x100C, 0x018000A5)]))

case("32bit-smap-supervisor-page-ok.json",
     "32-bit paging CR4.SMAP=1, AC=0: supervisor read of a supervisor page (PDE/PTE U/S=0) is allowed (SDM 4.6.1)",
     cpu("32", cr4=CR4_SMAP, features=["smap"]), acc(VA32), m32(0x2003, 0x5003),
     ok(0x5ABC, 4096, [(0x100C, 0x2023), (0x2010, 0x5023)]))

# =============================================================== PAE paging
case("pae-4k-read.json", "PAE 4K read: A set in PDE and PTE, never in the PDPTE (SDM 4.4, 4.8)",
     cpu("pae"), acc(VAP), mpae(), ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x5027)]))
case("pae-4k-user-write.json", "PAE 4K user write: A in PDE, A+D in PTE (SDM 4.4, 4.8)",
     cpu("pae", cpl=3), acc(VAP, "write"), mpae(), ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x5067)]))
case("pae-4k-ad-already-set.json", "PAE: A/D already set are not rewritten (SDM 4.8)",
     cpu("pae"), acc(VAP, "write"), mpae(0x3001, 0x4027, 0x5067), ok(0x5ABC, 4096))
case("pae-2m-read.json", "PAE PDE PS=1 maps a 2M page (SDM 4.4.2 Table 4-9)",
     cpu("pae"), acc(VAP), {0x1008: 0x3001, 0x3018: 0x00A00087}, ok(0xA04ABC, K2M, [(0x3018, 0x00A000A7)]))
case("pae-2m-write-sets-d.json", "PAE 2M page write: A+D in the PDE (SDM 4.8)",
     cpu("pae"), acc(VAP, "write"), {0x1008: 0x3001, 0x3018: 0x00A00087}, ok(0xA04ABC, K2M, [(0x3018, 0x00A000E7)]))
case("pae-2m-pat-bit12-ok.json", "PAE 2M page: bit 12 is PAT, not reserved, not address (SDM 4.4.2 Table 4-9)",
     cpu("pae"), acc(VAP), {0x1008: 0x3001, 0x3018: 0x00A010A7}, ok(0xA04ABC, K2M))
case("pae-2m-rsvd-bit13.json", "PAE 2M page: bits 20:13 reserved, bit 13 set -> #PF RSVD (SDM 4.4.2 Table 4-9)",
     cpu("pae"), acc(VAP), {0x1008: 0x3001, 0x3018: 0x00A02087}, pf(0x9, VAP))
case("pae-2m-rsvd-bit20.json", "PAE 2M page: bit 20 set (misaligned) -> #PF RSVD, user write (SDM 4.4.2 Table 4-9)",
     cpu("pae", cpl=3), acc(VAP, "write"), {0x1008: 0x3001, 0x3018: 0x00B00087}, pf(0xF, VAP))
case("pae-cr3-bit5-pdpt-base.json", "PAE: CR3 bits 31:5 locate the 32-byte-aligned PDPT (cr3 0x1020 -> PDPTE 1 at 0x1028) (SDM 4.4.1)",
     cpu("pae", cr3=0x1020), acc(VAP), {0x1028: 0x3001, 0x3018: 0x4007, 0x4020: 0x5007},
     ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x5027)]))
case("pae-pdpte-pwt-pcd-ignored-bits-ok.json", "PAE PDPTE with PWT, PCD and ignored bits 11:9 set is valid (SDM 4.4.1 Table 4-8)",
     cpu("pae"), acc(VAP), mpae(0x3E19), ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x5027)]))
case("pae-pdpte-rsvd-bit1-gp.json", "PAE PDPTE bits 2:1 reserved: bit 1 set -> #GP at PDPTE load (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(0x3003), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-bit2-gp.json", "PAE PDPTE bits 2:1 reserved: bit 2 set -> #GP at PDPTE load (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(0x3005), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-bit5-gp.json", "PAE PDPTE bits 8:5 reserved: bit 5 (no A bit in PDPTEs) -> #GP (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(0x3021), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-bit7-gp.json", "PAE PDPTE bits 8:5 reserved: bit 7 (no PS in PDPTEs) -> #GP (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(0x3081), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-bit8-gp.json", "PAE PDPTE bits 8:5 reserved: bit 8 -> #GP (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(0x3101), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-above-maxphy36-gp.json", "PAE PDPTE bits 63:M reserved, MAXPHYADDR 36, bit 36 -> #GP (SDM 4.4.1)",
     cpu("pae", maxphyaddr=36), acc(VAP), mpae(0x1000003001), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-bit52-maxphy52-gp.json", "PAE PDPTE bits 63:52 reserved even at MAXPHYADDR 52: bit 52 -> #GP (SDM 4.4.1)",
     cpu("pae", maxphyaddr=52), acc(VAP), mpae(0x0010000000003001), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-bit63-nxe1-gp.json", "PAE PDPTE bit 63 reserved even with EFER.NXE=1 (no XD in PDPTEs) -> #GP (SDM 4.4.1)",
     cpu("pae", efer=EFER_NX, features=["nx"]), acc(VAP), mpae(0x8000000000003001), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-unused-entry-gp.json",
     "PAE: PDPTE 0 (not used by the access) is present with bit 1 set -> #GP: all four are loaded with CR3 (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(extra={0x1000: 0x7003}), gp("pdpte-reserved"))
case("pae-pdpte-rsvd-unused-entry3-gp.json",
     "PAE: PDPTE 3 (not used) present with bit 40 set at MAXPHYADDR 40 -> #GP at load (SDM 4.4.1)",
     cpu("pae", maxphyaddr=40), acc(VAP), mpae(extra={0x1018: 0x10000007001}), gp("pdpte-reserved"))
case("pae-pdpte-notpresent-rsvd-ignored.json",
     "PAE: a not-present PDPTE may have any other bits set: no #GP (SDM 4.4.1)",
     cpu("pae"), acc(VAP), mpae(extra={0x1010: 0xFFFFFFFFFFFFFFFE}),
     ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x5027)]))
case("pae-pdpte-not-present.json", "PAE: PDPTE used by the access has P=0 -> #PF P=0, user write (SDM 4.4.1, 4.7)",
     cpu("pae", cpl=3), acc(VAP, "write"), mpae(0x0), pf(0x6, VAP))
case("pae-pde-not-present.json", "PAE: PDE P=0 -> #PF P=0; nothing to set A in (PDPTE has no A) (SDM 4.4.2, 4.7)",
     cpu("pae"), acc(VAP), mpae(0x3001, 0x4006), pf(0x0, VAP))
case("pae-pte-not-present.json", "PAE: PTE P=0 -> #PF P=0; PDE A may be set (SDM 4.4.2, 4.7)",
     cpu("pae", cpl=3), acc(VAP), mpae(0x3001, 0x4007, 0x0), pf(0x4, VAP, [(0x3018, 0x4027)]))
case("pae-pde-rsvd-above-maxphy40.json", "PAE PDE bits 62:M reserved, MAXPHYADDR 40, bit 40 -> #PF RSVD (SDM 4.4.2 Table 4-10)",
     cpu("pae", maxphyaddr=40), acc(VAP), mpae(0x3001, 0x10000004007), pf(0x9, VAP))
case("pae-pte-rsvd-bit62-maxphy52.json", "PAE PTE bits 62:52 reserved even at MAXPHYADDR 52: bit 62 -> #PF RSVD (SDM 4.4.2 Table 4-11)",
     cpu("pae", maxphyaddr=52, cpl=3), acc(VAP), mpae(0x3001, 0x4007, 0x4000000000005007),
     pf(0xD, VAP, [(0x3018, 0x4027)]))
case("pae-pde-rsvd-bit52-maxphy52.json", "PAE PDE bit 52 reserved at MAXPHYADDR 52 (bits 62:52) (SDM 4.4.2 Table 4-10)",
     cpu("pae", maxphyaddr=52), acc(VAP), mpae(0x3001, 0x0010000000004007), pf(0x9, VAP))
case("pae-pte-bit51-maxphy52-ok.json", "PAE PTE bit 51 is an address bit at MAXPHYADDR 52 (SDM 4.4.2 Table 4-11)",
     cpu("pae", maxphyaddr=52), acc(VAP), mpae(0x3001, 0x4027, 0x0008000000005007),
     ok(0x0008000000005ABC, 4096, [(0x4020, 0x0008000000005027)]))
case("pae-pte-pkey-bits-reserved.json",
     "PAE has no protection keys: PTE bit 59 is in the reserved range 62:M -> #PF RSVD even with CR4.PKE=1 (SDM 4.4.2, 4.6.2)",
     cpu("pae", cr4=CR4_PAE | CR4_PKE, features=["pku"], cpl=3), acc(VAP), mpae(0x3001, 0x4007, 0x0800000000005007),
     pf(0xD, VAP, [(0x3018, 0x4027)]))
case("pae-pke-ignored.json",
     "PAE with CR4.PKE=1 and PKRU AD0|WD0: keys only apply to 4/5-level paging, user write succeeds (SDM 4.6.2)",
     cpu("pae", cr4=CR4_PAE | CR4_PKE, features=["pku"], cpl=3, pkru=0x3), acc(VAP, "write"), mpae(),
     ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x5067)]))
case("pae-xd-nxe0-rsvd.json", "PAE EFER.NXE=0: PTE bit 63 reserved -> #PF RSVD (SDM 4.4.2)",
     cpu("pae"), acc(VAP), mpae(0x3001, 0x4007, 0x8000000000005007), pf(0x9, VAP, [(0x3018, 0x4027)]))
case("pae-xd-nxe0-fetch-rsvd-no-id.json",
     "PAE EFER.NXE=0, SMEP off: PDE bit 63 reserved; fetch has no I/D (SDM 4.4.2, 4.7)",
     cpu("pae", cpl=3), acc(VAP, "fetch"), mpae(0x3001, 0x8000000000004007), pf(0xD, VAP))
case("pae-xd-nxe1-fetch-pte.json", "PAE EFER.NXE=1: fetch from page with PTE XD=1 -> #PF P|I/D (SDM 4.6.1, 4.7)",
     cpu("pae", efer=EFER_NX, features=["nx"]), acc(VAP, "fetch"), mpae(0x3001, 0x4007, 0x8000000000005007),
     pf(0x11, VAP, [(0x3018, 0x4027), (0x4020, 0x8000000000005027)]))
case("pae-xd-nxe1-fetch-pde-user.json", "PAE EFER.NXE=1: XD in the (non-leaf) PDE forbids user fetch -> #PF P|U|I/D (SDM 4.6.1)",
     cpu("pae", efer=EFER_NX, features=["nx"], cpl=3), acc(VAP, "fetch"), mpae(0x3001, 0x8000000000004007, 0x5007),
     pf(0x15, VAP, [(0x3018, 0x8000000000004027), (0x4020, 0x5027)]))
case("pae-xd-nxe1-read-ok.json", "PAE EFER.NXE=1: XD does not affect reads (SDM 4.6.1)",
     cpu("pae", efer=EFER_NX, features=["nx"]), acc(VAP), mpae(0x3001, 0x4007, 0x8000000000005007),
     ok(0x5ABC, 4096, [(0x3018, 0x4027), (0x4020, 0x8000000000005027)]))
case("pae-nxe1-notpresent-fetch-id.json", "PAE EFER.NXE=1, SMEP off: not-present fetch reports I/D (SDM 4.7)",
     cpu("pae", efer=EFER_NX, features=["nx"]), acc(VAP, "fetch"), mpae(0x3001, 0x4007, 0x0),
     pf(0x10, VAP, [(0x3018, 0x4027)]))
case("pae-nxe0-notpresent-fetch-no-id.json", "PAE EFER.NXE=0, SMEP off: not-present fetch has no I/D (SDM 4.7)",
     cpu("pae"), acc(VAP, "fetch"), mpae(0x3001, 0x4007, 0x0), pf(0x0, VAP, [(0x3018, 0x4027)]))
case("pae-smep-fetch-user-page.json", "PAE CR4.SMEP=1, NXE=0: supervisor fetch from user page -> #PF P|I/D (SDM 4.6.1, 4.7)",
     cpu("pae", cr4=CR4_PAE | CR4_SMEP, features=["smep"]), acc(VAP, "fetch"), mpae(),
     pf(0x11, VAP, [(0x3018, 0x4027), (0x4020, 0x5027)]))
case("pae-user-write-readonly-pde.json", "PAE: user write, PDE R/W=0 -> #PF P|W|U (SDM 4.6.1)",
     cpu("pae", cpl=3), acc(VAP, "write"), mpae(0x3001, 0x4005, 0x5007),
     pf(0x7, VAP, [(0x3018, 0x4025), (0x4020, 0x5027)]))
case("pae-user-read-supervisor-pte.json", "PAE: user read, PTE U/S=0 -> #PF P|U (SDM 4.6.1)",
     cpu("pae", cpl=3), acc(VAP), mpae(0x3001, 0x4007, 0x5003),
     pf(0x5, VAP, [(0x3018, 0x4027), (0x4020, 0x5023)]))
case("pae-2m-user-read-supervisor.json", "PAE 2M page U/S=0: user read -> #PF P|U (SDM 4.6.1)",
     cpu("pae", cpl=3), acc(VAP), {0x1008: 0x3001, 0x3018: 0x00A00083},
     pf(0x5, VAP, [(0x3018, 0x00A000A3)]))
case("pae-ss-sup-write-ok.json",
     "PAE CR4.CET: supervisor shadow-stack write to PDE R/W=1, PTE R/W=0 D=1 U/S=0 page is allowed; A set (SDM 4.6.1)",
     cpu("pae", cr4=CR4_PAE | CR4_CET, features=["shstk"]), acc(VAP, "write", ss=True), mpae(0x3001, 0x4003, 0x5041),
     ok(0x5ABC, 4096, [(0x3018, 0x4023), (0x4020, 0x5061)]))

case("pae-sup-write-readonly-wp1.json", "PAE CR0.WP=1: supervisor write to R/W=0 PTE -> #PF P|W (SDM 4.6.1)",
     cpu("pae"), acc(VAP, "write"), mpae(0x3001, 0x4007, 0x5005),
     pf(0x3, VAP, [(0x3018, 0x4027), (0x4020, 0x5025)]))
case("pae-smap-implicit-ac1-cpl3.json", "PAE CR4.SMAP=1: implicit supervisor read at CPL 3 of a user page, AC=1 -> #PF P (SDM 4.6.1)",
     cpu("pae", cr4=CR4_PAE | CR4_SMAP, features=["smap"], cpl=3, rflags=RF_AC), acc(VAP, implicit=True), mpae(),
     pf(0x1, VAP, [(0x3018, 0x4027), (0x4020, 0x5027)]))

# =============================================================== 4-level paging
case("4level-4k-read.json", "4-level 4K read: A set at all four levels (SDM 4.5, 4.8)",
     cpu("4l"), acc(VA4), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-4k-user-write.json", "4-level 4K user write: A everywhere, D in the PTE (SDM 4.5, 4.8)",
     cpu("4l", cpl=3), acc(VA4, "write"), m4(), ok(0x5ABC, 4096, W4_WRITE))
case("4level-4k-fetch-no-d.json", "4-level 4K fetch: A set, no D (SDM 4.8)",
     cpu("4l", cpl=3), acc(VA4, "fetch"), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-ad-already-set.json", "4-level: A/D already set everywhere: no writes (SDM 4.8)",
     cpu("4l"), acc(VA4, "write"), m4(0x2027, 0x3027, 0x4027, 0x5067), ok(0x5ABC, 4096))
case("4level-partial-a.json", "4-level: only the PDPTE lacks A: one write (SDM 4.8)",
     cpu("4l"), acc(VA4), m4(0x2027, 0x3007, 0x4027, 0x5027), ok(0x5ABC, 4096, [(0x2010, 0x3027)]))
case("4level-cr3-pwt-pcd.json", "4-level: CR3 bits 11:0 (PWT/PCD) do not move the PML4 (SDM 4.5 Table 4-12)",
     cpu("4l", cr3=0x1018), acc(VA4), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-pte-pat-bit7-ok.json", "4-level PTE bit 7 is PAT, not PS: 4K page (SDM 4.5 Table 4-20)",
     cpu("4l"), acc(VA4), m4(0x2027, 0x3027, 0x4027, 0x50A7), ok(0x5ABC, 4096))
case("4level-ignored-bits-62-52-ok.json",
     "4-level: bits 62:52 ignored in a PML4E, bits 58:52 ignored in a PTE (PKE off) (SDM 4.5 Tables 4-15, 4-20)",
     cpu("4l"), acc(VA4), m4(0x7FF0000000002007, 0x3027, 0x4027, 0x07F0000000005007),
     ok(0x5ABC, 4096, [(0x1008, 0x7FF0000000002027), (0x4020, 0x07F0000000005027)]))
case("4level-high-half-canonical.json",
     "4-level: 0xffff800000000abc is canonical, PML4 index 256 -> PML4E at 0x1800 (SDM 4.5)",
     cpu("4l"), acc(0xFFFF800000000ABC), {0x1800: 0x2003, 0x2000: 0x3003, 0x3000: 0x4003, 0x4000: 0x5003},
     ok(0x5ABC, 4096, [(0x1800, 0x2023), (0x2000, 0x3023), (0x3000, 0x4023), (0x4000, 0x5023)]))
case("4level-recursive-pml4e-read.json",
     "4-level: PML4E[1] at 0x1008 points to the PML4 itself (A preset); va 1/1/1/1 uses it at every level, PA 0x1123 (SDM 4.5)",
     cpu("4l"), acc(0x8040201123), {0x1008: 0x1027}, ok(0x1123, 4096))
case("4level-recursive-pml4e-write.json",
     "4-level: recursive PML4E used as the leaf of a write: only D is added, one write (SDM 4.8)",
     cpu("4l"), acc(0x8040201123, "write"), {0x1008: 0x1027}, ok(0x1123, 4096, [(0x1008, 0x1067)]))
case("4level-2m-read.json", "4-level PDE PS=1 maps a 2M page (SDM 4.5 Table 4-18)",
     cpu("4l"), acc(VA4), m4(pde=0x00A00087),
     ok(0xA04ABC, K2M, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x00A000A7)]))
case("4level-2m-write-sets-d.json", "4-level 2M write: A+D in the PDE (SDM 4.8)",
     cpu("4l"), acc(VA4, "write"), m4(0x2027, 0x3027, 0x00A00087),
     ok(0xA04ABC, K2M, [(0x3018, 0x00A000E7)]))
case("4level-2m-pat-bit12-ok.json", "4-level 2M page: bit 12 is PAT, not reserved (SDM 4.5 Table 4-18)",
     cpu("4l"), acc(VA4), m4(0x2027, 0x3027, 0x00A010A7), ok(0xA04ABC, K2M))
case("4level-2m-rsvd-bit20.json", "4-level 2M page: bits 20:13 reserved, bit 20 -> #PF RSVD (SDM 4.5 Table 4-18)",
     cpu("4l"), acc(VA4), m4(pde=0x00B00087), pf(0x9, VA4, [(0x1008, 0x2027), (0x2010, 0x3027)]))
case("4level-2m-rsvd-bit13.json", "4-level 2M page: bit 13 reserved, user fetch -> #PF P|U|RSVD|I/D (SDM 4.5, 4.7)",
     cpu("4l", cpl=3), acc(VA4, "fetch"), m4(pde=0x00A02087), pf(0x1D, VA4, [(0x1008, 0x2027), (0x2010, 0x3027)]))
case("4level-1g-read.json", "4-level PDPTE PS=1 with pdpe1gb maps a 1G page (SDM 4.5 Table 4-16)",
     cpu("4l"), acc(VA4), m4(pdpte=0x40000087),
     ok(0x40604ABC, K1G, [(0x1008, 0x2027), (0x2010, 0x400000A7)]))
case("4level-1g-user-write.json", "4-level 1G user write: D in the PDPTE (SDM 4.8)",
     cpu("4l", cpl=3), acc(VA4, "write"), m4(pdpte=0x40000087),
     ok(0x40604ABC, K1G, [(0x1008, 0x2027), (0x2010, 0x400000E7)]))
case("4level-1g-pat-bit12-ok.json", "4-level 1G page: bit 12 is PAT, not reserved (SDM 4.5 Table 4-16)",
     cpu("4l"), acc(VA4), m4(0x2027, 0x400010A7), ok(0x40604ABC, K1G))
case("4level-1g-rsvd-bit13.json", "4-level 1G page: bits 29:13 reserved, bit 13 -> #PF RSVD (SDM 4.5 Table 4-16)",
     cpu("4l"), acc(VA4), m4(pdpte=0x40002087), pf(0x9, VA4, [(0x1008, 0x2027)]))
case("4level-1g-rsvd-bit29.json", "4-level 1G page: bit 29 reserved (misaligned) -> #PF RSVD (SDM 4.5 Table 4-16)",
     cpu("4l"), acc(VA4), m4(pdpte=0x60000087), pf(0x9, VA4, [(0x1008, 0x2027)]))
case("4level-1g-without-pdpe1gb-rsvd.json",
     "4-level without CPUID pdpe1gb: PDPTE.PS reserved -> #PF RSVD (SDM 4.1.4, 4.5)",
     cpu("4l", features=["nx"]), acc(VA4), m4(pdpte=0x40000087), pf(0x9, VA4, [(0x1008, 0x2027)]))
case("4level-1g-above-maxphy36.json", "4-level 1G page, MAXPHYADDR 36: PDPTE bit 36 reserved -> #PF RSVD (SDM 4.5)",
     cpu("4l", maxphyaddr=36), acc(VA4), m4(pdpte=0x1040000087), pf(0x9, VA4, [(0x1008, 0x2027)]))
case("4level-pml4e-ps-rsvd.json", "4-level PML4E bit 7 (PS) reserved -> #PF RSVD (SDM 4.5 Table 4-15)",
     cpu("4l"), acc(VA4), m4(pml4e=0x2087), pf(0x9, VA4))
case("4level-pml4e-above-maxphy.json",
     "4-level PML4E bit 46 reserved at MAXPHYADDR 46 (51:M), user write -> #PF P|W|U|RSVD (SDM 4.5)",
     cpu("4l", cpl=3), acc(VA4, "write"), m4(pml4e=0x400000002007), pf(0xF, VA4))
case("4level-pdpte-above-maxphy40.json", "4-level PDPTE bit 45 reserved at MAXPHYADDR 40 (SDM 4.5)",
     cpu("4l", maxphyaddr=40), acc(VA4), m4(pdpte=0x200000003007), pf(0x9, VA4, [(0x1008, 0x2027)]))
case("4level-pde-bit51-rsvd.json", "4-level PDE bit 51 reserved at MAXPHYADDR 46 (SDM 4.5)",
     cpu("4l"), acc(VA4), m4(pde=0x0008000000004007), pf(0x9, VA4, [(0x1008, 0x2027), (0x2010, 0x3027)]))
case("4level-pte-above-maxphy39.json", "4-level PTE bit 39 reserved at MAXPHYADDR 39 (SDM 4.5)",
     cpu("4l", maxphyaddr=39), acc(VA4), m4(pte=0x8000005007),
     pf(0x9, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027)]))
case("4level-maxphy52-bit51-ok.json", "4-level MAXPHYADDR 52: PTE bit 51 is an address bit (SDM 4.5)",
     cpu("4l", maxphyaddr=52), acc(VA4), m4(0x2027, 0x3027, 0x4027, 0x0008000000005007),
     ok(0x0008000000005ABC, 4096, [(0x4020, 0x0008000000005027)]))
case("4level-xd-nxe0-pde-rsvd.json", "4-level EFER.NXE=0: PDE bit 63 reserved -> #PF RSVD (SDM 4.5)",
     cpu("4l", efer=EFER_LM, features=["pdpe1gb"]), acc(VA4), m4(pde=0x8000000000004007),
     pf(0x9, VA4, [(0x1008, 0x2027), (0x2010, 0x3027)]))
case("4level-xd-nxe0-pml4e-rsvd.json", "4-level EFER.NXE=0: PML4E bit 63 reserved -> #PF RSVD (SDM 4.5)",
     cpu("4l", efer=EFER_LM, features=["nx", "pdpe1gb"]), acc(VA4), m4(pml4e=0x8000000000002007), pf(0x9, VA4))
case("4level-xd-nxe0-fetch-rsvd-no-id.json",
     "4-level EFER.NXE=0, SMEP off: PTE bit 63 reserved, fetch has no I/D (SDM 4.5, 4.7)",
     cpu("4l", efer=EFER_LM, features=["pdpe1gb"]), acc(VA4, "fetch"), m4(pte=0x8000000000005007),
     pf(0x9, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027)]))
case("4level-nxe0-notpresent-fetch-no-id.json", "4-level EFER.NXE=0, SMEP off: not-present fetch has no I/D (SDM 4.7)",
     cpu("4l", efer=EFER_LM, features=["pdpe1gb"], cpl=3), acc(VA4, "fetch"), m4(pte=0x0),
     pf(0x4, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027)]))
case("4level-xd-pml4e-fetch.json", "4-level NXE=1: XD in the PML4E forbids fetch -> #PF P|I/D (SDM 4.6.1)",
     cpu("4l"), acc(VA4, "fetch"), m4(pml4e=0x8000000000002007),
     pf(0x11, VA4, [(0x1008, 0x8000000000002027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5027)]))
case("4level-xd-pdpte-user-fetch.json", "4-level NXE=1: XD in a non-leaf PDPTE, user fetch -> #PF P|U|I/D (SDM 4.6.1)",
     cpu("4l", cpl=3), acc(VA4, "fetch"), m4(pdpte=0x8000000000003007),
     pf(0x15, VA4, [(0x1008, 0x2027), (0x2010, 0x8000000000003027), (0x3018, 0x4027), (0x4020, 0x5027)]))
case("4level-xd-pte-read-ok.json", "4-level NXE=1: XD does not affect reads or writes (SDM 4.6.1)",
     cpu("4l"), acc(VA4, "write"), m4(pte=0x8000000000005007),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x8000000000005067)]))
case("4level-nxe1-notpresent-fetch-id.json", "4-level NXE=1: not-present fetch reports I/D (SDM 4.7)",
     cpu("4l"), acc(VA4, "fetch"), m4(pml4e=0x0), pf(0x10, VA4))
case("4level-amd-pml4e-bit8-rsvd.json", "AMD: PML4E bit 8 is reserved (MBZ) -> #PF RSVD (AMD APM vol. 2 5.3.3)",
     cpu("4l", vendor="amd"), acc(VA4), m4(pml4e=0x2107), pf(0x9, VA4))
case("4level-amd-pdpte-bit8-ok.json", "AMD: bit 8 of a non-leaf PDPTE is ignored, not reserved (AMD APM vol. 2 5.3.3)",
     cpu("4l", vendor="amd"), acc(VA4), m4(pdpte=0x3107),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3127), (0x3018, 0x4027), (0x4020, 0x5027)]))
case("4level-intel-pml4e-bit8-ok.json", "Intel: PML4E bit 8 is ignored (SDM 4.5 Table 4-15)",
     cpu("4l"), acc(VA4), m4(pml4e=0x2107),
     ok(0x5ABC, 4096, [(0x1008, 0x2127), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5027)]))
case("4level-noncanonical-bit47.json", "4-level: 0x0000800000000000 is non-canonical -> #GP (SDM 3.3.7.1)",
     cpu("4l"), acc(0x0000800000000000), m4(), gp("non-canonical"))
case("4level-noncanonical-bit63.json", "4-level: 0x8000000000001000 is non-canonical -> #GP (SDM 3.3.7.1)",
     cpu("4l", cpl=3), acc(0x8000000000001000, "write"), m4(), gp("non-canonical"))
case("4level-noncanonical-5level-address.json",
     "4-level: 0x1008080604abc (valid under 5-level) is non-canonical with 48-bit addresses -> #GP (SDM 3.3.7.1)",
     cpu("4l"), acc(VA5), m4(), gp("non-canonical"))
case("4level-pml4e-not-present.json", "4-level PML4E P=0, user write -> #PF W|U (SDM 4.5, 4.7)",
     cpu("4l", cpl=3), acc(VA4, "write"), m4(pml4e=0x2006), pf(0x6, VA4))
case("4level-pdpte-not-present.json", "4-level PDPTE P=0 -> #PF P=0; PML4E A may be set (SDM 4.7, 4.8)",
     cpu("4l", cpl=3), acc(VA4, "write"), m4(pdpte=0x0), pf(0x6, VA4, [(0x1008, 0x2027)]))
case("4level-pde-not-present.json", "4-level PDE P=0 -> #PF P=0 (SDM 4.7)",
     cpu("4l"), acc(VA4), m4(pde=0x4006), pf(0x0, VA4, [(0x1008, 0x2027), (0x2010, 0x3027)]))
case("4level-pte-not-present.json", "4-level PTE P=0 (rest of entry garbage) -> #PF P=0 (SDM 4.7)",
     cpu("4l"), acc(VA4), m4(pte=0xFFFFFFFFFFFFFFFE),
     pf(0x0, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027)]))
case("4level-cpl2-supervisor-read.json", "4-level: CPL 2 accesses are supervisor-mode: read of supervisor page ok (SDM 4.6)",
     cpu("4l", cpl=2), acc(VA4), m4(**S4), ok(0x5ABC, 4096, W4S_READ))
case("4level-implicit-cpl3-supervisor-read.json",
     "4-level: implicit access at CPL 3 is supervisor-mode: supervisor page readable (SDM 4.6)",
     cpu("4l", cpl=3), acc(VA4, implicit=True), m4(**S4), ok(0x5ABC, 4096, W4S_READ))

# U/S at each level (user read)
for lvl, kw, may in [
    ("pml4e", dict(pml4e=0x2003), [(0x1008, 0x2023), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5027)]),
    ("pdpte", dict(pdpte=0x3003), [(0x1008, 0x2027), (0x2010, 0x3023), (0x3018, 0x4027), (0x4020, 0x5027)]),
    ("pde", dict(pde=0x4003), [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4023), (0x4020, 0x5027)]),
    ("pte", dict(pte=0x5003), [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5023)]),
]:
    case(f"4level-user-read-us0-{lvl}.json", f"4-level: U/S=0 in the {lvl.upper()} makes the page supervisor: user read -> #PF P|U (SDM 4.6.1)",
         cpu("4l", cpl=3), acc(VA4), m4(**kw), pf(0x5, VA4, may))

# R/W at each level (user write)
for lvl, kw, may in [
    ("pml4e", dict(pml4e=0x2005), [(0x1008, 0x2025), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5027)]),
    ("pdpte", dict(pdpte=0x3005), [(0x1008, 0x2027), (0x2010, 0x3025), (0x3018, 0x4027), (0x4020, 0x5027)]),
    ("pde", dict(pde=0x4005), [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4025), (0x4020, 0x5027)]),
    ("pte", dict(pte=0x5005), [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5025)]),
]:
    case(f"4level-user-write-rw0-{lvl}.json", f"4-level: R/W=0 in the {lvl.upper()}: user write -> #PF P|W|U (SDM 4.6.1)",
         cpu("4l", cpl=3), acc(VA4, "write"), m4(**kw), pf(0x7, VA4, may))

case("4level-user-read-rw0-ok.json", "4-level: R/W=0 everywhere does not stop a user read (SDM 4.6.1)",
     cpu("4l", cpl=3), acc(VA4), m4(0x2005, 0x3005, 0x4005, 0x5005),
     ok(0x5ABC, 4096, [(0x1008, 0x2025), (0x2010, 0x3025), (0x3018, 0x4025), (0x4020, 0x5025)]))
case("4level-sup-write-ro-pdpte-wp0-ok.json", "4-level CR0.WP=0: supervisor write through a read-only PDPTE is allowed (SDM 4.6.1)",
     cpu("4l", cr0=CR0_PG), acc(VA4, "write"), m4(pdpte=0x3005),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3025), (0x3018, 0x4027), (0x4020, 0x5067)]))
case("4level-sup-write-ro-pdpte-wp1.json", "4-level CR0.WP=1: supervisor write through a read-only PDPTE -> #PF P|W (SDM 4.6.1)",
     cpu("4l"), acc(VA4, "write"), m4(pdpte=0x3005),
     pf(0x3, VA4, [(0x1008, 0x2027), (0x2010, 0x3025), (0x3018, 0x4027), (0x4020, 0x5027)]))
case("4level-sup-write-ro-supervisor-page-wp1.json", "4-level CR0.WP=1: supervisor write to a read-only supervisor PTE -> #PF P|W (SDM 4.6.1)",
     cpu("4l"), acc(VA4, "write"), m4(0x2003, 0x3003, 0x4003, 0x5001),
     pf(0x3, VA4, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, 0x5021)]))
case("4level-sup-write-ro-supervisor-page-wp0-ok.json", "4-level CR0.WP=0: supervisor write to a read-only supervisor PTE allowed (SDM 4.6.1)",
     cpu("4l", cr0=CR0_PG), acc(VA4, "write"), m4(0x2003, 0x3003, 0x4003, 0x5001),
     ok(0x5ABC, 4096, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, 0x5061)]))
case("4level-user-write-wp0-still-faults.json", "4-level CR0.WP=0 does not relax user writes: R/W=0 PTE -> #PF P|W|U (SDM 4.6.1)",
     cpu("4l", cr0=CR0_PG, cpl=3), acc(VA4, "write"), m4(pte=0x5005),
     pf(0x7, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5025)]))
case("4level-user-fetch-supervisor-page.json", "4-level: user fetch from supervisor page -> #PF P|U|I/D (SDM 4.6.1)",
     cpu("4l", cpl=3), acc(VA4, "fetch"), m4(pde=0x4003),
     pf(0x15, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4023), (0x4020, 0x5027)]))

# SMEP
C4_SMEP = dict(cr4=CR4_PAE | CR4_SMEP, features=["nx", "pdpe1gb", "smep"])
case("4level-smep-fetch-user-page.json", "4-level CR4.SMEP=1: supervisor fetch from user page -> #PF P|I/D (SDM 4.6.1)",
     cpu("4l", **C4_SMEP), acc(VA4, "fetch"), m4(), pf(0x11, VA4, W4_READ))
case("4level-smep-fetch-us0-pdpte-ok.json",
     "4-level CR4.SMEP=1: U/S=0 in the PDPTE makes it a supervisor address: fetch allowed (SDM 4.6.1)",
     cpu("4l", **C4_SMEP), acc(VA4, "fetch"), m4(pdpte=0x3003),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3023), (0x3018, 0x4027), (0x4020, 0x5027)]))
case("4level-smep-nxe0-fetch-user-page.json", "4-level SMEP with EFER.NXE=0: I/D still reported (SDM 4.7)",
     cpu("4l", cr4=CR4_PAE | CR4_SMEP, efer=EFER_LM, features=["pdpe1gb", "smep"]), acc(VA4, "fetch"), m4(),
     pf(0x11, VA4, W4_READ))
case("4level-smep-user-fetch-user-page-ok.json", "4-level SMEP: user fetch from user page is allowed (SDM 4.6.1)",
     cpu("4l", cpl=3, **C4_SMEP), acc(VA4, "fetch"), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-smep-read-user-page-ok.json", "4-level SMEP does not restrict data reads (SDM 4.6.1)",
     cpu("4l", **C4_SMEP), acc(VA4), m4(), ok(0x5ABC, 4096, W4_READ))

# SMAP
C4_SMAP = dict(cr4=CR4_PAE | CR4_SMAP, features=["nx", "pdpe1gb", "smap"])
case("4level-smap-read-ac0-cpl0.json", "4-level SMAP, AC=0: supervisor read of user page -> #PF P (SDM 4.6.1)",
     cpu("4l", **C4_SMAP), acc(VA4), m4(), pf(0x1, VA4, W4_READ))
case("4level-smap-read-ac1-cpl0-ok.json", "4-level SMAP, AC=1, explicit: supervisor read of user page allowed (SDM 4.6.1)",
     cpu("4l", rflags=RF_AC, **C4_SMAP), acc(VA4), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-smap-implicit-ac1-cpl0.json", "4-level SMAP: implicit supervisor read of user page faults even with AC=1 (SDM 4.6.1)",
     cpu("4l", rflags=RF_AC, **C4_SMAP), acc(VA4, implicit=True), m4(), pf(0x1, VA4, W4_READ))
case("4level-smap-implicit-ac1-cpl3.json",
     "4-level SMAP: implicit supervisor read at CPL 3 with AC=1 -> #PF P, U=0 (supervisor access) (SDM 4.6, 4.6.1, 4.7)",
     cpu("4l", rflags=RF_AC, cpl=3, **C4_SMAP), acc(VA4, implicit=True), m4(), pf(0x1, VA4, W4_READ))
case("4level-smap-implicit-ac0-cpl3-write.json",
     "4-level SMAP: implicit supervisor write at CPL 3, AC=0 -> #PF P|W (SDM 4.6.1)",
     cpu("4l", cpl=3, **C4_SMAP), acc(VA4, "write", implicit=True), m4(), pf(0x3, VA4, W4_READ))
case("4level-smap-write-ac0-cpl0.json", "4-level SMAP, AC=0: supervisor write to user page -> #PF P|W (SDM 4.6.1)",
     cpu("4l", **C4_SMAP), acc(VA4, "write"), m4(), pf(0x3, VA4, W4_READ))
case("4level-smap-write-ac1-cpl0-ok.json", "4-level SMAP, AC=1: supervisor write to writable user page allowed (SDM 4.6.1)",
     cpu("4l", rflags=RF_AC, **C4_SMAP), acc(VA4, "write"), m4(), ok(0x5ABC, 4096, W4_WRITE))
case("4level-smap-write-ac1-ro-wp1.json", "4-level SMAP, AC=1, WP=1: supervisor write to read-only user page -> #PF P|W (SDM 4.6.1)",
     cpu("4l", rflags=RF_AC, **C4_SMAP), acc(VA4, "write"), m4(pte=0x5005),
     pf(0x3, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5025)]))
case("4level-smap-write-ac1-ro-wp0-ok.json", "4-level SMAP, AC=1, WP=0: supervisor write to read-only user page allowed (SDM 4.6.1)",
     cpu("4l", cr0=CR0_PG, rflags=RF_AC, **C4_SMAP), acc(VA4, "write"), m4(pte=0x5005),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5065)]))
case("4level-smap-fetch-user-page-ok.json", "4-level SMAP (SMEP off) does not affect instruction fetches (SDM 4.6.1)",
     cpu("4l", **C4_SMAP), acc(VA4, "fetch"), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-smap-user-read-ok.json", "4-level SMAP does not affect user-mode accesses (SDM 4.6.1)",
     cpu("4l", cpl=3, **C4_SMAP), acc(VA4), m4(), ok(0x5ABC, 4096, W4_READ))
case("4level-smap-supervisor-page-ok.json", "4-level SMAP, AC=0: supervisor read of supervisor page allowed (SDM 4.6.1)",
     cpu("4l", **C4_SMAP), acc(VA4), m4(**S4), ok(0x5ABC, 4096, W4S_READ))

# Protection keys (PKRU)
C4_PKE = dict(cr4=CR4_PAE | CR4_PKE, features=["nx", "pdpe1gb", "pku"])
K1 = 0x0800000000000000  # key 1 in bits 62:59
PTE_K1 = K1 | 0x5007
W4_K1_READ = [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5027)]
case("4level-pku-ad-user-read.json", "4-level PKRU AD1: user read of key-1 page -> #PF P|U|PK (SDM 4.6.2, 4.7)",
     cpu("4l", cpl=3, pkru=0x4, **C4_PKE), acc(VA4), m4(pte=PTE_K1), pf(0x25, VA4, W4_K1_READ))
case("4level-pku-ad-user-write.json", "4-level PKRU AD1: user write of key-1 page -> #PF P|W|U|PK (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x4, **C4_PKE), acc(VA4, "write"), m4(pte=PTE_K1), pf(0x27, VA4, W4_K1_READ))
case("4level-pku-wd-user-write.json", "4-level PKRU WD1: user write of key-1 page -> #PF P|W|U|PK (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x8, **C4_PKE), acc(VA4, "write"), m4(pte=PTE_K1), pf(0x27, VA4, W4_K1_READ))
case("4level-pku-wd-user-read-ok.json", "4-level PKRU WD1: user read of key-1 page allowed (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x8, **C4_PKE), acc(VA4), m4(pte=PTE_K1), ok(0x5ABC, 4096, W4_K1_READ))
case("4level-pku-ad-user-fetch-ok.json", "4-level PKRU AD1|WD1: instruction fetch is not subject to protection keys (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0xC, **C4_PKE), acc(VA4, "fetch"), m4(pte=PTE_K1), ok(0x5ABC, 4096, W4_K1_READ))
case("4level-pku-other-key-ok.json", "4-level PKRU AD0|WD0 only: key-1 page unaffected, user write ok (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x3, **C4_PKE), acc(VA4, "write"), m4(pte=PTE_K1),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5067)]))
case("4level-pku-wd-sup-write-wp0-ok.json", "4-level PKRU WD1, CR0.WP=0: supervisor write to user key-1 page allowed (SDM 4.6.2)",
     cpu("4l", cr0=CR0_PG, pkru=0x8, **C4_PKE), acc(VA4, "write"), m4(pte=PTE_K1),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5067)]))
case("4level-pku-wd-sup-write-wp1.json", "4-level PKRU WD1, CR0.WP=1: supervisor write to user key-1 page -> #PF P|W|PK (SDM 4.6.2)",
     cpu("4l", pkru=0x8, **C4_PKE), acc(VA4, "write"), m4(pte=PTE_K1), pf(0x23, VA4, W4_K1_READ))
case("4level-pku-ad-sup-read-user-page.json",
     "4-level PKRU AD1: supervisor read of a user key-1 page -> #PF P|PK (PKRU governs user-mode addresses) (SDM 4.6.2)",
     cpu("4l", pkru=0x4, **C4_PKE), acc(VA4), m4(pte=PTE_K1), pf(0x21, VA4, W4_K1_READ))
case("4level-pku-key15-wd.json", "4-level PKRU WD15 (bit 31): user write to key-15 page -> #PF P|W|U|PK (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x80000000, **C4_PKE), acc(VA4, "write"), m4(pte=0x7800000000005007),
     pf(0x27, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x7800000000005027)]))
case("4level-pku-nonleaf-key-ignored.json",
     "4-level: protection key comes from the leaf only; key bits in a non-leaf PDE are ignored (SDM 4.5, 4.6.2)",
     cpu("4l", cpl=3, pkru=0x4, **C4_PKE), acc(VA4), m4(pde=K1 | 0x4007),
     ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, K1 | 0x4027), (0x4020, 0x5027)]))
case("4level-pku-2m-leaf-key2.json", "4-level 2M page key 2 (PDE bits 62:59), PKRU AD2: user read -> #PF P|U|PK (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x10, **C4_PKE), acc(VA4), m4(pde=0x10000000_00A00087),
     pf(0x25, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x10000000_00A000A7)]))
case("4level-pku-1g-leaf-key3-wd.json", "4-level 1G page key 3, PKRU WD3: user write -> #PF P|W|U|PK (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x80, **C4_PKE), acc(VA4, "write"), m4(pdpte=0x18000000_40000087),
     pf(0x27, VA4, [(0x1008, 0x2027), (0x2010, 0x18000000_400000A7)]))
case("4level-pku-wd-plus-rw-fault.json",
     "4-level: user write to read-only key-1 page with PKRU WD1: R/W and PK both forbid: #PF P|W|U|PK (SDM 4.7)",
     cpu("4l", cpl=3, pkru=0x8, **C4_PKE), acc(VA4, "write"), m4(pte=K1 | 0x5005),
     pf(0x27, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5025)]))
case("4level-pku-ad-plus-smap.json",
     "4-level SMAP AC=0 and PKRU AD1: supervisor read of user key-1 page -> #PF P|PK (SDM 4.7)",
     cpu("4l", cr4=CR4_PAE | CR4_SMAP | CR4_PKE, features=["nx", "pdpe1gb", "smap", "pku"], pkru=0x4),
     acc(VA4), m4(pte=PTE_K1), pf(0x21, VA4, W4_K1_READ))
case("4level-pku-user-read-supervisor-page.json",
     "4-level PKE only, PKRU AD1: user read of supervisor key-1 page: U/S fault, no PK (PKRU is for user addresses) (SDM 4.6.2, 4.7)",
     cpu("4l", cpl=3, pkru=0x4, **C4_PKE), acc(VA4), m4(pte=K1 | 0x5003),
     pf(0x5, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5023)]))
case("4level-pku-sup-read-supervisor-page-ok.json",
     "4-level PKE only, PKRU AD1: supervisor read of supervisor key-1 page allowed (SDM 4.6.2)",
     cpu("4l", pkru=0x4, **C4_PKE), acc(VA4), m4(0x2003, 0x3003, 0x4003, K1 | 0x5003),
     ok(0x5ABC, 4096, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, K1 | 0x5023)]))
case("4level-pku-pke0-ignored.json", "4-level CR4.PKE=0: PKRU AD1 has no effect (SDM 4.6.2)",
     cpu("4l", cpl=3, pkru=0x4, features=["nx", "pdpe1gb", "pku"]), acc(VA4), m4(pte=PTE_K1), ok(0x5ABC, 4096, W4_K1_READ))

# Protection keys (PKS)
C4_PKS = dict(cr4=CR4_PAE | CR4_PKS, features=["nx", "pdpe1gb", "pks"])
PTE_SK1 = K1 | 0x5003
W4_SK1 = [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, K1 | 0x5023)]
M4_SK1 = m4(0x2003, 0x3003, 0x4003, PTE_SK1)
case("4level-pks-ad-sup-read.json", "4-level IA32_PKRS AD1: supervisor read of supervisor key-1 page -> #PF P|PK (SDM 4.6.2)",
     cpu("4l", pkrs=0x4, **C4_PKS), acc(VA4), M4_SK1, pf(0x21, VA4, W4_SK1))
case("4level-pks-wd-sup-write-wp1.json", "4-level PKRS WD1, WP=1: supervisor write -> #PF P|W|PK (SDM 4.6.2)",
     cpu("4l", pkrs=0x8, **C4_PKS), acc(VA4, "write"), M4_SK1, pf(0x23, VA4, W4_SK1))
case("4level-pks-wd-sup-write-wp0-ok.json", "4-level PKRS WD1, WP=0: supervisor write allowed (SDM 4.6.2)",
     cpu("4l", cr0=CR0_PG, pkrs=0x8, **C4_PKS), acc(VA4, "write"), M4_SK1,
     ok(0x5ABC, 4096, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, K1 | 0x5063)]))
case("4level-pks-ad-sup-fetch-ok.json", "4-level PKRS AD1: fetches are not subject to protection keys (SDM 4.6.2)",
     cpu("4l", pkrs=0x4, **C4_PKS), acc(VA4, "fetch"), M4_SK1, ok(0x5ABC, 4096, W4_SK1))
case("4level-pks-user-page-not-covered.json", "4-level PKS only, PKRS AD1: supervisor read of a user key-1 page allowed (SDM 4.6.2)",
     cpu("4l", pkrs=0x4, **C4_PKS), acc(VA4), m4(pte=PTE_K1), ok(0x5ABC, 4096, W4_K1_READ))
case("4level-pks-implicit-cpl3.json", "4-level PKRS AD1: implicit supervisor read at CPL 3 of supervisor key-1 page -> #PF P|PK (SDM 4.6.2)",
     cpu("4l", cpl=3, pkrs=0x4, **C4_PKS), acc(VA4, implicit=True), M4_SK1, pf(0x21, VA4, W4_SK1))
case("4level-pks-ad-plus-us-fault.json",
     "4-level PKRS AD1: user read of supervisor key-1 page: U/S fault and PK -> #PF P|U|PK (SDM 4.7)",
     cpu("4l", cpl=3, pkrs=0x4, **C4_PKS), acc(VA4), M4_SK1, pf(0x25, VA4, W4_SK1))

# Shadow stacks
C4_SS = dict(cr4=CR4_PAE | CR4_CET, features=["nx", "pdpe1gb", "shstk"])
M4_SS_SUP = m4(0x2003, 0x3003, 0x4003, 0x5041)   # supervisor shadow-stack page
W4_SS_SUP = [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, 0x5061)]
M4_SS_USR = m4(0x2007, 0x3007, 0x4007, 0x5045)   # user shadow-stack page
W4_SS_USR = [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, 0x5065)]
case("4level-ss-sup-read-ok.json", "4-level CET: supervisor shadow-stack read of supervisor SS page (leaf R/W=0 D=1) ok (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, ss=True), M4_SS_SUP, ok(0x5ABC, 4096, W4_SS_SUP))
case("4level-ss-sup-write-ok.json", "4-level CET: supervisor shadow-stack write to supervisor SS page ok; D already set (SDM 4.6.1, 4.8)",
     cpu("4l", **C4_SS), acc(VA4, "write", ss=True), M4_SS_SUP, ok(0x5ABC, 4096, W4_SS_SUP))
case("4level-ss-user-write-ok.json", "4-level CET: user shadow-stack write to user SS page ok (SDM 4.6.1)",
     cpu("4l", cpl=3, **C4_SS), acc(VA4, "write", ss=True), M4_SS_USR, ok(0x5ABC, 4096, W4_SS_USR))
case("4level-ss-user-on-supervisor-page.json", "4-level CET: user shadow-stack read of supervisor SS page -> #PF P|U|SS (SDM 4.6.1, 4.7)",
     cpu("4l", cpl=3, **C4_SS), acc(VA4, ss=True), M4_SS_SUP, pf(0x45, VA4, W4_SS_SUP))
case("4level-ss-sup-on-user-page.json", "4-level CET: supervisor shadow-stack write to user SS page -> #PF P|W|SS (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, "write", ss=True), M4_SS_USR, pf(0x43, VA4, W4_SS_USR))
case("4level-ss-sup-on-user-page-smap-ac1.json",
     "4-level CET+SMAP AC=1: supervisor shadow-stack read of user SS page still faults (SS rule, not SMAP) -> #PF P|SS (SDM 4.6.1)",
     cpu("4l", cr4=CR4_PAE | CR4_CET | CR4_SMAP, features=["nx", "pdpe1gb", "shstk", "smap"], rflags=RF_AC),
     acc(VA4, ss=True), M4_SS_USR, pf(0x41, VA4, W4_SS_USR))
case("4level-ss-sup-smap-ac0-sup-page-ok.json",
     "4-level CET+SMAP AC=0: supervisor shadow-stack write to supervisor SS page ok (SDM 4.6.1)",
     cpu("4l", cr4=CR4_PAE | CR4_CET | CR4_SMAP, features=["nx", "pdpe1gb", "shstk", "smap"]),
     acc(VA4, "write", ss=True), M4_SS_SUP, ok(0x5ABC, 4096, W4_SS_SUP))
case("4level-ss-leaf-rw1-not-ss-page.json", "4-level CET: SS write to a normal writable page (leaf R/W=1) -> #PF P|W|SS (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, "write", ss=True), m4(0x2003, 0x3003, 0x4003, 0x5043),
     pf(0x43, VA4, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, 0x5063)]))
case("4level-ss-leaf-d0-not-ss-page.json", "4-level CET: SS read of a read-only page with D=0 -> #PF P|SS (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, ss=True), m4(0x2003, 0x3003, 0x4003, 0x5001),
     pf(0x41, VA4, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, 0x5021)]))
case("4level-ss-nonleaf-rw0-not-ss-page.json", "4-level CET: PDE R/W=0 above an R/W=0 D=1 PTE: not an SS page -> #PF P|SS (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, ss=True), m4(0x2003, 0x3003, 0x4001, 0x5041),
     pf(0x41, VA4, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4021), (0x4020, 0x5061)]))
case("4level-ss-plain-write-sup-faults.json", "4-level CET: ordinary supervisor write to an SS page (R/W=0, WP=1) -> #PF P|W (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, "write"), M4_SS_SUP, pf(0x3, VA4, W4_SS_SUP))
case("4level-ss-plain-write-user-faults.json", "4-level CET: ordinary user write to a user SS page -> #PF P|W|U (SDM 4.6.1)",
     cpu("4l", cpl=3, **C4_SS), acc(VA4, "write"), M4_SS_USR, pf(0x7, VA4, W4_SS_USR))
case("4level-ss-plain-read-user-ok.json", "4-level CET: ordinary user read of a user SS page ok (SDM 4.6.1)",
     cpu("4l", cpl=3, **C4_SS), acc(VA4), M4_SS_USR, ok(0x5ABC, 4096, W4_SS_USR))
case("4level-ss-2m-sup-read-ok.json", "4-level CET: 2M supervisor SS page (PDE R/W=0 D=1 PS=1) ok (SDM 4.6.1)",
     cpu("4l", **C4_SS), acc(VA4, ss=True), m4(0x2003, 0x3003, 0x00A000C1),
     ok(0xA04ABC, K2M, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x00A000E1)]))
C4_SS_PKE = dict(cr4=CR4_PAE | CR4_CET | CR4_PKE, features=["nx", "pdpe1gb", "shstk", "pku"])
# pk.wd-ss-open: the reading (WD does not apply) first; the PK fault where WD
# does apply (P|W|U|PK|SS = 0x67 / P|W|PK|SS = 0x63, A optional) allowed too
case("4level-ss-user-write-pku-wd-ignored.json", "4-level CET+PKE: PKRU WD1 does not stop a user shadow-stack write (SDM 4.6.2; pk.wd-ss-open)",
     cpu("4l", cpl=3, pkru=0x8, **C4_SS_PKE), acc(VA4, "write", ss=True), m4(pte=K1 | 0x5045),
     alt(ok(0x5ABC, 4096, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5065)]),
         pf(0x67, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5065)])))
case("4level-ss-user-read-pku-ad.json", "4-level CET+PKE: PKRU AD1 forbids a user shadow-stack read -> #PF P|U|PK|SS (SDM 4.6.2, 4.7)",
     cpu("4l", cpl=3, pkru=0x4, **C4_SS_PKE), acc(VA4, ss=True), m4(pte=K1 | 0x5045),
     pf(0x65, VA4, [(0x1008, 0x2027), (0x2010, 0x3027), (0x3018, 0x4027), (0x4020, K1 | 0x5065)]))
case("4level-ss-sup-write-pks-wd-ignored.json", "4-level CET+PKS: PKRS WD1 does not stop a supervisor shadow-stack write (SDM 4.6.2; pk.wd-ss-open)",
     cpu("4l", pkrs=0x8, cr4=CR4_PAE | CR4_CET | CR4_PKS, features=["nx", "pdpe1gb", "shstk", "pks"]),
     acc(VA4, "write", ss=True), m4(0x2003, 0x3003, 0x4003, K1 | 0x5041),
     alt(ok(0x5ABC, 4096, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, K1 | 0x5061)]),
         pf(0x63, VA4, [(0x1008, 0x2023), (0x2010, 0x3023), (0x3018, 0x4023), (0x4020, K1 | 0x5061)])))

# =============================================================== 5-level paging
W5_READ = [(0x1008, 0x2027), (0x2008, 0x3027), (0x3010, 0x4027), (0x4018, 0x5027), (0x5020, 0x6027)]
case("5level-4k-read.json", "5-level 4K read: A set at all five levels (SDM 4.5)",
     cpu("5l"), acc(VA5), m5(), ok(0x6ABC, 4096, W5_READ))
case("5level-4k-user-write.json", "5-level 4K user write: D in the PTE (SDM 4.5, 4.8)",
     cpu("5l", cpl=3), acc(VA5, "write"), m5(),
     ok(0x6ABC, 4096, [(0x1008, 0x2027), (0x2008, 0x3027), (0x3010, 0x4027), (0x4018, 0x5027), (0x5020, 0x6067)]))
case("5level-1g.json", "5-level 1G page (SDM 4.5)",
     cpu("5l"), acc(VA5), m5(pdpte=0x40000087),
     ok(0x40604ABC, K1G, [(0x1008, 0x2027), (0x2008, 0x3027), (0x3010, 0x400000A7)]))
case("5level-2m.json", "5-level 2M page (SDM 4.5)",
     cpu("5l"), acc(VA5), m5(pde=0x00A00087),
     ok(0xA04ABC, K2M, [(0x1008, 0x2027), (0x2008, 0x3027), (0x3010, 0x4027), (0x4018, 0x00A000A7)]))
case("5level-bit47-address-valid.json",
     "5-level: 0x800000000abc (non-canonical under 4-level) is valid; PML5 index 0, PML4 index 256 (SDM 4.5)",
     cpu("5l"), acc(0x0000800000000ABC), {0x1000: 0x2007, 0x2800: 0x3007, 0x3000: 0x4007, 0x4000: 0x5007, 0x5000: 0x6007},
     ok(0x6ABC, 4096, [(0x1000, 0x2027), (0x2800, 0x3027), (0x3000, 0x4027), (0x4000, 0x5027), (0x5000, 0x6027)]))
case("4level-bit47-address-noncanonical.json",
     "4-level: the same 0x800000000abc is non-canonical -> #GP (SDM 3.3.7.1)",
     cpu("4l"), acc(0x0000800000000ABC), {0x1000: 0x2007, 0x2800: 0x3007}, gp("non-canonical"))
case("5level-high-half.json", "5-level: 0xff00000000000abc is canonical, PML5 index 256 -> 0x1800 (SDM 4.5)",
     cpu("5l"), acc(0xFF00000000000ABC), {0x1800: 0x2003, 0x2000: 0x3003, 0x3000: 0x4003, 0x4000: 0x5003, 0x5000: 0x6003},
     ok(0x6ABC, 4096, [(0x1800, 0x2023), (0x2000, 0x3023), (0x3000, 0x4023), (0x4000, 0x5023), (0x5000, 0x6023)]))
case("5level-noncanonical-bit56.json", "5-level: 0x0100000000000000 is non-canonical (bits 63:57 != bit 56) -> #GP (SDM 3.3.7.1, 4.5)",
     cpu("5l"), acc(0x0100000000000000), m5(), gp("non-canonical"))
case("5level-noncanonical-bit63.json", "5-level: 0x8000000000000abc is non-canonical -> #GP (SDM 4.5)",
     cpu("5l", cpl=3), acc(0x8000000000000ABC, "fetch"), m5(), gp("non-canonical"))
case("5level-noncanonical-bit56-clear.json", "5-level: 0xfe00000000000000 has bit 56 = 0 under ones -> #GP (SDM 4.5)",
     cpu("5l"), acc(0xFE00000000000000), m5(), gp("non-canonical"))
case("5level-pml5e-ps-rsvd.json", "5-level PML5E bit 7 (PS) reserved -> #PF RSVD (SDM 4.5 Table 4-14)",
     cpu("5l"), acc(VA5), m5(pml5e=0x2087), pf(0x9, VA5))
case("5level-pml5e-not-present.json", "5-level PML5E P=0, user write -> #PF W|U (SDM 4.7)",
     cpu("5l", cpl=3), acc(VA5, "write"), m5(pml5e=0x0), pf(0x6, VA5))
case("5level-pml4e-ps-rsvd.json", "5-level PML4E bit 7 reserved -> #PF RSVD; PML5E A may be set (SDM 4.5)",
     cpu("5l"), acc(VA5), m5(pml4e=0x3087), pf(0x9, VA5, [(0x1008, 0x2027)]))
case("5level-amd-pml5e-bit8-rsvd.json", "AMD 5-level: PML5E bit 8 reserved -> #PF RSVD (AMD APM vol. 2 5.3.3)",
     cpu("5l", vendor="amd"), acc(VA5), m5(pml5e=0x2107), pf(0x9, VA5))
case("5level-pml5e-above-maxphy48.json", "5-level PML5E bit 50 reserved at MAXPHYADDR 48 -> #PF RSVD (SDM 4.5)",
     cpu("5l", maxphyaddr=48), acc(VA5), m5(pml5e=0x0004000000002007), pf(0x9, VA5))
case("5level-pml5e-us0-user-read.json", "5-level: U/S=0 in the PML5E: user read -> #PF P|U (SDM 4.6.1)",
     cpu("5l", cpl=3), acc(VA5), m5(pml5e=0x2003),
     pf(0x5, VA5, [(0x1008, 0x2023), (0x2008, 0x3027), (0x3010, 0x4027), (0x4018, 0x5027), (0x5020, 0x6027)]))
case("5level-pml5e-xd-user-fetch.json", "5-level: XD in the PML5E: user fetch -> #PF P|U|I/D (SDM 4.6.1)",
     cpu("5l", cpl=3), acc(VA5, "fetch"), m5(pml5e=0x8000000000002007),
     pf(0x15, VA5, [(0x1008, 0x8000000000002027), (0x2008, 0x3027), (0x3010, 0x4027), (0x4018, 0x5027), (0x5020, 0x6027)]))
case("5level-pku-ad-user-read.json", "5-level PKRU AD1: user read of key-1 page -> #PF P|U|PK (SDM 4.6.2)",
     cpu("5l", cpl=3, pkru=0x4, cr4=CR4_PAE | CR4_LA57 | CR4_PKE, features=["nx", "pdpe1gb", "la57", "pku"]),
     acc(VA5), m5(pte=K1 | 0x6007),
     pf(0x25, VA5, [(0x1008, 0x2027), (0x2008, 0x3027), (0x3010, 0x4027), (0x4018, 0x5027), (0x5020, K1 | 0x6027)]))


def main():
    os.makedirs(OUT, exist_ok=True)
    names = set()
    for fname, body in CASES:
        if fname in names:
            sys.exit(f"duplicate case file {fname}")
        names.add(fname)
        with open(os.path.join(OUT, fname), "w") as f:
            json.dump(body, f, indent=2)
            f.write("\n")
    print(f"wrote {len(CASES)} cases to {OUT}")


if __name__ == "__main__":
    main()
