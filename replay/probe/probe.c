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
extern u8 idt32_id[], idt64_id[];
extern u64 tr_efer, tr_cr4, tr_cr0, tr_bridge, tr_entry;
extern u32 tr_long, home_efer;
extern u8 in_run;
unsigned probe_run(void);

/* data page offsets: exec.S */
#define D_GDT 0x000
#define D_GDTDESC 0x080
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
  u16 lim = sizeof d - 1;
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
      pt32[i] = f;
    }
    built = 1;
  }
  if (key == cur_key) return;
  cur_key = key;
  u64 *pt = (u64 *)(u64)PROBE_WIN_PT;
  for (unsigned i = 0; i < PROBE_WINDOW_PAGES; ++i)
    pt[i] = ((u64)win_base + 0x1000 * i) | PTE_P | PTE_RW | PTE_A | PTE_D | (i == 1 ? PTE_US : 0) |
            (i == 1 ? 0 : (u64)key << 59);
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

static u32 has_pks, has_pku;

/* Returns 0 when the case ran (result filled), else the reason it did not. */
static const char *run_case(const struct probe_case *c, struct probe_result *res) {
  if (c->mode < PROBE_MODE_32 || c->mode > PROBE_MODE_L5) return "bad mode";
  if (c->kind == PROBE_SELFTEST_CRASH) { /* a triple fault: no IDT, then an exception */
    static const struct __attribute__((packed)) { u16 lim; u64 base; } none = {0, 0};
    __asm__ volatile("lidt %0; int3" ::"m"(none));
  }
  if (c->kind == PROBE_SELFTEST_HANG)
    for (;;) __asm__ volatile("cli; hlt");
  if (c->kind > PROBE_FETCH || c->cpl > 3 || c->pk_key > 15) return "bad kind, cpl or key";
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
  if (c->marker) *(volatile u8 *)c->marker = PROBE_MARKER;
  window_tables(c->mode >= PROBE_MODE_L4 ? c->pk_key : 0);

  const u64 W = (u64)c->slot << win_shift[c->mode];
  const u64 delta = W - (u64)win_base;
  const int lm = c->mode >= PROBE_MODE_L4;
  prepare_window(W, lm ? 64 : 32);
  W64(P_VA) = c->va;
  W64(P_CASE_CR3) = c->cr3 & ~(1ull << 63);
  W64(P_BRIDGE) = bridge_top[c->mode];
  W64(P_RFLAGS) = c->rflags;
  W32(P_CPL) = c->cpl;
  W32(P_KIND) = c->kind;
  W32(P_PKRU) = c->pkru;
  W32(P_FLAGS) = ((c->cr4 & (1u << 22)) ? 1 : 0) | ((c->cr4 & (1u << 17)) ? 2 : 0) |
                 ((lm && (c->cr4 & (1u << 24))) ? 4 : 0);
  W32(P_PKRS) = c->pkrs;
  W64(P_CR4) = c->cr4;
  static const u32 cs32[4] = {0x18, 0x21, 0x3a, 0x53}, cs64[4] = {0x08, 0x31, 0x4a, 0x63}, ss[4] = {0x10, 0x29, 0x42, 0x5b};
  W64(P_CS) = lm ? cs64[c->cpl] : cs32[c->cpl];
  W64(P_SS) = ss[c->cpl];
  u64 rip;
  if (c->kind == PROBE_FETCH) rip = c->va;
  else if (c->cpl == 3)
    rip = (u64)(lm ? (c->kind == PROBE_WRITE ? win_user64_write : win_user64_read)
                   : (c->kind == PROBE_WRITE ? win_user32_write : win_user32_read)) + delta;
  else
    rip = (u64)(lm ? (c->kind == PROBE_WRITE ? win_sup64_write : win_sup64_read)
                   : (c->kind == PROBE_WRITE ? win_sup32_write : win_sup32_read)) + delta;
  W64(P_RIP) = rip;
  W64(P_USER_SP) = (u64)win_stack_top + delta - 64;
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
  in_run = 1;
  probe_run();
  in_run = 0;

  res->seq = c->seq;
  res->stage = (u8)W32(R_STAGE);
  res->vector = (u8)W32(R_VECTOR);
  /* a read reports the byte it read; a write, what the landing spot holds now */
  res->al = c->kind == PROBE_WRITE ? (c->marker ? *(volatile u8 *)c->marker : 0) : (u8)W64(R_RAX);
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
  if (c->marker) *(volatile u8 *)c->marker = 0;
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
