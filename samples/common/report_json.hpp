// The run report as JSON, for the samples' --json output: the pipeline-wide counts and one
// object per stage (its counts, body latency and busy fraction). nlohmann/json finds these
// by argument-dependent lookup, so a Report converts like any value:
//
//   nlohmann::json j = pipeline.run();
//   std::cout << j["stages"][1]["busy_fraction"] << "\n";
#pragma once

#include <nlohmann/json.hpp>

#include <sluice/report.hpp>

namespace sluice {

void to_json(nlohmann::json& j, const LatencySummary& l);
void to_json(nlohmann::json& j, const StageReport& s);
void to_json(nlohmann::json& j, const Report& r);

}  // namespace sluice
