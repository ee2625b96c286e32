#!/usr/bin/env python3
"""Writes the EPT regression corpus: corpus/ept_walk/*.json (guest paging off,
the access is the final guest-physical access) and corpus/nested_walk/*.json
(guest paging on, every guest paging-structure access and the final access go
through EPT).

Every expected outcome below was derived by hand from the Intel SDM vol. 3C
("VMX Support for Address Translation": EPT translation, misconfigurations,
violations, accessed/dirty flags for EPT; Table "Exit Qualification for EPT
Violations") and vol. 3A ch. 4, plus the project conventions of the corpus
brief, NOT from mmucheck's output. This script only places entries and formats
JSON: addresses, qualifications and A/D values are written out literally.

Where the SDM text and the brief's conventions differ, the SDM wins and the
case name says "SDM:" (see the report):
  - qualification bits 9-11 with CR0.PG = 0 and advanced information: the
    table defines them (every linear address is user-mode and read/write:
    bits 9, 10 = 1; bit 11 = 0);
  - MBEC with CR0.PG = 0: every linear address is a user-mode linear address,
    so a fetch is governed by XU (bit 10), not X;
  - may_write never holds a guest A update that EPT forbids (the write would
    itself have been the EPT violation), nor a write that changes nothing.

EPT layouts (host-physical addresses; EPTP 0x5001e = root 0x50000, WB, 4-level):
  pure EPT, GPA 0xc0604abc = 3<<30 | 3<<21 | 4<<12 | 0xabc:
      EPML4E 0x50000 -> EPDPT 0x51000; EPDPTE 0x51018 -> EPD 0x52000;
      EPDE 0x52018 -> EPT 0x53000; EPTE 0x53020 -> frame 0x9876000 (HPA 0x9876abc)
  5-level EPT (EPTP 0x54026): EPML5E 0x54000 -> 0x50000, then as above.
  nested, guest-physical pages 0x1000..0x6000 (page n):
      EPML4E 0x50000, EPDPTE 0x51000, EPDE 0x52000, EPTE 0x53000 + 8n
      page n -> HPA 0x1000000 + n * 0x1000 (EPTE value 0x10nn037 = RWX, WB)
Guest layouts are those of gen_guest_walk.py:
  32-bit  va 0xc04abc:     PDE 0x100c, PTE 0x2010, page 0x5000
  PAE     va 0x40604abc:   PDPTE 0x1008 (loaded with 0x1000..0x1018), PDE 0x3018, PTE 0x4020, page 0x5000
  4-level va 0x8080604abc: PML4E 0x1008, PDPTE 0x2010, PDE 0x3018, PTE 0x4020, page 0x5000
  5-level va 0x1008080604abc: PML5E 0x1008, PML4E 0x2008, PDPTE 0x3010, PDE 0x4018, PTE 0x5020, page 0x6000

Run:  python3 corpus/gen_ept_walk.py   (from /work/main)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CR0_PG_WP = 0x80010011
CR4_PSE, CR4_PAE, CR4_LA57, CR4_CET = 0x10, 0x20, 0x1000, 0x800000
MODES = {
    "off": dict(cr0=0x11, cr3=0x0, cr4=0x0, efer=0x0, features=[]),
    "32": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=0x0, efer=0x0, features=[]),
    "pae": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=CR4_PAE, efer=0x0, features=[]),
    "4l": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=CR4_PAE, efer=0xD00, features=["nx", "pdpe1gb"]),
    "5l": dict(cr0=CR0_PG_WP, cr3=0x1000, cr4=CR4_PAE | CR4_LA57, efer=0xD00, features=["nx", "pdpe1gb", "la57"]),
}


def h(v):
    return hex(v)


def cpu(mode, **kw):
    c = dict(MODES[mode])
    c.update(rflags=0x2, cpl=0, pkru=0, pkrs=0, maxphyaddr=46, vendor="intel")
    c.update(kw)
    return {
        "cr0": h(c["cr0"]), "cr3": h(c["cr3"]), "cr4": h(c["cr4"]), "efer": h(c["efer"]),
        "rflags": h(c["rflags"]), "cpl": c["cpl"], "pkru": h(c["pkru"]), "pkrs": h(c["pkrs"]),
        "maxphyaddr": c["maxphyaddr"], "vendor": c["vendor"], "features": c["features"],
    }


def acc(addr, kind="read", ss=False):
    return {"addr": h(addr), "kind": kind, "implicit": False, "shadow_stack": ss}


def mem(d):
    return {h(a): h(v) for a, v in sorted(d.items())}


def ept(eptp, features, m):
    return {"eptp": h(eptp), "features": list(features), "memory": mem(m)}


def W(items):
    out = []
    for space, a, v in items:
        out.append({"space": {"e": "ept", "g": "guest"}[space], "addr": h(a), "value": h(v)})
    return out


def ok(pa, gpa, size, esize, writes=()):
    return {"outcome": "ok", "pa": h(pa), "page_size": size, "gpa": h(gpa), "ept_page_size": esize,
            "writes": W(writes)}


def viol(qual, gpa, gla=None, undef=0, writes=(), may=(), alts=()):
    e = {"outcome": "ept_violation", "qualification": h(qual), "gpa": h(gpa)}
    if gla is not None:
        e["gla"] = h(gla)
    if writes:
        e["writes"] = W(writes)
    if may:
        e["may_write"] = W(may)
    if undef:
        e["qualification_undefined"] = h(undef)
    if alts:
        e["alternatives"] = list(alts)
    return e


def misc(gpa, writes=(), may=()):
    e = {"outcome": "ept_misconfig", "gpa": h(gpa)}
    if writes:
        e["writes"] = W(writes)
    if may:
        e["may_write"] = W(may)
    return e


def pf(ec, cr2, writes=(), may=(), alts=()):
    e = {"outcome": "page_fault", "error_code": h(ec), "cr2": h(cr2)}
    if writes:
        e["writes"] = W(writes)
    if may:
        e["may_write"] = W(may)
    if alts:
        e["alternatives"] = list(alts)
    return e


CASES = {"ept_walk": [], "nested_walk": []}


def case(target, fname, name, c, a, m, e, x):
    CASES[target].append((fname, {"name": name, "cpu": c, "access": a, "memory": mem(m), "ept": e, "expect": x}))


K2M, K4M, K1G = 2 << 20, 4 << 20, 1 << 30
EPTP4, EPTP4_AD, EPTP4_UC = 0x5001E, 0x5005E, 0x50018
EPTP5, EPTP5_AD = 0x54026, 0x54066

# ============================================================ pure EPT (guest paging off)
G = 0xC0604ABC      # access address = guest-physical address
HPA = 0x9876ABC     # from the standard EPTE 0x9876037


def ep(pml4e=0x51007, pdpte=0x52007, pde=0x53007, pte=0x9876037, pml5e=None):
    d = {0x50000: pml4e, 0x51018: pdpte, 0x52018: pde, 0x53020: pte}
    if pml5e is not None:
        d[0x54000] = pml5e
    return {a: v for a, v in d.items() if v}


OFF = cpu("off")


def pure(fname, name, kind, e, x, c=OFF):
    case("ept_walk", fname, name, c, acc(G, kind), {}, e, x)


OK = ok(HPA, G, 4096, 4096)
# No mbec, no advinfo: bit 6 and bits 11:9 undefined -> 0xe40.
pure("ept-4level-read-ok.json", "4-level EPT, RWX WB leaf: read translates GPA 0xc0604abc to HPA 0x9876abc (SDM 3C EPT translation)",
     "read", ept(EPTP4, [], ep()), OK)
pure("ept-4level-write-ok.json", "4-level EPT, RWX everywhere: write allowed, no A/D writes without EPTP bit 6",
     "write", ept(EPTP4, [], ep()), OK)
pure("ept-4level-fetch-ok.json", "4-level EPT, X set at every level: fetch allowed",
     "fetch", ept(EPTP4, [], ep()), OK)
pure("ept-eptp-uc-read-ok.json", "EPTP memory type 0 (UC) is valid: read translates normally",
     "read", ept(EPTP4_UC, [], ep()), OK)
pure("ept-5level-read-ok.json", "5-level EPT (EPTP walk length 4): EPML5E 0x54000 -> EPML4 0x50000 -> ... -> HPA 0x9876abc",
     "read", ept(EPTP5, ["5level"], ep(pml5e=0x50007)), OK)
pure("ept-5level-pml5e-not-present.json", "5-level EPT: EPML5E XWR=000 -> EPT violation, read, bits 5:3 = 0, GLA valid + translated (Table EPT-violation qual)",
     "read", ept(EPTP5, ["5level"], ep(pml5e=0x0)), viol(0x181, G, G, 0xE40))
pure("ept-5level-pml5e-rsvd-bit7.json", "5-level EPT: bit 7 of the EPML5E is reserved -> EPT misconfiguration",
     "read", ept(EPTP5, ["5level"], ep(pml5e=0x50087)), misc(G))
pure("ept-5level-ad-write.json", "5-level EPT with A/D: write sets A in EPML5E..EPDE and A+D in the EPTE, walk order",
     "write", ept(EPTP5_AD, ["5level", "ad"], ep(pml5e=0x50007)),
     ok(HPA, G, 4096, 4096, [("e", 0x54000, 0x50107), ("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107),
                              ("e", 0x52018, 0x53107), ("e", 0x53020, 0x9876337)]))

# ---- not present
pure("ept-pml4e-not-present-read.json", "EPML4E not present: read -> violation 0x181 (bits 5:3 = 0)",
     "read", ept(EPTP4, [], ep(pml4e=0)), viol(0x181, G, G, 0xE40))
pure("ept-pdpte-not-present-write.json", "EPDPTE not present: write -> violation 0x182",
     "write", ept(EPTP4, [], ep(pdpte=0)), viol(0x182, G, G, 0xE40))
pure("ept-pde-not-present-fetch.json", "EPDE not present: fetch -> violation 0x184",
     "fetch", ept(EPTP4, [], ep(pde=0)), viol(0x184, G, G, 0xE40))
pure("ept-pte-not-present-read.json", "EPTE not present: read -> violation 0x181",
     "read", ept(EPTP4, [], ep(pte=0)), viol(0x181, G, G, 0xE40))
pure("ept-pte-not-present-other-bits-ignored.json",
     "EPTE XWR=000 with bit 50 (> MAXPHYADDR) and memory type 7: not present wins, reserved bits only matter in a present entry -> violation",
     "write", ept(EPTP4, [], ep(pte=0x0004000009876038)), viol(0x182, G, G, 0xE40))
pure("ept-pte-not-present-under-readonly-upper.json",
     "EPML4E read-only, EPTE not present: bits 5:3 are the AND over all entries incl. the not-present one -> 0",
     "read", ept(EPTP4, [], ep(pml4e=0x51001, pte=0)), viol(0x181, G, G, 0xE40))

# ---- misconfigurations: XWR encodings
pure("ept-misconfig-pte-write-only.json", "EPTE XWR=010 (write-only) -> EPT misconfiguration",
     "read", ept(EPTP4, [], ep(pte=0x9876032)), misc(G))
pure("ept-misconfig-pte-write-execute.json", "EPTE XWR=110 (write/execute) -> EPT misconfiguration",
     "fetch", ept(EPTP4, [], ep(pte=0x9876036)), misc(G))
pure("ept-misconfig-pml4e-write-only.json", "EPML4E XWR=010 -> EPT misconfiguration at the first level",
     "read", ept(EPTP4, [], ep(pml4e=0x51002)), misc(G))
pure("ept-misconfig-pdpte-write-execute.json", "non-leaf EPDPTE XWR=110 -> EPT misconfiguration",
     "write", ept(EPTP4, [], ep(pdpte=0x52006)), misc(G))
pure("ept-misconfig-pde-write-only-with-exec-only.json",
     "EPDE XWR=010 with execute-only supported: write-only is never allowed -> misconfiguration",
     "read", ept(EPTP4, ["exec_only"], ep(pde=0x53002)), misc(G))
pure("ept-misconfig-pte-x-only-without-exec-only.json",
     "EPTE XWR=100 without the execute-only capability -> misconfiguration (even for a fetch)",
     "fetch", ept(EPTP4, [], ep(pte=0x9876034)), misc(G))
pure("ept-misconfig-pdpte-x-only-without-exec-only.json",
     "non-leaf EPDPTE XWR=100 without execute-only -> misconfiguration",
     "read", ept(EPTP4, [], ep(pdpte=0x52004)), misc(G))
pure("ept-exec-only-pte-fetch-ok.json", "execute-only supported: EPTE XWR=100, fetch allowed",
     "fetch", ept(EPTP4, ["exec_only"], ep(pte=0x9876034)), OK)
pure("ept-exec-only-pte-read-violation.json",
     "execute-only EPTE: read -> violation, qual read | X-able (0x20) | 0x180 = 0x1a1",
     "read", ept(EPTP4, ["exec_only"], ep(pte=0x9876034)), viol(0x1A1, G, G, 0xE40))
pure("ept-exec-only-pte-write-violation.json",
     "execute-only EPTE: write -> violation 0x1a2",
     "write", ept(EPTP4, ["exec_only"], ep(pte=0x9876034)), viol(0x1A2, G, G, 0xE40))
pure("ept-exec-only-nonleaf-pde-fetch-ok.json", "execute-only non-leaf EPDE (XWR=100) is present; fetch allowed",
     "fetch", ept(EPTP4, ["exec_only"], ep(pde=0x53004)), OK)
pure("ept-exec-only-nonleaf-pde-read-violation.json",
     "execute-only non-leaf EPDE: read needs R at every level -> violation, AND(R)=0, AND(X)=1 -> 0x1a1",
     "read", ept(EPTP4, ["exec_only"], ep(pde=0x53004)), viol(0x1A1, G, G, 0xE40))

# ---- misconfigurations: reserved bits
pure("ept-rsvd-pte-bit-maxphyaddr.json", "EPTE bit 46 set with MAXPHYADDR 46 (bits 51:M reserved) -> misconfiguration",
     "read", ept(EPTP4, [], ep(pte=0x400009876037)), misc(G))
pure("ept-rsvd-pml4e-bit51.json", "EPML4E bit 51 set -> misconfiguration",
     "read", ept(EPTP4, [], ep(pml4e=0x8000000051007)), misc(G))
pure("ept-rsvd-pde-bit39-maxphy39.json", "MAXPHYADDR 39: EPDE bit 39 reserved -> misconfiguration",
     "read", ept(EPTP4, [], ep(pde=0x8000053007)), misc(G), c=cpu("off", maxphyaddr=39))
pure("ept-maxphy39-pte-addr-bit38-ok.json", "MAXPHYADDR 39: EPTE bit 38 is an address bit -> HPA 0x4009876abc",
     "read", ept(EPTP4, [], ep(pte=0x4009876037)), ok(0x4009876ABC, G, 4096, 4096), c=cpu("off", maxphyaddr=39))
pure("ept-pte-addr-bit45-ok.json", "MAXPHYADDR 46: EPTE bit 45 is an address bit -> HPA 0x200009876abc",
     "read", ept(EPTP4, [], ep(pte=0x200009876037)), ok(0x200009876ABC, G, 4096, 4096))
pure("ept-ignored-bits-ok.json",
     "bits 63:52, 11, 10 (no MBEC), 9:8 (no EPT A/D) ignored in the EPDE and EPTE, bit 6 ignore-PAT: fetch translates normally",
     "fetch", ept(EPTP4, [], ep(pde=0xFFF0000000053F07, pte=0xFFF0000009876F77)), OK)
pure("ept-rsvd-pml4e-bit7.json", "EPML4E bit 7 reserved -> misconfiguration",
     "read", ept(EPTP4, [], ep(pml4e=0x51087)), misc(G))
pure("ept-rsvd-pml4e-bit3.json", "EPML4E bits 7:3 reserved: bit 3 set -> misconfiguration",
     "read", ept(EPTP4, [], ep(pml4e=0x5100F)), misc(G))
pure("ept-rsvd-pml4e-bit6.json", "EPML4E bits 7:3 reserved: bit 6 set -> misconfiguration",
     "write", ept(EPTP4, [], ep(pml4e=0x51047)), misc(G))
pure("ept-rsvd-pdpte-nonleaf-bit5.json", "non-leaf EPDPTE bits 6:3 reserved: bit 5 set -> misconfiguration",
     "read", ept(EPTP4, ["1g"], ep(pdpte=0x52027)), misc(G))
pure("ept-rsvd-pde-nonleaf-bit6.json", "non-leaf EPDE bits 6:3 reserved: bit 6 set -> misconfiguration",
     "read", ept(EPTP4, ["2m"], ep(pde=0x53047)), misc(G))
pure("ept-rsvd-pde-nonleaf-bit3.json", "non-leaf EPDE bits 6:3 reserved: bit 3 set -> misconfiguration",
     "fetch", ept(EPTP4, [], ep(pde=0x5300F)), misc(G))
pure("ept-pte-bit7-ignored.json", "EPTE bit 7 is ignored (no page-size bit at the last level) -> ok",
     "read", ept(EPTP4, [], ep(pte=0x98760B7)), OK)
pure("ept-pde-ps-without-2m.json", "EPDE bit 7 = 1 without 2-MByte page support: reserved -> misconfiguration",
     "read", ept(EPTP4, [], ep(pde=0x40000087)), misc(G))
pure("ept-pdpte-ps-without-1g.json", "EPDPTE bit 7 = 1 without 1-GByte page support (2M supported) -> misconfiguration",
     "read", ept(EPTP4, ["2m"], ep(pdpte=0x80000087)), misc(G))

# ---- large EPT pages
pure("ept-2m-read-ok.json", "2-MByte EPT page: EPDE 0x400000b7 maps GPA 0xc0600000 -> HPA 0x40000000 + 0x4abc",
     "read", ept(EPTP4, ["2m"], ep(pde=0x400000B7)), ok(0x40004ABC, G, 4096, K2M))
pure("ept-2m-uc-ok.json", "2-MByte EPT page with memory type 0 (same entry that was a misconfiguration without 2m) -> ok",
     "read", ept(EPTP4, ["2m"], ep(pde=0x40000087)), ok(0x40004ABC, G, 4096, K2M))
pure("ept-2m-bit21-is-address.json", "2-MByte EPT page: bit 21 is an address bit -> HPA 0x40204abc",
     "write", ept(EPTP4, ["2m"], ep(pde=0x402000B7)), ok(0x40204ABC, G, 4096, K2M))
pure("ept-2m-misaligned-bit12.json", "2-MByte EPT page: bits 20:12 reserved, bit 12 set -> misconfiguration",
     "read", ept(EPTP4, ["2m"], ep(pde=0x400010B7)), misc(G))
pure("ept-2m-misaligned-bit20.json", "2-MByte EPT page: bit 20 set -> misconfiguration",
     "read", ept(EPTP4, ["2m"], ep(pde=0x401000B7)), misc(G))
pure("ept-1g-read-ok.json", "1-GByte EPT page: EPDPTE 0x800000b7 -> HPA 0x80000000 + 0x00604abc",
     "read", ept(EPTP4, ["1g"], ep(pdpte=0x800000B7)), ok(0x80604ABC, G, 4096, K1G))
pure("ept-1g-misaligned-bit29.json", "1-GByte EPT page: bits 29:12 reserved, bit 29 set -> misconfiguration",
     "read", ept(EPTP4, ["1g"], ep(pdpte=0xA00000B7)), misc(G))
pure("ept-1g-misaligned-bit12.json", "1-GByte EPT page: bit 12 set -> misconfiguration",
     "fetch", ept(EPTP4, ["1g"], ep(pdpte=0x800010B7)), misc(G))

# ---- memory types (leaf)
pure("ept-memtype-2-misconfig.json", "EPTE memory type 2 (reserved) -> misconfiguration",
     "read", ept(EPTP4, [], ep(pte=0x9876017)), misc(G))
pure("ept-memtype-3-misconfig.json", "EPTE memory type 3 (reserved) -> misconfiguration",
     "read", ept(EPTP4, [], ep(pte=0x987601F)), misc(G))
pure("ept-memtype-7-misconfig.json", "EPTE memory type 7 (reserved) -> misconfiguration",
     "write", ept(EPTP4, [], ep(pte=0x987603F)), misc(G))
pure("ept-memtype-0-uc-ok.json", "EPTE memory type 0 (UC) valid", "read", ept(EPTP4, [], ep(pte=0x9876007)), OK)
pure("ept-memtype-1-wc-ok.json", "EPTE memory type 1 (WC) valid", "read", ept(EPTP4, [], ep(pte=0x987600F)), OK)
pure("ept-memtype-4-wt-ok.json", "EPTE memory type 4 (WT) valid", "read", ept(EPTP4, [], ep(pte=0x9876027)), OK)
pure("ept-memtype-5-wp-ok.json", "EPTE memory type 5 (WP) valid", "read", ept(EPTP4, [], ep(pte=0x987602F)), OK)
pure("ept-memtype-7-2m-leaf-misconfig.json", "2-MByte EPT leaf with memory type 7 -> misconfiguration",
     "read", ept(EPTP4, ["2m"], ep(pde=0x400000BF)), misc(G))
pure("ept-memtype-3-1g-leaf-misconfig.json", "1-GByte EPT leaf with memory type 3 -> misconfiguration",
     "read", ept(EPTP4, ["1g"], ep(pdpte=0x8000009F)), misc(G))
pure("ept-memtype-7-not-present-violation.json", "EPTE memory type 7 but XWR=000: not present -> violation, not misconfiguration",
     "read", ept(EPTP4, [], ep(pte=0x9876038)), viol(0x181, G, G, 0xE40))
pure("ept-misconfig-beats-upper-readonly.json",
     "EPML4E read-only, EPTE memory type 7, write: the misconfiguration is found during the walk, before rights -> misconfig",
     "write", ept(EPTP4, [], ep(pml4e=0x51001, pte=0x987603F)), misc(G))

# ---- access rights
pure("ept-write-readonly-pte.json", "EPTE read-only: write -> violation, qual write | R-able | 0x180 = 0x18a",
     "write", ept(EPTP4, [], ep(pte=0x9876031)), viol(0x18A, G, G, 0xE40))
pure("ept-write-rx-pml4e.json", "EPML4E R+X (no W), rest RWX: write -> violation, AND: R=1 W=0 X=1 -> 0x1aa",
     "write", ept(EPTP4, [], ep(pml4e=0x51005)), viol(0x1AA, G, G, 0xE40))
pure("ept-fetch-no-x-pte.json", "EPTE RW (no X): fetch -> violation 0x19c",
     "fetch", ept(EPTP4, [], ep(pte=0x9876033)), viol(0x19C, G, G, 0xE40))
pure("ept-fetch-no-x-nonleaf-pdpte.json", "non-leaf EPDPTE RW (no X): fetch -> violation 0x19c",
     "fetch", ept(EPTP4, [], ep(pdpte=0x52003)), viol(0x19C, G, G, 0xE40))
pure("ept-rights-and-over-levels.json", "EPML4E RW, EPDPTE RX: fetch -> AND R=1 W=0 X=0 -> violation 0x18c",
     "fetch", ept(EPTP4, [], ep(pml4e=0x51003, pdpte=0x52005)), viol(0x18C, G, G, 0xE40))
pure("ept-read-readonly-everywhere-ok.json", "read-only at every EPT level: read allowed",
     "read", ept(EPTP4, [], ep(0x51001, 0x52001, 0x53001, 0x9876031)), OK)

# ---- EPT accessed and dirty flags
W_AD_READ = [("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107), ("e", 0x52018, 0x53107), ("e", 0x53020, 0x9876137)]
W_AD_WRITE = [("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107), ("e", 0x52018, 0x53107), ("e", 0x53020, 0x9876337)]
pure("ept-ad-read-sets-a.json", "EPTP A/D: read sets A (bit 8) in every EPT entry used, not D",
     "read", ept(EPTP4_AD, ["ad"], ep()), ok(HPA, G, 4096, 4096, W_AD_READ))
pure("ept-ad-write-sets-d-leaf.json", "EPTP A/D: write sets A everywhere and D (bit 9) in the EPTE",
     "write", ept(EPTP4_AD, ["ad"], ep()), ok(HPA, G, 4096, 4096, W_AD_WRITE))
pure("ept-ad-fetch-sets-a.json", "EPTP A/D: fetch sets A only",
     "fetch", ept(EPTP4_AD, ["ad"], ep()), ok(HPA, G, 4096, 4096, W_AD_READ))
pure("ept-ad-already-set.json", "EPTP A/D: A and D already set -> nothing written",
     "write", ept(EPTP4_AD, ["ad"], ep(0x51107, 0x52107, 0x53107, 0x9876337)), OK)
pure("ept-ad-write-only-d-missing.json", "EPTP A/D: A set everywhere, D clear: write writes only the EPTE",
     "write", ept(EPTP4_AD, ["ad"], ep(0x51107, 0x52107, 0x53107, 0x9876137)),
     ok(HPA, G, 4096, 4096, [("e", 0x53020, 0x9876337)]))
pure("ept-ad-capability-but-eptp-off.json", "A/D capability reported but EPTP bit 6 = 0: no EPT writes",
     "write", ept(EPTP4, ["ad"], ep()), OK)
pure("ept-ad-2m-write.json", "EPTP A/D, 2-MByte EPT page: D goes to the EPDE that maps the page",
     "write", ept(EPTP4_AD, ["ad", "2m"], ep(pde=0x400000B7)),
     ok(0x40004ABC, G, 4096, K2M, [("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107), ("e", 0x52018, 0x400003B7)]))
pure("ept-ad-1g-read.json", "EPTP A/D, 1-GByte EPT page: A in the EPML4E and the EPDPTE leaf",
     "read", ept(EPTP4_AD, ["ad", "1g"], ep(pdpte=0x800000B7)),
     ok(0x80604ABC, G, 4096, K1G, [("e", 0x50000, 0x51107), ("e", 0x51018, 0x800001B7)]))
pure("ept-ad-write-readonly-may-write-a.json",
     "EPTP A/D, write to read-only EPTE: violation; A in the entries of the failed translation (leaf included) optional",
     "write", ept(EPTP4_AD, ["ad"], ep(pte=0x9876031)),
     viol(0x18A, G, G, 0xE40, may=[("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107), ("e", 0x52018, 0x53107),
                                    ("e", 0x53020, 0x9876131)]))
pure("ept-ad-pde-not-present-may-write.json",
     "EPTP A/D, EPDE not present: A of the EPML4E and EPDPTE passed before is optional",
     "read", ept(EPTP4_AD, ["ad"], ep(pde=0)),
     viol(0x181, G, G, 0xE40, may=[("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107)]))
pure("ept-ad-misconfig-may-write.json",
     "EPTP A/D, EPTE memory type 7: misconfiguration; A of the three entries above optional, not of the bad one",
     "read", ept(EPTP4_AD, ["ad"], ep(pte=0x987603F)),
     misc(G, may=[("e", 0x50000, 0x51107), ("e", 0x51018, 0x52107), ("e", 0x52018, 0x53107)]))

# ---- MBEC (no guest paging)
XU_UP = dict(pml4e=0x51407, pdpte=0x52407, pde=0x53407)
pure("ept-mbec-read-ok-without-xu.json", "MBEC: a read needs R only, XU irrelevant -> ok",
     "read", ept(EPTP4, ["mbec"], ep()), OK)
pure("ept-mbec-not-present-bit6-defined.json",
     "MBEC: EPTE not present -> violation 0x181; bit 6 (AND of XU) is defined (= 0), only bits 11:9 undefined",
     "read", ept(EPTP4, ["mbec"], ep(pte=0)), viol(0x181, G, G, 0xE00))
pure("ept-mbec-xu-only-misconfig-without-exec-only.json",
     "MBEC: EPTE with only XU (bits 2:0 = 000, bit 10 = 1) is present; without execute-only support -> misconfiguration",
     "fetch", ept(EPTP4, ["mbec"], ep(pte=0x9876430, **XU_UP)), misc(G))
pure("ept-mbec-xu-only-read-violation.json",
     "MBEC + execute-only: XU-only EPTE, read -> violation: R,W,X ANDs 0, XU AND 1 -> 0x1c1",
     "read", ept(EPTP4, ["mbec", "exec_only"], ep(pte=0x9876430, **XU_UP)), viol(0x1C1, G, G, 0xE00))
pure("ept-xu-only-without-mbec-not-present.json",
     "no MBEC: bit 10 is ignored, an EPTE with only bit 10 is not present -> violation 0x181",
     "read", ept(EPTP4, ["exec_only"], ep(pte=0x9876430)), viol(0x181, G, G, 0xE40))
pure("ept-mbec-write-readonly-bit6.json",
     "MBEC: write to R+XU EPTE -> violation write | R-able | XU-all (0x40) | 0x180 = 0x1ca",
     "write", ept(EPTP4, ["mbec"], ep(pte=0x9876431, **XU_UP)), viol(0x1CA, G, G, 0xE00))
pure("ept-mbec-paging-off-fetch-xu-ok.json",
     "SDM: CR0.PG=0 -> every linear address is a user-mode linear address (qual table, bit 9), so with MBEC a fetch needs XU, "
     "not X: XU at every level, X clear in the EPTE -> ok",
     "fetch", ept(EPTP4, ["mbec"], ep(pte=0x9876431, **XU_UP)), OK)
pure("ept-mbec-paging-off-fetch-x-without-xu.json",
     "SDM: CR0.PG=0 -> user-mode linear address; with MBEC the fetch needs XU, clear everywhere -> violation "
     "fetch | RWX-able | XU AND 0 | 0x180 = 0x1bc",
     "fetch", ept(EPTP4, ["mbec"], ep()), viol(0x1BC, G, G, 0xE00))

# ---- advanced VM-exit information, guest paging off
pure("ept-advinfo-paging-off-write.json",
     "SDM: advanced info with CR0.PG=0: bit 9 = 1 (user-mode), bit 10 = 1 (read/write), bit 11 = 0 -> 0x18a | 0x600 = 0x78a",
     "write", ept(EPTP4, ["advinfo"], ep(pte=0x9876031)), viol(0x78A, G, G, 0x40))
pure("ept-advinfo-mbec-paging-off-read.json",
     "SDM: MBEC + advanced info, CR0.PG=0, EPTE not present: bits 6 (=0) and 11:9 (=011) all defined -> 0x781",
     "read", ept(EPTP4, ["advinfo", "mbec"], ep(pte=0)), viol(0x781, G, G))

# ============================================================ nested (guest paging under EPT)
PAGES = {1: 0x1001037, 2: 0x1002037, 3: 0x1003037, 4: 0x1004037, 5: 0x1005037, 6: 0x1006037}
PT_ADDR = {1: 0x53008, 2: 0x53010, 3: 0x53018, 4: 0x53020, 5: 0x53028, 6: 0x53030}


def en(pages=None, pml4e=0x51007, pdpte=0x52007, pde=0x53007, extra=None):
    p = dict(PAGES)
    p.update(pages or {})
    d = {0x50000: pml4e, 0x51000: pdpte, 0x52000: pde}
    for n, v in p.items():
        d[PT_ADDR[n]] = v
    d.update(extra or {})
    return {a: v for a, v in d.items() if v}


def nested(fname, name, c, a, m, e, x):
    case("nested_walk", fname, name, c, a, m, e, x)


# Upper EPT entries after the first A/D translation
E_UP = [("e", 0x50000, 0x51107), ("e", 0x51000, 0x52107), ("e", 0x52000, 0x53107)]

# ---- 32-bit guest
VA32 = 0xC04ABC
M32 = {0x100C: 0x2007, 0x2010: 0x5007}
nested("nested-32bit-read-ok.json", "32-bit guest under EPT: PDE 0x100c and PTE 0x2010 read through EPT, final GPA 0x5abc -> HPA 0x1005abc",
       cpu("32"), acc(VA32), M32, ept(EPTP4, [], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, [("g", 0x100C, 0x2027), ("g", 0x2010, 0x5027)]))
nested("nested-32bit-ad-write.json",
       "32-bit guest, EPT A/D: paging-structure pages get A+D, final page A+D (write), then guest A/D",
       cpu("32"), acc(VA32, "write"), M32, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096,
          E_UP + [("e", 0x53008, 0x1001337), ("e", 0x53010, 0x1002337), ("e", 0x53028, 0x1005337),
                  ("g", 0x100C, 0x2027), ("g", 0x2010, 0x5067)]))
nested("nested-32bit-pd-page-ept-not-present.json",
       "32-bit guest: the page directory's GPA is not mapped by EPT -> violation at GPA 0x100c, read, GLA valid, bit 8 = 0 -> 0x81",
       cpu("32"), acc(VA32), M32, ept(EPTP4, [], en({1: 0})), viol(0x81, 0x100C, VA32, 0xE40))
nested("nested-32bit-pt-page-ept-misconfig.json",
       "32-bit guest: the page table's EPTE is XWR=110 -> misconfiguration at GPA 0x2010; PDE A optional",
       cpu("32"), acc(VA32), M32, ept(EPTP4, [], en({2: 0x1002036})),
       misc(0x2010, may=[("g", 0x100C, 0x2027)]))
nested("nested-32bit-4m-guest-over-ept-4k.json",
       "32-bit guest 4-MByte page (GPA 0x1804abc) mapped by a 4-KByte EPT page: page_size 4M, ept_page_size 4K",
       cpu("32", cr4=CR4_PSE, features=["pse"]), acc(VA32), {0x100C: 0x01800087},
       ept(EPTP4, [], en(extra={0x52060: 0x55007, 0x55020: 0x2345037})),
       ok(0x2345ABC, 0x1804ABC, K4M, 4096, [("g", 0x100C, 0x018000A7)]))
nested("nested-32bit-final-write-ept-readonly.json",
       "32-bit guest user write, final page read-only in EPT -> violation 0x18a at GPA 0x5abc; guest A/D optional "
       "(a CPU may update them before translating the access)",
       cpu("32", cpl=3), acc(VA32, "write"), M32, ept(EPTP4, [], en({5: 0x1005031})),
       viol(0x18A, 0x5ABC, VA32, 0xE40, may=[("g", 0x100C, 0x2027), ("g", 0x2010, 0x5067)]))
nested("nested-32bit-advinfo-user-read.json",
       "32-bit guest, advanced info: final read violation; bit 9 = 1 (U/S all 1), bit 10 = 1 (R/W all 1), bit 11 = 0 -> 0x781",
       cpu("32", cpl=3), acc(VA32), M32, ept(EPTP4, ["advinfo"], en({5: 0})),
       viol(0x781, 0x5ABC, VA32, 0x40, may=[("g", 0x100C, 0x2027), ("g", 0x2010, 0x5027)]))
nested("nested-32bit-guest-pf-before-ept-violation.json",
       "32-bit guest: user read of a supervisor page -> #PF P|U; the final GPA (not mapped by EPT) is never accessed",
       cpu("32", cpl=3), acc(VA32), {0x100C: 0x2027, 0x2010: 0x5023}, ept(EPTP4, [], en({5: 0})), pf(0x5, VA32))

# ---- PAE guest
VAP = 0x40604ABC
MPAE = {0x1008: 0x3001, 0x3018: 0x4007, 0x4020: 0x5007}
nested("nested-pae-read-ok.json",
       "PAE guest under EPT: 4 PDPTE loads, PDE and PTE reads, final read; guest A in PDE and PTE (PDPTEs have none)",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4, [], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, [("g", 0x3018, 0x4027), ("g", 0x4020, 0x5027)]))
nested("nested-pae-ad-read.json",
       "PAE guest, EPT A/D: PDPTE loads are reads (A only on the PDPT page's EPTE), PDE/PTE pages A+D, final page A",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096,
          E_UP + [("e", 0x53008, 0x1001137), ("e", 0x53018, 0x1003337), ("e", 0x53020, 0x1004337),
                  ("e", 0x53028, 0x1005137), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x5027)]))
nested("nested-pae-pdpte-load-ept-violation.json",
       "PAE guest, CR3 0x1020: the PDPT page is not mapped -> violation at GPA 0x1020 (first PDPTE); read; GLA not valid (bit 7 = 0, bit 8 = 0)",
       cpu("pae", cr3=0x1020), acc(VAP), {0x1028: 0x3001, 0x3018: 0x4007, 0x4020: 0x5007},
       ept(EPTP4, [], en({1: 0})), viol(0x1, 0x1020, None, 0xE40))
nested("nested-pae-ad-pdpte-load-ept-violation.json",
       "PAE guest, EPT A/D: PDPTE loads are reads even with A/D -> qual bit 0 only (0x1); A of the EPT entries passed optional",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4_AD, ["ad"], en({1: 0})),
       viol(0x1, 0x1000, None, 0xE40, may=E_UP))
nested("nested-pae-ad-pdpte-load-readonly-ept-ok.json",
       "PAE guest, EPT A/D: PDPT page read-only in EPT is fine, PDPTE loads are reads (no W needed, A only)",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4_AD, ["ad"], en({1: 0x1001031})),
       ok(0x1005ABC, 0x5ABC, 4096, 4096,
          E_UP + [("e", 0x53008, 0x1001131), ("e", 0x53018, 0x1003337), ("e", 0x53020, 0x1004337),
                  ("e", 0x53028, 0x1005137), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x5027)]))
nested("nested-pae-pdpte-load-ept-misconfig.json",
       "PAE guest: PDPT page's EPTE write-only -> misconfiguration at GPA 0x1000 during the PDPTE loads",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4, [], en({1: 0x1001032})), misc(0x1000))
nested("nested-pae-pdpte-reserved-gp-under-ept.json",
       "PAE guest under EPT (no A/D): the PDPTE loads translate fine, PDPTE 2 is present with reserved bit 1 -> #GP at the load",
       cpu("pae"), acc(VAP), {0x1008: 0x3001, 0x1010: 0x3003, 0x3018: 0x4007, 0x4020: 0x5007}, ept(EPTP4, [], en()),
       {"outcome": "general_protection", "reason": "pdpte-reserved"})
nested("nested-pae-pd-page-ept-not-present.json",
       "PAE guest: page directory not mapped -> violation at GPA 0x3018, read, bit 7 = 1 (not a PDPTE load), bit 8 = 0 -> 0x81",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4, [], en({3: 0})), viol(0x81, 0x3018, VAP, 0xE40))
nested("nested-pae-ad-pd-page-readonly.json",
       "PAE guest, EPT A/D: PD page read-only -> PDE read counts as a write -> violation 0x8b (read+write, R-able, GLA valid)",
       cpu("pae"), acc(VAP), MPAE, ept(EPTP4_AD, ["ad"], en({3: 0x1003031})),
       viol(0x8B, 0x3018, VAP, 0xE40, writes=E_UP + [("e", 0x53008, 0x1001137)],
            may=[("e", 0x53018, 0x1003131)]))
nested("nested-pae-noad-pd-page-readonly-ok.json",
       "PAE guest, no EPT A/D: PD page read-only is enough for the PDE read; PDE A already set so no write to it",
       cpu("pae"), acc(VAP), {0x1008: 0x3001, 0x3018: 0x4027, 0x4020: 0x5007}, ept(EPTP4, [], en({3: 0x1003031})),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, [("g", 0x4020, 0x5027)]))
nested("nested-pae-xd-advinfo.json",
       "PAE guest with NXE, XD page, advanced info: final read violation, bits 9, 10, 11 = 1 -> 0xf81",
       cpu("pae", efer=0x800, features=["nx"]), acc(VAP),
       {0x1008: 0x3001, 0x3018: 0x4007, 0x4020: 0x8000000000005007}, ept(EPTP4, ["advinfo"], en({5: 0})),
       viol(0xF81, 0x5ABC, VAP, 0x40, may=[("g", 0x3018, 0x4027), ("g", 0x4020, 0x8000000000005027)]))
nested("nested-pae-xd-fetch-pf-before-ept.json",
       "PAE guest with NXE: fetch from an XD page -> #PF P|I/D before the final GPA (unmapped in EPT) is used",
       cpu("pae", efer=0x800, features=["nx"]), acc(VAP, "fetch"),
       {0x1008: 0x3001, 0x3018: 0x4027, 0x4020: 0x8000000000005027}, ept(EPTP4, [], en({5: 0})), pf(0x11, VAP))
nested("nested-pae-2m-guest-over-ept-4k.json",
       "PAE guest 2-MByte page (GPA 0x204abc) over a 4-KByte EPT page: page_size 2M, ept_page_size 4K",
       cpu("pae"), acc(VAP), {0x1008: 0x3001, 0x3018: 0x200087},
       ept(EPTP4, [], en(extra={0x52008: 0x54007, 0x54020: 0x3456037})),
       ok(0x3456ABC, 0x204ABC, K2M, 4096, [("g", 0x3018, 0x2000A7)]))

# ---- 4-level guest
VA4 = 0x8080604ABC
M4 = {0x1008: 0x2007, 0x2010: 0x3007, 0x3018: 0x4007, 0x4020: 0x5007}
M4A = {0x1008: 0x2027, 0x2010: 0x3027, 0x3018: 0x4027, 0x4020: 0x5027}  # A already set
G4_A = [("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x5027)]
G4_AD = [("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x5067)]
E4_PS = E_UP + [("e", 0x53008, 0x1001337), ("e", 0x53010, 0x1002337), ("e", 0x53018, 0x1003337), ("e", 0x53020, 0x1004337)]
C4 = cpu("4l")

nested("nested-4level-read-ok.json", "4-level guest under 4-level EPT: read, guest A in all four entries, no EPT writes",
       C4, acc(VA4), M4, ept(EPTP4, [], en()), ok(0x1005ABC, 0x5ABC, 4096, 4096, G4_A))
nested("nested-4level-ad-read.json",
       "4-level guest, EPT A/D: each paging-structure page's EPTE gets A+D (accesses treated as writes), final page A only",
       C4, acc(VA4), M4, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, E4_PS + [("e", 0x53028, 0x1005137)] + G4_A))
nested("nested-4level-ad-write.json", "4-level guest, EPT A/D, write: final page's EPTE A+D, guest D in the PTE",
       C4, acc(VA4, "write"), M4, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, E4_PS + [("e", 0x53028, 0x1005337)] + G4_AD))
nested("nested-4level-ad-fetch.json", "4-level guest, EPT A/D, supervisor fetch of a user page (no SMEP): final EPTE A only",
       C4, acc(VA4, "fetch"), M4, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, E4_PS + [("e", 0x53028, 0x1005137)] + G4_A))
nested("nested-4level-ad-paging-structure-readonly.json",
       "4-level guest, EPT A/D: PDPT page read-only -> PDPTE read is a write -> violation at 0x2010, qual 0x8b; "
       "EPT A/D of the PML4 translation stay; PML4E A and the failed EPTE's A optional",
       C4, acc(VA4), M4, ept(EPTP4_AD, ["ad"], en({2: 0x1002031})),
       viol(0x8B, 0x2010, VA4, 0xE40, writes=E_UP + [("e", 0x53008, 0x1001337)],
            may=[("e", 0x53010, 0x1002131), ("g", 0x1008, 0x2027)]))
nested("nested-4level-noad-paging-structure-readonly-ok.json",
       "4-level guest, no EPT A/D: PDPT page read-only suffices for the read; the PDPTE already has A, others get A",
       C4, acc(VA4), {0x1008: 0x2007, 0x2010: 0x3027, 0x3018: 0x4007, 0x4020: 0x5007},
       ept(EPTP4, [], en({2: 0x1002031})),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, [("g", 0x1008, 0x2027), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x5027)]))
nested("nested-4level-noad-guest-a-update-readonly.json",
       "4-level guest, no EPT A/D: PDPTE (A=0) in an EPT read-only page; its A update is an EPT write -> violation at 0x2010: "
       "write, R-able, GLA valid, bit 8 = 0 (0x8a), bit 0 undefined. SDM: that A update cannot have happened, so no may_write",
       C4, acc(VA4), {0x1008: 0x2027, 0x2010: 0x3007, 0x3018: 0x4027, 0x4020: 0x5027},
       ept(EPTP4, [], en({2: 0x1002031})), viol(0x8A, 0x2010, VA4, 0xE41))
nested("nested-4level-noad-guest-d-update-readonly.json",
       "4-level guest, no EPT A/D, write: all A set, PTE D=0 in an EPT read-only page -> violation at 0x4020 (0x8a). "
       "SDM: nothing can be written (the PTE's page is not writable, every A is already set): no may_write",
       C4, acc(VA4, "write"), M4A, ept(EPTP4, [], en({4: 0x1004031})), viol(0x8A, 0x4020, VA4, 0xE41))
nested("nested-4level-noad-a-update-and-final-violation.json",
       "4-level guest, no EPT A/D, write: PTE A/D update forbidden (PT page read-only) and the final page read-only too: "
       "either exit may come first (alternative: final violation 0x18a at 0x5abc). SDM: no possible guest write, no may_write",
       C4, acc(VA4, "write"), {0x1008: 0x2027, 0x2010: 0x3027, 0x3018: 0x4027, 0x4020: 0x5007},
       ept(EPTP4, [], en({4: 0x1004031, 5: 0x1005031})),
       viol(0x8A, 0x4020, VA4, 0xE41,
            alts=[{"outcome": "ept_violation", "qualification": "0x18a", "gpa": "0x5abc", "gla": h(VA4),
                   "qualification_undefined": "0xe40"}]))
nested("nested-4level-noad-pf-with-a-update-alternative.json",
       "4-level guest, no EPT A/D: user read of a supervisor page -> #PF P|U; the PDPTE (A=0) sits in an EPT read-only page, "
       "so setting A while walking would exit first (alternative: violation 0x8a at 0x2010). SDM: that A cannot be set, no may_write",
       cpu("4l", cpl=3), acc(VA4), {0x1008: 0x2027, 0x2010: 0x3007, 0x3018: 0x4027, 0x4020: 0x5021},
       ept(EPTP4, [], en({2: 0x1002031})),
       pf(0x5, VA4, alts=[{"outcome": "ept_violation", "qualification": "0x8a", "gpa": "0x2010", "gla": h(VA4),
                           "qualification_undefined": "0xe41"}]))
nested("nested-4level-guest-pf-precedes-final-ept-violation.json",
       "4-level guest: user write to a read-only page -> #PF P|W|U; the final GPA (EPT not present) is never translated",
       cpu("4l", cpl=3), acc(VA4, "write"), {0x1008: 0x2027, 0x2010: 0x3027, 0x3018: 0x4027, 0x4020: 0x5025},
       ept(EPTP4, [], en({5: 0})), pf(0x7, VA4))
nested("nested-4level-ad-guest-pf-keeps-ept-writes.json",
       "4-level guest, EPT A/D: guest #PF P|W|U after a complete walk; the EPT A/D of the four paging-structure translations are required",
       cpu("4l", cpl=3), acc(VA4, "write"), {0x1008: 0x2027, 0x2010: 0x3027, 0x3018: 0x4027, 0x4020: 0x5025},
       ept(EPTP4_AD, ["ad"], en({5: 0})), pf(0x7, VA4, writes=E4_PS))
nested("nested-4level-guest-pde-not-present.json",
       "4-level guest: PDE not present -> #PF 0x0; PML4E and PDPTE A optional (their pages are writable in EPT)",
       C4, acc(VA4), {0x1008: 0x2007, 0x2010: 0x3007, 0x3018: 0x4006}, ept(EPTP4, [], en()),
       pf(0x0, VA4, may=[("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027)]))
nested("nested-4level-pml4-page-ept-not-present.json",
       "4-level guest: CR3's page not mapped by EPT -> violation at the PML4E GPA 0x1008, qual 0x81",
       C4, acc(VA4), M4, ept(EPTP4, [], en({1: 0})), viol(0x81, 0x1008, VA4, 0xE40))
nested("nested-4level-ad-pml4-page-ept-not-present.json",
       "4-level guest, EPT A/D: PML4 page not mapped -> paging-structure access counts as write: qual 0x83; EPT A above optional",
       C4, acc(VA4), M4, ept(EPTP4_AD, ["ad"], en({1: 0})), viol(0x83, 0x1008, VA4, 0xE40, may=E_UP))
nested("nested-4level-pt-page-ept-misconfig.json",
       "4-level guest: PT page's EPTE write-only -> misconfiguration at GPA 0x4020; A of the 3 entries used before optional",
       C4, acc(VA4), M4, ept(EPTP4, [], en({4: 0x1004032})),
       misc(0x4020, may=[("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027), ("g", 0x3018, 0x4027)]))
nested("nested-4level-final-fetch-no-x.json",
       "4-level guest: final page RW without X in EPT, fetch -> violation 0x19c at GPA 0x5abc; guest A optional",
       C4, acc(VA4, "fetch"), M4, ept(EPTP4, [], en({5: 0x1005033})), viol(0x19C, 0x5ABC, VA4, 0xE40, may=G4_A))
nested("nested-4level-final-ept-misconfig-memtype.json",
       "4-level guest: final page's EPTE memory type 7 -> misconfiguration at GPA 0x5abc; guest A optional",
       C4, acc(VA4), M4, ept(EPTP4, [], en({5: 0x100503F})), misc(0x5ABC, may=G4_A))
nested("nested-4level-2m-guest-over-ept-4k.json",
       "4-level guest 2-MByte page (GPA 0x204abc) over a 4-KByte EPT page",
       C4, acc(VA4), {0x1008: 0x2007, 0x2010: 0x3007, 0x3018: 0x200087},
       ept(EPTP4, [], en(extra={0x52008: 0x54007, 0x54020: 0x3456037})),
       ok(0x3456ABC, 0x204ABC, K2M, 4096, [("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027), ("g", 0x3018, 0x2000A7)]))
nested("nested-4level-1g-guest-over-ept-2m.json",
       "4-level guest 1-GByte page (GPA 0x40604abc) over a 2-MByte EPT page (HPA 0x7e04abc)",
       C4, acc(VA4), {0x1008: 0x2007, 0x2010: 0x40000087},
       ept(EPTP4, ["2m"], en(extra={0x51008: 0x55007, 0x55018: 0x7E000B7})),
       ok(0x7E04ABC, 0x40604ABC, K1G, K2M, [("g", 0x1008, 0x2027), ("g", 0x2010, 0x400000A7)]))
nested("nested-4level-ad-ept-1g-merge.json",
       "4-level guest over one 1-GByte EPT page with A/D: two EPT entries, each written once (A, and D on the leaf) although used 5 times",
       C4, acc(VA4), M4, ept(EPTP4_AD, ["ad", "1g"], {0x50000: 0x51007, 0x51000: 0x400000B7}),
       ok(0x40005ABC, 0x5ABC, 4096, K1G, [("e", 0x50000, 0x51107), ("e", 0x51000, 0x400003B7)] + G4_A))
nested("nested-4level-ad-ept-2m-write.json",
       "4-level guest over a 2-MByte EPT page with A/D, write: EPDE A+D once",
       C4, acc(VA4, "write"), M4, ept(EPTP4_AD, ["ad", "2m"], {0x50000: 0x51007, 0x51000: 0x52007, 0x52000: 0x6000B7}),
       ok(0x605ABC, 0x5ABC, 4096, K2M,
          [("e", 0x50000, 0x51107), ("e", 0x51000, 0x52107), ("e", 0x52000, 0x6003B7)] + G4_AD))
nested("nested-4level-gpa-above-4g.json",
       "4-level guest: PTE maps GPA 0x8000005abc, EPML4 index 1 -> HPA 0x4444abc",
       C4, acc(VA4), {0x1008: 0x2007, 0x2010: 0x3007, 0x3018: 0x4007, 0x4020: 0x8000005007},
       ept(EPTP4, [], en(extra={0x50008: 0x56007, 0x56000: 0x57007, 0x57000: 0x58007, 0x58028: 0x4444037})),
       ok(0x4444ABC, 0x8000005ABC, 4096, 4096,
          [("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x8000005027)]))
nested("nested-4level-final-gpa-ept-pml4e-not-present.json",
       "4-level guest: final GPA 0x8000005abc, its EPML4E (index 1) not present -> violation 0x181",
       C4, acc(VA4), {0x1008: 0x2007, 0x2010: 0x3007, 0x3018: 0x4007, 0x4020: 0x8000005007},
       ept(EPTP4, [], en()),
       viol(0x181, 0x8000005ABC, VA4, 0xE40,
            may=[("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027), ("g", 0x3018, 0x4027), ("g", 0x4020, 0x8000005027)]))
nested("nested-4level-same-page-tables-ad-merge.json",
       "4-level guest, EPT A/D: PML4 and PDPT share GPA page 0x1000: its EPTE written once (A+D)",
       C4, acc(VA4), {0x1008: 0x1007, 0x1010: 0x3007, 0x3018: 0x4007, 0x4020: 0x5007}, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1005ABC, 0x5ABC, 4096, 4096,
          E_UP + [("e", 0x53008, 0x1001337), ("e", 0x53018, 0x1003337), ("e", 0x53020, 0x1004337),
                  ("e", 0x53028, 0x1005137), ("g", 0x1008, 0x1027), ("g", 0x1010, 0x3027), ("g", 0x3018, 0x4027),
                  ("g", 0x4020, 0x5027)]))
nested("nested-4level-over-5level-ept.json", "4-level guest under 5-level EPT (EPML5E 0x54000)",
       C4, acc(VA4), M4, ept(EPTP5, ["5level"], en(extra={0x54000: 0x50007})),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, G4_A))

# MBEC with guest paging
XU = dict(pml4e=0x51407, pdpte=0x52407, pde=0x53407)
S4 = {0x1008: 0x2003, 0x2010: 0x3003, 0x3018: 0x4003, 0x4020: 0x5003}
G4S_A = [("g", 0x1008, 0x2023), ("g", 0x2010, 0x3023), ("g", 0x3018, 0x4023), ("g", 0x4020, 0x5023)]
nested("nested-4level-mbec-user-fetch-needs-xu.json",
       "MBEC: CPL3 fetch of a user page (U/S=1 everywhere) needs XU; XU clear -> violation fetch|RWX-able, bit 6 = 0 -> 0x1bc",
       cpu("4l", cpl=3), acc(VA4, "fetch"), M4, ept(EPTP4, ["mbec"], en()),
       viol(0x1BC, 0x5ABC, VA4, 0xE00, may=G4_A))
nested("nested-4level-mbec-user-fetch-xu-ok.json",
       "MBEC: CPL3 fetch of a user page, XU at every EPT level, X clear in the leaf -> ok",
       cpu("4l", cpl=3), acc(VA4, "fetch"), M4, ept(EPTP4, ["mbec"], en({5: 0x1005433}, **XU)),
       ok(0x1005ABC, 0x5ABC, 4096, 4096, G4_A))
nested("nested-4level-mbec-supervisor-fetch-needs-x.json",
       "MBEC: fetch from a supervisor-mode address needs X; leaf RW+XU without X -> violation 0x1dc (bit 6 = 1)",
       C4, acc(VA4, "fetch"), S4, ept(EPTP4, ["mbec"], en({5: 0x1005433}, **XU)),
       viol(0x1DC, 0x5ABC, VA4, 0xE00, may=G4S_A))
nested("nested-4level-mbec-supervisor-fetch-x-ok.json",
       "MBEC: fetch from a supervisor-mode address with X set, XU clear everywhere -> ok",
       C4, acc(VA4, "fetch"), S4, ept(EPTP4, ["mbec"], en()), ok(0x1005ABC, 0x5ABC, 4096, 4096, G4S_A))
nested("nested-4level-mbec-cpl0-fetch-user-address-needs-xu.json",
       "MBEC: CPL0 fetch of a user-mode address (no SMEP): the address decides, not CPL -> XU needed -> violation 0x1bc",
       C4, acc(VA4, "fetch"), M4, ept(EPTP4, ["mbec"], en()), viol(0x1BC, 0x5ABC, VA4, 0xE00, may=G4_A))

# Advanced information
nested("nested-4level-advinfo-user-write-readonly.json",
       "advanced info: CPL3 write, final page read-only in EPT -> 0x18a | bit 9 | bit 10 = 0x78a",
       cpu("4l", cpl=3), acc(VA4, "write"), M4, ept(EPTP4, ["advinfo"], en({5: 0x1005031})),
       viol(0x78A, 0x5ABC, VA4, 0x40, may=G4_AD))
nested("nested-4level-advinfo-supervisor-readonly-xd.json",
       "advanced info: supervisor, read-only, XD page (NXE), read -> bits 9, 10 = 0, bit 11 = 1 -> 0x981",
       C4, acc(VA4), {0x1008: 0x2003, 0x2010: 0x3003, 0x3018: 0x4003, 0x4020: 0x8000000000005001},
       ept(EPTP4, ["advinfo"], en({5: 0})),
       viol(0x981, 0x5ABC, VA4, 0x40,
            may=[("g", 0x1008, 0x2023), ("g", 0x2010, 0x3023), ("g", 0x3018, 0x4023), ("g", 0x4020, 0x8000000000005021)]))
nested("nested-4level-advinfo-paging-structure-undefined.json",
       "advanced info supported but bit 8 = 0 (PDE read): bits 11:9 undefined -> 0x81",
       C4, acc(VA4), M4, ept(EPTP4, ["advinfo"], en({3: 0})),
       viol(0x81, 0x3018, VA4, 0xE40, may=[("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027)]))

# Execute-only pages holding guest tables
nested("nested-4level-exec-only-pd-page-read.json",
       "execute-only EPT page holding the PD: the PDE read -> violation read | X-able | GLA valid = 0xa1",
       C4, acc(VA4), M4, ept(EPTP4, ["exec_only"], en({3: 0x1003034})),
       viol(0xA1, 0x3018, VA4, 0xE40, may=[("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027)]))
nested("nested-4level-ad-exec-only-pd-page.json",
       "EPT A/D + execute-only PD page: PDE access counts as write -> 0xa3; earlier EPT A/D stay, failed EPTE A optional",
       C4, acc(VA4), M4, ept(EPTP4_AD, ["exec_only", "ad"], en({3: 0x1003034})),
       viol(0xA3, 0x3018, VA4, 0xE40, writes=E_UP + [("e", 0x53008, 0x1001337), ("e", 0x53010, 0x1002337)],
            may=[("e", 0x53018, 0x1003134), ("g", 0x1008, 0x2027), ("g", 0x2010, 0x3027)]))
nested("nested-4level-ad-final-write-readonly.json",
       "EPT A/D, final write to an EPT read-only page -> violation 0x18a; paging-structure EPT A/D required, "
       "final EPTE A and guest A optional",
       C4, acc(VA4, "write"), M4, ept(EPTP4_AD, ["ad"], en({5: 0x1005031})),
       viol(0x18A, 0x5ABC, VA4, 0xE40, writes=E4_PS, may=[("e", 0x53028, 0x1005131)] + G4_AD))

# Shadow stacks (CET)
CSS = cpu("4l", cr4=CR4_PAE | CR4_CET, features=["nx", "pdpe1gb", "shstk"])
MSS = {0x1008: 0x2023, 0x2010: 0x3023, 0x3018: 0x4023, 0x4020: 0x5061}
nested("nested-4level-shadow-stack-write-ept-readonly.json",
       "CET: supervisor shadow-stack write to a valid shadow-stack page, final page read-only in EPT -> 0x18a | bit 13 = 0x218a",
       CSS, acc(VA4, "write", ss=True), MSS, ept(EPTP4, [], en({5: 0x1005031})),
       viol(0x218A, 0x5ABC, VA4, 0xE40))
nested("nested-4level-shadow-stack-read-ok.json",
       "CET: supervisor shadow-stack read, final page read-only in EPT -> ok",
       CSS, acc(VA4, "read", ss=True), MSS, ept(EPTP4, [], en({5: 0x1005031})), ok(0x1005ABC, 0x5ABC, 4096, 4096))

# ---- 5-level guest
VA5 = 0x1008080604ABC
M5 = {0x1008: 0x2007, 0x2008: 0x3007, 0x3010: 0x4007, 0x4018: 0x5007, 0x5020: 0x6007}
G5_A = [("g", 0x1008, 0x2027), ("g", 0x2008, 0x3027), ("g", 0x3010, 0x4027), ("g", 0x4018, 0x5027), ("g", 0x5020, 0x6027)]
G5_AD = G5_A[:-1] + [("g", 0x5020, 0x6067)]
E5_PS = E_UP + [("e", 0x53008, 0x1001337), ("e", 0x53010, 0x1002337), ("e", 0x53018, 0x1003337),
                ("e", 0x53020, 0x1004337), ("e", 0x53028, 0x1005337)]
C5 = cpu("5l")
nested("nested-5level-ad-read.json", "5-level guest, EPT A/D: five paging-structure pages A+D, final page A",
       C5, acc(VA5), M5, ept(EPTP4_AD, ["ad"], en()),
       ok(0x1006ABC, 0x6ABC, 4096, 4096, E5_PS + [("e", 0x53030, 0x1006137)] + G5_A))
nested("nested-5level-over-5level-ept-write.json", "5-level guest under 5-level EPT, write",
       C5, acc(VA5, "write"), M5, ept(EPTP5, ["5level"], en(extra={0x54000: 0x50007})),
       ok(0x1006ABC, 0x6ABC, 4096, 4096,
          [("g", 0x1008, 0x2027), ("g", 0x2008, 0x3027), ("g", 0x3010, 0x4027), ("g", 0x4018, 0x5027), ("g", 0x5020, 0x6067)]))
nested("nested-5level-ad-over-5level-ept.json", "5-level guest under 5-level EPT with A/D: EPML5E A first",
       C5, acc(VA5), M5, ept(EPTP5_AD, ["5level", "ad"], en(extra={0x54000: 0x50007})),
       ok(0x1006ABC, 0x6ABC, 4096, 4096, [("e", 0x54000, 0x50107)] + E5_PS + [("e", 0x53030, 0x1006137)] + G5_A))
nested("nested-5level-pml5-page-ept-not-present.json",
       "5-level guest: PML5 page not mapped -> violation at GPA 0x1008, qual 0x81",
       C5, acc(VA5), M5, ept(EPTP4, [], en({1: 0})), viol(0x81, 0x1008, VA5, 0xE40))
nested("nested-5level-ad-pml4-page-readonly.json",
       "5-level guest, EPT A/D: PML4 page read-only -> PML4E access is a write -> violation 0x8b at 0x2008",
       C5, acc(VA5), M5, ept(EPTP4_AD, ["ad"], en({2: 0x1002031})),
       viol(0x8B, 0x2008, VA5, 0xE40, writes=E_UP + [("e", 0x53008, 0x1001337)],
            may=[("e", 0x53010, 0x1002131), ("g", 0x1008, 0x2027)]))
nested("nested-5level-final-write-not-present.json",
       "5-level guest: final page not mapped, write -> violation 0x182 at GPA 0x6abc; guest A/D optional",
       C5, acc(VA5, "write"), M5, ept(EPTP4, [], en({6: 0})), viol(0x182, 0x6ABC, VA5, 0xE40, may=G5_AD))


def main():
    total = 0
    for target, cases in CASES.items():
        out = os.path.join(HERE, target)
        os.makedirs(out, exist_ok=True)
        names = set()
        for fname, body in cases:
            if fname in names:
                sys.exit(f"duplicate case file {target}/{fname}")
            names.add(fname)
            with open(os.path.join(out, fname), "w") as f:
                json.dump(body, f, indent=2)
                f.write("\n")
        print(f"wrote {len(cases)} cases to {out}")
        total += len(cases)
    print(f"total {total}")


if __name__ == "__main__":
    main()
