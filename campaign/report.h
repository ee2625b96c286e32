// The campaign's report: DIR/report.json (everything, for tools) and
// DIR/report.html (the same data, self-contained: no network, the JSON
// embedded and rendered by a small script, charts as inline SVG).
//
//   mmucheck::write_report("out", state, store);
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>

#include "replay/store.h"

namespace mmucheck {

// `state` is the campaign state (campaign.cc); the store gives the divergences.
// Returns the report's JSON as written.
nlohmann::json write_report(const std::filesystem::path& dir, const nlohmann::json& state,
                            const DivergenceStore& store);

}  // namespace mmucheck
