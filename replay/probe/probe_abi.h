/* The contract between the host (replay/probe_batch.*) and the probe image
 * (replay/probe/probe.c): the batch disk layout, the result frames, and the
 * probe's fixed physical memory map. Plain C so that both sides include it.
 *
 * Batch disk (second ATA disk, read by PIO), little endian:
 *   sector 0:   struct probe_batch_header
 *   sectors 1..: `bytes` bytes of case records, back to back, each a
 *                struct probe_case followed by `nentries` struct probe_entry
 *                and `nreadback` u64 addresses (8-byte aligned; `len` covers all).
 *   `crc` is CRC-32 (IEEE) of those `bytes` bytes.
 *
 * Result frames on port 0xE9: 0xA5 0x5A, type, len, payload[len], CRC-32 of
 * type..payload (4 bytes). Types: 'H' hello (payload: u32 version),
 * 'R' one case (struct probe_result), 'X' a record the probe rejected
 * (u32 seq, then text), 'E' end of batch (u32 cases run, u32 status).
 */
#ifndef MMUCHECK_PROBE_ABI_H
#define MMUCHECK_PROBE_ABI_H

#if defined(__cplusplus)
#include <cstdint>
#define PROBE_U64 std::uint64_t
#define PROBE_U32 std::uint32_t
#define PROBE_U16 std::uint16_t
#define PROBE_U8 std::uint8_t
#else
#define PROBE_U64 unsigned long long
#define PROBE_U32 unsigned int
#define PROBE_U16 unsigned short
#define PROBE_U8 unsigned char
#endif

#define PROBE_MAGIC 0x45424f5250554d4dULL /* "MMUPROBE" */
#define PROBE_VERSION 4u /* 2: probe_vmx.gdtr_base; 3: PROBE_IMPLICIT; 4: shadow-stack kinds in VMX cases */

/* ---- physical memory map of the probe (identity-mapped at home) ---- */
#define PROBE_IMAGE_BASE 0x7c00u
#define PROBE_HOME_STACK_TOP 0x70000u
#define PROBE_HOME_PML4 0x70000u   /* + PDPT 0x71000, 4 PDs 0x72000.. (0-4 GiB, 2 MiB pages) */
#define PROBE_BRIDGE32_PD 0x100000u /* 32-bit paging: PD, then 16 PTs (0-64 MiB) */
#define PROBE_BRIDGE32_PT 0x101000u
#define PROBE_BRIDGE_PAE_PDPT 0x111000u
#define PROBE_BRIDGE_PD 0x112000u   /* 2 MiB pages 0-1 GiB; PAE and 4/5-level share it */
#define PROBE_BRIDGE_PML4 0x113000u
#define PROBE_BRIDGE_PDPT 0x114000u
#define PROBE_BRIDGE_PML5 0x115000u
#define PROBE_WIN_PT 0x130000u      /* window tables: 8-byte PT, PD, PDPT, PML4; 4-byte PT */
#define PROBE_WIN_PD 0x131000u
#define PROBE_WIN_PDPT 0x132000u
#define PROBE_WIN_PML4 0x133000u
#define PROBE_WIN_PT32 0x134000u
#define PROBE_LANDING_4K 0x140000u  /* leaf frames are relocated here (4 KiB pages) */
#define PROBE_LANDING_2M 0x200000u  /* 2 MiB pages */
#define PROBE_LANDING_4M 0x400000u  /* 4 MiB pages */
#define PROBE_LANDING_1G 0x40000000u /* 1 GiB pages, where the machine has 2 GiB (QEMU, KVM) */
#define PROBE_POOL_BASE 0x800000u   /* relocated paging-structure pages */
#define PROBE_POOL_PAGES 2048u
#define PROBE_BATCH_BUFFER 0x1000000u
#define PROBE_BATCH_MAX (16u << 20)
#define PROBE_FREE_1G_LO 0x2000000u /* free RAM: what a 1 GiB leaf at frame 0 uses must lie here; VMX 2 MiB leaves too */
#define PROBE_FREE_1G_HI 0x4000000u
#define PROBE_WINDOW_PAGES 6u       /* code, user code, data (GDT/IDT/TSS), 2 stack pages, supervisor shadow stack */
#define PROBE_MARKER 0xccu          /* int3: the byte at the landing spot */
#define PROBE_WRITE_MARK 0xa5u      /* what a write access stores there */

/* The window occupies top-level slot `slot`, at linear address slot << shift. */
#define PROBE_WIN_SHIFT_32 22
#define PROBE_WIN_SHIFT_PAE 30
#define PROBE_WIN_SHIFT_L4 39
#define PROBE_WIN_SHIFT_L5 48

#define PROBE_MODE_32 1
#define PROBE_MODE_PAE 2
#define PROBE_MODE_L4 3
#define PROBE_MODE_L5 4
#define PROBE_READ 0
#define PROBE_WRITE 1
#define PROBE_FETCH 2
/* A CET shadow-stack write (WRSS at CPL 3: user, at CPL 0: supervisor). The
 * va is 8-byte (IA-32e) or 4-byte aligned; the landing spot gets the write
 * mark in its low byte, zeros above. */
#define PROBE_SS_WRITE 3
/* A CET shadow-stack read at CPL 3: a near RET with SSP = va (from
 * IA32_PL3_SSP). The landing spot holds the return address (8 or 4 bytes) the
 * RET also pops from the data stack: a read elsewhere is a #CP. */
#define PROBE_SS_READ 4
/* Implicit supervisor-mode accesses (SDM 3A 4.6), or'ed into a read or write
 * kind: the LDT (selector PROBE_SEL_LDT in the window's GDT) is based at the
 * case's va; a read is LAR of LDT selector 7 (reads the descriptor there), a
 * write MOV FS of it (sets the descriptor's accessed flag, 3A 3.4.5.1). The
 * host's marker is the landing spot of the 8-byte descriptor, which the probe
 * fills with PROBE_LDT_DESC_READ/WRITE (flat data, DPL 3; A set / clear). */
#define PROBE_IMPLICIT 0x20
#define PROBE_SEL_LDT 0x80
#define PROBE_LDT_DESC_READ 0x00cff3000000ffffULL
#define PROBE_LDT_DESC_WRITE 0x00cff2000000ffffULL
#define PROBE_LDT_ACCESSED 0xf3u /* the descriptor's access byte with A set */
/* Self-test kinds (tests of the runner's hang/crash handling only) */
#define PROBE_SELFTEST_CRASH 0x80
#define PROBE_SELFTEST_HANG 0x81
/* Stages at which the exception came. */
#define PROBE_STAGE_SETUP 1
#define PROBE_STAGE_CR3 2
#define PROBE_STAGE_ACCESS 3
#define PROBE_MAX_READBACK 8
#define PROBE_RIP_IN_WINDOW 1u

/* VMX cases (EPT and nested): the probe is L1, the access runs in L2.
 * `mode` is PROBE_MODE_VMX | the L2 paging mode (PROBE_MODE_32, _PAE or _L4); a
 * struct probe_vmx follows the struct probe_case. Entries and readback
 * addresses are host-physical; PROBE_W4 in one marks a 4-byte guest entry
 * (32-bit paging). The host writes everything L2 needs (EPT tables, guest
 * tables, L2's code) as entries; the probe only runs VMX around them.
 * Kinds: read, write, fetch, implicit read/write, and the shadow-stack kinds
 * (L2's code does the WRSS or RET; the probe loads probe_vmx's s_cet and ssp
 * for L2 through "load CET state", writes u_cet and pl3_ssp to IA32_U_CET and
 * IA32_PL3_SSP, which VMX does not switch, and clears the MSRs after the exit).
 * Result: a 'V' frame (struct probe_vmx_wire, then changed[nreadback]). */
#define PROBE_MODE_VMX 0x10u
#define PROBE_W4 (1ull << 63)
#define PROBE_MAX_READBACK_VMX 24
/* EPT capabilities a VMX case needs or must not have (IA32_VMX_EPT_VPID_CAP
 * bit numbers, except MBEC, which is a secondary processor-based control). */
#define PROBE_CAP_EXEC_ONLY (1u << 0)
#define PROBE_CAP_5LEVEL (1u << 1)
#define PROBE_CAP_2M (1u << 2)
#define PROBE_CAP_1G (1u << 3)
#define PROBE_CAP_AD (1u << 4)
#define PROBE_CAP_ADVINFO (1u << 5)
#define PROBE_CAP_MBEC (1u << 6)
/* VMX exit reasons the host interprets */
#define PROBE_EXIT_EXCEPTION 0
#define PROBE_EXIT_TRIPLE_FAULT 2
#define PROBE_EXIT_VMCALL 18
#define PROBE_EXIT_EPT_VIOLATION 48
#define PROBE_EXIT_EPT_MISCONFIG 49
/* probe_vmx_wire.launch: how VMLAUNCH ended */
#define PROBE_LAUNCH_EXITED 0   /* a VM exit (exit_reason says which; bit 31: entry failure) */
#define PROBE_LAUNCH_FAIL_INVALID 1
#define PROBE_LAUNCH_FAIL_VALID 2 /* insn_error says why */

#ifndef __ASSEMBLER__

struct probe_batch_header {
  PROBE_U64 magic;
  PROBE_U32 version;
  PROBE_U32 ncases;
  PROBE_U32 bytes;
  PROBE_U32 crc;
  PROBE_U32 header_crc; /* CRC-32 of the 24 bytes above */
  PROBE_U32 reserved;
};

struct probe_case {
  PROBE_U32 len; /* bytes of this record, entries and readback included */
  PROBE_U32 seq;
  PROBE_U8 mode, kind, cpl, pk_key; /* pk_key: protection key of the window's supervisor pages */
  PROBE_U16 nentries, nreadback;
  PROBE_U32 slot; /* window's top-level slot */
  PROBE_U32 pkru, pkrs;
  PROBE_U64 cr0, cr3, cr4, efer, rflags;
  PROBE_U64 va;
  PROBE_U64 marker; /* physical address that gets PROBE_MARKER, 0 for none */
};

struct probe_entry {
  PROBE_U64 addr; /* physical (relocated) */
  PROBE_U64 value;
};


/* On the wire an 'R' frame is compact: struct probe_wire, then
 * changed[nreadback] (u16 each), then cr2 (u64) if PROBE_HAS_CR2 (a #PF whose
 * CR2 is not the case's address; otherwise CR2 is that address), then rip
 * (u64) if PROBE_HAS_RIP. The host rebuilds a struct probe_result. */
#define PROBE_HAS_CR2 2u
#define PROBE_HAS_RIP 4u
struct probe_wire {
  PROBE_U32 seq;
  PROBE_U8 stage, vector, al, nreadback;
  PROBE_U16 error_code;
  PROBE_U16 flags;
};

struct probe_result {
  PROBE_U32 seq;
  PROBE_U8 stage, vector, al, nreadback;
  PROBE_U32 error_code;
  PROBE_U32 flags; /* PROBE_RIP_IN_WINDOW: rip is an offset into the probe's window */
  PROBE_U64 cr2;
  PROBE_U64 rip; /* where the exception was raised */
  /* Per readback entry: the bits that changed. Bits 11:0 of (after ^ before);
   * bit 15 set when a bit above 11 changed. */
  PROBE_U16 changed[PROBE_MAX_READBACK];
};

struct probe_vmx {
  PROBE_U64 eptp;      /* relocated */
  PROBE_U64 rip;       /* L2's first instruction (the window's code, or the fetch's address) */
  PROBE_U32 caps_need, caps_forbid; /* PROBE_CAP_*: the CPU must have / must not have them */
  PROBE_U32 l2_cs_long;             /* 1: L2 runs in 64-bit mode (IA-32e mode guest) */
  PROBE_U32 l2_loads_cr3;           /* 1: L2's code loads CR3 (PAE: the PDPTEs through EPT); no exit for it */
  PROBE_U64 pdpte[4];  /* PAE L2: the PDPTEs VM entry loads (with EPT they come from the VMCS) */
  PROBE_U64 cr3_target; /* l2_loads_cr3: the value L2 loads (the case's CR3) */
  PROBE_U64 gdtr_base;  /* L2's GDTR base (limit 0xffff): a PAE case at CPL 1/2 IRETs through its GDT */
  PROBE_U64 sysenter_eip; /* L2's IA32_SYSENTER_EIP: a case at CPL 3 SYSENTERs to load CR3 */
  PROBE_U64 s_cet, ssp;   /* shadow-stack kinds: L2's IA32_S_CET and SSP (VMCS guest CET state) */
  PROBE_U64 u_cet, pl3_ssp; /* ... and IA32_U_CET, IA32_PL3_SSP (SYSEXIT loads SSP from it) */
};

struct probe_vmx_wire {
  PROBE_U32 seq;
  PROBE_U32 exit_reason;
  PROBE_U64 qualification;
  PROBE_U64 gpa;
  PROBE_U64 gla;
  PROBE_U64 rip;       /* L2's RIP at the exit */
  PROBE_U32 intr_info, intr_error;
  PROBE_U32 insn_error;
  PROBE_U8 launch, al, nreadback, reserved;
};

#endif /* !__ASSEMBLER__ */

#endif
