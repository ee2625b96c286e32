/* Boot sector and stage 2 of the probe image (replay/probe/README.md).
 *
 * Sector 0 (at 0x7c00) loads the rest of the image with INT 13h extended
 * reads to 0x7e00, enables A20, builds the home page tables (identity 0-4 GiB
 * with 2 MiB pages), enters long mode and calls probe_main() (probe.c).
 */
#include "probe_abi.h"

        .intel_syntax noprefix

        .section .boot, "ax"
        .code16
        .globl _boot
_boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        ljmp 0, offset boot_start
boot_start:
        mov [boot_drive], dl
        /* image_sectors (from the linker) sectors after this one, 64 at a time */
        mov word ptr [dap_lba], 1
        mov word ptr [dap_seg], 0x07e0
        mov cx, offset image_sectors
1:      test cx, cx
        jz 3f
        mov ax, cx
        cmp ax, 64
        jbe 2f
        mov ax, 64
2:      mov [dap_count], ax
        push cx
        push ax
        mov si, offset dap
        mov dl, [boot_drive]
        mov ah, 0x42
        int 0x13
        pop ax
        pop cx
        jc boot_fail
        sub cx, ax
        add [dap_lba], ax
        shl ax, 5                /* sectors -> paragraphs */
        add [dap_seg], ax
        jmp 1b
3:      jmp stage2

boot_fail:
        mov si, offset boot_msg
4:      lodsb
        test al, al
        jz 5f
        out 0xe9, al
        jmp 4b
5:      cli
        hlt
        jmp 5b

boot_drive: .byte 0
boot_msg: .asciz "probe: disk read failed\n"
        .balign 4
dap:    .byte 16, 0
dap_count: .word 0
dap_off: .word 0
dap_seg: .word 0
dap_lba: .quad 0

        .org 510
        .byte 0x55, 0xaa

/* ---- stage 2: still 16-bit, at 0x7e00 ---- */
        .section .stage2, "ax"
        .code16
stage2:
        in al, 0x92              /* fast A20 */
        or al, 2
        and al, 0xfe
        out 0x92, al
        lgdt [home_gdt_desc]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        ljmp 0x18, offset pm32

        .code32
pm32:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov esp, PROBE_HOME_STACK_TOP
        /* home tables: PML4 -> PDPT -> 4 PDs of 2 MiB pages, identity 0-4 GiB */
        mov edi, PROBE_HOME_PML4
        mov ecx, (6 * 4096) / 4
        xor eax, eax
        rep stosd
        mov dword ptr [PROBE_HOME_PML4], PROBE_HOME_PML4 + 0x1000 + 0x23
        mov edi, PROBE_HOME_PML4 + 0x1000
        mov eax, PROBE_HOME_PML4 + 0x2000 + 0x23
        mov ecx, 4
1:      mov [edi], eax
        add edi, 8
        add eax, 0x1000
        loop 1b
        mov edi, PROBE_HOME_PML4 + 0x2000
        mov eax, 0xe3            /* P RW A D PS */
        xor edx, edx
        mov ecx, 2048
2:      mov [edi], eax
        mov [edi + 4], edx
        add eax, 0x200000
        adc edx, 0
        add edi, 8
        loop 2b
        /* long mode: PAE, EFER.LME|NXE, CR3, CR0.PG|WP */
        mov eax, 0x20 | 0x600    /* PAE, OSFXSR, OSXMMEXCPT */
        mov cr4, eax
        mov ecx, 0xc0000080
        rdmsr
        or eax, 0x100            /* LME; NXE is set by the probe when the CPU has it */
        wrmsr
        mov eax, PROBE_HOME_PML4
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80010001       /* PG WP PE */
        and eax, ~0x60000000     /* caches on */
        mov cr0, eax
        ljmp 0x08, offset lm64

        .code64
lm64:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, PROBE_HOME_STACK_TOP
        cld
        call probe_main
9:      cli
        hlt
        jmp 9b

/* The home GDT; the window's GDT (probe.c) uses the same selectors. */
        .balign 16
        .globl home_gdt
home_gdt:
        .quad 0                       /* 0x00 */
        .quad 0x00af9b000000ffff      /* 0x08 code64 DPL0 */
        .quad 0x00cf93000000ffff      /* 0x10 data DPL0 */
        .quad 0x00cf9b000000ffff      /* 0x18 code32 DPL0 */
home_gdt_end:
        .globl home_gdt_desc
home_gdt_desc:
        .word home_gdt_end - home_gdt - 1
        .quad home_gdt

        .section .note.GNU-stack, "", @progbits
