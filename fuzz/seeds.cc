// fuzz_seeds: turns JSON cases into seed inputs for the fuzz targets.
//
//   fuzz_seeds OUTDIR CASE_OR_DIR...            # encoded (fuzz/decoder.h), one file per case
//   fuzz_seeds --json OUTDIR CASE_OR_DIR...     # the JSON files as they are (fuzz_case_json)
//   fuzz_seeds --exclude NAME.json OUTDIR ...   # leave a file out (the bug-zoo benchmark)
//
// Output files are named after the case file (path below the argument, '/'
// replaced by '_'), with ".bin" for encoded seeds. Exit 2 on unreadable or
// invalid cases.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/decoder.h"
#include "replay/case_reader.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  bool json = false;
  std::vector<std::string> exclude, inputs;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--exclude" && i + 1 < argc) exclude.push_back(argv[++i]);
    else if (out.empty()) out = a;
    else inputs.push_back(a);
  }
  if (out.empty() || inputs.empty()) {
    std::fprintf(stderr, "usage: fuzz_seeds [--json] [--exclude FILE.json]... OUTDIR CASE_OR_DIR...\n");
    return 2;
  }
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
        std::ofstream o(fs::path(out) / (stem + (n ? "-" + std::to_string(n) : "") + ".bin"), std::ios::binary);
        o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        ++written;
      }
    }
  }
  std::fprintf(stderr, "fuzz_seeds: wrote %d seeds to %s\n", written, out.c_str());
  return status;
}
