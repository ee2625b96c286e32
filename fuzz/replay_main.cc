// A main for any fuzz target that runs inputs instead of fuzzing: builds with
// g++ as well as clang, so the corpora are regression tests everywhere (ctest
// runs each target's replay binary over corpus/).
//
//   fuzz_guest_walk_replay [--engines=ref,kvm:stale-cr0-wp] FILE|DIR...
//
// Directories are searched recursively. A *.json file is a case
// (docs/case-format.md, one document or JSON lines): each case is encoded
// with the fuzz input format (fuzz/decoder.h) and run; every other file is a
// raw fuzz input (a libFuzzer/AFL++ corpus entry or crash). Targets whose input
// is JSON text (fuzz_case_json) get *.json files as they are.
// Exit: 0 every input ran, 2 unreadable input; a divergence aborts, as when fuzzing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/decoder.h"
#include "replay/case_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" __attribute__((weak)) int mmucheck_fuzz_raw_json();

namespace {

namespace fs = std::filesystem;

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

int run_text(const std::string& text) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  return 1;
}

// Returns the number of inputs run, or -1 when the file cannot be used.
int run_file(const fs::path& p, bool raw_json) {
  std::string text;
  if (!read_file(p, text)) {
    std::fprintf(stderr, "%s: cannot read\n", p.c_str());
    return -1;
  }
  if (p.extension() != ".json" || raw_json) return run_text(text);
  std::istringstream in(text);
  mmucheck::CaseReader reader(in, p.string());
  int n = 0;
  for (mmucheck::CaseRecord rec; reader.next(rec);) {
    if (!rec.file) {
      std::fprintf(stderr, "%s\n", rec.error.c_str());
      return -1;
    }
    const std::vector<std::uint8_t> bytes = mmucheck::fuzz::encode(rec.file->kase);
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++n;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  const bool raw_json = mmucheck_fuzz_raw_json && mmucheck_fuzz_raw_json();
  std::vector<fs::path> files;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--")) continue;  // the harness's flags (fuzz/harness.h)
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<fs::path> found;
      for (const auto& de : fs::recursive_directory_iterator(a, ec))
        if (de.is_regular_file() && !de.path().filename().string().starts_with(".")) found.push_back(de.path());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(a, ec)) {
      files.emplace_back(a);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", a.c_str());
      status = 2;
    }
  }
  if (files.empty() && status == 0) {
    std::fprintf(stderr, "usage: %s [--engines=A,B] FILE|DIR...\n", argv[0]);
    return 2;
  }
  long inputs = 0;
  for (const fs::path& p : files) {
    const int n = run_file(p, raw_json);
    if (n < 0) status = 2;
    else inputs += n;
  }
  std::fprintf(stderr, "%s: ran %ld inputs from %zu files\n", argv[0], inputs, files.size());
  return status;
}
