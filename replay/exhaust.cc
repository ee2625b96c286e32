#include "replay/exhaust.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "model/builder.h"
#include "model/validate.h"
#include "replay/exhaust_kvm.h"
#include "replay/known.h"
#include "replay/exhaust_spaces.h"

namespace mmucheck {
namespace {

using mmu::u64;

// Mixed-radix digits of a point index.
class Digits {
 public:
  explicit Digits(u64 index) : rest_(index) {}
  unsigned next(unsigned radix) {
    const unsigned d = static_cast<unsigned>(rest_ % radix);
    rest_ /= radix;
    return d;
  }

 private:
  u64 rest_;
};

template <std::size_t N>
constexpr u64 product(const unsigned (&radix)[N]) {
  u64 n = 1;
  for (unsigned r : radix) n *= r;
  return n;
}

constexpr mmu::PagingMode kPagingModes[] = {mmu::PagingMode::bit32, mmu::PagingMode::pae, mmu::PagingMode::level4,
                                            mmu::PagingMode::level5};

// A case in `mode` with paging on, CR0.WP as given, every CPUID feature, and a
// linear address that every mode can map (canonical in 4/5-level).
void start_case(mmu::Case& c, mmu::PagingMode mode, bool wp, mmu::AccessKind kind) {
  using namespace mmu;
  PhysMemory memory = std::move(c.memory);  // its storage, for the next chain: no allocation
  memory.clear();
  c = Case{};
  c.memory = std::move(memory);
  c.cpu.features = FeatureSet::all();
  c.cpu.maxphyaddr = 46;
  c.cpu.cr0 = cr0::PE | cr0::ET | cr0::PG | (wp ? cr0::WP : 0);
  if (mode != PagingMode::bit32) c.cpu.cr4 |= cr4::PAE;
  if (mode == PagingMode::level4 || mode == PagingMode::level5) c.cpu.efer |= efer::LME | efer::LMA;
  if (mode == PagingMode::level5) c.cpu.cr4 |= cr4::LA57;
  const bool long_mode = mode == PagingMode::level4 || mode == PagingMode::level5;
  c.access = {long_mode ? u64{0x7fff'1234'5000} : u64{0x1234'5000}, kind, false, false};
}

// The permission space: every access (read/write/fetch) x CPL x implicit x
// EFLAGS.AC x CR0.WP x CR4.SMEP x CR4.SMAP x EFER.NXE x paging mode x where
// U/S = 0, R/W = 0 and XD = 1 sit in the walk (nowhere, the leaf, the top
// level, both). Every entry is present; the chain maps a 4-KByte page.
constexpr unsigned kPermRadix[] = {4, 3, 4, 2, 2, 2, 2, 2, 2, 4, 4, 4};

bool make_permission_point(u64 index, mmu::Case& c) {
  using namespace mmu;
  Digits d(index);
  const PagingMode mode = kPagingModes[d.next(4)];
  const AccessKind kind = static_cast<AccessKind>(d.next(3));
  const unsigned cpl = d.next(4);
  const bool implicit = d.next(2), ac = d.next(2), wp = d.next(2), smep = d.next(2), smap = d.next(2), nxe = d.next(2);
  const unsigned u_at = d.next(4), w_at = d.next(4), xd_at = d.next(4);  // bit 0: leaf, bit 1: top level

  start_case(c, mode, wp, kind);
  c.cpu.cpl = cpl;
  c.cpu.cr4 |= (smep ? cr4::SMEP : 0) | (smap ? cr4::SMAP : 0);
  c.cpu.efer |= nxe ? efer::NXE : 0;
  c.cpu.rflags = rflags::FIXED1 | (ac ? rflags::AC : 0);
  c.access.implicit = implicit;

  const bool has_xd = mode != PagingMode::bit32;
  auto flags = [&](unsigned where) {  // where: 1 = leaf, 2 = top
    u64 f = 0x7;  // P | R/W | U/S
    if (u_at & where) f &= ~u64{4};
    if (w_at & where) f &= ~u64{2};
    if (has_xd && (xd_at & where)) f |= bit(63);
    return f;
  };
  ChainBuilder b(c, 0x1000);
  const u64 leaf = 0x5000 | flags(1);
  const u64 top = flags(2), mid = 0x7;
  switch (mode) {
    case PagingMode::bit32: b.map(c.access.addr, leaf, 1, {top}); break;
    case PagingMode::pae: b.map(c.access.addr, leaf, 1, {0x1, top}); break;  // PDPTEs carry no rights
    case PagingMode::level4: b.map(c.access.addr, leaf, 1, {top, mid, mid}); break;
    case PagingMode::level5: b.map(c.access.addr, leaf, 1, {top, mid, mid, mid}); break;
    case PagingMode::none: break;
  }
  return !mmu::validate(c);
}

// The reserved-bit space: one bit set in one entry of an otherwise valid walk,
// for every bit 0..63, every level, every mode, three leaf sizes (4K, 2M/4M at
// the PDE, 1G at the PDPTE), MAXPHYADDR 32..52, both vendors, with and without
// 1-GByte pages, CR4.PSE, EFER.NXE and CPUID PSE-36. A supervisor read at CPL 0.
constexpr unsigned kRsvdRadix[] = {4, 5, 3, 64, 21, 2, 2, 2, 2, 2};

bool make_reserved_bit_point(u64 index, mmu::Case& c) {
  using namespace mmu;
  Digits d(index);
  const PagingMode mode = kPagingModes[d.next(4)];
  const unsigned level = 1 + d.next(5);
  const unsigned leaf_level = 1 + d.next(3);
  const unsigned bitno = d.next(64);
  const unsigned maxphyaddr = 32 + d.next(21);
  const bool amd = d.next(2), gbpages = d.next(2), pse = d.next(2), nxe = d.next(2), pse36 = d.next(2);
  const unsigned levels = ChainBuilder::levels(mode);
  if (level > levels || leaf_level > levels - (mode == PagingMode::pae ? 1 : 0) || level < leaf_level) return false;
  if (mode == PagingMode::bit32 && leaf_level > 2) return false;
  if (mode == PagingMode::bit32 && bitno >= 32) return false;  // 4-byte entries

  start_case(c, mode, /*wp=*/true, AccessKind::read);
  if (!gbpages) c.cpu.features.remove(Feature::pdpe1gb);
  if (!pse36) c.cpu.features.remove(Feature::pse36);
  c.cpu.vendor = amd ? Vendor::amd : Vendor::intel;
  c.cpu.maxphyaddr = maxphyaddr;
  c.cpu.cr4 |= pse ? cr4::PSE : 0;
  c.cpu.efer |= nxe ? efer::NXE : 0;

  const u64 frame = leaf_level == 3 ? 0x40000000 : leaf_level == 2 ? (mode == PagingMode::bit32 ? 0x400000 : 0x200000) : 0x5000;
  const u64 leaf = frame | 0x7 | (leaf_level > 1 ? bit(7) : 0);
  ChainBuilder b(c, 0x1000);
  std::vector<u64> addrs;
  const u64 pdpte = mode == PagingMode::pae ? 0x1 : 0x7;
  switch (levels - leaf_level) {
    case 0: addrs = b.map(c.access.addr, leaf, leaf_level, {}); break;
    case 1: addrs = b.map(c.access.addr, leaf, leaf_level, {mode == PagingMode::pae ? pdpte : 0x7}); break;
    case 2: addrs = b.map(c.access.addr, leaf, leaf_level, {pdpte, 0x7}); break;
    case 3: addrs = b.map(c.access.addr, leaf, leaf_level, {0x7, 0x7, 0x7}); break;
    case 4: addrs = b.map(c.access.addr, leaf, leaf_level, {0x7, 0x7, 0x7, 0x7}); break;
  }
  const u64 at = addrs[levels - level];
  c.memory.set(at, c.memory.read(at) | bit(bitno));
  return !mmu::validate(c);
}

// The protection-key space: mode (PAE, where keys do not apply, 4-level,
// 5-level) x access kind x CPL x implicit x CR0.WP x CR4.PKE x CR4.PKS x user or
// supervisor page x writable or not x the leaf's key x that key's AD/WD in
// PKRU and IA32_PKRS x the other keys all set or all clear.
constexpr unsigned kPkRadix[] = {3, 3, 4, 2, 2, 2, 2, 2, 2, 16, 4, 2};

bool make_protection_key_point(u64 index, mmu::Case& c) {
  using namespace mmu;
  Digits d(index);
  static constexpr PagingMode kModes[] = {PagingMode::pae, PagingMode::level4, PagingMode::level5};
  const PagingMode mode = kModes[d.next(3)];
  const AccessKind kind = static_cast<AccessKind>(d.next(3));
  const unsigned cpl = d.next(4);
  const bool implicit = d.next(2), wp = d.next(2), pke = d.next(2), pks = d.next(2), user_page = d.next(2),
             writable = d.next(2);
  const unsigned key = d.next(16), key_bits = d.next(4);
  const bool others = d.next(2);

  start_case(c, mode, wp, kind);
  c.cpu.cpl = cpl;
  c.cpu.cr4 |= (pke ? cr4::PKE : 0) | (pks ? cr4::PKS : 0);
  c.cpu.efer |= efer::NXE;
  c.access.implicit = implicit;
  const u32 rest = others ? ~u32{0} : 0;
  const u32 reg = (rest & ~(u32{3} << (2 * key))) | (key_bits << (2 * key));
  c.cpu.pkru = reg;
  c.cpu.pkrs = reg;
  const u64 leaf = 0x5000 | 0x1 | (writable ? 0x2 : 0) | (user_page ? 0x4 : 0) |
                   (mode == PagingMode::pae ? 0 : u64{key} << 59);
  ChainBuilder b(c, 0x1000);
  switch (mode) {
    case PagingMode::pae: b.map(c.access.addr, leaf, 1, {0x1, 0x7}); break;
    case PagingMode::level4: b.map(c.access.addr, leaf, 1, {0x7, 0x7, 0x7}); break;
    default: b.map(c.access.addr, leaf, 1, {0x7, 0x7, 0x7, 0x7}); break;
  }
  return !mmu::validate(c);
}

}  // namespace

const std::vector<ExhaustSpace>& exhaust_spaces() {
  static const std::vector<ExhaustSpace> spaces{
      {"permissions",
       "access kind x CPL x implicit x AC x WP x SMEP x SMAP x NXE x mode (32-bit, PAE, 4-level, 5-level) x "
       "where U/S=0, R/W=0, XD=1 sit (none, leaf, top, both)",
       product(kPermRadix), make_permission_point},
      {"reserved-bits",
       "one bit 0..63 set in one entry x level x mode x leaf size (4K, 2M/4M, 1G) x MAXPHYADDR 32..52 x vendor x "
       "1G support x CR4.PSE x EFER.NXE x PSE-36",
       product(kRsvdRadix), make_reserved_bit_point},
      {"protection-keys",
       "mode (PAE, 4-level, 5-level) x access kind x CPL x implicit x WP x PKE x PKS x user/supervisor page x "
       "writable x key x the key's AD/WD x other keys set or clear",
       product(kPkRadix), make_protection_key_point},
      access_c::space(),
      access_c::space_smep(),
      kvm_spaces::ept_entries(),
      kvm_spaces::role_transitions(),
  };
  return spaces;
}

const ExhaustSpace* find_space(std::string_view name) {
  for (const ExhaustSpace& s : exhaust_spaces())
    if (s.name == name) return &s;
  return nullptr;
}

namespace {
void count_known(ExhaustResult& r, std::string_view id, u64 n) {
  for (auto& [known_id, count] : r.known)
    if (known_id == id) {
      count += n;
      return;
    }
  r.known.emplace_back(id, n);
}
}  // namespace

ExhaustResult exhaust(const ExhaustSpace& space, const Engine& a, const Engine& b, const ExhaustOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const unsigned jobs = std::max(1u, options.jobs);
  const u64 chunk = std::max<u64>(1, options.chunk);
  std::vector<ExhaustResult> partial(jobs);
  std::atomic<u64> next_chunk{0};
  std::atomic<bool> stopped{false};
  std::mutex progress_lock;
  u64 done_total = 0;
  // Threads take contiguous chunks in increasing order, so each thread's first
  // divergences are its lowest-indexed ones and the merge below keeps the
  // lowest overall, whatever the scheduling.
  auto work = [&](unsigned job) {
    ExhaustResult r;  // on this thread's stack: no shared cache lines while counting
    mmu::Case c;
    mmu::Verdict va, vb;
    for (;;) {
      if (options.stop && options.stop()) {
        stopped = true;
        break;
      }
      const u64 first = next_chunk.fetch_add(chunk, std::memory_order_relaxed);
      if (first >= space.size) break;
      const u64 end = std::min(space.size, first + chunk);
      for (u64 i = first; i < end; ++i) {
        if (!space.make(i, c)) {
          u64 next = space.next_candidate ? std::clamp(space.next_candidate(i), i + 1, end) : i + 1;
          r.illegal += next - i;
          i = next - 1;
        } else if (a.unsupported(c) || b.unsupported(c)) {
          ++r.unsupported;
        } else {
          ++r.compared;
          a.evaluate_into(c, va);
          b.evaluate_into(c, vb);
          if (!mmu::accepts(va, vb.outcome)) {
            if (const KnownDivergence* k = known_divergence(a.name(), b.name(), c, va, vb)) {
              count_known(r, k->id, 1);
            } else {
              ++r.divergences;
              if (r.first.size() < options.keep) r.first.emplace_back(i, c);
            }
          }
        }
      }
      r.points += end - first;
      if (options.progress) {
        std::lock_guard<std::mutex> g(progress_lock);
        done_total += end - first;
        options.progress(done_total);
      }
    }
    partial[job] = std::move(r);
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(work, j);
  work(0);
  for (auto& t : threads) t.join();

  ExhaustResult total;
  for (ExhaustResult& r : partial) {
    total.points += r.points;
    total.illegal += r.illegal;
    total.unsupported += r.unsupported;
    total.compared += r.compared;
    total.divergences += r.divergences;
    for (const auto& [id, n] : r.known) count_known(total, id, n);
    for (auto& f : r.first) total.first.push_back(std::move(f));
  }
  std::sort(total.first.begin(), total.first.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  if (total.first.size() > options.keep) total.first.resize(options.keep);
  total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  total.complete = !stopped;
  return total;
}

}  // namespace mmucheck
