// fuzz_seeds: turns JSON cases into seed inputs for the fuzz targets.
//
//   fuzz_seeds OUTDIR CASE_OR_DIR...            # encoded (fuzz/decoder.h), one file per case
//   fuzz_seeds --json OUTDIR CASE_OR_DIR...     # the JSON files as they are (fuzz_case_json)
//   fuzz_seeds --exclude NAME.json OUTDIR ...   # leave a file out (the bug-zoo benchmark)
//   fuzz_seeds --target fuzz_guest_walk --drop-diverging ref,kvm:stale-cr0-wp OUTDIR ...
//                                                # leave out every seed on which, as that
//                                                # target decodes it, the engines diverge
//                                                # (--with-known: allow-listed findings too)
//
// Output files are named after the case file (path below the argument, '/'
// replaced by '_'), with ".bin" for encoded seeds. Exit 2 on unreadable or
// invalid cases.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/decoder.h"
#include "fuzz/targets.h"
#include "replay/case_reader.h"
#include "replay/engine.h"
#include "replay/known.h"

namespace fs = std::filesystem;

namespace {

// True when the engines (baseline first) diverge on `bytes` as `target`
// decodes them, outside the allow-list.
bool diverges(const std::vector<std::unique_ptr<mmucheck::Engine>>& engines, const mmucheck::fuzz::TargetSpec& target,
              const std::vector<std::uint8_t>& bytes, bool with_known) {
  const mmu::Case c = mmucheck::fuzz::decode(bytes, target.decode);
  if (engines[0]->unsupported(c)) return false;
  const mmu::Verdict base = engines[0]->evaluate(c, nullptr);
  for (std::size_t i = 1; i < engines.size(); ++i) {
    if (engines[i]->unsupported(c)) continue;
    const mmu::Verdict v = engines[i]->evaluate(c, nullptr);
    if (!mmu::accepts(base, v.outcome) &&
        (with_known || !mmucheck::known_divergence(engines[0]->name(), engines[i]->name(), c, base, v)))
      return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, with_known = false;
  std::vector<std::string> exclude, inputs;
  std::string out, target_name = "fuzz_guest_walk", drop;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--exclude" && i + 1 < argc) exclude.push_back(argv[++i]);
    else if (a == "--target" && i + 1 < argc) target_name = argv[++i];
    else if (a == "--drop-diverging" && i + 1 < argc) drop = argv[++i];
    else if (a == "--with-known") with_known = true;
    else if (out.empty()) out = a;
    else inputs.push_back(a);
  }
  if (out.empty() || inputs.empty()) {
    std::fprintf(stderr,
                 "usage: fuzz_seeds [--json] [--exclude FILE.json]... [--target T --drop-diverging A,B] OUTDIR "
                 "CASE_OR_DIR...\n");
    return 2;
  }
  const mmucheck::fuzz::TargetSpec* target = mmucheck::fuzz::find_target(target_name);
  if (!target) {
    std::fprintf(stderr, "fuzz_seeds: unknown target %s\n", target_name.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<mmucheck::Engine>> engines;
  for (std::size_t start = 0; !drop.empty() && start <= drop.size();) {
    const std::size_t comma = std::min(drop.find(',', start), drop.size());
    const std::string name = drop.substr(start, comma - start);
    auto e = mmucheck::make_engine(name);
    if (!e) {
      std::fprintf(stderr, "fuzz_seeds: unknown engine %s\n", name.c_str());
      return 2;
    }
    engines.push_back(std::move(e));
    start = comma + 1;
  }
  if (!drop.empty() && engines.size() < 2) {
    std::fprintf(stderr, "fuzz_seeds: --drop-diverging needs two engines or more\n");
    return 2;
  }
  int dropped = 0;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", out.c_str(), ec.message().c_str());
    return 2;
  }
  int status = 0, written = 0;
  for (const std::string& in : inputs) {
    std::vector<std::pair<fs::path, std::string>> files;  // path, output stem
    if (fs::is_directory(in, ec)) {
      for (const auto& de : fs::recursive_directory_iterator(in, ec))
        if (de.is_regular_file() && de.path().extension() == ".json") {
          std::string stem = fs::relative(de.path(), in).replace_extension().string();
          std::replace(stem.begin(), stem.end(), '/', '_');
          files.emplace_back(de.path(), fs::path(in).filename().string() + "_" + stem);
        }
    } else {
      files.emplace_back(in, fs::path(in).stem().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& [path, stem] : files) {
      if (std::find(exclude.begin(), exclude.end(), path.filename().string()) != exclude.end()) continue;
      std::ifstream f(path, std::ios::binary);
      if (!f) {
        std::fprintf(stderr, "%s: cannot read\n", path.c_str());
        status = 2;
        continue;
      }
      if (json) {
        std::ofstream o(fs::path(out) / (stem + ".json"), std::ios::binary);
        o << f.rdbuf();
        ++written;
        continue;
      }
      mmucheck::CaseReader reader(f, path.string());
      int n = 0;
      for (mmucheck::CaseRecord rec; reader.next(rec); ++n) {
        if (!rec.file) {
          std::fprintf(stderr, "%s\n", rec.error.c_str());
          status = 2;
          continue;
        }
        const auto bytes = mmucheck::fuzz::encode(rec.file->kase);
        if (!engines.empty() && diverges(engines, *target, bytes, with_known)) {
          ++dropped;
          continue;
        }
        std::ofstream o(fs::path(out) / (stem + (n ? "-" + std::to_string(n) : "") + ".bin"), std::ios::binary);
        o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        ++written;
      }
    }
  }
  std::fprintf(stderr, "fuzz_seeds: wrote %d seeds to %s", written, out.c_str());
  if (!engines.empty()) std::fprintf(stderr, " (left out %d on which %s diverge as %s)", dropped, drop.c_str(), target->name.data());
  std::fprintf(stderr, "\n");
  return status;
}
