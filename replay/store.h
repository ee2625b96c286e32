// The divergence store: a directory that keeps every divergence found, once
// per signature (replay/minimize.h), with its first case and its minimised
// case, in files written atomically (a reader, or a campaign killed at any
// moment, never sees half a file).
//
//   DIR/index.json          {"version": 1, "divergences": [entry, ...]}
//   DIR/cases/ID.json       the first case seen with this signature
//   DIR/cases/ID.min.json   its minimised form
//
//   mmucheck::DivergenceStore store("out/divergences");
//   if (store.record(sig, "ref,kvm", c, [&] { return minimize(c, *a, *b).kase; })) { /* new */ }
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "model/case.h"

namespace mmucheck {

// Writes `text` to `path` through a temporary file and a rename.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

class DivergenceStore {
 public:
  struct Entry {
    std::string id;          // "d0001", ...
    std::string signature;
    std::string engines;     // "ref,kvm"
    std::string first_seen;  // UTC, ISO 8601
    std::string last_seen;
    unsigned long long count = 0;
    std::string status = "new";  // new | known | fixed
    std::string reason;          // why, for known and fixed
    std::string case_file;       // relative to the store
    std::string minimized_file;
  };

  // Opens (creating if needed) the store in `dir`. A corrupt index throws
  // std::runtime_error naming the file; nothing is overwritten then.
  explicit DivergenceStore(std::filesystem::path dir);

  // Counts a divergence; the first time a signature is seen it also writes the
  // case and `minimized()` of it, and returns true.
  // An entry marked fixed that is seen again becomes new (a regression).
  bool record(const std::string& signature, const std::string& engines, const mmu::Case& c,
              const std::function<mmu::Case()>& minimized);
  // Marks an entry known (with a reason) or fixed; false when `id` is unknown.
  bool set_status(const std::string& id, const std::string& status, const std::string& reason);

  const std::vector<Entry>& entries() const { return entries_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void save() const;

  std::filesystem::path dir_;
  std::vector<Entry> entries_;
};

std::string utc_now();  // "2026-12-02T03:50:00Z"

}  // namespace mmucheck
