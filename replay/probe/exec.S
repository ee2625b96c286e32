/* The probe's executor (replay/probe/README.md): the mode switches from home
 * (long mode, identity tables) into the case's paging mode, the access at the
 * case's CPL, the exception handlers, and the way back home.
 *
 * The `.window` section is the reserved window that probe.c inserts into each
 * case's tables at linear address W (a top-level slot the case's walk does not
 * use): page 0 supervisor code, page 1 user code, page 2 data (GDT, TSSs,
 * parameters, results, IDTs), pages 3-4 stack. Code in it is position
 * independent: it runs at W + offset, not at its link address.
 */
#include "probe_abi.h"

        .intel_syntax noprefix

/* data page layout (offsets from win_data); probe.c uses the same */
#define D_GDT 0x000
#define D_GDTDESC 0x0b0
#define D_IDTDESC64 0x090
#define D_IDTDESC32 0x0a0
#define D_TSS64 0x100
#define D_TSS32 0x180
#define P_VA 0x200
#define P_CASE_CR3 0x208
#define P_BRIDGE 0x210
#define P_RFLAGS 0x218
#define P_STACK 0x220
#define P_CPL 0x228
#define P_KIND 0x22c
#define P_PKRU 0x230
#define P_FLAGS 0x234
#define P_CR4 0x238
#define P_CS 0x240
#define P_SS 0x248
#define P_RIP 0x250
#define P_USER_SP 0x258
#define P_PKRS 0x260
#define R_STAGE 0x300
#define R_VECTOR 0x304
#define R_EC 0x308
#define R_CR2 0x310
#define R_RIP 0x318
#define R_RAX 0x320
#define D_IDT64 0x800
#define D_IDT32 0xa00

#define F_PKRU 1
#define F_PCIDE 2
#define F_PKS 4
#define F_SSS 8                  /* IA32_S_CET is on for a WRSS at CPL 0: off again in the handler */

#define SEL_TSS64 0x68
#define SEL_TSS32 0x78

/* The implicit accesses (PROBE_IMPLICIT): LAR / MOV FS with LDT selector 7
 * (TI = 1, index 0, RPL 3; the descriptor at the LDT base is DPL 3, so every
 * CPL may load it). LAR leaves EAX alone when ZF = 0, so AL is the access
 * byte only when it read the descriptor. */
#define IMPL_WRITE_OFF 14        /* the MOV FS stub's offset from the LAR one */
.macro IMPLICIT_STUBS
0:      xor eax, eax
        mov ecx, 7
        lar eax, cx
        shr eax, 8
        int3
        .if . - 0b - IMPL_WRITE_OFF
        .error "IMPL_WRITE_OFF is not the LAR stub's size"
        .endif
        mov ecx, 7
        mov fs, ecx
        int3
.endm

/* Error-code-pushing vectors: 8 10 11 12 13 14 17 21 29 30 */
#define HAS_EC(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

/* ------------------------------------------------------------------------ */
        .section .window, "awx"
        .balign 4096
        .globl win_base
win_base:

/* 64-bit entry at W (jumped to from t64 with bridge tables loaded) */
        .code64
        .globl win_exec64
win_exec64:
        lea rbx, [rip + win_data]
        lgdt [rbx + D_GDTDESC]
        lidt [rbx + D_IDTDESC64]
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, [rbx + P_STACK]
        mov ax, SEL_TSS64
        ltr ax
        test dword ptr [rbx + P_KIND], PROBE_IMPLICIT
        jz 7f
        mov ax, PROBE_SEL_LDT     /* LDT base = the case's va (probe.c) */
        lldt ax
7:
        test dword ptr [rbx + P_FLAGS], F_PCIDE
        jz 1f
        mov rax, [rbx + P_CR4]
        mov cr4, rax
1:      test dword ptr [rbx + P_FLAGS], F_PKRU
        jz 2f
        xor ecx, ecx
        xor edx, edx
        mov eax, [rbx + P_PKRU]
        wrpkru
2:      test dword ptr [rbx + P_FLAGS], F_PKS
        jz 6f
        mov ecx, 0x6e1           /* IA32_PKRS: only now, on the window's own key */
        mov eax, [rbx + P_PKRS]
        xor edx, edx
        wrmsr
6:      mov dword ptr [rbx + R_STAGE], PROBE_STAGE_CR3
        mov rax, [rbx + P_CASE_CR3]
        mov cr3, rax
        mov dword ptr [rbx + R_STAGE], PROBE_STAGE_ACCESS
        mov rdi, [rbx + P_VA]
        xor eax, eax
        cmp dword ptr [rbx + P_CPL], 0
        jne 5f
        mov ecx, [rbx + P_KIND]
        push qword ptr [rbx + P_RFLAGS]
        cmp ecx, PROBE_WRITE
        je 3f
        cmp ecx, PROBE_FETCH
        je 4f
        cmp ecx, PROBE_SS_WRITE
        je 9f
        test ecx, PROBE_IMPLICIT
        jnz 7f
        popfq
        mov al, [rdi]
        int3
7:      lea rax, [rip + win_sup64_iread]
        lea rdx, [rax + IMPL_WRITE_OFF]
        test ecx, PROBE_WRITE
        cmovnz rax, rdx
        popfq
        jmp rax
3:      popfq
        mov byte ptr [rdi], PROBE_WRITE_MARK
        int3
4:      popfq
        jmp rdi
/* WRSS at CPL 0: supervisor shadow stacks on (IA32_S_CET SH_STK_EN |
 * WR_SHSTK_EN) only now, SSP on the window's shadow-stack page (SETSSBSY takes
 * IA32_PL0_SSP and its token, which probe.c wrote) so that the exception that
 * ends the case can push its frame there (SDM Vol. 1 18.2.3, Vol. 3A 6.14.5). */
9:      mov ecx, 0x6a2
        mov eax, 3
        xor edx, edx
        wrmsr
        setssbsy
        mov eax, PROBE_WRITE_MARK
        popfq
        wrssq [rdi], rax
        int3
5:      push qword ptr [rbx + P_SS]
        push qword ptr [rbx + P_USER_SP]
        push qword ptr [rbx + P_RFLAGS]
        push qword ptr [rbx + P_CS]
        push qword ptr [rbx + P_RIP]
        iretq

/* Supervisor stubs for CPL 1 and 2 (on a supervisor page, so SMEP allows them) */
        .globl win_sup64_read, win_sup64_write, win_sup32_read, win_sup32_write
win_sup64_read:
        mov al, [rdi]
        int3
win_sup64_write:
        mov byte ptr [rdi], PROBE_WRITE_MARK
        int3
        .code32
win_sup32_read:
        mov al, [edi]
        int3
win_sup32_write:
        mov byte ptr [edi], PROBE_WRITE_MARK
        int3
        .globl win_sup64_iread, win_sup32_iread, win_user64_iread, win_user32_iread
        .code64
win_sup64_iread:
        IMPLICIT_STUBS
        .code32
win_sup32_iread:
        IMPLICIT_STUBS

/* 32-bit entry at W (jumped to from t32 with bridge tables loaded) */
        .code32
        .globl win_exec32
win_exec32:
        call 1f
1:      pop ebx
        add ebx, offset (win_data - 1b)
        lgdt [ebx + D_GDTDESC]
        lidt [ebx + D_IDTDESC32]
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, [ebx + P_STACK]
        mov ax, SEL_TSS32
        ltr ax
        test dword ptr [ebx + P_KIND], PROBE_IMPLICIT
        jz 7f
        mov ax, PROBE_SEL_LDT
        lldt ax
7:
        test dword ptr [ebx + P_FLAGS], F_PKRU
        jz 2f
        xor ecx, ecx
        xor edx, edx
        mov eax, [ebx + P_PKRU]
        wrpkru
2:      mov dword ptr [ebx + R_STAGE], PROBE_STAGE_CR3
        mov eax, [ebx + P_CASE_CR3]
        mov cr3, eax
        mov dword ptr [ebx + R_STAGE], PROBE_STAGE_ACCESS
        mov edi, [ebx + P_VA]
        xor eax, eax
        cmp dword ptr [ebx + P_CPL], 0
        jne 5f
        mov ecx, [ebx + P_KIND]
        push dword ptr [ebx + P_RFLAGS]
        cmp ecx, PROBE_WRITE
        je 3f
        cmp ecx, PROBE_FETCH
        je 4f
        cmp ecx, PROBE_SS_WRITE
        je 9f
        test ecx, PROBE_IMPLICIT
        jnz 7f
        popfd
        mov al, [edi]
        int3
7:      lea eax, [ebx + (win_sup32_iread - win_data)]
        lea edx, [eax + IMPL_WRITE_OFF]
        test ecx, PROBE_WRITE
        cmovnz eax, edx
        popfd
        jmp eax
3:      popfd
        mov byte ptr [edi], PROBE_WRITE_MARK
        int3
4:      popfd
        jmp edi
9:      mov ecx, 0x6a2           /* as in win_exec64 */
        mov eax, 3
        xor edx, edx
        wrmsr
        setssbsy
        mov eax, PROBE_WRITE_MARK
        popfd
        wrssd [edi], eax
        int3
5:      cmp dword ptr [ebx + P_KIND], PROBE_SS_WRITE
        jb 8f
        cmp dword ptr [ebx + P_KIND], PROBE_SS_READ /* (implicit kinds have PROBE_IMPLICIT, above) */
        ja 8f
        /* WRSS or RET at CPL 3 in 32-bit code: SSP below 4 GiB first (SETSSBSY on
         * the window's shadow-stack page, supervisor shadow stacks on only for
         * it). Bochs raises #GP(0) at the IRET when SSP still holds an earlier
         * IA-32e case's address above 4 GiB. */
        mov ecx, 0x6a2
        mov eax, 1
        xor edx, edx
        wrmsr
        setssbsy
        xor eax, eax
        wrmsr
8:      mov eax, [ebx + P_SS]    /* DS/ES of the target ring: IRET would null DPL-0 ones */
        mov ds, ax
        mov es, ax
        push dword ptr [ebx + P_SS]
        push dword ptr [ebx + P_USER_SP]
        push dword ptr [ebx + P_RFLAGS]
        push dword ptr [ebx + P_CS]
        push dword ptr [ebx + P_RIP]
        iretd

/* Exception stubs: 16 bytes each, vector v at win_h64 + 16 * v */
        .code64
        .balign 16
        .globl win_h64
win_h64:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .balign 16
        .if !HAS_EC(\v)
        push 0
        .endif
        push \v
        jmp win_h64_common
        .endr
        .balign 16
win_h64_common:
        mov [rip + win_data + R_RAX], rax
        pop rax
        mov [rip + win_data + R_VECTOR], eax
        pop rax
        mov [rip + win_data + R_EC], rax
        pop rax
        mov [rip + win_data + R_RIP], rax
        mov rax, cr2
        mov [rip + win_data + R_CR2], rax
        /* PKRU and IA32_PKRS back to 0: the next case's bridge and window use key 0 before they are set */
        test dword ptr [rip + win_data + P_FLAGS], F_PKRU
        jz 1f
        xor eax, eax
        xor ecx, ecx
        xor edx, edx
        wrpkru
1:      test dword ptr [rip + win_data + P_FLAGS], F_PKS
        jz 2f
        mov ecx, 0x6e1
        xor eax, eax
        xor edx, edx
        wrmsr
2:      test dword ptr [rip + win_data + P_FLAGS], F_SSS
        jz 3f
        mov ecx, 0x6a2           /* IA32_S_CET = 0 before the far return home */
        xor eax, eax
        xor edx, edx
        wrmsr
3:      mov rax, [rip + win_data + P_BRIDGE]
        mov cr3, rax
        mov rax, cr4
        and rax, ~(1 << 17)      /* PCIDE must be clear before CR0.PG is */
        mov cr4, rax
        movabs rax, offset go_home64
        jmp rax

        .code32
        .balign 16
        .globl win_h32
win_h32:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .balign 16
        .if !HAS_EC(\v)
        push 0
        .endif
        push \v
        jmp win_h32_common
        .endr
        .balign 16
win_h32_common:
        push eax
        mov ax, 0x10             /* IRET to an outer ring nulled DS and ES */
        mov ds, ax
        mov es, ax
        call 1f
1:      pop eax
        add eax, offset (win_data - 1b)
        pop dword ptr [eax + R_RAX]
        pop dword ptr [eax + R_VECTOR]
        pop dword ptr [eax + R_EC]
        pop dword ptr [eax + R_RIP]
        mov edx, cr2
        mov [eax + R_CR2], edx
        test dword ptr [eax + P_FLAGS], F_PKRU
        jz 1f
        mov ebx, eax
        xor eax, eax
        xor ecx, ecx
        xor edx, edx
        wrpkru
        mov eax, ebx
1:      test dword ptr [eax + P_FLAGS], F_SSS
        jz 2f
        mov ebx, eax
        mov ecx, 0x6a2           /* IA32_S_CET = 0 */
        xor eax, eax
        xor edx, edx
        wrmsr
        mov eax, ebx
2:      mov edx, [eax + P_BRIDGE]
        mov cr3, edx
        mov eax, offset go_home32
        jmp eax

        .balign 4096
/* page 1: user code (U = 1) */
        .globl win_user64_read, win_user64_write, win_user32_read, win_user32_write
        .code64
win_user64_read:
        mov al, [rdi]
        int3
win_user64_write:
        mov byte ptr [rdi], PROBE_WRITE_MARK
        int3
        .code32
win_user32_read:
        mov al, [edi]
        int3
win_user32_write:
        mov byte ptr [edi], PROBE_WRITE_MARK
        int3
/* User shadow-stack writes (SDM Vol. 1 17.x, WRSS at CPL 3; probe.c enables
 * IA32_U_CET.SH_STK_EN|WR_SHSTK_EN only for these cases). The value's low byte
 * is the write mark, the others zero: the landing area around the marker is
 * zero. Nothing between the IRET and the WRSS touches the shadow stack. */
        .globl win_user64_wrss, win_user32_wrss, win_user64_ssret, win_user32_ssret, win_user64_ssret_bp, win_user32_ssret_bp
        .code64
win_user64_wrss:
        mov eax, PROBE_WRITE_MARK
        wrssq [rdi], rax
        int3
        .code32
win_user32_wrss:
        mov eax, PROBE_WRITE_MARK
        wrssd [edi], eax
        int3
/* User shadow-stack reads (IA32_U_CET.SH_STK_EN, SSP = va from IA32_PL3_SSP at
 * the IRET): RET pops the return address from the data stack (on this page,
 * probe.c put _bp's address there) and from the shadow stack at va, and raises
 * #CP if they differ (SDM Vol. 2B RET). */
        .code64
win_user64_ssret:
        ret
win_user64_ssret_bp:
        int3
        .code32
win_user32_ssret:
        ret
win_user32_ssret_bp:
        int3
        .code64
win_user64_iread:
        IMPLICIT_STUBS
        .code32
win_user32_iread:
        IMPLICIT_STUBS

        .balign 4096
/* page 2: data */
        .globl win_data
win_data:
        .fill 4096, 1, 0
/* pages 3-4: stack */
        .globl win_stack, win_stack_top
win_stack:
        .fill 8192 - 16, 1, 0
win_stack_top:
        .fill 16, 1, 0
/* page 5: supervisor shadow stack (R/W = 0, D = 1 in the window's tables) */
        .globl win_sstack
win_sstack:
        .fill 4096, 1, 0
        .globl win_end
win_end:

/* ------------------------------------------------------------------------ */
        .text
        .code64
/* unsigned probe_run(void): runs the case prepared in win_data and tr_*. */
        .globl probe_run
probe_run:
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        mov [rip + home_rsp], rsp
        push 0x18
        lea rax, [rip + t32]
        push rax
        retfq

        .code32
t32:    mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax             /* paging off: legacy protected mode, identity */
        lidt [idt32_id_desc]
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov ecx, 0xc0000080
        mov eax, [tr_efer]
        mov edx, [tr_efer + 4]
        wrmsr
        mov eax, [tr_cr4]
        mov cr4, eax
        mov eax, [tr_bridge]
        mov cr3, eax
        mov eax, [tr_cr0]
        mov cr0, eax
        cmp dword ptr [tr_long], 0
        je 2f
        lidt [idt64_id_desc]
        ljmp 0x08, offset t64
2:      mov eax, [tr_entry]
        jmp eax

        .code64
t64:    mov rax, [rip + tr_entry]
        jmp rax

/* unsigned probe_vmlaunch(u64 va, u64 *rax_out, u64 pkru): VMLAUNCH with
 * RDI = va and RAX = 0 (L2's code reads or writes [rdi]). Returns
 * PROBE_LAUNCH_*; on a VM exit *rax_out is L2's RAX (the byte a read got).
 * HOST_RSP/HOST_RIP are written here because only here are they known.
 * pkru bit 32 set: load PKRU = pkru bits 31:0 for L2 (VMX does not switch
 * PKRU) only after the last write to L1's stack, and clear it before the
 * next one on a failed launch (the host CR4 has no PKE, so after an exit
 * L1's accesses are not checked against it). */
        .globl probe_vmlaunch
probe_vmlaunch:
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        push rsi
        mov r12, rdx
        mov rax, 0x6c14          /* HOST_RSP */
        vmwrite rax, rsp
        lea rdx, [rip + vmx_exit]
        mov rax, 0x6c16          /* HOST_RIP */
        vmwrite rax, rdx
        bt r12, 32
        jnc 3f
        mov eax, r12d
        xor ecx, ecx
        xor edx, edx
        wrpkru
3:      xor eax, eax
        vmlaunch
        mov ebx, PROBE_LAUNCH_FAIL_VALID
        jnc 1f
        mov ebx, PROBE_LAUNCH_FAIL_INVALID
1:      bt r12, 32
        jnc 4f
        xor eax, eax
        xor ecx, ecx
        xor edx, edx
        wrpkru
4:      mov eax, ebx
        pop rsi
        jmp 2f
vmx_exit:
        pop rsi
        mov [rsi], rax
        xor eax, eax
2:      pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        ret

/* From a 64-bit handler (bridge tables, identity): to compatibility mode */
        .globl go_home64
go_home64:
        mov ax, 0x10             /* DS/ES/SS may be null (ring change): valid ones before compatibility mode */
        mov ds, ax
        mov es, ax
        mov ss, ax
        push 0x18
        lea rax, [rip + go_home32]
        push rax
        retfq

        .code32
        .globl go_home32
go_home32:
        mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax
        lgdt [home_gdt_desc]
        lidt [idt32_id_desc]
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov eax, 0x620           /* PAE OSFXSR OSXMMEXCPT */
        mov cr4, eax
        mov ecx, 0xc0000080
        mov eax, [home_efer]
        xor edx, edx
        wrmsr
        mov eax, PROBE_HOME_PML4
        mov cr3, eax
        mov eax, 0x80010033      /* PG WP NE ET MP PE */
        mov cr0, eax
        ljmp 0x08, offset home64_ret

        .code64
home64_ret:
        lidt [rip + idt64_home_desc]
        mov ax, 0x10
        mov fs, ax               /* an implicit write case left an LDT selector in FS */
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, [rip + home_rsp]
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        xor eax, eax
        ret

/* Identity setup-stage handlers: 32-bit (paging off or 32-bit/PAE bridge) and
 * 64-bit (bridge tables). They record the exception like the window ones. */
        .code32
        .balign 16
        .globl id_h32
id_h32:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .balign 16
        .if !HAS_EC(\v)
        push 0
        .endif
        push \v
        jmp id_h32_common
        .endr
        .balign 16
id_h32_common:
        pop dword ptr [win_data + R_VECTOR]
        pop dword ptr [win_data + R_EC]
        pop dword ptr [win_data + R_RIP]
        jmp go_home32

        .code64
        .balign 16
        .globl id_h64
id_h64:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .balign 16
        .if !HAS_EC(\v)
        push 0
        .endif
        push \v
        jmp id_h64_common
        .endr
        .balign 16
id_h64_common:
        cmp byte ptr [rip + in_run], 0
        je home_fault
        pop rax
        mov [rip + win_data + R_VECTOR], eax
        pop rax
        mov [rip + win_data + R_EC], rax
        pop rax
        mov [rip + win_data + R_RIP], rax
        jmp go_home64
home_fault:
        pop rdi                  /* vector */
        pop rsi                  /* error code */
        pop rdx                  /* rip */
        mov rsp, PROBE_HOME_STACK_TOP
        call probe_home_fault
3:      cli
        hlt
        jmp 3b

        .data
        .balign 8
        .globl home_rsp, tr_efer, tr_cr4, tr_cr0, tr_bridge, tr_entry, tr_long, tr_pks, tr_pkrs, home_efer, in_run
home_rsp: .quad 0
tr_efer: .quad 0
tr_cr4: .quad 0
tr_cr0: .quad 0
tr_bridge: .quad 0
tr_entry: .quad 0
tr_long: .long 0
tr_pks: .long 0
tr_pkrs: .long 0
home_efer: .long 0x100
in_run: .byte 0
        .balign 8
        .globl idt32_id_desc, idt64_id_desc, idt64_home_desc, idt32_id, idt64_id
idt32_id_desc: .word 32 * 8 - 1
        .quad idt32_id
        .balign 8
idt64_id_desc: .word 32 * 16 - 1
        .quad idt64_id
        .balign 8
idt64_home_desc: .word 32 * 16 - 1
        .quad idt64_id
        .balign 16
idt32_id: .fill 32 * 8, 1, 0
        .balign 16
idt64_id: .fill 32 * 16, 1, 0

        .section .note.GNU-stack, "", @progbits
