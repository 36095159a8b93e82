#include "scenario.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <sluice/http.hpp>
#include <sluice/sluice.hpp>
#include <sluice/window.hpp>

#include "window_stats.hpp"

namespace http_fanout {

const char* to_string(Mode m) noexcept {
  switch (m) {
    case Mode::sequential:
      return "sequential";
    case Mode::threadpool:
      return "threadpool";
    case Mode::async:
      return "async";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

struct Message {
  std::uint64_t id = 0;
};

// Shared by the stages of one run and read by the progress line.
struct RunShared {
  Clock::time_point generate_until;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::size_t> windows{0};
};

Outcome outcome_of(const sluice::http::Response& r, Clock::time_point started) {
  Outcome o;
  o.sent = true;
  o.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  if (r.ok()) {
    o.ok = true;
  } else if (r.received()) {
    o.error = "http_" + std::to_string(r.status);
  } else {
    o.error = sluice::http::to_string(r.error);
  }
  return o;
}

// The legacy way: the calling thread waits for the response.
Outcome blocking_call(sluice::http::Client& client, const std::string& url, RunShared& shared) {
  if (Clock::now() >= shared.generate_until) return Outcome{};  // time is up: not sent
  shared.sent.fetch_add(1, std::memory_order_relaxed);
  const auto started = Clock::now();
  Outcome o = outcome_of(client.fetch({.url = url}), started);
  shared.completed.fetch_add(1, std::memory_order_relaxed);
  return o;
}

WindowLine line_of(const sluice::window::Window<int, WindowStats>& w) {
  WindowLine l;
  l.index = w.number;
  l.start_s = std::chrono::duration<double>(w.start).count();
  l.end_s = std::chrono::duration<double>(w.end).count();
  l.ok = w.value.ok();
  l.errors = w.value.failed();
  l.p50_ms = w.value.percentile_ms(0.50);
  l.p99_ms = w.value.percentile_ms(0.99);
  l.partial = w.partial;
  return l;
}

// generator -> http (by mode) -> window -> print; `shared`, `total`, `result` and `hooks`
// must outlive the pipeline's runs.
sluice::Pipeline build(const ScenarioOptions& o, const std::string& url,
                       const std::shared_ptr<sluice::http::Client>& client, RunShared& shared,
                       WindowStats& total, ScenarioResult& result, const ScenarioHooks& hooks) {
  auto messages =
      sluice::generate("generator",
                       [&shared, n = std::uint64_t{0}]() mutable -> std::optional<Message> {
                         if (Clock::now() >= shared.generate_until) return std::nullopt;
                         return Message{n++};
                       },
                       {.items_per_second = o.rpu});

  // Everything after the HTTP call is the same in every mode.
  auto reduce_and_print = [&](auto outcomes) {
    return outcomes
        .then(sluice::window::tumbling<WindowStats>(
            "window", sluice::window::every(o.window), [](const Outcome&) { return 0; },
            [](WindowStats& s, Outcome x) { s.add(x); }, {.emit_empty = true}))
        .sink("print",
              [&total, &shared, &hooks, &result](sluice::window::Window<int, WindowStats> w) {
                WindowLine line = line_of(w);
                total.merge(w.value);
                shared.windows.fetch_add(1, std::memory_order_relaxed);
                if (hooks.on_window) hooks.on_window(line);
                result.windows.push_back(line);
              });
  };

  if (o.mode != Mode::async) {
    return reduce_and_print(messages.map(
        "http", [client, url, &shared](Message) { return blocking_call(*client, url, shared); },
        {.concurrency = o.mode == Mode::sequential ? 1 : o.threads}));
  }
  return reduce_and_print(messages.async_map<Outcome>(
      "http",
      [client, url, &shared](Message, sluice::Completion<Outcome> done) {
        if (Clock::now() >= shared.generate_until) {
          done.succeed(Outcome{});  // time is up: not sent
          return;
        }
        shared.sent.fetch_add(1, std::memory_order_relaxed);
        client->submit({.url = url},
                       [done, &shared, started = Clock::now()](sluice::http::Response r) {
                         shared.completed.fetch_add(1, std::memory_order_relaxed);
                         done.succeed(outcome_of(r, started));
                       });
      },
      {.max_in_flight = o.concurrency, .on_cancel = [client] { client->cancel_all(); }}));
}

}  // namespace

std::string scenario_dot(const ScenarioOptions& o) {
  RunShared shared;
  WindowStats total;
  ScenarioResult result;
  const ScenarioHooks hooks;
  return build(o, "http://127.0.0.1/delay", std::make_shared<sluice::http::Client>(), shared, total,
               result, hooks)
      .to_dot();
}

ScenarioResult run_scenario(const ScenarioOptions& o, const std::string& url,
                            const ScenarioHooks& hooks) {
  ScenarioResult result;
  result.options = o;
  result.url = url;
  auto client = std::make_shared<sluice::http::Client>();
  RunShared shared;
  WindowStats total;

  sluice::RunOptions run;
  run.on_error = sluice::ErrorPolicy::skip();  // an outcome is data; only bugs fail items
  if (o.mode == Mode::threadpool) {
    // The pool's workers block in fetch(); the other stages need threads of their own.
    run.threads = o.threads + std::max(2u, std::thread::hardware_concurrency());
  }
  if (hooks.on_progress) {
    run.progress_interval = hooks.progress_interval;
    run.on_progress = [&](const sluice::Progress& p) {
      hooks.on_progress(p.total.elapsed_s, shared.sent.load(), shared.completed.load(),
                        shared.windows.load());
    };
  }

  shared.generate_until = Clock::now() + o.duration;
  result.report = build(o, url, client, shared, total, result, hooks).run(run);

  result.generated = result.report.produced;
  result.sent = shared.sent.load();
  result.ok = total.ok();
  result.failed = total.failed();
  result.unsent = total.unsent();
  result.errors = total.errors();
  const sluice::http::Counters connections = client->counters();
  result.connections_opened = connections.connections_opened;
  result.peak_connections = connections.peak_open_connections;
  result.elapsed_s = result.report.elapsed_s;
  result.throughput_rps =
      result.elapsed_s > 0 ? static_cast<double>(total.completed()) / result.elapsed_s : 0;
  result.p50_ms = total.percentile_ms(0.50);
  result.p99_ms = total.percentile_ms(0.99);
  return result;
}

}  // namespace http_fanout
