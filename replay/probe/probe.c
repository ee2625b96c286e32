/* The probe's C part (replay/probe/README.md): reads a batch from the second
 * ATA disk, and for each case writes its (relocated) entries, inserts the
 * window, runs it through exec.S, reads back the entries the walk used,
 * cleans up, and reports one framed record on port 0xE9. Freestanding: no
 * libc, identity-mapped long mode ("home"). */
#include "probe_abi.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

/* exec.S */
extern u8 win_base[], win_data[], win_stack_top[], win_end[];
extern u8 win_exec64[], win_exec32[], win_h64[], win_h32[], id_h64[], id_h32[];
extern u8 win_sup64_read[], win_sup64_write[], win_sup32_read[], win_sup32_write[];
extern u8 win_user64_read[], win_user64_write[], win_user32_read[], win_user32_write[];
extern u8 win_user64_wrss[], win_user32_wrss[], win_user64_ssret[], win_user32_ssret[];
extern u8 win_user64_ssret_bp[], win_user32_ssret_bp[];
extern u8 win_sup64_iread[], win_sup32_iread[], win_user64_iread[], win_user32_iread[];
extern u8 idt32_id[], idt64_id[];
extern u64 tr_efer, tr_cr4, tr_cr0, tr_bridge, tr_entry;
extern u32 tr_long, home_efer;
extern u8 in_run;
unsigned probe_run(void);
unsigned probe_vmlaunch(u64 va, u64 *rax_out, u64 pkru);

/* data page offsets: exec.S */
#define D_GDT 0x000
#define D_GDTDESC 0x0b0 /* after the GDT and its LDT descriptor at 0x80 */
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

#define W64(off) (*(volatile u64 *)(win_data + (off)))
#define W32(off) (*(volatile u32 *)(win_data + (off)))

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void outsb(u16 port, const void *p, u64 n) {
  __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(port) : "memory");
}
static inline void insw(u16 port, void *p, u64 n) {
  __asm__ volatile("rep insw" : "+D"(p), "+c"(n) : "d"(port) : "memory");
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static void *mset(void *d, int c, u64 n) {
  u8 *p = d;
  if (c == 0 && !((u64)p & 7) && !(n & 7)) {
    u64 q = n / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(q) : "a"(0ull) : "memory");
    return d;
  }
  while (n--) *p++ = (u8)c;
  return d;
}
void *memset(void *d, int c, u64 n) { return mset(d, c, n); }
void *memcpy(void *d, const void *s, u64 n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

/* ---- CRC-32 (IEEE), frames on port 0xE9 ---- */
static u32 crc_table[256];
static void crc_init(void) {
  for (u32 i = 0; i < 256; ++i) {
    u32 c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static u32 crc32(const void *data, u64 n) {
  const u8 *p = data;
  u32 c = 0xffffffffu;
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static void frame(u8 type, const void *payload, u8 len) {
  u8 buf[4 + 255 + 4];
  buf[0] = 0xa5;
  buf[1] = 0x5a;
  buf[2] = type;
  buf[3] = len;
  memcpy(buf + 4, payload, len);
  u32 c = crc32(buf + 2, 2u + len);
  memcpy(buf + 4 + len, &c, 4);
  outsb(0xe9, buf, 8u + len);
}

static u64 slen(const char *s) {
  u64 n = 0;
  while (s[n]) ++n;
  return n;
}

/* 'X': the record with sequence number `seq` was not run, and why. */
static void reject(u32 seq, const char *why) {
  u8 buf[200];
  memcpy(buf, &seq, 4);
  u64 n = slen(why);
  if (n > sizeof buf - 4) n = sizeof buf - 4;
  memcpy(buf + 4, why, n);
  frame('X', buf, (u8)(4 + n));
}

static void finish(u32 ran, u32 status) {
  u32 p[2] = {ran, status};
  frame('E', p, 8);
  outb(0xf4, 0x10); /* QEMU isa-debug-exit: exit status (0x10 << 1) | 1 = 33 */
  outsb(0x8900, "Shutdown", 8); /* Bochs */
  for (;;) __asm__ volatile("cli; hlt");
}

void probe_home_fault(u64 vector, u64 ec, u64 rip) {
  u64 p[3] = {vector, ec, rip};
  frame('F', p, sizeof p);
  finish(0, 3);
}

/* ---- ATA PIO, primary channel, slave (the second disk) ---- */
#define ATA_TIMEOUT 50000000u
static int ata_wait(u8 want_drq) {
  for (u32 i = 0; i < ATA_TIMEOUT; ++i) {
    u8 s = inb(0x1f7);
    if (s & 0x80) continue;          /* BSY */
    if (s & 0x21) return -1;         /* ERR, DF */
    if (!want_drq || (s & 0x08)) return 0;
  }
  return -2;
}

static int ata_read(u32 lba, u32 count, void *dst) {
  u8 *p = dst;
  while (count) {
    u32 n = count > 256 ? 256 : count;
    if (ata_wait(0)) return -1;
    outb(0x1f6, (u8)(0xf0 | ((lba >> 24) & 0x0f)));
    outb(0x1f2, (u8)(n & 0xff));
    outb(0x1f3, (u8)lba);
    outb(0x1f4, (u8)(lba >> 8));
    outb(0x1f5, (u8)(lba >> 16));
    outb(0x1f7, 0x20);
    for (u32 i = 0; i < n; ++i) {
      int r = ata_wait(1);
      if (r) return r;
      insw(0x1f0, p, 256);
      p += 512;
    }
    lba += n;
    count -= n;
  }
  return 0;
}

/* ---- tables ---- */
#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull

static void set_gate64(u8 *idt, unsigned v, u64 handler, unsigned dpl) {
  u8 *g = idt + 16 * v;
  u64 lo = (handler & 0xffff) | (0x08ull << 16) | ((u64)(0x8e | (dpl << 5)) << 40) | ((handler >> 16) & 0xffff) << 48;
  u64 hi = handler >> 32;
  memcpy(g, &lo, 8);
  memcpy(g + 8, &hi, 8);
}
static void set_gate32(u8 *idt, unsigned v, u32 handler, unsigned dpl) {
  u8 *g = idt + 8 * v;
  u64 lo = (handler & 0xffff) | (0x18ull << 16) | ((u64)(0x8e | (dpl << 5)) << 40) | ((u64)(handler >> 16) & 0xffff) << 48;
  memcpy(g, &lo, 8);
}

static u64 seg(unsigned type_dpl, int l) {
  /* flat 4 GiB; type_dpl is the access byte */
  return 0xffffull | (0xfull << 48) | ((u64)type_dpl << 40) | ((u64)(l ? 0xa : 0xc) << 52);
}
static u64 tss_lo(u64 base) {
  return 0x67ull | ((base & 0xffffff) << 16) | (0x89ull << 40) | ((base >> 24) & 0xff) << 56;
}

static u64 window_w = ~0ull; /* the window's linear address the data page is prepared for */
static unsigned window_mode;

static void prepare_window(u64 w, unsigned mode) {
  /* LTR marked the TSS descriptors busy: make them available again */
  win_data[D_GDT + 0x68 + 5] &= (u8)~0x02;
  win_data[D_GDT + 0x78 + 5] &= (u8)~0x02;
  if (w == window_w && mode == window_mode) return;
  window_w = w;
  window_mode = mode;
  const u64 delta = w - (u64)win_base;
  u8 *gdt = win_data + D_GDT;
  u64 d[16] = {0};
  d[1] = seg(0x9b, 1);          /* 0x08 code64 DPL0 */
  d[2] = seg(0x93, 0);          /* 0x10 data DPL0 */
  d[3] = seg(0x9b, 0);          /* 0x18 code32 DPL0 */
  for (unsigned r = 1; r <= 3; ++r) {
    d[4 + 3 * (r - 1)] = seg(0x9b | (r << 5), 0); /* code32 DPLr */
    d[5 + 3 * (r - 1)] = seg(0x93 | (r << 5), 0); /* data DPLr */
    d[6 + 3 * (r - 1)] = seg(0x9b | (r << 5), 1); /* code64 DPLr */
  }
  const u64 tss64 = w + 0x2000 + D_TSS64, tss32 = w + 0x2000 + D_TSS32;
  d[13] = tss_lo(tss64);        /* 0x68 */
  d[14] = tss64 >> 32;
  d[15] = tss_lo(tss32);        /* 0x78 */
  memcpy(gdt, d, sizeof d);
  const u64 gdt_lin = w + 0x2000 + D_GDT;
  u16 lim = PROBE_SEL_LDT + 16 - 1; /* the LDT descriptor (16 bytes in IA-32e mode) is written per case */
  memcpy(win_data + D_GDTDESC, &lim, 2);
  memcpy(win_data + D_GDTDESC + 2, &gdt_lin, 8);
  lim = 32 * 16 - 1;
  u64 idt = w + 0x2000 + D_IDT64;
  memcpy(win_data + D_IDTDESC64, &lim, 2);
  memcpy(win_data + D_IDTDESC64 + 2, &idt, 8);
  lim = 32 * 8 - 1;
  idt = w + 0x2000 + D_IDT32;
  memcpy(win_data + D_IDTDESC32, &lim, 2);
  memcpy(win_data + D_IDTDESC32 + 2, &idt, 8);
  const u64 stack = (u64)win_stack_top + delta;
  mset(win_data + D_TSS64, 0, 0x68);
  memcpy(win_data + D_TSS64 + 4, &stack, 8);
  u16 iopb = 0x68;
  memcpy(win_data + D_TSS64 + 0x66, &iopb, 2);
  mset(win_data + D_TSS32, 0, 0x68);
  u32 esp0 = (u32)stack, ss0 = 0x10;
  memcpy(win_data + D_TSS32 + 4, &esp0, 4);
  memcpy(win_data + D_TSS32 + 8, &ss0, 4);
  memcpy(win_data + D_TSS32 + 0x66, &iopb, 2);
  for (unsigned v = 0; v < 32; ++v) {
    set_gate64(win_data + D_IDT64, v, (u64)win_h64 + 16 * v + delta, v == 3 ? 3 : 0);
    set_gate32(win_data + D_IDT32, v, (u32)((u64)win_h32 + 16 * v + delta), v == 3 ? 3 : 0);
  }
  W64(P_STACK) = stack;
}

/* The window's own tables; the leaves carry the protection key of the case. */
static void window_tables(unsigned key) {
  static int built = 0;
  static unsigned cur_key = ~0u;
  if (!built) {
    mset((void *)(u64)PROBE_WIN_PT, 0, 5 * 4096);
    const u64 up = PTE_P | PTE_RW | PTE_US | PTE_A;
    ((u64 *)(u64)PROBE_WIN_PD)[0] = PROBE_WIN_PT | up;
    ((u64 *)(u64)PROBE_WIN_PDPT)[0] = PROBE_WIN_PD | up;
    ((u64 *)(u64)PROBE_WIN_PML4)[0] = PROBE_WIN_PDPT | up;
    u32 *pt32 = (u32 *)(u64)PROBE_WIN_PT32;
    for (unsigned i = 0; i < PROBE_WINDOW_PAGES; ++i) {
      u32 f = (u32)((u64)win_base + 0x1000 * i) | PTE_P | PTE_RW | PTE_A | PTE_D | (i == 1 ? PTE_US : 0);
      if (i == 5) f &= ~PTE_RW; /* the supervisor shadow-stack page: R/W = 0, D = 1 (SDM 4.6.1) */
      pt32[i] = f;
    }
    built = 1;
  }
  if (key == cur_key) return;
  cur_key = key;
  u64 *pt = (u64 *)(u64)PROBE_WIN_PT;
  for (unsigned i = 0; i < PROBE_WINDOW_PAGES; ++i)
    pt[i] = (((u64)win_base + 0x1000 * i) | PTE_P | PTE_RW | PTE_A | PTE_D | (i == 1 ? PTE_US : 0) |
             (i == 1 ? 0 : (u64)key << 59)) & ~(i == 5 ? (u64)PTE_RW : 0);
}

static void bridge_tables(void) {
  u32 *pd32 = (u32 *)(u64)PROBE_BRIDGE32_PD;
  mset(pd32, 0, 4096 * 17);
  for (unsigned t = 0; t < 16; ++t) {
    u32 *pt = (u32 *)(u64)(PROBE_BRIDGE32_PT + 0x1000 * t);
    pd32[t] = (PROBE_BRIDGE32_PT + 0x1000 * t) | 0x23;
    for (unsigned i = 0; i < 1024; ++i) pt[i] = ((t * 1024 + i) << 12) | 0x63;
  }
  mset((void *)(u64)PROBE_BRIDGE_PAE_PDPT, 0, 5 * 4096);
  u64 *pd = (u64 *)(u64)PROBE_BRIDGE_PD;
  for (unsigned i = 0; i < 512; ++i) pd[i] = ((u64)i << 21) | 0xe3;
  ((u64 *)(u64)PROBE_BRIDGE_PAE_PDPT)[0] = PROBE_BRIDGE_PD | 1;
  ((u64 *)(u64)PROBE_BRIDGE_PDPT)[0] = PROBE_BRIDGE_PD | 0x23;
  ((u64 *)(u64)PROBE_BRIDGE_PML4)[0] = PROBE_BRIDGE_PDPT | 0x23;
  ((u64 *)(u64)PROBE_BRIDGE_PML5)[0] = PROBE_BRIDGE_PML4 | 0x23;
}

static void identity_idts(void) {
  for (unsigned v = 0; v < 32; ++v) {
    set_gate64(idt64_id, v, (u64)id_h64 + 16 * v, 0);
    set_gate32(idt32_id, v, (u32)((u64)id_h32 + 16 * v), 0);
  }
}

/* ---- one case ---- */
static const u64 win_shift[5] = {0, PROBE_WIN_SHIFT_32, PROBE_WIN_SHIFT_PAE, PROBE_WIN_SHIFT_L4, PROBE_WIN_SHIFT_L5};
static const u64 bridge_top[5] = {0, PROBE_BRIDGE32_PD, PROBE_BRIDGE_PAE_PDPT, PROBE_BRIDGE_PML4, PROBE_BRIDGE_PML5};
static const u32 top_entries[5] = {0, 1024, 4, 512, 512};

static int in_ram(u64 a, u64 n) {
  return a >= PROBE_POOL_BASE && a + n <= PROBE_POOL_BASE + PROBE_POOL_PAGES * 4096ull;
}

static u64 rd(u64 addr, unsigned w) { return w == 4 ? *(volatile u32 *)addr : *(volatile u64 *)addr; }
static void wr(u64 addr, unsigned w, u64 v) {
  if (w == 4) *(volatile u32 *)addr = (u32)v;
  else *(volatile u64 *)addr = v;
}

static u32 has_pks, has_pku, has_shstk;

/* Returns 0 when the case ran (result filled), else the reason it did not. */
static const char *run_case(const struct probe_case *c, struct probe_result *res) {
  if (c->kind != PROBE_SELFTEST_CRASH && c->kind != PROBE_SELFTEST_HANG &&
      (c->mode < PROBE_MODE_32 || c->mode > PROBE_MODE_L5))
    return "bad mode";
  if (c->kind == PROBE_SELFTEST_CRASH) { /* a triple fault: no IDT, then an exception */
    static const struct __attribute__((packed)) { u16 lim; u64 base; } none = {0, 0};
    __asm__ volatile("lidt %0; int3" ::"m"(none));
  }
  if (c->kind == PROBE_SELFTEST_HANG)
    for (;;) __asm__ volatile("cli; hlt");
  const int implicit = (c->kind & PROBE_IMPLICIT) != 0;
  const unsigned kind = c->kind & ~PROBE_IMPLICIT;
  if (kind > (implicit ? PROBE_WRITE : PROBE_SS_READ) || c->cpl > 3 || c->pk_key > 15) return "bad kind, cpl or key";
  const int sstk = c->kind == PROBE_SS_WRITE || c->kind == PROBE_SS_READ;
  const int ssread = c->kind == PROBE_SS_READ;
  if (ssread && c->cpl != 3) return "shadow-stack reads are run at CPL 3 only";
  if (ssread && c->mode >= PROBE_MODE_L4 &&
      (u64)((long long)(c->va << (c->mode == PROBE_MODE_L5 ? 7 : 16)) >> (c->mode == PROBE_MODE_L5 ? 7 : 16)) != c->va)
    return "non-canonical SSP";
  if (sstk && (!has_shstk || !(c->cr4 & (1u << 23)))) return "shadow-stack write without CET shadow stacks (CPUID, CR4.CET)";
  if (sstk && c->cpl != 3 && c->cpl != 0) return "shadow-stack writes are run at CPL 0 and 3 only";
  if (sstk && (c->va & (c->mode >= PROBE_MODE_L4 ? 7 : 3))) return "WRSS needs an aligned address";
  if (c->nreadback > PROBE_MAX_READBACK) return "too many readback entries";
  if (c->slot == 0 || c->slot >= top_entries[c->mode]) return "bad window slot";
  if ((c->mode == PROBE_MODE_L4 || c->mode == PROBE_MODE_L5) && c->slot >= 256) return "bad window slot";
  const unsigned w = c->mode == PROBE_MODE_32 ? 4 : 8;
  const struct probe_entry *e = (const struct probe_entry *)(c + 1);
  const u64 *rb = (const u64 *)(e + c->nentries);
  const u64 top = c->mode == PROBE_MODE_PAE ? (c->cr3 & 0xffffffe0ull) : (c->cr3 & 0x000ffffffffff000ull);
  const u64 slot_addr = top + (u64)w * c->slot;
  if (!in_ram(top, 4096 - (top & 0xfff)) || !in_ram(slot_addr, w)) return "CR3 outside the pool";
  for (unsigned i = 0; i < c->nentries; ++i) {
    if (!in_ram(e[i].addr, w) || (e[i].addr & (w - 1))) return "entry outside the pool";
    if (e[i].addr == slot_addr) return "entry collides with the window slot";
  }
  for (unsigned i = 0; i < c->nreadback; ++i)
    if (!in_ram(rb[i], w)) return "readback outside the pool";
  if (c->marker) {
    const int ok = (c->marker >= PROBE_LANDING_4K && c->marker < PROBE_LANDING_4K + 4096) ||
                   (c->marker >= PROBE_LANDING_2M && c->marker < PROBE_LANDING_4M + (4u << 20)) ||
                   (c->marker >= PROBE_FREE_1G_LO && c->marker < PROBE_FREE_1G_HI) ||
                   (c->marker >= PROBE_LANDING_1G && c->marker < 2ull * PROBE_LANDING_1G);
    if (!ok) return "marker outside the landing areas";
    if (implicit && ((c->marker ^ (c->marker + 7)) >> 12)) return "implicit: the descriptor crosses a page";
  }
  if ((c->cr4 & (1u << 24)) && !has_pks) return "CR4.PKS but the CPU has no PKS";
  if ((c->cr4 & (1u << 22)) && !has_pku) return "CR4.PKE but the CPU has no PKU";

  /* the case's entries, the window slot, the marker */
  for (unsigned i = 0; i < c->nentries; ++i) wr(e[i].addr, w, e[i].value);
  u64 win_entry;
  switch (c->mode) {
    case PROBE_MODE_32: win_entry = PROBE_WIN_PT32 | 0x27; break;
    case PROBE_MODE_PAE: win_entry = PROBE_WIN_PD | 1; break;
    case PROBE_MODE_L4: win_entry = PROBE_WIN_PDPT | 0x27; break;
    default: win_entry = PROBE_WIN_PML4 | 0x27; break;
  }
  wr(slot_addr, w, win_entry);
  const u64 bslot = bridge_top[c->mode] + (u64)w * c->slot;
  wr(bslot, w, win_entry);
  if (implicit && c->marker) /* the descriptor LAR reads / MOV FS loads (unaligned: the case's va) */
    *(volatile u64 *)c->marker = kind == PROBE_WRITE ? PROBE_LDT_DESC_WRITE : PROBE_LDT_DESC_READ;
  else if (c->marker)
    *(volatile u8 *)c->marker = PROBE_MARKER;
  window_tables(c->mode >= PROBE_MODE_L4 ? c->pk_key : 0);

  const u64 W = (u64)c->slot << win_shift[c->mode];
  const u64 delta = W - (u64)win_base;
  const int lm = c->mode >= PROBE_MODE_L4;
  prepare_window(W, lm ? 64 : 32);
  { /* the LDT descriptor: base = va, limit 7 (one descriptor), type 2, present (3A 3.5, 7.2.3 in IA-32e mode) */
    const u64 b = c->va;
    const u64 lo = 7 | (b & 0xffffff) << 16 | 0x82ull << 40 | ((b >> 24) & 0xff) << 56;
    const u64 hi = lm ? b >> 32 : 0;
    memcpy(win_data + D_GDT + PROBE_SEL_LDT, &lo, 8);
    memcpy(win_data + D_GDT + PROBE_SEL_LDT + 8, &hi, 8);
  }
  W64(P_VA) = c->va;
  W64(P_CASE_CR3) = c->cr3 & ~(1ull << 63);
  W64(P_BRIDGE) = bridge_top[c->mode];
  W64(P_RFLAGS) = c->rflags;
  W32(P_CPL) = c->cpl;
  W32(P_KIND) = c->kind;
  W32(P_PKRU) = c->pkru;
  W32(P_FLAGS) = ((c->cr4 & (1u << 22)) ? 1 : 0) | ((c->cr4 & (1u << 17)) ? 2 : 0) |
                 ((lm && (c->cr4 & (1u << 24))) ? 4 : 0) | ((sstk && c->cpl == 0) ? 8 : 0);
  W32(P_PKRS) = c->pkrs;
  W64(P_CR4) = c->cr4;
  static const u32 cs32[4] = {0x18, 0x21, 0x3a, 0x53}, cs64[4] = {0x08, 0x31, 0x4a, 0x63}, ss[4] = {0x10, 0x29, 0x42, 0x5b};
  W64(P_CS) = lm ? cs64[c->cpl] : cs32[c->cpl];
  W64(P_SS) = ss[c->cpl];
  u64 rip;
  if (c->kind == PROBE_FETCH) rip = c->va;
  else if (ssread)
    rip = (u64)(lm ? win_user64_ssret : win_user32_ssret) + delta;
  else if (sstk)
    rip = (u64)(lm ? win_user64_wrss : win_user32_wrss) + delta;
  else if (implicit) /* the MOV FS stub follows the LAR one; CPL 0 picks it in exec.S */
    rip = (u64)(c->cpl == 3 ? (lm ? win_user64_iread : win_user32_iread) : (lm ? win_sup64_iread : win_sup32_iread)) +
          delta + (kind == PROBE_WRITE ? 14 : 0);
  else if (c->cpl == 3)
    rip = (u64)(lm ? (c->kind == PROBE_WRITE ? win_user64_write : win_user64_read)
                   : (c->kind == PROBE_WRITE ? win_user32_write : win_user32_read)) + delta;
  else
    rip = (u64)(lm ? (c->kind == PROBE_WRITE ? win_sup64_write : win_sup64_read)
                   : (c->kind == PROBE_WRITE ? win_sup32_write : win_sup32_read)) + delta;
  W64(P_RIP) = rip;
  W64(P_USER_SP) = (u64)win_stack_top + delta - 64;
  const u64 ss_target = (u64)(lm ? win_user64_ssret_bp : win_user32_ssret_bp) + delta;
  if (ssread) { /* the RET's data stack: the user page's last slots; the landing spot holds the same address */
    W64(P_USER_SP) = W + 0x1ff0;
    *(volatile u64 *)((u64)win_base + 0x1ff0) = ss_target;
    if (c->marker) wr(c->marker, lm ? 8 : 4, ss_target);
  }
  W32(R_STAGE) = PROBE_STAGE_SETUP;
  W32(R_VECTOR) = 0xff;
  W64(R_EC) = 0;
  W64(R_CR2) = 0;
  W64(R_RIP) = 0;
  W64(R_RAX) = 0;

  tr_efer = c->efer;
  tr_cr4 = c->cr4 & ~(1ull << 17);
  tr_cr0 = c->cr0;
  tr_bridge = bridge_top[c->mode];
  tr_entry = (u64)(lm ? win_exec64 : win_exec32) + delta;
  tr_long = lm;
  if (has_pks) { /* IA32_PKRS = 0 before the bridge tables (key 0) are used */
    __asm__ volatile("wrmsr" ::"c"(0x6e1u), "a"(0u), "d"(0u));
  }
  /* WRSS at CPL 3 needs IA32_U_CET.SH_STK_EN and WR_SHSTK_EN (bits 0, 1).
   * Supervisor shadow stacks stay off (IA32_S_CET = 0), so the IRET to CPL 3
   * only loads SSP from IA32_PL3_SSP and the exception back only saves it:
   * neither touches memory (SDM Vol. 1 18.2, Vol. 3A 6.14). */
  if (sstk && (c->cpl == 0 || !lm)) {
    /* WRSS at CPL 0 (and before a 32-bit IRET to one at CPL 3, exec.S):
     * SETSSBSY makes SSP the top slot of the window's
     * shadow-stack page, checking and marking its supervisor token there (the
     * token is that slot's linear address, busy bit 0: SDM Vol. 1 18.2.3). */
    const u64 token = W + 0x5000 + 0xff8;
    *(volatile u64 *)((u64)win_base + 0x5000 + 0xff8) = token;
    __asm__ volatile("wrmsr" ::"c"(0x6a4u), "a"((u32)token), "d"((u32)(token >> 32))); /* IA32_PL0_SSP */
  }
  if (sstk && c->cpl == 3) { /* a read: SSP = va, shadow stacks on (no WRSS) */
    const u64 ssp = ssread ? c->va : 0;
    __asm__ volatile("wrmsr" ::"c"(0x6a7u), "a"((u32)ssp), "d"((u32)(ssp >> 32))); /* IA32_PL3_SSP */
    __asm__ volatile("wrmsr" ::"c"(0x6a0u), "a"(ssread ? 1u : 3u), "d"(0u)); /* IA32_U_CET */
  }
  in_run = 1;
  probe_run();
  in_run = 0;
  if (sstk) { /* both off again (the handler already cleared IA32_S_CET) */
    __asm__ volatile("wrmsr" ::"c"(0x6a0u), "a"(0u), "d"(0u));
    __asm__ volatile("wrmsr" ::"c"(0x6a2u), "a"(0u), "d"(0u));
  }

  res->seq = c->seq;
  res->stage = (u8)W32(R_STAGE);
  res->vector = (u8)W32(R_VECTOR);
  /* a read reports the byte it read; a write, what the landing spot holds now */
  if (ssread) res->al = (W32(R_VECTOR) == 3 && W64(R_RIP) == ss_target + 1) ? PROBE_MARKER : 0;
  else res->al = (c->kind == PROBE_WRITE || sstk) ? (c->marker ? *(volatile u8 *)c->marker : 0) : (u8)W64(R_RAX);
  /* an implicit write: the descriptor's access byte now (A set or not) */
  if (implicit && kind == PROBE_WRITE) res->al = c->marker ? *(volatile u8 *)(c->marker + 5) : 0;
  res->error_code = (u32)W64(R_EC);
  res->cr2 = W64(R_CR2);
  u64 r = W64(R_RIP);
  /* the probe's own code is reported relative to the window */
  if (r >= W && r < W + (u64)(win_end - win_base)) {
    r -= W;
    res->flags |= PROBE_RIP_IN_WINDOW;
  }
  res->rip = r;
  res->nreadback = (u8)c->nreadback;
  for (unsigned i = 0; i < c->nreadback; ++i) {
    u64 before = 0;
    for (unsigned k = 0; k < c->nentries; ++k)
      if (e[k].addr == rb[i]) before = e[k].value;
    const u64 x = rd(rb[i], w) ^ before;
    res->changed[i] = (u16)((x & 0xfff) | ((x >> 12) ? 0x8000 : 0));
  }
  /* clean up for the next case */
  for (unsigned i = 0; i < c->nentries; ++i) wr(e[i].addr, w, 0);
  wr(slot_addr, w, 0);
  wr(bslot, w, 0);
  if (implicit && c->marker) *(volatile u64 *)c->marker = 0;
  else if (c->marker) *(volatile u8 *)c->marker = 0;
  if (c->marker && sstk) wr(c->marker, lm ? 8 : 4, 0); /* the rest of the WRSS's aligned operand */
  return 0;
}


/* ---- VMX: the probe as L1 (docs/hardware.md, "EPT and nested cases") ---- */
static inline u64 rdmsr(u32 msr) {
  u32 lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32))); }
static inline u64 rdcr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 rdcr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 rdcr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void wrcr0(u64 v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void wrcr4(u64 v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

static u32 vmx_fail; /* a VMWRITE/VMREAD failed (a field this CPU lacks) */
static void vmw(u64 field, u64 v) {
  u8 bad;
  __asm__ volatile("vmwrite %1, %2; setna %0" : "=q"(bad) : "rm"(v), "r"(field) : "cc", "memory");
  vmx_fail |= bad;
}
static u64 vmr(u64 field) {
  u64 v = 0;
  u8 bad;
  __asm__ volatile("vmread %2, %0; setna %1" : "=rm"(v), "=q"(bad) : "r"(field) : "cc", "memory");
  vmx_fail |= bad;
  return v;
}

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define VMXON_REGION 0x118000u
#define VMCS_REGION 0x119000u

static int vmx_state; /* 0 unknown, 1 usable, -1 not */
static const char *vmx_why;
static u64 vmx_basic, ept_cap, ctl_pin, ctl_proc, ctl_proc2, ctl_exit, ctl_entry;
static u32 cpu_caps; /* PROBE_CAP_* this CPU has */

/* VMX is usable, and what it offers: once per boot. */
static const char *vmx_probe(void) {
  if (vmx_state) return vmx_state > 0 ? 0 : vmx_why;
  vmx_state = -1;
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (!(c & (1u << 5))) return vmx_why = "the CPU has no VMX (CPUID.1:ECX.VMX = 0)";
  u64 fc = rdmsr(MSR_FEATURE_CONTROL);
  if (!(fc & 1)) {
    fc |= 5; /* lock, VMXON outside SMX */
    wrmsr(MSR_FEATURE_CONTROL, fc);
    fc = rdmsr(MSR_FEATURE_CONTROL);
  }
  if (!(fc & 4)) return vmx_why = "IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled";
  vmx_basic = rdmsr(MSR_VMX_BASIC);
  /* bit 55: the TRUE_* control MSRs report the real allowed-0 settings */
  const int tru = (vmx_basic >> 55) & 1;
  ctl_pin = rdmsr(tru ? 0x48d : 0x481);
  ctl_proc = rdmsr(tru ? 0x48e : 0x482);
  ctl_exit = rdmsr(tru ? 0x48f : 0x483);
  ctl_entry = rdmsr(tru ? 0x490 : 0x484);
  if (!((ctl_proc >> 32) & (1ull << 31))) return vmx_why = "no secondary processor-based controls";
  ctl_proc2 = rdmsr(0x48b);
  if (!((ctl_proc2 >> 32) & 2)) return vmx_why = "the CPU has no EPT (secondary control 'enable EPT' cannot be set)";
  ept_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
  cpu_caps = ((ept_cap & 1) ? PROBE_CAP_EXEC_ONLY : 0) | ((ept_cap & (1ull << 7)) ? PROBE_CAP_5LEVEL : 0) |
             ((ept_cap & (1ull << 16)) ? PROBE_CAP_2M : 0) | ((ept_cap & (1ull << 17)) ? PROBE_CAP_1G : 0) |
             ((ept_cap & (1ull << 21)) ? PROBE_CAP_AD : 0) | ((ept_cap & (1ull << 22)) ? PROBE_CAP_ADVINFO : 0) |
             (((ctl_proc2 >> 32) & (1ull << 22)) ? PROBE_CAP_MBEC : 0);
  if (!(ept_cap & (1ull << 20)) || !(ept_cap & (1ull << 26)))
    return vmx_why = "no INVEPT all-context: stale EPT translations could leak between cases";
  vmx_state = 1;
  return 0;
}

static const char *const cap_names[7] = {"execute-only EPT", "5-level EPT", "2-MByte EPT pages", "1-GByte EPT pages",
                                         "EPT accessed/dirty flags", "advanced VM-exit information for EPT violations",
                                         "mode-based execute control (MBEC)"};
static char cap_msg[120];
static const char *cap_mismatch(u32 need, u32 forbid) {
  for (unsigned i = 0; i < 7; ++i) {
    const u32 bit = 1u << i;
    const char *pre = 0;
    if ((need & bit) && !(cpu_caps & bit)) pre = "the CPU lacks ";
    else if ((forbid & bit) && (cpu_caps & bit)) pre = "the case's CPU lacks what this CPU has: ";
    if (!pre) continue;
    u64 n = 0;
    for (const char *q = pre; *q && n < sizeof cap_msg - 1;) cap_msg[n++] = *q++;
    for (const char *q = cap_names[i]; *q && n < sizeof cap_msg - 1;) cap_msg[n++] = *q++;
    cap_msg[n] = 0;
    return cap_msg;
  }
  return 0;
}

/* A control value: the wanted bits, the allowed-0 (must be 1) bits added;
 * 0 when a wanted bit is not allowed-1. */
static int ctl(u64 msr, u32 want, u32 *out) {
  const u32 must = (u32)msr, may = (u32)(msr >> 32);
  if (want & ~may) return 0;
  *out = (want | must) & may;
  return 1;
}

static int in_vmx_ram(u64 a, u64 n) {
  return (a >= PROBE_LANDING_4K && a + n <= PROBE_LANDING_4K + 4096) ||
         (a >= PROBE_LANDING_2M && a + n <= PROBE_POOL_BASE + PROBE_POOL_PAGES * 4096ull) ||
         (a >= PROBE_FREE_1G_LO && a + n <= PROBE_FREE_1G_HI) ||
         (a >= PROBE_LANDING_1G && a + n <= 2ull * PROBE_LANDING_1G);
}

static u64 vmx_desc_gdt[2], vmx_desc_idt[2];

/* Runs one VMX case; returns 0 (res filled) or why not. */
static const char *run_vmx_case(const struct probe_case *c, struct probe_vmx_wire *res, u16 *changed) {
  const struct probe_vmx *v = (const struct probe_vmx *)(c + 1);
  const struct probe_entry *e = (const struct probe_entry *)(v + 1);
  const u64 *rb = (const u64 *)(e + c->nentries);
  const unsigned gmode = c->mode & 0xf;
  if (c->kind == PROBE_SELFTEST_CRASH || c->kind == PROBE_SELFTEST_HANG) return run_case(c, 0);
  if (gmode != PROBE_MODE_32 && gmode != PROBE_MODE_PAE && gmode != PROBE_MODE_L4)
    return "VMX case: L2 paging mode not staged";
  const int implicit = (c->kind & PROBE_IMPLICIT) != 0;
  const unsigned kind = c->kind & ~PROBE_IMPLICIT;
  if (kind > (implicit ? PROBE_WRITE : PROBE_SS_READ) || c->cpl > 3) return "bad kind or cpl";
  /* shadow-stack kinds: WRSS or a RET with SSP = va; L2 gets IA32_S_CET and
     SSP from the VMCS ("load CET state"), IA32_U_CET from L1 (not switched) */
  const int sstk = c->kind == PROBE_SS_WRITE || c->kind == PROBE_SS_READ;
  if (sstk && (!has_shstk || !(c->cr4 & (1u << 23)))) return "shadow-stack access without CET shadow stacks (CPUID, CR4.CET)";
  if (c->nreadback > PROBE_MAX_READBACK_VMX) return "too many readback entries";
  const char *why = vmx_probe();
  if (why) return why;
  if ((why = cap_mismatch(v->caps_need, v->caps_forbid))) return why;
  for (unsigned i = 0; i < c->nentries; ++i) {
    const u64 a = e[i].addr & ~PROBE_W4, w = (e[i].addr & PROBE_W4) ? 4 : 8;
    if (!in_vmx_ram(a, w) || (a & (w - 1))) return "entry outside the probe's free RAM";
  }
  for (unsigned i = 0; i < c->nreadback; ++i)
    if (!in_vmx_ram(rb[i] & ~PROBE_W4, 8)) return "readback outside the probe's free RAM";
  if (c->marker && !in_vmx_ram(c->marker, implicit ? 8 : 1)) return "marker outside the probe's free RAM";
  if ((c->cr4 & (1u << 22)) && !has_pku) return "CR4.PKE but the CPU has no PKU";
  if ((c->cr4 & (1u << 24))) return "CR4.PKS: the probe does not load IA32_PKRS for L2";

  /* controls: all exceptions exit (#PF with any error code), EPT on, EFER loaded */
  u32 pin, proc, proc2, exitc, entryc;
  const int lm = v->l2_cs_long != 0;
  if (!ctl(ctl_pin, 0, &pin)) return "pin-based controls";
  /* HLT exiting where allowed: an L2 that went astray and halted exits instead of hanging */
  if (!ctl(ctl_proc, (1u << 31) | ((u32)(ctl_proc >> 32) & (1u << 7)), &proc)) return "primary processor-based controls";
  if (!ctl(ctl_proc2, 2u | ((v->caps_need & PROBE_CAP_MBEC) ? 1u << 22 : 0), &proc2))
    return "secondary processor-based controls (EPT)";
  if (!ctl(ctl_exit, (1u << 9) | (1u << 21), &exitc)) return "VM-exit controls (host address size, load EFER)";
  if (!ctl(ctl_entry, (lm ? 1u << 9 : 0) | (1u << 15), &entryc)) return "VM-entry controls (IA-32e guest, load EFER)";
  if (sstk && !ctl(ctl_entry, entryc | (1u << 20), &entryc)) return "VM-entry controls (load CET state)";
  /* L2's CR0/CR4 must meet VMX's fixed bits; a case that needs otherwise cannot run */
  const u64 f0 = rdmsr(MSR_VMX_CR0_FIXED0), f1 = rdmsr(MSR_VMX_CR0_FIXED1);
  const u64 g0 = rdmsr(MSR_VMX_CR4_FIXED0), g1 = rdmsr(MSR_VMX_CR4_FIXED1);
  const u64 gcr0 = c->cr0 | f0, gcr4 = c->cr4 | g0;
  if (gcr0 & ~f1) return "the case's CR0 has a bit VMX non-root operation keeps clear";
  if (gcr4 & ~g1) return "the case's CR4 has a bit VMX non-root operation keeps clear";

  for (unsigned i = 0; i < c->nentries; ++i) wr(e[i].addr & ~PROBE_W4, (e[i].addr & PROBE_W4) ? 4 : 8, e[i].value);
  if (implicit && c->marker) /* the descriptor L2's LAR / MOV FS reads at LDT base va */
    *(volatile u64 *)c->marker = kind == PROBE_WRITE ? PROBE_LDT_DESC_WRITE : PROBE_LDT_DESC_READ;
  else if (c->marker)
    *(volatile u8 *)c->marker = PROBE_MARKER;

  /* VMX on: CR0/CR4 fixed bits for L1 too */
  const u64 cr0 = rdcr0(), cr4 = rdcr4();
  wrcr0((cr0 | f0) & f1);
  wrcr4((cr4 | g0 | (1u << 13)) & g1);
  if (c->cr4 & (1u << 22)) wrcr4(rdcr4() | (1u << 22));
  const u32 rev = (u32)vmx_basic & 0x7fffffffu;
  mset((void *)(u64)VMXON_REGION, 0, 8192);
  *(volatile u32 *)(u64)VMXON_REGION = rev;
  *(volatile u32 *)(u64)VMCS_REGION = rev;
  u64 pa_on = VMXON_REGION, pa_vmcs = VMCS_REGION;
  u8 bad = 0;
  __asm__ volatile("vmxon %1; setna %0" : "=q"(bad) : "m"(pa_on) : "cc", "memory");
  if (bad) {
    wrcr4(cr4);
    wrcr0(cr0);
    for (unsigned i = 0; i < c->nentries; ++i) wr(e[i].addr & ~PROBE_W4, (e[i].addr & PROBE_W4) ? 4 : 8, 0);
    if (implicit && c->marker) *(volatile u64 *)c->marker = 0;
    else if (c->marker) *(volatile u8 *)c->marker = 0;
    return "VMXON failed";
  }
  __asm__ volatile("vmclear %0; vmptrld %0" ::"m"(pa_vmcs) : "cc", "memory");
  /* stale EPT translations from the previous case (same EPTP, other tables) */
  struct { u64 eptp, zero; } desc = {0, 0};
  __asm__ volatile("invept %0, %1" ::"m"(desc), "r"(2ull) : "cc", "memory");
  vmx_fail = 0;

  vmw(0x4000, pin);
  vmw(0x4002, proc);
  vmw(0x401e, proc2);
  vmw(0x400c, exitc);
  vmw(0x4012, entryc);
  vmw(0x4004, 0xffffffffu); /* every exception exits: L2 has no IDT */
  vmw(0x4006, 0);
  vmw(0x4008, 0);
  vmw(0x400a, 0);
  vmw(0x400e, 0);
  vmw(0x4010, 0);
  vmw(0x4014, 0);
  vmw(0x4016, 0);
  vmw(0x201a, v->eptp);
  vmw(0x2800, ~0ull); /* VMCS link pointer */
  if (gmode == PROBE_MODE_PAE) /* with EPT, VM entry takes PAE's PDPTEs from here, not from CR3 */
    for (unsigned i = 0; i < 4; ++i) vmw(0x280a + 2 * i, v->pdpte[i]);
  /* host state: home as it is now */
  __asm__ volatile("sgdt %0; sidt %1" : "=m"(vmx_desc_gdt), "=m"(vmx_desc_idt));
  vmw(0x6c00, rdcr0());
  vmw(0x6c02, rdcr3());
  vmw(0x6c04, rdcr4() & ~(1ull << 22)); /* no PKE after an exit: L1 must not be checked against L2's PKRU */
  vmw(0x0c00, 0x10);
  vmw(0x0c02, 0x08);
  vmw(0x0c04, 0x10);
  vmw(0x0c06, 0x10);
  vmw(0x0c08, 0x10);
  vmw(0x0c0a, 0x10);
  vmw(0x0c0c, 0x08); /* TR: any non-null selector; an exit loads TR without reading the GDT */
  vmw(0x6c06, 0);
  vmw(0x6c08, 0);
  vmw(0x6c0a, PROBE_WIN_PT); /* TR base: never used (L1 takes no interrupt in VMX operation) */
  vmw(0x6c0c, (vmx_desc_gdt[0] >> 16) | (vmx_desc_gdt[1] << 48));
  vmw(0x6c0e, (vmx_desc_idt[0] >> 16) | (vmx_desc_idt[1] << 48));
  vmw(0x4c00, 0);
  vmw(0x6c10, 0);
  vmw(0x6c12, 0);
  vmw(0x2c02, rdmsr(0xc0000080u));
  /* guest state: the case's registers; flat segments at the case's CPL */
  vmw(0x6800, gcr0);
  vmw(0x6802, c->cr3);
  vmw(0x6804, gcr4);
  /* CR0/CR4 guest/host masks and read shadows: L2 never touches CR0/CR4;
     written anyway, since VMCLEAR leaves unwritten fields undefined */
  vmw(0x6000, 0);
  vmw(0x6002, 0);
  vmw(0x6004, 0);
  vmw(0x6006, 0);
  vmw(0x6008, 0);
  if (v->l2_loads_cr3) { /* the one CR3 L2 loads is a CR3 target: no exit even with CR3-load exiting */
    vmw(0x400a, 1);
    vmw(0x6008, v->cr3_target);
  }
  vmw(0x681a, 0x400);
  vmw(0x681c, 0);
  vmw(0x681e, v->rip);
  vmw(0x6820, c->rflags);
  vmw(0x2806, c->efer);
  const u32 dpl = c->cpl;
  const u32 code_ar = 0x9b | (dpl << 5) | (lm ? (1u << 13) : (1u << 14)) | (1u << 15);
  const u32 data_ar = 0x93 | (dpl << 5) | (1u << 14) | (1u << 15);
  for (unsigned i = 0; i < 6; ++i) { /* ES CS SS DS FS GS */
    vmw(0x0800 + 2 * i, (i == 1 ? 0x08 : 0x10) | dpl);
    vmw(0x4800 + 2 * i, 0xffffffffu);
    vmw(0x4814 + 2 * i, i == 1 ? code_ar : data_ar);
    vmw(0x6806 + 2 * i, 0);
  }
  vmw(0x080c, 0);
  vmw(0x480c, implicit ? 7 : 0);
  vmw(0x4820, implicit ? 0x82 : 0x10000); /* implicit: an LDT of one descriptor at va (else unusable) */
  vmw(0x6812, implicit ? c->va : 0);
  vmw(0x080e, 0x18);
  vmw(0x480e, 0x67);
  vmw(0x4822, 0x8b); /* busy TSS, present */
  vmw(0x6814, 0);
  vmw(0x4810, 0xffff);
  vmw(0x4812, 0xffff);
  vmw(0x6816, v->gdtr_base);
  vmw(0x6818, 0);
  vmw(0x4824, 0);
  vmw(0x4826, 0);
  vmw(0x482a, v->l2_loads_cr3 ? 0x08 : 0); /* SYSENTER_CS: SYSENTER's and SYSEXIT's selectors (L2 going to CPL 3) */
  vmw(0x6822, 0);
  vmw(0x6824, 0);
  vmw(0x6826, v->sysenter_eip);
  if (sstk) { /* CET state for L2, as the host chose it (probe_abi.h) */
    vmw(0x6828, v->s_cet);
    vmw(0x682a, v->ssp);
    vmw(0x682c, 0);
    wrmsr(0x6a0u, v->u_cet);
    wrmsr(0x6a7u, v->pl3_ssp);
  }
  u64 rax = 0;
  /* PKRU is not switched by VMX: L2 gets the case's, loaded at the last moment */
  const u64 pk = (c->cr4 & (1u << 22)) ? (1ull << 32) | c->pkru : 0;
  if (vmx_fail) res->launch = PROBE_LAUNCH_FAIL_VALID, res->insn_error = 0xffff;
  else res->launch = (u8)probe_vmlaunch(c->va, &rax, pk);
  if (pk && res->launch == PROBE_LAUNCH_EXITED) { /* PKRU back to 0 for the next case */
    wrcr4(rdcr4() | (1u << 22));
    __asm__ volatile("wrpkru" ::"a"(0), "c"(0), "d"(0));
  }
  res->seq = c->seq;
  if (res->launch == PROBE_LAUNCH_FAIL_VALID && !res->insn_error) res->insn_error = (u32)vmr(0x4400);
  if (res->launch == PROBE_LAUNCH_EXITED) {
    res->exit_reason = (u32)vmr(0x4402);
    res->qualification = vmr(0x6400);
    res->gla = vmr(0x640a);
    res->gpa = vmr(0x2400);
    res->rip = vmr(0x681e);
    res->intr_info = (u32)vmr(0x4404);
    res->intr_error = (u32)vmr(0x4406);
  }
  __asm__ volatile("vmclear %0; vmxoff" ::"m"(pa_vmcs) : "cc", "memory");
  if (sstk) { /* no exit control loads the host's CET state: L2's IA32_S_CET stays in the MSR */
    wrmsr(0x6a0u, 0);
    wrmsr(0x6a7u, 0);
    wrmsr(0x6a2u, 0);
  }
  wrcr4(cr4);
  wrcr0(cr0);
  /* a read reports the byte it read; a write, what the landing spot holds now */
  res->al = c->kind == PROBE_WRITE || c->kind == PROBE_SS_WRITE ? (c->marker ? *(volatile u8 *)c->marker : 0) : (u8)rax;
  if (implicit && kind == PROBE_WRITE) res->al = c->marker ? *(volatile u8 *)(c->marker + 5) : 0;
  res->nreadback = (u8)c->nreadback;
  for (unsigned i = 0; i < c->nreadback; ++i) {
    const unsigned w = (rb[i] & PROBE_W4) ? 4 : 8;
    u64 before = 0;
    for (unsigned k = 0; k < c->nentries; ++k)
      if (e[k].addr == rb[i]) before = e[k].value;
    const u64 x = rd(rb[i] & ~PROBE_W4, w) ^ before;
    changed[i] = (u16)((x & 0xfff) | ((x >> 12) ? 0x8000 : 0));
  }
  for (unsigned i = 0; i < c->nentries; ++i) wr(e[i].addr & ~PROBE_W4, (e[i].addr & PROBE_W4) ? 4 : 8, 0);
  if (implicit && c->marker) *(volatile u64 *)c->marker = 0;
  else if (c->marker) *(volatile u8 *)c->marker = 0;
  return 0;
}

void probe_main(void) {
  crc_init();
  u32 v = PROBE_VERSION;
  frame('H', &v, 4);
  u32 a, b, cc, d;
  cpuid(0x80000001u, 0, &a, &b, &cc, &d);
  if (d & (1u << 20)) home_efer = 0x900; /* LME | NXE */
  cpuid(7, 0, &a, &b, &cc, &d);
  has_pku = (cc >> 3) & 1;
  has_pks = (cc >> 31) & 1;
  has_shstk = (cc >> 7) & 1;
  identity_idts();
  bridge_tables();
  mset((void *)(u64)PROBE_LANDING_4K, 0, 4096);
  mset((void *)(u64)PROBE_LANDING_2M, 0, 6u << 20);
  mset((void *)(u64)PROBE_POOL_BASE, 0, PROBE_POOL_PAGES * 4096ull);
  /* RAM above 1 MiB starts zeroed; the firmware's tables near the top of RAM
   * (inside the free area for 1 GiB leaves) are never read by the probe. */

  struct probe_batch_header *h = (struct probe_batch_header *)(u64)PROBE_BATCH_BUFFER;
  if (ata_read(0, 1, h)) {
    reject(0, "cannot read the batch disk (ATA timeout or error)");
    finish(0, 1);
  }
  if (h->magic != PROBE_MAGIC || h->version != PROBE_VERSION || crc32(h, 24) != h->header_crc) {
    reject(0, "batch header: bad magic, version or checksum");
    finish(0, 1);
  }
  if (h->bytes > PROBE_BATCH_MAX - 512) {
    reject(0, "batch too large");
    finish(0, 1);
  }
  u8 *data = (u8 *)(u64)PROBE_BATCH_BUFFER + 512;
  if (ata_read(1, (h->bytes + 511) / 512, data)) {
    reject(0, "cannot read the batch disk (ATA timeout or error)");
    finish(0, 1);
  }
  if (crc32(data, h->bytes) != h->crc) {
    reject(0, "batch checksum mismatch");
    finish(0, 1);
  }
  u32 off = 0, ran = 0;
  for (u32 i = 0; i < h->ncases; ++i) {
    if (off + sizeof(struct probe_case) > h->bytes) {
      reject(i, "batch truncated");
      finish(ran, 2);
    }
    const struct probe_case *c = (const struct probe_case *)(data + off);
    const u64 need = sizeof *c + (u64)c->nentries * sizeof(struct probe_entry) + (u64)c->nreadback * 8;
    if (c->len < need || off + c->len > h->bytes || (c->len & 7)) {
      reject(c->seq, "record length inconsistent");
      finish(ran, 2);
    }
    if (c->mode & PROBE_MODE_VMX) {
      struct probe_vmx_wire vw;
      u8 buf[sizeof vw + 2 * PROBE_MAX_READBACK_VMX];
      u16 changed[PROBE_MAX_READBACK_VMX];
      mset(&vw, 0, sizeof vw);
      const char *why = need + sizeof(struct probe_vmx) > c->len ? "record length inconsistent"
                                                                 : run_vmx_case(c, &vw, changed);
      if (why) reject(c->seq, why);
      else {
        memcpy(buf, &vw, sizeof vw);
        memcpy(buf + sizeof vw, changed, 2u * vw.nreadback);
        frame('V', buf, (u8)(sizeof vw + 2u * vw.nreadback));
        ++ran;
      }
      off += c->len;
      continue;
    }
    struct probe_result res;
    mset(&res, 0, sizeof res);
    const char *why = run_case(c, &res);
    if (why) reject(c->seq, why);
    else {
      /* the compact wire form (probe_abi.h) */
      u8 buf[sizeof(struct probe_wire) + 2 * PROBE_MAX_READBACK + 16];
      struct probe_wire wv = {res.seq, res.stage, res.vector, res.al, res.nreadback, (u16)res.error_code,
                              (u16)res.flags};
      const int own = (res.flags & PROBE_RIP_IN_WINDOW) != 0;
      if (res.vector == 14 && res.cr2 != c->va) wv.flags |= PROBE_HAS_CR2;
      if (!(res.vector == 3 && own && c->kind != PROBE_FETCH)) wv.flags |= PROBE_HAS_RIP;
      u64 n = 0;
      memcpy(buf, &wv, sizeof wv);
      n += sizeof wv;
      memcpy(buf + n, res.changed, 2u * res.nreadback);
      n += 2u * res.nreadback;
      if (wv.flags & PROBE_HAS_CR2) {
        memcpy(buf + n, &res.cr2, 8);
        n += 8;
      }
      if (wv.flags & PROBE_HAS_RIP) {
        memcpy(buf + n, &res.rip, 8);
        n += 8;
      }
      frame('R', buf, (u8)n);
      ++ran;
    }
    off += c->len;
  }
  finish(ran, 0);
}
