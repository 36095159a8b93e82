// --table: seed 000's grid of runs (input RPU x I/O delay x mode), printed side by side
// like the seed's charts, and drawn as a PNG.
//
//   GridOptions g{.rpus = {10, 100}, .delays = {0us, 200us, 1s}};
//   auto results = run_grid(g, url_for, on_cell_progress);
//   print_grid(std::cout, results);
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario.hpp"

namespace http_fanout {

struct GridOptions {
  std::vector<double> rpus{10, 100};
  std::vector<std::chrono::microseconds> delays{
      std::chrono::microseconds(0), std::chrono::microseconds(200), std::chrono::seconds(1)};
  std::vector<Mode> modes{Mode::sequential, Mode::threadpool, Mode::async};
  /// Window, duration, concurrency and threads of every run.
  ScenarioOptions base{};
};

/// Which cell is running (1-based, of `cells`), for a progress line.
struct CellProgress {
  std::size_t cell = 0;
  std::size_t cells = 0;
  const ScenarioOptions* options = nullptr;
  double elapsed_s = 0;
  std::uint64_t sent = 0;
  std::uint64_t completed = 0;
};

/// Runs every cell, one after another; `url_for(delay)` names the URL of a cell.
std::vector<ScenarioResult> run_grid(
    const GridOptions& grid, const std::function<std::string(std::chrono::microseconds)>& url_for,
    const std::function<void(const CellProgress&)>& on_progress = {});

/// One row per (RPU, delay), one column per mode: requests/s and windows with results;
/// then each run's completed calls per window.
void print_grid(std::ostream& os, const std::vector<ScenarioResult>& results);

/// {"grid": [summary, ...]} (see to_json).
nlohmann::json grid_json(const std::vector<ScenarioResult>& results);

/// Draws the grid's PNG from its JSON with the plotter installed next to this program
/// (python3 + matplotlib). Returns an empty string, or why no PNG was drawn.
std::string draw_grid_png(const std::filesystem::path& json, const std::filesystem::path& png);

}  // namespace http_fanout
