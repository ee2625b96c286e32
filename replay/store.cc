#include "replay/store.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "replay/case_json.h"

namespace mmucheck {

void write_file_atomic(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write", tmp.string()));
  }
  std::filesystem::rename(tmp, path);
}

std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

DivergenceStore::DivergenceStore(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_ / "cases");
  const auto index = dir_ / "index.json";
  if (!std::filesystem::exists(index)) return;
  std::ifstream in(index);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
    if (j.value("version", 0) != 1) throw std::runtime_error("unsupported version");
    for (const auto& e : j.at("divergences")) {
      Entry x;
      x.id = e.at("id");
      x.signature = e.at("signature");
      x.engines = e.at("engines");
      x.first_seen = e.at("first_seen");
      x.last_seen = e.at("last_seen");
      x.count = e.at("count");
      x.status = e.at("status");
      x.reason = e.value("reason", "");
      x.case_file = e.at("case");
      x.minimized_file = e.at("minimized");
      entries_.push_back(std::move(x));
    }
  } catch (const std::exception& ex) {
    throw std::runtime_error(fmt::format("{}: not a divergence index ({})", index.string(), ex.what()));
  }
}

void DivergenceStore::save() const {
  nlohmann::json list = nlohmann::json::array();
  for (const Entry& e : entries_)
    list.push_back({{"id", e.id},
                    {"signature", e.signature},
                    {"engines", e.engines},
                    {"first_seen", e.first_seen},
                    {"last_seen", e.last_seen},
                    {"count", e.count},
                    {"status", e.status},
                    {"reason", e.reason},
                    {"case", e.case_file},
                    {"minimized", e.minimized_file}});
  write_file_atomic(dir_ / "index.json", nlohmann::json{{"version", 1}, {"divergences", list}}.dump(2) + "\n");
}

bool DivergenceStore::record(const std::string& signature, const std::string& engines, const mmu::Case& c,
                             const std::function<mmu::Case()>& minimized) {
  const std::string now = utc_now();
  for (Entry& e : entries_)
    if (e.signature == signature && e.engines == engines) {
      ++e.count;
      e.last_seen = now;
      // Seen again after it was marked fixed: the fix did not hold.
      if (e.status == "fixed") {
        e.status = "new";
        e.reason = "seen again on " + now + " after it was marked fixed";
      }
      save();
      return false;
    }
  Entry e;
  e.id = fmt::format("d{:04}", entries_.size() + 1);
  e.signature = signature;
  e.engines = engines;
  e.first_seen = e.last_seen = now;
  e.count = 1;
  e.case_file = "cases/" + e.id + ".json";
  e.minimized_file = "cases/" + e.id + ".min.json";
  mmu::Case named = c;
  named.name = fmt::format("{} ({})", signature, e.id);
  write_file_atomic(dir_ / e.case_file, case_to_json(named).dump(2) + "\n");
  mmu::Case small = minimized();
  small.name = fmt::format("{} ({}, minimised)", signature, e.id);
  write_file_atomic(dir_ / e.minimized_file, case_to_json(small).dump(2) + "\n");
  entries_.push_back(std::move(e));
  save();  // the cases first, then the index that names them
  return true;
}

bool DivergenceStore::set_status(const std::string& id, const std::string& status, const std::string& reason) {
  for (Entry& e : entries_)
    if (e.id == id) {
      e.status = status;
      e.reason = reason;
      save();
      return true;
    }
  return false;
}

}  // namespace mmucheck
