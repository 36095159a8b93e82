// How a run is reported: a text summary for people, a JSON object for scripts.
//
//   print_text(std::cout, result);
//   std::cout << to_json(result).dump(2) << "\n";
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "scenario.hpp"

namespace http_fanout {

/// "0", "200us", "1ms", "1s": how delays are written on the command line.
std::string format_delay(std::chrono::microseconds d);

/// One window as a line: "window 2 [20.0s, 30.0s): 1000 ok, 0 errors, p50 ..., p99 ...".
std::string format_window(const WindowLine& w);

/// The run's summary and its pipeline report.
void print_text(std::ostream& os, const ScenarioResult& r);

/// sent, ok, failed, elapsed_s, throughput_rps, p50_ms, p99_ms, errors {kind: n}, the
/// settings, and every window.
nlohmann::json to_json(const ScenarioResult& r);

}  // namespace http_fanout
