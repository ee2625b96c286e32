#include "fuzz/harness.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/engine.h"
#include "replay/known.h"
#include "replay/minimize.h"
#include "replay/replay.h"

namespace mmucheck::fuzz {
namespace {

struct State {
  std::string target_name = "fuzz";
  const char* target = "fuzz";
  DecodeOptions decode;
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::string> names;
  std::string divergence_dir;
  mmu::Case kase;  // reused: decode_into keeps its storage
  bool abort_on_known = false;  // $MMUCHECK_ABORT_ON_KNOWN=1: allow-listed findings abort too
  bool ready = false;
};
State& state() {
  static State s;
  return s;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// The value of `--NAME=VALUE` among the arguments, if given.
const char* flag(int argc, char** argv, std::string_view name) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.size() > name.size() + 3 && a.starts_with("--") && a.substr(2, name.size()) == name &&
        a[2 + name.size()] == '=')
      return argv[i] + 3 + name.size();
  }
  return nullptr;
}

std::string hex_bytes(const std::uint8_t* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

// Writes the divergence as a replayable case file (tmp + rename: never half a
// case) and returns its path, or "" with a message when it could not.
std::string write_divergence(const State& s, std::size_t other, const mmu::Verdict& base, const mmu::Verdict& v,
                             const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const std::string& a = s.names[0];
  const std::string& b = s.names[other];
  nlohmann::json j = case_to_json(s.kase);
  j["name"] = std::string(s.target) + ": " + a + " vs " + b + " diverge";
  if (a == "ref") j["expect"] = verdict_to_json(base);
  // The signature the divergence store dedups by (replay/minimize.h).
  const auto signature = divergence_signature(s.kase, *s.engines[0], *s.engines[other]);
  j["divergence"] = {{"target", s.target},
                     {"engines", {a, b}},
                     {"signature", signature ? *signature : std::string()},
                     {"outcomes", {{a, verdict_to_json(base)}, {b, outcome_to_json(v.outcome)}}},
                     {"input", hex_bytes(data, size)}};
  std::string file = std::string(s.target) + "-" + b + "-";
  for (char& ch : file)
    if (ch == ':' || ch == '/') ch = '_';
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(data, size)));
  file += hash;
  std::error_code ec;
  fs::create_directories(s.divergence_dir, ec);
  const fs::path path = fs::path(s.divergence_dir) / (file + ".json");
  const fs::path tmp = fs::path(s.divergence_dir) / ("." + file + ".tmp." + std::to_string(getpid()));
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out.flush()) {
      std::fprintf(stderr, "%s: cannot write %s\n", s.target, tmp.c_str());
      return "";
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::fprintf(stderr, "%s: cannot rename %s to %s: %s\n", s.target, tmp.c_str(), path.c_str(), ec.message().c_str());
    return "";
  }
  return path.string();
}

}  // namespace

void harness_init(std::string_view target, int* argc, char*** argv) {
  const TargetSpec* found = find_target(target);
  if (!found) {
    std::fprintf(stderr, "fuzz: unknown target '%.*s' (fuzz/targets.cc)\n", static_cast<int>(target.size()), target.data());
    std::exit(2);
  }
  const TargetSpec& spec = *found;
  State& s = state();
  s.target_name = std::string(spec.name);
  s.target = s.target_name.c_str();
  s.decode = spec.decode;

  const char* engines = flag(*argc, *argv, "engines");
  if (engines) setenv("MMUCHECK_ENGINES", engines, 1);  // -fork / -jobs children inherit it
  else engines = std::getenv("MMUCHECK_ENGINES");
  const bool user_engines = engines && *engines;
  const std::string chosen = user_engines ? std::string(engines) : std::string(spec.default_engines);
  s.names = split(chosen);
  if (s.names.size() < 2) {
    std::fprintf(stderr, "%s: need at least two engines (baseline first), got '%s'\n", s.target, chosen.c_str());
    std::exit(2);
  }
  for (const std::string& n : s.names) {
    auto e = make_engine(n);
    if (!e) {
      std::string known;
      for (const auto& k : engine_names()) known += (known.empty() ? "" : ", ") + k;
      if (!user_engines) {
        std::fprintf(stderr,
                     "%s: SKIPPED: engine '%s' is not in this build (known: %s); nothing to fuzz, exiting 77\n",
                     s.target, n.c_str(), known.c_str());
        std::exit(77);
      }
      std::fprintf(stderr, "%s: unknown engine '%s' (known: %s, and kvm:MUTANT for each of `mmucheck mutants`)\n",
                   s.target, n.c_str(), known.c_str());
      std::exit(2);
    }
    s.engines.push_back(std::move(e));
  }

  const char* dir = flag(*argc, *argv, "divergence-dir");
  if (dir) setenv("MMUCHECK_DIVERGENCE_DIR", dir, 1);
  else dir = std::getenv("MMUCHECK_DIVERGENCE_DIR");
  s.divergence_dir = dir && *dir ? dir : "divergences";
  const char* known = std::getenv("MMUCHECK_ABORT_ON_KNOWN");
  s.abort_on_known = known && std::string_view(known) == "1";

  std::string list;
  for (const auto& n : s.names) list += (list.empty() ? "" : ", ") + n;
  std::fprintf(stderr, "%s: shape %s, engines %s (baseline first); divergences go to %s/\n", s.target,
               std::string(shape_name(s.decode.shape)).c_str(), list.c_str(), s.divergence_dir.c_str());
  s.ready = true;
}

int harness_run(const std::uint8_t* data, std::size_t size) {
  State& s = state();
  if (!s.ready) {
    std::fprintf(stderr, "%s: LLVMFuzzerInitialize was not called\n", s.target);
    std::abort();
  }
  decode_into({data, size}, s.decode, s.kase);
  if (auto bad = mmu::validate(s.kase)) {
    std::fprintf(stderr, "%s: the decoder produced an invalid case (%s: %s)\n%s\n", s.target, bad->field.c_str(),
                 bad->message.c_str(), case_to_json(s.kase).dump().c_str());
    std::abort();
  }
  const Engine& base = *s.engines[0];
  if (base.unsupported(s.kase)) return 0;  // never compared
  const mmu::Verdict vbase = base.evaluate(s.kase, nullptr);
  for (std::size_t i = 1; i < s.engines.size(); ++i) {
    const Engine& e = *s.engines[i];
    if (e.unsupported(s.kase)) continue;
    const mmu::Verdict v = e.evaluate(s.kase, nullptr);
    if (mmu::accepts(vbase, v.outcome)) continue;
    const KnownDivergence* known = known_divergence(s.names[0], s.names[i], s.kase, vbase, v);
    if (known && !s.abort_on_known) continue;  // a documented finding about KVM, not a crash
    const std::string path = write_divergence(s, i, vbase, v, data, size);
    if (known) std::fprintf(stderr, "\n%s: known divergence %s (MMUCHECK_ABORT_ON_KNOWN=1)", s.target, std::string(known->id).c_str());
    else std::fprintf(stderr, "\n%s: DIVERGENCE not explained by the allow-list", s.target);
    std::fprintf(stderr,
                 "\n  %-24s %s\n  %-24s %s\n  case: %s\n"
                 "  replay: mmucheck replay --engines %s,%s %s\n",
                 s.names[0].c_str(), describe_outcome(vbase.outcome).c_str(), s.names[i].c_str(),
                 describe_outcome(v.outcome).c_str(), path.empty() ? "(not written)" : path.c_str(),
                 s.names[0].c_str(), s.names[i].c_str(), path.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace mmucheck::fuzz
