// bench_http: three ways to make many HTTP requests against a server that answers after a
// fixed delay (sluice::LocalHttpServer, in this process, started once):
//
//   sequential   one thread, blocking HttpClient::fetch calls one after another
//   threadpool   N threads, each making blocking fetch calls (N = in-flight, <= 1000)
//   async        a sluice pipeline: async_map over http::fetch_stage, max_in_flight = N
//
// Each case reports requests/s (`rps`), per-request latency percentiles (`p50_ms`,
// `p99_ms`, measured here from the moment a request is handed to the client until its
// response is back), and Little's-law efficiency = rps / (in_flight / delay): 1.0 means
// every in-flight slot was busy waiting on the server the whole time (0 for delay 0,
// where the bound is undefined). `errors` counts non-2xx answers, transport errors and
// items the pipeline did not deliver; a case with errors is also labelled "ERRORS".
//
//   bench_http                                   # the whole grid
//   bench_http --benchmark_filter='^async/'      # one strategy
//   bench_http --benchmark_format=json --benchmark_out=http.json
//
// Names are STRATEGY/inflight:N/delay:D (D = 0, 200us, 1ms, 200ms, 1s). One extra case,
// async/inflight:64/delay:0, is the one run.sh compares with wrk -c64.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "sluice/http.hpp"
#include "sluice/http_server.hpp"
#include "sluice/pipeline.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The fd soft limit, raised once before anything opens a socket.
std::uint64_t fd_limit() {
  static const std::uint64_t limit = sluice::raise_fd_limit();
  return limit;
}

sluice::LocalHttpServer& server() {
  static sluice::LocalHttpServer s;
  return s;
}

// Client and server live in this one process, so each connection costs two descriptors.
// Past what the limit allows, the client queues transfers instead of failing them.
long connection_cap() {
  const std::uint64_t limit = fd_limit();
  return limit > 512 ? static_cast<long>((limit - 256) / 2) : 128;
}

// One client for every case: its connections are reused from case to case, which keeps
// tens of thousands of sockets from piling up in TIME_WAIT.
const std::shared_ptr<sluice::HttpClient>& client() {
  static const auto c = [] {
    sluice::HttpClientOptions options;
    options.max_total_connections = connection_cap();
    options.timeout = 60s;
    options.retry = sluice::HttpRetryPolicy::none();
    return std::make_shared<sluice::HttpClient>(options);
  }();
  return c;
}

struct Case {
  std::string strategy;
  std::size_t in_flight = 1;
  std::chrono::microseconds delay{0};
};

std::string delay_label(std::chrono::microseconds d) {
  const auto us = d.count();
  if (us == 0) return "0";
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1'000 == 0) return std::to_string(us / 1'000) + "ms";
  return std::to_string(us) + "us";
}

// Enough requests for a stable rate, few enough that a case takes seconds at most.
std::size_t request_count(const Case& c) {
  const auto n = static_cast<std::size_t>(c.in_flight);
  if (c.delay == 0us) return std::clamp<std::size_t>(n * 20, 20'000, 50'000);
  if (c.delay <= 1ms) return std::clamp<std::size_t>(n * 20, 1'000, 50'000);
  // Long delays: three rounds of the in-flight window, and up to 200 requests where
  // that fits in about 4 s at the ideal rate.
  const auto fit = static_cast<std::size_t>(4s / c.delay * static_cast<double>(n));
  return std::max(n * 3, std::min<std::size_t>(200, fit));
}

struct Outcome {
  std::vector<double> latency_ms;  // one per request that came back
  std::uint64_t errors = 0;
};

sluice::HttpRequest make_request(const std::string& url) {
  return sluice::HttpRequest{.url = url};
}

Outcome run_sequential(const std::string& url, std::size_t n) {
  Outcome out;
  out.latency_ms.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto start = Clock::now();
    const sluice::HttpResponse r = client()->fetch(make_request(url));
    out.latency_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!r.success()) ++out.errors;
  }
  return out;
}

Outcome run_threadpool(const std::string& url, std::size_t n, std::size_t threads) {
  std::vector<double> latency(n, 0.0);
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> errors{0};
  {
    std::vector<std::jthread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
          const auto start = Clock::now();
          const sluice::HttpResponse r = client()->fetch(make_request(url));
          latency[i] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
          if (!r.success()) errors.fetch_add(1);
        }
      });
    }
  }
  return Outcome{std::move(latency), errors.load()};
}

Outcome run_async(const std::string& url, std::size_t n, std::size_t in_flight) {
  std::vector<double> latency(n, 0.0);
  std::atomic<std::size_t> filled{0};
  std::atomic<std::uint64_t> errors{0};
  const auto fetch = sluice::http::fetch_stage(client());
  const auto epoch = Clock::now();
  // Stamp each request as the stage starts it (the tag carries the start time), so the
  // latency excludes time spent queued behind the in-flight cap.
  auto timed_fetch = [fetch, epoch](sluice::http::Request req,
                                    sluice::Completion<sluice::http::Response> done) {
    req.tag = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch).count());
    fetch(std::move(req), std::move(done));
  };
  const sluice::Report report =
      sluice::from("ids", std::views::iota(std::size_t{0}, n))
          .map("request", [&url](std::size_t) { return make_request(url); }, {.lightweight = true})
          .async_map<sluice::http::Response>(
              "fetch", timed_fetch,
              {.max_in_flight = in_flight, .on_cancel = [fetch] { fetch.cancel(); }})
          .sink("record",
                [&](const sluice::http::Response& r) {
                  const auto now =
                      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch)
                          .count();
                  const auto i = filled.fetch_add(1);
                  if (i < latency.size())
                    latency[i] = static_cast<double>(now - static_cast<std::int64_t>(r.tag)) / 1e6;
                  if (!r.success()) errors.fetch_add(1);
                })
          .run({.deadline = 120s});
  std::uint64_t errs = errors.load();
  if (report.delivered < n) errs += n - report.delivered;  // cancelled, failed or lost
  latency.resize(std::min(filled.load(), n));
  return Outcome{std::move(latency), errs};
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  const auto idx = std::min(k, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

void run_case(benchmark::State& state, const Case& c) {
  const std::size_t n = request_count(c);
  const std::string url = server().url("/delay?us=" + std::to_string(c.delay.count()) + "&n=100");
  Outcome out;
  double seconds = 0.0;
  for (auto _ : state) {
    const auto start = Clock::now();
    if (c.strategy == "sequential") {
      out = run_sequential(url, n);
    } else if (c.strategy == "threadpool") {
      out = run_threadpool(url, n, c.in_flight);
    } else {
      out = run_async(url, n, c.in_flight);
    }
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double rps = seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
  const double delay_s = std::chrono::duration<double>(c.delay).count();
  const double ideal = delay_s > 0 ? static_cast<double>(c.in_flight) / delay_s : 0.0;
  state.counters["rps"] = rps;
  state.counters["requests"] = static_cast<double>(n);
  state.counters["p50_ms"] = percentile(out.latency_ms, 0.50);
  state.counters["p99_ms"] = percentile(out.latency_ms, 0.99);
  state.counters["efficiency"] = ideal > 0 ? rps / ideal : 0.0;
  state.counters["in_flight"] = static_cast<double>(c.in_flight);
  state.counters["delay_us"] = static_cast<double>(c.delay.count());
  state.counters["errors"] = static_cast<double>(out.errors);
  std::string label;
  if (out.errors > 0) label = "ERRORS " + std::to_string(out.errors) + "/" + std::to_string(n);
  if (c.strategy == "async" && c.in_flight > static_cast<std::size_t>(connection_cap())) {
    label += (label.empty() ? "" : "; ") + std::string("connections capped at ") +
             std::to_string(connection_cap()) + " (fd limit)";
  }
  if (!label.empty()) state.SetLabel(label);
}

void register_case(const Case& c) {
  const std::string name =
      c.strategy + "/inflight:" + std::to_string(c.in_flight) + "/delay:" + delay_label(c.delay);
  benchmark::RegisterBenchmark(name.c_str(), [c](benchmark::State& s) { run_case(s, c); })
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

void register_all() {
  const std::vector<std::chrono::microseconds> delays = {0us, 200us, 1ms, 200ms, 1s};
  const std::vector<std::size_t> in_flights = {1, 10, 100, 1'000, 10'000};
  for (const auto d : delays) {
    for (const auto n : in_flights) {
      // Sequential has one request in flight by construction, and at 200 ms a request
      // it would take minutes.
      if (n == 1 && d <= 1ms) register_case({"sequential", n, d});
      if (n <= 1'000) register_case({"threadpool", n, d});  // at most 1000 threads
      register_case({"async", n, d});
    }
  }
  // The wrk comparison point (wrk -c64 against sluice-http-server, zero delay).
  register_case({"threadpool", 64, 0us});
  register_case({"async", 64, 0us});
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t limit = fd_limit();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::fprintf(stderr, "bench_http: fd limit %llu, server %s, client connection cap %ld\n",
               static_cast<unsigned long long>(limit), server().base_url().c_str(),
               connection_cap());
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
