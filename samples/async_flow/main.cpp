// async_flow: seed 003's "Async Pipes" — a generator far faster than its work, a work
// layer scaled to 8, and a collector; memory stays bounded because the generator is
// held back by the pipeline rather than filling an unbounded executor queue.
//
//   async_flow                       # 400 items, 8 workers of 5 ms, max 32 in flight
//   async_flow --mode unbounded      # the seed's "whole place is on fire" version
//   async_flow --items 2000 --workers 16 --work-us 2000 --json
//   async_flow --dot                 # the pipeline's graph (Graphviz), not run
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sluice/sluice.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <mutex>
#include <ranges>
#include <thread>
#include <vector>

namespace {

// A work item that counts how many of its kind are alive, so the sample can show how
// much data each strategy holds at once.
struct Payload {
  static inline std::atomic<long> alive{0};  // payloads that own their bytes
  static inline std::atomic<long> peak{0};
  std::vector<char> bytes;
  explicit Payload(std::size_t n) : bytes(n, 'x') { grow(); }
  Payload(const Payload& o) : bytes(o.bytes) { grow(); }
  Payload(Payload&& o) noexcept : bytes(std::move(o.bytes)) {}  // ownership moves along
  Payload& operator=(const Payload&) = delete;
  Payload& operator=(Payload&&) = delete;
  ~Payload() {
    if (!bytes.empty()) alive.fetch_sub(1);
  }
  static void grow() {
    long now = alive.fetch_add(1) + 1;
    long seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
};

struct Settings {
  std::string mode = "pipeline";
  int items = 400;
  int workers = 8;
  int work_us = 5000;
  std::size_t max_in_flight = 32;
  std::size_t payload_bytes = 64 * 1024;
  bool json = false;
};

// The seed's work: it waits on something (a remote call, a disk) for work_us.
std::size_t work(const Settings& s, const Payload& p) {
  std::this_thread::sleep_for(std::chrono::microseconds(s.work_us));
  return p.bytes.size();
}

struct Outcome {
  long done = 0;
  double seconds = 0;
};

// generator -> make -> work (scaled to s.workers) -> collector, counting into `done`.
sluice::Pipeline make_pipeline(const Settings& s, long& done) {
  return sluice::from("generator", std::views::iota(0, s.items))
      .map("make", [&s](int) { return Payload(s.payload_bytes); })
      .map("work", [&s](Payload p) { return work(s, p); },
           {.concurrency = static_cast<std::size_t>(s.workers)})
      .sink("collector", [&done](std::size_t) { ++done; });
}

Outcome run_pipeline(const Settings& s, bool tty) {
  long done = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto report = make_pipeline(s, done).run(
      {.threads = static_cast<std::size_t>(s.workers) + 1,
       .max_in_flight = s.max_in_flight,
       .on_progress =
           [&](const sluice::Progress& p) {
             if (tty)
               std::fprintf(stderr, "\r%s  alive %ld   ", p.line().c_str(), Payload::alive.load());
           },
       .progress_interval = std::chrono::milliseconds(250)});
  if (tty) std::fprintf(stderr, "\n");
  if (!s.json) std::cout << report;
  return {done, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// The seed's first attempt: submit everything to a pool, collect in callbacks. Nothing
// holds the generator back, so every payload is alive at once.
Outcome run_unbounded(const Settings& s) {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool closed = false;
  std::atomic<long> done{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int i = 0; i < s.workers; ++i) {
    pool.emplace_back([&] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return closed || !queue.empty(); });
          if (queue.empty()) return;
          job = std::move(queue.front());
          queue.pop_front();
        }
        job();
      }
    });
  }
  for (int i = 0; i < s.items; ++i) {
    auto p = std::make_shared<Payload>(s.payload_bytes);
    {
      std::lock_guard lock(m);
      queue.emplace_back([&, p] {
        work(s, *p);
        done.fetch_add(1);
      });
    }
    cv.notify_one();
  }
  {
    std::lock_guard lock(m);
    closed = true;
  }
  cv.notify_all();
  for (auto& t : pool) t.join();
  return {done.load(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"Generator -> work scaled to N -> collector, with bounded memory (seed 003)"};
  app.add_option("--mode", s.mode, "pipeline (sluice, bounded) or unbounded (a pool fed freely)")
      ->check(CLI::IsMember({"pipeline", "unbounded"}));
  app.add_option("--items", s.items, "items the generator makes")->check(CLI::Range(0, 10'000'000));
  app.add_option("--workers", s.workers, "work layer concurrency")->check(CLI::Range(1, 1024));
  app.add_option("--work-us", s.work_us, "time each work item waits, in microseconds")
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--max-in-flight", s.max_in_flight, "items alive in the pipeline at most")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_option("--payload-bytes", s.payload_bytes, "bytes per item")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_flag("--json", s.json, "print a JSON summary on stdout");
  bool dot = false;
  app.add_flag("--dot", dot, "print the pipeline's graph (Graphviz) and exit without running");
  CLI11_PARSE(app, argc, argv);
  if (dot) {
    long unused = 0;
    std::cout << make_pipeline(s, unused).to_dot();
    return 0;
  }

  bool tty = isatty(STDERR_FILENO) != 0 && !s.json;
  Outcome o;
  try {
    o = s.mode == "pipeline" ? run_pipeline(s, tty) : run_unbounded(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_flow: %s\n", e.what());
    return 1;
  }
  double rate = o.seconds > 0 ? o.done / o.seconds : 0;
  double ideal = s.work_us > 0 ? s.workers * 1e6 / s.work_us : 0;
  long peak = Payload::peak.load();
  if (s.json) {
    // ordered_json: the fields in the order the summary has always printed them.
    const nlohmann::ordered_json summary = {
        {"mode", s.mode},       {"items", o.done},
        {"workers", s.workers}, {"elapsed_s", o.seconds},
        {"throughput", rate},   {"ideal_throughput", ideal},
        {"peak_alive", peak},   {"peak_bytes", static_cast<std::size_t>(peak) * s.payload_bytes}};
    std::cout << summary.dump() << "\n";
  } else {
    std::printf("%s: %ld items in %.3f s = %.1f items/s (ideal with %d workers: %.1f/s)\n",
                s.mode.c_str(), o.done, o.seconds, rate, s.workers, ideal);
    std::printf(
        "peak items alive: %ld (%.1f MiB)%s\n", peak,
        static_cast<double>(peak) * static_cast<double>(s.payload_bytes) / (1 << 20),
        s.mode == "pipeline" ? "  <- bounded by --max-in-flight" : "  <- grows with --items");
  }
  return o.done == s.items ? 0 : 1;
}
