#include "sluice/report.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sluice/detail/histogram.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string duration_text(double us) {
  if (us <= 0) return "-";
  if (us < 1) return fmt("%.0fns", us * 1e3);
  if (us < 1e3) return fmt("%.1fus", us);
  if (us < 1e6) return fmt("%.1fms", us / 1e3);
  return fmt("%.2fs", us / 1e6);
}

std::string pad(const std::string& s, std::size_t w, bool right = true) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

std::string Report::table() const {
  std::ostringstream os;
  os << "run: " << produced << " produced, " << delivered << " delivered, " << filtered
     << " filtered, " << failed << " failed, " << cancelled << " cancelled in "
     << fmt("%.3f", elapsed_s) << " s (" << fmt("%.0f", throughput()) << " items/s, " << threads
     << " threads, max_in_flight " << max_in_flight << ")";
  if (was_cancelled) os << " [cancelled: " << cancel_reason << "]";
  os << "\n";
  if (end_to_end.count != 0) {
    os << "latency source->end: p50 " << duration_text(end_to_end.p50_us) << ", p99 "
       << duration_text(end_to_end.p99_us) << ", max " << duration_text(end_to_end.max_us) << "\n";
  }
  std::size_t name_w = 5;
  for (const auto& s : stages) name_w = std::max(name_w, s.name.size());
  const char* cols[] = {"kind", "conc", "in",  "out", "filt", "fail",
                        "wait", "mean", "p50", "p99", "busy"};
  const std::size_t widths[] = {10, 9, 10, 10, 8, 8, 8, 9, 9, 9, 6};
  os << pad("stage", name_w, false);
  for (std::size_t i = 0; i < std::size(cols); ++i) os << ' ' << pad(cols[i], widths[i]);
  os << "\n";
  for (const auto& s : stages) {
    std::string conc = s.concurrency == unlimited ? "unlim" : std::to_string(s.concurrency);
    if (s.ordered) conc += ",ord";
    std::string cells[] = {s.kind,
                           conc,
                           std::to_string(s.in),
                           std::to_string(s.out),
                           std::to_string(s.filtered),
                           std::to_string(s.failed),
                           std::to_string(s.async ? s.in_flight : s.waiting),
                           duration_text(s.task.mean_us),
                           duration_text(s.task.p50_us),
                           duration_text(s.task.p99_us),
                           fmt("%.0f%%", s.busy_fraction * 100)};
    os << pad(s.name, name_w, false);
    for (std::size_t i = 0; i < std::size(cols); ++i) os << ' ' << pad(cells[i], widths[i]);
    os << "\n";
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Report& r) {
  return os << r.table();
}

std::string Progress::line() const {
  std::ostringstream os;
  os << fmt("%7.1fs", total.elapsed_s) << "  delivered " << total.delivered << "  ("
     << fmt("%.0f", interval.elapsed_s > 0 ? interval.delivered / interval.elapsed_s : 0.0)
     << "/s)  in flight " << total.in_flight();
  if (total.failed != 0) os << "  failed " << total.failed;
  return os.str();
}

namespace detail {

namespace {
// Graphviz double-quoted strings: quotes and backslashes escaped, newlines as \n.
std::string dot_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::string PipelineSpec::to_dot() const {
  std::ostringstream os;
  os << "digraph sluice {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    os << "  n" << i << " [label=\"" << dot_escape(nodes_[i]->name()) << " ("
       << dot_escape(nodes_[i]->kind()) << ")\\n"
       << dot_escape(nodes_[i]->flow_nodes()) << "\"];\n";
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (std::size_t u : inputs_[i]) os << "  n" << u << " -> n" << i << ";\n";
  }
  // A flow drawn before it is ended (a consumer loop is added by consume(), when the run
  // starts) shows where its items will leave, so the picture is never cut short.
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->is_terminal() || !consumers_[i].empty()) continue;
    os << "  open" << i << " [label=\"not yet ended\\nsink() or consume()\", style=dashed];\n"
       << "  n" << i << " -> open" << i << " [style=dashed];\n";
  }
  os << "}\n";
  return os.str();
}

}  // namespace detail
LatencySummary merge(const LatencySummary& a, const LatencySummary& b) {
  auto h = detail::HistogramCounts::of(a);
  h += detail::HistogramCounts::of(b);
  return h.summary();
}

Report merge(const Report& a, const Report& b) {
  if (a.stages.size() != b.stages.size()) {
    throw std::invalid_argument(
        "sluice::merge: the reports have " + std::to_string(a.stages.size()) + " and " +
        std::to_string(b.stages.size()) + " stages; only reports of the same graph merge");
  }
  Report r;
  r.produced = a.produced + b.produced;
  r.delivered = a.delivered + b.delivered;
  r.filtered = a.filtered + b.filtered;
  r.failed = a.failed + b.failed;
  r.cancelled = a.cancelled + b.cancelled;
  r.elapsed_s = std::max(a.elapsed_s, b.elapsed_s);
  r.threads = a.threads + b.threads;
  r.max_in_flight = a.max_in_flight + b.max_in_flight;
  r.was_cancelled = a.was_cancelled || b.was_cancelled;
  r.cancel_reason = a.was_cancelled ? a.cancel_reason : b.cancel_reason;
  r.runs = a.runs + b.runs;
  r.end_to_end = merge(a.end_to_end, b.end_to_end);
  const double wa = static_cast<double>(a.runs) / static_cast<double>(r.runs);
  for (std::size_t i = 0; i < a.stages.size(); ++i) {
    const StageReport& x = a.stages[i];
    const StageReport& y = b.stages[i];
    if (x.name != y.name || x.kind != y.kind) {
      throw std::invalid_argument("sluice::merge: stage " + std::to_string(i) + " is '" + x.name +
                                  "' (" + x.kind + ") in one report and '" + y.name + "' (" +
                                  y.kind + ") in the other; only reports of the same graph merge");
    }
    StageReport s = x;
    s.in += y.in;
    s.out += y.out;
    s.filtered += y.filtered;
    s.failed += y.failed;
    s.waiting += y.waiting;
    s.in_flight += y.in_flight;
    s.task = merge(x.task, y.task);
    s.busy_fraction = wa * x.busy_fraction + (1 - wa) * y.busy_fraction;
    r.stages.push_back(std::move(s));
  }
  return r;
}

}  // namespace sluice
