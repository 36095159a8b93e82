// http_fanout: seed 000 (numaflow's async reduce UDF) — a rate-limited generator -> one
// HTTP call per message to a server with an I/O delay -> a tumbling-window reduce (count,
// errors, latency p50/p99 per window) -> one line per window.
//
//   http_fanout                                   # async, 100 msg/s, 200us delay, 30 s
//   http_fanout --mode sequential --delay 1s --rpu 10 --window 5s --duration 20s
//   http_fanout --table --duration 20s --window 5s     # the seed's grid, with a PNG
//   http_fanout --url http://127.0.0.1:8080/delay --json
//   http_fanout --dot                             # the graph (Graphviz), not run
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sluice/http_server.hpp>

#include "grid.hpp"
#include "scenario.hpp"
#include "summary.hpp"
#include "target.hpp"

namespace {

using namespace http_fanout;
using std::chrono::microseconds;

// Durations on the command line: 0, 200us, 5ms, 1s, 2m; a bare number is seconds.
const std::map<std::string, double> kSecondsPer{
    {"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}, {"m", 60.0}};

microseconds to_us(double seconds) {
  return microseconds(static_cast<long long>(seconds * 1e6 + 0.5));
}

// The progress line and the window lines share the terminal: one writer at a time, and
// the progress line is wiped before anything else is printed.
class Terminal {
 public:
  explicit Terminal(bool live)
      : live_(live), quiet_until_(Clock::now() + std::chrono::seconds(1)) {}
  /// Draws `line` in place; nothing during the first second, so short runs stay quiet.
  void progress(const std::string& line) {
    if (!live_ || Clock::now() < quiet_until_) return;
    std::lock_guard lock(mutex_);
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
    drawn_ = true;
  }
  void println(const std::string& line) {
    std::lock_guard lock(mutex_);
    wipe();
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  void done() {
    std::lock_guard lock(mutex_);
    wipe();
  }

 private:
  void wipe() {
    if (drawn_) std::fprintf(stderr, "\r\x1b[K");
    drawn_ = false;
  }
  using Clock = std::chrono::steady_clock;
  bool live_;
  Clock::time_point quiet_until_;
  bool drawn_ = false;
  std::mutex mutex_;
};

std::string run_line(double elapsed, double duration, std::uint64_t sent, std::uint64_t done) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%6.1fs / %.0fs  sent %llu  completed %llu  in flight %llu",
                elapsed, duration, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(done),
                static_cast<unsigned long long>(sent - std::min(sent, done)));
  return buf;
}

// Every connection is a descriptor; with the embedded server, two (it holds the other
// end). The limit is raised to the hard one first; calls past it would fail with
// no_descriptors, so the run says so before it starts rather than in its error counts.
void warn_if_descriptors_short(std::size_t connections, bool embedded_server) {
  constexpr std::uint64_t kSlack = 64;  // the server's listener, epoll sets, files, ...
  const std::uint64_t limit = sluice::http_server::raise_fd_limit();
  const std::uint64_t needed = connections * (embedded_server ? 2u : 1u) + kSlack;
  if (limit == 0 || needed <= limit) return;
  std::cerr << "http_fanout: warning: " << connections << " calls in flight need up to " << needed
            << " file descriptors ("
            << (embedded_server ? "two per connection, as the embedded server holds the other end"
                                : "one per connection")
            << ") but this process may open " << limit
            << " (RLIMIT_NOFILE, raised to its hard limit): calls past it fail with "
               "no_descriptors. Raise the hard limit (ulimit -Hn, LimitNOFILE=), lower "
               "--concurrency or --threads"
            << (embedded_server ? ", or run the server in its own process (--url)" : "") << ".\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "http_fanout: a rate-limited generator -> one HTTP call per message -> tumbling-window "
      "reduce (seed 000). Durations: 0, 200us, 5ms, 1s, 2m (a bare number is seconds)."};
  std::string mode = "async";
  ScenarioOptions o;
  double delay_s = 200e-6;
  double window_s = 10;
  double duration_s = 30;
  std::string url;
  bool table = false;
  std::vector<double> table_rpu{10, 100};
  std::vector<double> table_delay_s{0, 200e-6, 1};
  std::string png = "http_fanout_grid.png";
  bool json = false;

  const auto unit = CLI::AsNumberWithUnit(kSecondsPer, CLI::AsNumberWithUnit::CASE_SENSITIVE);
  app.add_option("--mode", mode, "how calls are made: sequential, threadpool or async")
      ->check(CLI::IsMember({"sequential", "threadpool", "async"}))
      ->capture_default_str();
  app.add_option("--rpu", o.rpu, "input RPU: messages generated per second")
      ->check(CLI::Range(0.001, 1e6))
      ->capture_default_str();
  app.add_option("--delay", delay_s, "I/O delay the server waits before answering [200us]")
      ->transform(unit)
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--window", window_s, "tumbling window length [10s]")
      ->transform(unit)
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--duration", duration_s, "how long messages are generated [30s]")
      ->transform(unit)
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--concurrency", o.concurrency, "async: requests in flight at most")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "threadpool: blocking workers")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
      ->capture_default_str();
  app.add_option("--url", url,
                 "server to call (http or https; the delay is added as delay_us=); default: an "
                 "embedded local server");
  app.add_flag("--table", table, "run the seed's grid: every mode x --table-rpu x --table-delay");
  app.add_option("--table-rpu", table_rpu, "RPU values of the grid (add 1000,10000 for more)")
      ->delimiter(',')
      ->check(CLI::Range(0.001, 1e6))
      ->capture_default_str();
  app.add_option("--table-delay", table_delay_s, "delays of the grid [0,200us,1s]")
      ->delimiter(',')
      ->transform(unit)
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--png", png, "--table: the chart to draw (its figures go to FILE.json)")
      ->capture_default_str();
  app.add_flag("--json", json, "print a JSON summary on stdout instead of text");
  bool dot = false;
  app.add_flag("--dot", dot, "print the graph of --mode (Graphviz) and exit without running");
  CLI11_PARSE(app, argc, argv);

  o.mode = mode == "sequential"   ? Mode::sequential
           : mode == "threadpool" ? Mode::threadpool
                                  : Mode::async;
  o.delay = to_us(delay_s);
  o.window = std::chrono::milliseconds(std::max<long long>(1, to_us(window_s).count() / 1000));
  o.duration = std::chrono::milliseconds(std::max<long long>(1, to_us(duration_s).count() / 1000));
  if (dot) {
    std::cout << scenario_dot(o);
    return 0;
  }
  Terminal terminal(isatty(STDERR_FILENO) != 0 && !json);
  std::size_t connections = 1;
  if (table || o.mode == Mode::async) connections = std::max(connections, o.concurrency);
  if (table || o.mode == Mode::threadpool) connections = std::max(connections, o.threads);
  warn_if_descriptors_short(connections, url.empty());

  try {
    std::optional<sluice::http_server::LocalServer> server;
    std::function<std::string(microseconds)> url_for;
    if (url.empty()) {
      server.emplace();
      url_for = [&server](microseconds d) { return with_delay(server->url("/delay"), d); };
    } else {
      sluice::http::Client probe;
      check_target(url, probe);
      url_for = [&url](microseconds d) { return with_delay(url, d); };
    }

    if (table) {
      GridOptions grid;
      grid.base = o;
      grid.rpus = table_rpu;
      grid.delays.clear();
      for (double d : table_delay_s) grid.delays.push_back(to_us(d));
      auto results = run_grid(grid, url_for, [&](const CellProgress& p) {
        terminal.progress("[" + std::to_string(p.cell) + "/" + std::to_string(p.cells) + "] " +
                          to_string(p.options->mode) + " rpu " +
                          std::to_string(static_cast<long long>(p.options->rpu)) + " delay " +
                          format_delay(p.options->delay) + ": " +
                          run_line(p.elapsed_s, duration_s, p.sent, p.completed));
      });
      terminal.done();
      const auto figures = grid_json(results);
      const std::filesystem::path png_path(png);
      const std::filesystem::path json_path = png_path.string() + ".json";
      std::ofstream(json_path) << figures.dump(2) << "\n";
      const std::string why = draw_grid_png(json_path, png_path);
      if (json) {
        std::cout << figures.dump(2) << "\n";
      } else {
        print_grid(std::cout, results);
        std::cout << "\nfigures: " << json_path.string() << "\n";
        if (why.empty()) std::cout << "chart: " << png_path.string() << "\n";
      }
      if (!why.empty()) std::cerr << "http_fanout: no chart drawn: " << why << "\n";
      return 0;
    }

    ScenarioHooks hooks;
    if (!json) hooks.on_window = [&](const WindowLine& w) { terminal.println(format_window(w)); };
    hooks.on_progress = [&](double elapsed, std::uint64_t sent, std::uint64_t done, std::size_t) {
      terminal.progress(run_line(elapsed, duration_s, sent, done));
    };
    const ScenarioResult r = run_scenario(o, url_for(o.delay), hooks);
    terminal.done();
    if (json) {
      std::cout << to_json(r).dump(2) << "\n";
    } else {
      print_text(std::cout, r);
    }
    return 0;
  } catch (const TargetError& e) {
    terminal.done();
    std::cerr << "http_fanout: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    terminal.done();
    std::cerr << "http_fanout: error: " << e.what() << "\n";
    return 1;
  }
}
