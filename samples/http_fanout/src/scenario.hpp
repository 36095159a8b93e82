// One run of seed 000's scenario: a generator at a fixed rate (the input RPU) -> one HTTP
// call per message -> a tumbling-window reduce -> one line per window.
//
//   ScenarioOptions o{.mode = Mode::async, .rpu = 100, .delay = 200us};
//   ScenarioResult r = run_scenario(o, "http://127.0.0.1:8080/delay?delay_us=200");
//   std::printf("%.1f requests/s, %zu windows\n", r.throughput_rps, r.windows.size());
//
// The modes make the call the three ways the seed compares: one blocking call at a time
// (`sequential`), blocking calls on a pool of `threads` workers (`threadpool`: a map stage
// whose concurrency is the pool), and the async HTTP stage with `concurrency` requests in
// flight (`async`). Messages are generated for `duration`; those still waiting for a call
// when it is over are counted as unsent rather than sent late, so each run ends about
// `duration` (plus one I/O delay) after it starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <sluice/report.hpp>

namespace http_fanout {

enum class Mode { sequential, threadpool, async };
const char* to_string(Mode m) noexcept;

struct ScenarioOptions {
  Mode mode = Mode::async;
  double rpu = 100;  ///< messages generated per second
  std::chrono::microseconds delay{200};
  std::chrono::milliseconds window{10'000};
  std::chrono::milliseconds duration{30'000};
  std::size_t concurrency = 1000;  ///< async: requests in flight at most
  std::size_t threads = 100;       ///< threadpool: blocking workers
};

/// One closed window: its interval and what completed in it.
struct WindowLine {
  std::uint64_t index = 0;
  double start_s = 0;
  double end_s = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  bool partial = false;  ///< cut short by the end of the run
  std::uint64_t completed() const noexcept { return ok + errors; }
};

struct ScenarioResult {
  ScenarioOptions options;
  std::string url;
  std::uint64_t generated = 0;  ///< messages made by the generator
  std::uint64_t sent = 0;       ///< HTTP calls made
  std::uint64_t ok = 0;         ///< 2xx responses
  std::uint64_t failed = 0;     ///< other statuses and transport errors
  std::uint64_t unsent = 0;     ///< messages whose call had not started when time was up
  double elapsed_s = 0;
  double throughput_rps = 0;  ///< completed calls per second of the run
  double p50_ms = 0;
  double p99_ms = 0;
  std::uint64_t connections_opened = 0;         ///< by the client, over the run
  std::uint64_t peak_connections = 0;           ///< open at once by the client, at most
  std::map<std::string, std::uint64_t> errors;  ///< by kind: "http_503", "timeout", ...
  std::vector<WindowLine> windows;
  sluice::Report report;
};

/// Called on the pipeline's sink thread as each window closes; and with the run so far
/// (elapsed seconds, calls sent, completed, windows) every `progress_interval` when set.
struct ScenarioHooks {
  std::function<void(const WindowLine&)> on_window{};
  std::function<void(double, std::uint64_t, std::uint64_t, std::size_t)> on_progress{};
  std::chrono::milliseconds progress_interval{250};
};

/// The scenario's graph for `options.mode` as Graphviz text (to_dot()), without running it.
///
///   std::cout << scenario_dot({.mode = Mode::async});
std::string scenario_dot(const ScenarioOptions& options);

/// Runs the scenario against `url` (each message requests it once).
ScenarioResult run_scenario(const ScenarioOptions& options, const std::string& url,
                            const ScenarioHooks& hooks = {});

}  // namespace http_fanout
