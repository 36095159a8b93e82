#include "grid.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <system_error>

#include "summary.hpp"

namespace http_fanout {
namespace {

namespace fs = std::filesystem;

// Windows that saw at least one completed call, of all the run's windows.
std::string windows_with_results(const ScenarioResult& r) {
  std::size_t with = 0;
  for (const auto& w : r.windows) with += w.completed() > 0 ? 1 : 0;
  return std::to_string(with) + "/" + std::to_string(r.windows.size());
}

const ScenarioResult* find(const std::vector<ScenarioResult>& results, double rpu,
                           std::chrono::microseconds delay, Mode mode) {
  for (const auto& r : results) {
    if (r.options.rpu == rpu && r.options.delay == delay && r.options.mode == mode) return &r;
  }
  return nullptr;
}

std::string quoted(const fs::path& p) {
  std::string s = "'";
  for (char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

}  // namespace

std::vector<ScenarioResult> run_grid(
    const GridOptions& grid, const std::function<std::string(std::chrono::microseconds)>& url_for,
    const std::function<void(const CellProgress&)>& on_progress) {
  std::vector<ScenarioResult> results;
  const std::size_t cells = grid.rpus.size() * grid.delays.size() * grid.modes.size();
  for (double rpu : grid.rpus) {
    for (auto delay : grid.delays) {
      for (Mode mode : grid.modes) {
        ScenarioOptions o = grid.base;
        o.rpu = rpu;
        o.delay = delay;
        o.mode = mode;
        ScenarioHooks hooks;
        const std::size_t cell = results.size() + 1;
        if (on_progress) {
          hooks.on_progress = [&](double elapsed, std::uint64_t sent, std::uint64_t done,
                                  std::size_t) {
            on_progress({cell, cells, &o, elapsed, sent, done});
          };
        }
        results.push_back(run_scenario(o, url_for(delay), hooks));
      }
    }
  }
  return results;
}

void print_grid(std::ostream& os, const std::vector<ScenarioResult>& results) {
  std::vector<double> rpus;
  std::vector<std::chrono::microseconds> delays;
  std::vector<Mode> modes;
  auto note = [](auto& v, auto x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
  };
  for (const auto& r : results) {
    note(rpus, r.options.rpu);
    note(delays, r.options.delay);
    note(modes, r.options.mode);
  }
  char buf[160];
  os << "   rpu   delay";
  for (Mode m : modes) {
    std::snprintf(buf, sizeof buf, " | %-23s", to_string(m));
    os << buf;
  }
  os << "\n              ";
  for (std::size_t i = 0; i < modes.size(); ++i) os << " |   requests/s  windows  ";
  os << "\n";
  for (double rpu : rpus) {
    for (auto delay : delays) {
      std::snprintf(buf, sizeof buf, "%6.0f %7s", rpu, format_delay(delay).c_str());
      os << buf;
      for (Mode m : modes) {
        const ScenarioResult* r = find(results, rpu, delay, m);
        if (r == nullptr) {
          os << " | " << std::string(23, ' ');
          continue;
        }
        std::snprintf(buf, sizeof buf, " | %12.1f  %-9s", r->throughput_rps,
                      windows_with_results(*r).c_str());
        os << buf;
      }
      os << "\n";
    }
  }
  os << "\ncompleted calls per window (a 0 is a window without results):\n";
  for (const auto& r : results) {
    std::snprintf(buf, sizeof buf, "  rpu %6.0f delay %6s %-10s:", r.options.rpu,
                  format_delay(r.options.delay).c_str(), to_string(r.options.mode));
    os << buf;
    for (const auto& w : r.windows) os << " " << w.completed();
    if (r.unsent > 0) os << "   (" << r.unsent << " unsent when time was up)";
    os << "\n";
  }
}

nlohmann::json grid_json(const std::vector<ScenarioResult>& results) {
  nlohmann::json grid = nlohmann::json::array();
  for (const auto& r : results) grid.push_back(to_json(r));
  return {{"grid", std::move(grid)}};
}

std::string draw_grid_png(const fs::path& json, const fs::path& png) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path plotter = self.parent_path() / "plot.py";
  if (ec || !fs::exists(plotter))
    return "the plotter (plot.py) is not installed next to the program";
  // The first python3 on PATH may be a private one without matplotlib; Debian's has it.
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    const std::string command = std::string(python) + " " + quoted(plotter) + " numaflow --in " +
                                quoted(json) + " --out " + quoted(png) + " >/dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return {};
  }
  return "python3 with matplotlib is needed (scripts/setup.sh installs it); the grid's "
         "figures are in " +
         json.string();
}

}  // namespace http_fanout
