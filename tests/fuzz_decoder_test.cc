// The fuzz input format's properties (fuzz/decoder.h), as ordinary tests:
// every byte string decodes to a valid case of the target's shape; decoding
// is exactly invertible on what it produces and on every corpus case; random
// input mostly reaches the leaf; one changed byte changes little.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/decoder.h"
#include "fuzz/targets.h"
#include "model/reference.h"
#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/case_reader.h"
#include "replay/engine.h"
#include "replay/known.h"

namespace {

namespace fs = std::filesystem;
using mmucheck::fuzz::decode;
using mmucheck::fuzz::DecodeOptions;
using mmucheck::fuzz::encode;
using mmucheck::fuzz::fits;
using mmucheck::fuzz::Shape;
using Bytes = std::vector<std::uint8_t>;

struct Named {
  std::string path;
  mmu::Case kase;
};

const std::vector<Named>& corpus() {
  static const std::vector<Named> cases = [] {
    std::vector<Named> out;
    std::vector<fs::path> files;
    for (const auto& de : fs::recursive_directory_iterator(fs::path(MMUCHECK_SOURCE_DIR) / "corpus"))
      if (de.is_regular_file() && de.path().extension() == ".json") files.push_back(de.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      std::ifstream f(p);
      mmucheck::CaseReader reader(f, p.string());
      for (mmucheck::CaseRecord rec; reader.next(rec);) {
        EXPECT_TRUE(rec.file) << rec.error;
        if (rec.file) out.push_back({p.string(), rec.file->kase});
      }
    }
    return out;
  }();
  return cases;
}

// Every decode option a target uses, and the bare shapes.
std::vector<std::pair<std::string, DecodeOptions>> all_options() {
  std::vector<std::pair<std::string, DecodeOptions>> out;
  for (Shape s : {Shape::any, Shape::guest, Shape::ept, Shape::nested})
    out.emplace_back(std::string(mmucheck::fuzz::shape_name(s)), DecodeOptions{.shape = s});
  for (const auto& t : mmucheck::fuzz::targets()) out.emplace_back(std::string(t.name), t.decode);
  return out;
}

nlohmann::json unnamed(mmu::Case c) {
  c.name.clear();
  return mmucheck::case_to_json(c);
}

Bytes random_bytes(std::mt19937_64& rng, std::size_t max_len) {
  Bytes b(rng() % (max_len + 1));
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

bool has_shape(const mmu::Case& c, const DecodeOptions& o) {
  const bool pg = c.cpu.cr0 & mmu::cr0::PG;
  switch (o.shape) {
    case Shape::any: return true;
    case Shape::guest: return !c.ept;
    case Shape::ept: return c.ept && !pg;
    case Shape::nested: return c.ept && pg;
  }
  return false;
}

TEST(FuzzDecoder, EveryCorpusCaseRoundTrips) {
  ASSERT_GT(corpus().size(), 300u);
  for (const auto& [path, c] : corpus()) {
    ASSERT_TRUE(fits(c, {})) << path;
    const Bytes b = encode(c);
    for (const auto& [name, opt] : all_options()) {
      if (!fits(c, opt)) continue;
      EXPECT_EQ(unnamed(decode(b, opt)), unnamed(c)) << path << " under " << name;
    }
  }
}

TEST(FuzzDecoder, EveryCorpusCaseFitsSomeTarget) {
  for (const auto& [path, c] : corpus()) {
    bool any = false;
    for (const auto& t : mmucheck::fuzz::targets())
      if (t.decode.shape != Shape::any) any |= fits(c, t.decode);
    EXPECT_TRUE(any) << path;
  }
}

TEST(FuzzDecoder, EveryInputDecodesToAValidCaseOfTheShape) {
  std::mt19937_64 rng(1);
  const auto options = all_options();
  mmu::Case c;
  for (int i = 0; i < 20000; ++i) {
    const Bytes b = random_bytes(rng, 400);
    for (const auto& [name, opt] : options) {
      mmucheck::fuzz::decode_into(b, opt, c);
      auto bad = mmu::validate(c);
      ASSERT_FALSE(bad) << name << ": " << bad->field << ": " << bad->message << "\n" << unnamed(c).dump();
      ASSERT_TRUE(has_shape(c, opt)) << name << "\n" << unnamed(c).dump();
      ASSERT_FALSE(c.cpu.cr4 & opt.cr4_clear) << name;
      for (const auto& h : c.history) {
        ASSERT_FALSE(h.cr4 & opt.cr4_clear) << name;
      }
      if (!opt.shadow_stack) {
        ASSERT_FALSE(c.access.shadow_stack) << name;
      }
    }
  }
}

// Mutated seeds are what a fuzzer mostly runs: every byte of every encoded
// corpus case overwritten, and inputs cut short or extended.
TEST(FuzzDecoder, MutatedSeedsDecodeToValidCases) {
  std::mt19937_64 rng(2);
  const auto options = all_options();
  mmu::Case c;
  for (const auto& [path, kase] : corpus()) {
    const Bytes seed = encode(kase);
    for (std::size_t i = 0; i < seed.size() + 16; ++i) {
      Bytes b = seed;
      if (i < b.size()) b[i] = static_cast<std::uint8_t>(rng());
      else b.resize(rng() % (b.size() + 40), static_cast<std::uint8_t>(rng()));
      const auto& [name, opt] = options[i % options.size()];
      mmucheck::fuzz::decode_into(b, opt, c);
      auto bad = mmu::validate(c);
      ASSERT_FALSE(bad) << path << " byte " << i << " under " << name << ": " << bad->field << ": " << bad->message;
    }
  }
}

// What the decoder produces is exactly what it can encode: decode -> encode ->
// decode gives the same case (so `mmucheck decode` output, edited or not,
// seeds the fuzzers again).
TEST(FuzzDecoder, DecodedCasesReencodeExactly) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const Bytes b = random_bytes(rng, 400);
    for (const auto& [name, opt] : all_options()) {
      const mmu::Case c = decode(b, opt);
      ASSERT_TRUE(fits(c, opt)) << name << "\n" << unnamed(c).dump();
      ASSERT_EQ(unnamed(decode(encode(c), opt)), unnamed(c)) << name;
    }
  }
}

TEST(FuzzDecoder, ShortInputsAreFineToo) {
  for (std::size_t n = 0; n < 80; ++n) {
    for (const auto& [name, opt] : all_options()) {
      const mmu::Case zeros = decode(Bytes(n, 0), opt), ones = decode(Bytes(n, 0xff), opt);
      EXPECT_FALSE(mmu::validate(zeros)) << name << " " << n;
      EXPECT_FALSE(mmu::validate(ones)) << name << " " << n;
    }
  }
}

// "Reaches the leaf": the reference's walk reads a present entry that maps
// the page (a PTE, or a PDE/PDPTE with PS where large pages exist).
bool reached_leaf(const mmu::Case& c) {
  mmu::Trace t;
  (void)mmu::reference::evaluate(c, &t);
  const mmu::TraceStep* last = nullptr;
  for (const auto& s : t.steps)
    if (s.space == mmu::Space::guest && s.kind == mmu::StepKind::entry) last = &s;
  if (!last || !(last->value & 1)) return false;
  return last->level == 1 || ((last->value & mmu::bit(7)) && last->level <= 3);
}

TEST(FuzzDecoder, RandomInputsMostlyReachTheLeaf) {
  std::mt19937_64 rng(4);
  for (Shape shape : {Shape::guest, Shape::nested}) {
    unsigned paged = 0, reached = 0, ok = 0, n = 0;
    for (int i = 0; i < 20000; ++i) {
      const Bytes b = random_bytes(rng, 400);
      mmu::Case c = decode(b, {.shape = shape});
      ++n;
      if (mmu::reference::evaluate(c).outcome.kind == mmu::OutcomeKind::ok) ++ok;
      if (!(c.cpu.cr0 & mmu::cr0::PG)) continue;
      ++paged;
      reached += reached_leaf(c);
    }
    std::printf("shape %s: %u random inputs, %u with paging; the walk reaches the leaf in %.1f%% of those; "
                "%.1f%% of all end ok\n",
                std::string(mmucheck::fuzz::shape_name(shape)).c_str(), n, paged, 100.0 * reached / paged,
                100.0 * ok / n);
    if (shape == Shape::guest) {
      EXPECT_GT(reached, paged / 2) << "most random guest walks should reach the leaf";
    } else {
      EXPECT_GT(reached, paged * 2 / 5) << "random nested walks should often reach the guest leaf";
    }
  }
}

// How many parts of a case differ: registers, access fields, memory entries
// (added, removed or changed), the EPT's fields and entries, history states.
unsigned case_distance(const mmu::Case& a, const mmu::Case& b) {
  const nlohmann::json ja = unnamed(a), jb = unnamed(b);
  unsigned d = 0;
  auto objects = [&](const nlohmann::json& x, const nlohmann::json& y) {
    nlohmann::json keys = nlohmann::json::object();
    for (auto it = x.begin(); it != x.end(); ++it) keys[it.key()] = true;
    for (auto it = y.begin(); it != y.end(); ++it) keys[it.key()] = true;
    unsigned n = 0;
    for (auto it = keys.begin(); it != keys.end(); ++it)
      n += !(x.contains(it.key()) && y.contains(it.key()) && x[it.key()] == y[it.key()]);
    return n;
  };
  d += objects(ja["cpu"], jb["cpu"]) + objects(ja["access"], jb["access"]) + objects(ja["memory"], jb["memory"]);
  const nlohmann::json none = nlohmann::json::object();
  const nlohmann::json& ea = ja.contains("ept") ? ja["ept"] : none;
  const nlohmann::json& eb = jb.contains("ept") ? jb["ept"] : none;
  if (ea.contains("memory") || eb.contains("memory"))
    d += objects(ea.value("memory", none), eb.value("memory", none));
  d += ea.value("eptp", "") != eb.value("eptp", "");
  d += ea.value("features", nlohmann::json::array()) != eb.value("features", nlohmann::json::array());
  d += ja.value("history", nlohmann::json::array()) != jb.value("history", nlohmann::json::array());
  return d;
}

TEST(FuzzDecoder, OneChangedByteChangesLittle) {
  std::mt19937_64 rng(5);
  std::vector<unsigned> distances;
  for (const auto& [path, kase] : corpus()) {
    const Bytes seed = encode(kase);
    for (std::size_t i = 0; i < seed.size(); ++i) {
      Bytes b = seed;
      b[i] ^= static_cast<std::uint8_t>(1u << (rng() % 8));  // one bit, as libFuzzer's ChangeBit
      distances.push_back(case_distance(kase, decode(b)));
    }
  }
  std::sort(distances.begin(), distances.end());
  const auto at = [&](double q) { return distances[static_cast<std::size_t>(q * (distances.size() - 1))]; };
  std::printf("%zu one-bit mutations of encoded corpus cases: parts changed median %u, 90th %u, 99th %u, max %u\n",
              distances.size(), at(0.5), at(0.9), at(0.99), distances.back());
  // A changed table index moves an entry (two parts: one gone, one new) and
  // changes the address (a third); a changed paging mode relays every table.
  EXPECT_LE(at(0.5), 1u);
  EXPECT_LE(at(0.9), 3u);
}

TEST(FuzzDecoder, TargetsAndShapesHaveNames) {
  for (Shape s : {Shape::any, Shape::guest, Shape::ept, Shape::nested})
    EXPECT_EQ(mmucheck::fuzz::shape_from_name(mmucheck::fuzz::shape_name(s)), s);
  EXPECT_FALSE(mmucheck::fuzz::shape_from_name("bogus"));
  for (const char* t : {"fuzz_guest_walk", "fuzz_ept_walk", "fuzz_nested_walk", "fuzz_kvm314", "fuzz_smt"})
    EXPECT_TRUE(mmucheck::fuzz::find_target(t)) << t;
  EXPECT_FALSE(mmucheck::fuzz::find_target("fuzz_bogus"));
}

}  // namespace

// What the fuzz targets found, kept as regression tests.
namespace findings {

// fuzz_case_json: a number the JSON parser cannot hold (out_of_range, not
// parse_error) escaped CaseReader and ended the run.
TEST(FuzzFindings, ReaderTakesAnOverflowingNumberAsMalformed) {
  for (const char* text : {"{\"cpu\": 1e999}\n{\"x\": 1}\n", "{\"cpu\":\n 181e3744073709551615}\n"}) {
    std::istringstream in(text);
    mmucheck::CaseReader reader(in, "t");
    unsigned n = 0;
    for (mmucheck::CaseRecord rec; reader.next(rec); ++n) {
      EXPECT_FALSE(rec.file);
      if (n == 0) {
        EXPECT_NE(rec.error.find("malformed JSON"), std::string::npos) << rec.error;
      }
    }
    EXPECT_GE(n, 1u);
  }
}

// fuzz_kvm314: KVM 3.14 walks a PDPTE with PS = 1 as a 1-GByte page without
// CPUID support, and the page's rights then fault (a write through a
// read-only PML4E): the allow-listed finding, not only when KVM's outcome is ok.
TEST(FuzzFindings, OneGigabytePageFindingCoversItsProtectionFaults) {
  mmu::Case c;
  c.cpu.cr0 = mmu::cr0::PE | mmu::cr0::ET | mmu::cr0::WP | mmu::cr0::PG;
  c.cpu.cr4 = mmu::cr4::PAE;
  c.cpu.efer = mmu::efer::LME | mmu::efer::LMA;
  c.cpu.maxphyaddr = 32;
  c.cpu.cr3 = 0x1000;
  c.access = {.addr = 0x4007, .kind = mmu::AccessKind::write};
  c.memory.set(0x1000, 0x7f000001);      // PML4E: present, read-only
  c.memory.set(0x7f000000, 0x40000087);  // PDPTE: PS = 1, no pdpe1gb
  ASSERT_FALSE(mmu::validate(c));
  const auto ref = mmucheck::make_engine("ref"), k314 = mmucheck::make_engine("kvm-3.14");
  if (!k314) GTEST_SKIP() << "no kvm-3.14 engine in this build";
  const mmu::Verdict vr = ref->evaluate(c, nullptr), vk = k314->evaluate(c, nullptr);
  ASSERT_FALSE(mmu::accepts(vr, vk.outcome));
  const auto* known = mmucheck::known_divergence("ref", "kvm-3.14", c, vr, vk);
  ASSERT_TRUE(known);
  EXPECT_EQ(known->id, "1g-page-without-cpuid-support");
}

}  // namespace findings
