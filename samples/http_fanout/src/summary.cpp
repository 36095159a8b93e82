#include "summary.hpp"

#include <cstdio>
#include <ostream>

#include "report_json.hpp"

namespace http_fanout {

std::string format_delay(std::chrono::microseconds d) {
  const auto us = d.count();
  if (us == 0) return "0";
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1'000 == 0) return std::to_string(us / 1'000) + "ms";
  return std::to_string(us) + "us";
}

std::string format_window(const WindowLine& w) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "window %3llu [%6.1fs, %6.1fs): %7llu ok, %5llu errors, p50 %8.2f ms, p99 %8.2f "
                "ms%s",
                static_cast<unsigned long long>(w.index), w.start_s, w.end_s,
                static_cast<unsigned long long>(w.ok), static_cast<unsigned long long>(w.errors),
                w.p50_ms, w.p99_ms, w.partial ? "  (partial: the run ended)" : "");
  return buf;
}

void print_text(std::ostream& os, const ScenarioResult& r) {
  const auto& o = r.options;
  char buf[400];
  std::snprintf(
      buf, sizeof buf,
      "%s: rpu %.0f, delay %s, window %.1fs, duration %.1fs -> %llu generated, %llu "
      "sent, %llu ok, %llu failed, %llu unsent in %.2f s: %.1f requests/s, p50 %.2f "
      "ms, p99 %.2f ms\n",
      to_string(o.mode), o.rpu, format_delay(o.delay).c_str(),
      std::chrono::duration<double>(o.window).count(),
      std::chrono::duration<double>(o.duration).count(),
      static_cast<unsigned long long>(r.generated), static_cast<unsigned long long>(r.sent),
      static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.failed),
      static_cast<unsigned long long>(r.unsent), r.elapsed_s, r.throughput_rps, r.p50_ms, r.p99_ms);
  os << buf;
  if (r.connections_opened > 0) {
    os << "connections: " << r.connections_opened << " opened, " << r.peak_connections
       << " open at most\n";
  }
  if (!r.errors.empty()) {
    os << "errors:";
    for (const auto& [kind, n] : r.errors) os << " " << kind << " " << n;
    os << "\n";
  }
  os << r.report << "\n";
}

nlohmann::json to_json(const ScenarioResult& r) {
  const auto& o = r.options;
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : r.windows) {
    windows.push_back({{"index", w.index},
                       {"start_s", w.start_s},
                       {"end_s", w.end_s},
                       {"count", w.completed()},
                       {"ok", w.ok},
                       {"errors", w.errors},
                       {"p50_ms", w.p50_ms},
                       {"p99_ms", w.p99_ms},
                       {"partial", w.partial}});
  }
  return {{"mode", to_string(o.mode)},
          {"rpu", o.rpu},
          {"delay_us", o.delay.count()},
          {"window_s", std::chrono::duration<double>(o.window).count()},
          {"duration_s", std::chrono::duration<double>(o.duration).count()},
          {"concurrency", o.mode == Mode::async        ? o.concurrency
                          : o.mode == Mode::threadpool ? o.threads
                                                       : std::size_t{1}},
          {"url", r.url},
          {"generated", r.generated},
          {"sent", r.sent},
          {"ok", r.ok},
          {"failed", r.failed},
          {"unsent", r.unsent},
          {"elapsed_s", r.elapsed_s},
          {"throughput_rps", r.throughput_rps},
          {"p50_ms", r.p50_ms},
          {"p99_ms", r.p99_ms},
          {"connections_opened", r.connections_opened},
          {"peak_connections", r.peak_connections},
          {"errors", r.errors},
          {"windows", std::move(windows)},
          {"report", r.report}};
}

}  // namespace http_fanout
