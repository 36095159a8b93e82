// bench_http: three ways to make many HTTP requests against a server that answers after a
// fixed delay:
//
//   sequential   one thread, blocking http::Client::fetch calls one after another
//   threadpool   N threads, each making blocking fetch calls (N = in-flight, <= 1000)
//   async        a sluice pipeline: async_map over http::fetch_stage, max_in_flight = N
//   curl_multi   no sluice: one thread driving a libcurl multi handle with N easy handles
//                directly (bare_curl.hpp), the least any client that drives libcurl can
//                spend; zero delay only, where the client's cost is the rate
//
// The server is sluice-http-server in another process when `--server=URL` (or the
// environment variable SLUICE_BENCH_HTTP_SERVER) names one, as run.sh does; otherwise a
// sluice::http_server::LocalServer in this process. In-process, client and server share one descriptor
// limit, so 10,000 connections need 20,000 descriptors and the client's connection cap
// halves; the label says so when a case is capped.
//
// Each case reports requests/s (`rps`), per-request latency percentiles (`p50_ms`,
// `p99_ms`, measured here from the moment a request is handed to the client until its
// response is back), and Little's-law efficiency = rps / (in_flight / delay): 1.0 means
// every in-flight slot was busy waiting on the server the whole time (0 for delay 0,
// where the bound is undefined). Each case first runs one untimed wave of in_flight
// requests, so that its connections are open; `warmup_ms` is how long that cold wave
// took. The rate is over the whole timed case, its first burst and its drain included.
// `errors` counts non-2xx answers, transport errors and items the pipeline did
// not deliver; a case with errors is also labelled "ERRORS". `cpu_us_per_req` is the
// process's CPU time per request (the client's alone with --server; with the in-process
// server, both), and `io_cpu_us_per_req` the part spent on the http::Client's I/O threads
// ("sluice-http"): what is left of a core for the rest bounds the rate at zero delay.
//
//   bench_http                                   # the whole grid, in-process server
//   bench_http --server=http://127.0.0.1:8080    # against a running sluice-http-server
//   bench_http --benchmark_filter='^async/'      # one strategy
//   bench_http --pipeline-threads=1              # the async pipeline on one thread
//   bench_http --benchmark_format=json --benchmark_out=http.json
//
// Names are STRATEGY/inflight:N/delay:D (D = 0, 200us, 1ms, 200ms, 1s). Three extra cases,
// threadpool/, async/ and curl_multi/inflight:64/delay:0, are the ones run.sh compares with
// wrk -c64 (same server, same URL: /delay?us=0&n=100).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bare_curl.hpp"
#include "bench_cli.hpp"
#include "cpu_time.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"
#include "sluice/sluice.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The fd soft limit, raised once before anything opens a socket.
std::uint64_t fd_limit() {
  static const std::uint64_t limit = sluice::http_server::raise_fd_limit();
  return limit;
}

// The external server's base URL ("http://host:port", no trailing slash), or empty for
// the in-process one. Set by main before any case runs.
std::string& external_server() {
  static std::string url;
  return url;
}

// RunOptions::threads for the async strategy's pipeline (0: oneTBB's default). With 1,
// no worker thread is left to spin between bursts: run.sh compares the two at zero delay.
std::size_t& pipeline_threads() {
  static std::size_t threads = 0;
  return threads;
}

std::string base_url() {
  if (!external_server().empty()) return external_server();
  static sluice::http_server::LocalServer s;
  return s.base_url();
}

// Connections the client may open: every one costs a descriptor here, and a second one
// when the server shares the process. Past the cap the client queues transfers instead
// of failing them.
long connection_cap() {
  const std::uint64_t limit = fd_limit();
  const std::uint64_t per_connection = external_server().empty() ? 2 : 1;
  return limit > 512 ? static_cast<long>((limit - 256) / per_connection) : 128;
}

// One client for every case: its connections are reused from case to case, which keeps
// tens of thousands of sockets from piling up in TIME_WAIT.
const std::shared_ptr<sluice::http::Client>& client() {
  static const auto c = [] {
    sluice::http::ClientOptions options;
    options.max_total_connections = connection_cap();
    options.timeout = 60s;
    options.retry = sluice::http::RetryPolicy::none();
    return std::make_shared<sluice::http::Client>(options);
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

// Sized so that the steady state dominates; every case starts warm (see run_case), so
// what is left of the start is the first wave arriving as one burst. Zero and short
// delays are throughput-bound: 10 waves of the in-flight window, at least 20,000
// requests for a stable rate, at most 200,000. Long delays below 1,000 in flight stop at
// about 3 s of ideal time (3 waves at least) so that the 1 s row stays cheap. From 1,000
// in flight, each wave arrives as a burst that takes the client in_flight x 50-100 us to
// answer here, and the waves stay in step for a few seconds before they spread out: those
// cases run at least 10 s of ideal time, 10 waves, and waves enough for a ramp of
// in_flight x 100 us to be 2.5% of the case, at most 200,000 requests.
std::size_t request_count(const Case& c) {
  const auto n = static_cast<std::size_t>(c.in_flight);
  std::size_t count = 0;
  if (c.delay <= 1ms) {
    count = std::clamp<std::size_t>(n * 10, 20'000, 200'000);
  } else if (n < 1'000) {
    count = n * std::clamp<std::size_t>(static_cast<std::size_t>(3s / c.delay), 3, 10);
  } else {
    const auto ramp = std::chrono::duration<double>(100us) * static_cast<double>(n);
    const auto waves = std::max({static_cast<std::size_t>(std::ceil(40.0 * ramp / c.delay)),
                                 static_cast<std::size_t>(10s / c.delay), std::size_t{10}});
    count = n * std::min(waves, std::max<std::size_t>(10, 200'000 / n));
  }
  // SLUICE_BENCH_HTTP_SCALE stretches or shrinks every case (profiling, smoke runs).
  static const double scale = [] {
    const char* s = std::getenv("SLUICE_BENCH_HTTP_SCALE");
    const double v = s != nullptr ? std::strtod(s, nullptr) : 1.0;
    return v > 0 ? v : 1.0;
  }();
  return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(count) * scale));
}

struct Outcome {
  std::vector<double> latency_ms;  // one per request that came back
  std::uint64_t errors = 0;
};

sluice::http::Request make_request(const std::string& url) {
  return sluice::http::Request{.url = url};
}

Outcome run_sequential(const std::string& url, std::size_t n) {
  Outcome out;
  out.latency_ms.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto start = Clock::now();
    const sluice::http::Response r = client()->fetch(make_request(url));
    out.latency_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!r.ok()) ++out.errors;
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
          const sluice::http::Response r = client()->fetch(make_request(url));
          latency[i] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
          if (!r.ok()) errors.fetch_add(1);
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
                  if (!r.ok()) errors.fetch_add(1);
                })
          .run({.threads = pipeline_threads(), .deadline = 120s});
  std::uint64_t errs = errors.load();
  if (report.delivered < n) errs += n - report.delivered;  // cancelled, failed or lost
  latency.resize(std::min(filled.load(), n));
  return Outcome{std::move(latency), errs};
}

Outcome run_bare_curl(const std::string& url, std::size_t n, std::size_t in_flight) {
  static BareCurlMulti curl;  // one for every case, like client(): connections stay open
  BareCurlMulti::Result r = curl.run(url, n, in_flight);
  const std::uint64_t lost = n - std::min<std::size_t>(n, r.latency_ms.size());
  return Outcome{std::move(r.latency_ms), r.errors + lost};
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  const auto idx = std::min(k, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

Outcome run_strategy(const Case& c, const std::string& url, std::size_t n) {
  if (c.strategy == "sequential") return run_sequential(url, n);
  if (c.strategy == "threadpool") return run_threadpool(url, n, c.in_flight);
  if (c.strategy == "curl_multi") return run_bare_curl(url, n, c.in_flight);
  return run_async(url, n, c.in_flight);
}

void run_case(benchmark::State& state, const Case& c) {
  const std::size_t n = request_count(c);
  const std::string url = base_url() + "/delay?us=" + std::to_string(c.delay.count()) + "&n=100";
  Outcome out;
  double seconds = 0.0;
  // One untimed wave first, through the same strategy and client: the connections are
  // open and the transfer handles allocated before the clock starts, as in a service that
  // has been running, whatever case ran before (or none, under a filter). What opening
  // them cost is reported apart, as warmup_ms.
  const auto warmup_start = Clock::now();
  const Outcome warmup = run_strategy(c, url, c.in_flight);
  const double warmup_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - warmup_start).count();
  const CpuTime cpu_before = CpuTime::now("sluice-http");
  for (auto _ : state) {
    const auto start = Clock::now();
    out = run_strategy(c, url, n);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const CpuTime cpu = CpuTime::now("sluice-http") - cpu_before;
  const double requests_run = static_cast<double>(n) * static_cast<double>(state.iterations());
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
  state.counters["warmup_ms"] = warmup_ms;
  state.counters["cpu_us_per_req"] = cpu.process_s * 1e6 / requests_run;
  state.counters["io_cpu_us_per_req"] = cpu.named_s * 1e6 / requests_run;
  std::string label;
  if (out.errors > 0) label = "ERRORS " + std::to_string(out.errors) + "/" + std::to_string(n);
  if (warmup.errors > 0) {
    label += (label.empty() ? "" : "; ") + std::string("warm-up ERRORS ") +
             std::to_string(warmup.errors) + "/" + std::to_string(c.in_flight);
  }
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
      if (d == 0us && n <= 1'000) register_case({"curl_multi", n, d});
      if (d == 0us && n == 10) {
        // The wrk comparison point (wrk -c64 against sluice-http-server, zero delay), in
        // its place in the row: run after the 10,000 case, it came out 10-50% slower here
        // (a client that has just held 10,000 connections), which is not what it compares.
        register_case({"threadpool", 64, 0us});
        register_case({"async", 64, 0us});
        register_case({"curl_multi", 64, 0us});
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_http: sequential, thread-pool, async pipeline and bare curl_multi clients"};
  const char* env_server = std::getenv("SLUICE_BENCH_HTTP_SERVER");
  std::string server = env_server != nullptr ? env_server : "";
  app.add_option("--server", server,
                 "a running sluice-http-server to call (default: $SLUICE_BENCH_HTTP_SERVER, or "
                 "a server in this process)");
  std::size_t threads = 0;
  app.add_option("--pipeline-threads", threads, "threads of the async pipeline (0: the default)")
      ->capture_default_str();
  sluice::bench::BenchArgs rest;
  if (const auto rc = sluice::bench::parse_flags(app, argc, argv, rest)) return *rc;
  while (!server.empty() && server.back() == '/') server.pop_back();
  external_server() = server;
  pipeline_threads() = threads;
  const std::uint64_t limit = fd_limit();
  benchmark::Initialize(&rest.argc, rest.argv.data());
  if (benchmark::ReportUnrecognizedArguments(rest.argc, rest.argv.data())) return 1;
  std::fprintf(stderr, "bench_http: fd limit %llu, server %s (%s), client connection cap %ld\n",
               static_cast<unsigned long long>(limit), base_url().c_str(),
               external_server().empty() ? "in this process" : "external", connection_cap());
  benchmark::AddCustomContext("server", external_server().empty() ? "in-process" : "external");
  benchmark::AddCustomContext("pipeline_threads", std::to_string(pipeline_threads()));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
