// sluice-soak: pushes N items through a pipeline with an HTTP stage and CPU stages while
// the local server injects faults on 10% of requests (500s, 429 with Retry-After,
// connection resets, hangs that end in timeouts, oversized bodies) and the CPU stages
// throw on 10% of items. Then checks, per item id, that each item ended exactly once —
// delivered, filtered or failed — that the Report's counts equal what it saw, and that
// the resident set stayed flat. Exit status 0 only when every check holds.
//
//   sluice-soak                    # 1,000,000 items
//   sluice-soak --items 50000      # what CI runs
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sluice/http.hpp"
#include "sluice/http_server.hpp"
#include "sluice/sluice.hpp"

namespace {

using namespace std::chrono_literals;

// A reproducible draw in [0, 100) per (item, purpose), so a run can be repeated.
std::uint64_t draw(std::uint64_t id, std::uint64_t purpose) {
  std::uint64_t z = id * 0x9e3779b97f4a7c15ULL + purpose * 0xbf58476d1ce4e5b9ULL + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (z ^ (z >> 31)) % 100;
}

std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  std::uint64_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

enum Fate : std::uint8_t { delivered, filtered, failed, kFates };
constexpr const char* kFateNames[] = {"delivered", "filtered", "failed"};

struct Options {
  std::uint64_t items = 1'000'000;
  std::size_t in_flight = 256;
  std::size_t threads = 2;
};

// The URL of item `id`: one in ten is a fault, spread evenly over five kinds.
std::string url_for(const sluice::http_server::LocalServer& server, std::uint64_t id,
                    std::chrono::milliseconds& timeout) {
  const std::string tag = "&id=" + std::to_string(id);
  switch (draw(id, 1)) {
    case 0:
    case 1:
      return server.url("/status?code=500" + tag);
    case 2:
    case 3:
      return server.url("/flaky?fail=1&code=429&retry_after=1" + tag);
    case 4:
    case 5:
      return server.url("/reset?after=100" + tag);
    case 6:
    case 7:
      timeout = 200ms;
      return server.url("/hang?x" + tag);
    case 8:
    case 9:
      return server.url("/bytes?n=300000" + tag);  // past the client's 256 KiB cap
    default:
      return server.url("/bytes?n=" + std::to_string(id % 1000 + 1) + tag);
  }
}

int run(const Options& opt) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions client_options;
  client_options.max_response_bytes = 256 * 1024;
  client_options.timeout = 5s;
  // A 429's Retry-After is honoured once, then the second 429 is the answer.
  client_options.retry =
      sluice::http::RetryPolicy{.max_attempts = 2, .base_delay = 1ms, .budget_ratio = 1.0};
  auto client = std::make_shared<sluice::http::Client>(client_options);
  const auto fetch = sluice::http::fetch_stage(client, {.fail_on_error = true});

  // Per id, how many times each fate was seen: each id must end with exactly one.
  std::vector<std::atomic<std::uint8_t>> fates(opt.items * kFates);
  std::atomic<std::uint64_t> seen[kFates] = {};
  const auto mark = [&](std::uint64_t id, Fate fate) {
    if (id >= opt.items) throw std::logic_error("item id out of range");
    fates[id * kFates + fate].fetch_add(1, std::memory_order_relaxed);
    seen[fate].fetch_add(1, std::memory_order_relaxed);
  };
  std::mutex rss_mutex;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> rss;  // (items ended, bytes)
  const std::uint64_t rss_every = std::max<std::uint64_t>(1, opt.items / 40);
  std::atomic<std::uint64_t> bad_bodies{0};

  const auto started = std::chrono::steady_clock::now();
  const sluice::Report report =
      sluice::from("ids", std::views::iota(std::uint64_t{0}, opt.items))
          .map("request",
               [&](std::uint64_t id) {
                 if (draw(id, 2) < 5) throw std::runtime_error("request stage refuses item");
                 std::chrono::milliseconds timeout = client_options.timeout;
                 sluice::http::Request req{.url = url_for(server, id, timeout), .tag = id};
                 req.timeout = timeout;
                 return req;
               })
          .async_map("fetch", fetch,
                     {.max_in_flight = opt.in_flight, .on_cancel = [fetch] { fetch.cancel(); }})
          .map("check",
               [&](const sluice::http::Response& r) {
                 if (draw(r.tag, 3) < 5) throw std::runtime_error("check stage refuses item");
                 if (r.status == 200) {
                   const std::uint64_t want = r.tag % 1000 + 1;
                   bool good = r.body.size() == want;
                   for (std::size_t i = 0; good && i < r.body.size(); i += 97) {
                     good = r.body[i] == sluice::http_server::pattern_byte(i);
                   }
                   if (!good) bad_bodies.fetch_add(1);
                 }
                 return r.tag;
               })
          .filter("drop",
                  [&](std::uint64_t id) {
                    const bool keep = draw(id, 4) >= 5;
                    if (!keep) mark(id, filtered);
                    return keep;
                  })
          .sink("count",
                [&](std::uint64_t id) {
                  mark(id, delivered);
                  const std::uint64_t n = seen[delivered].load(std::memory_order_relaxed);
                  if (n % rss_every == 0) {
                    std::lock_guard lock(rss_mutex);
                    rss.emplace_back(n, rss_bytes());
                  }
                })
          .run({.threads = opt.threads,
                .on_error = sluice::ErrorPolicy::dead_letter(
                    [&](const sluice::Failure& f) { mark(f.item_index, failed); })});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // Every id exactly once.
  std::uint64_t none = 0;
  std::uint64_t twice = 0;
  for (std::uint64_t id = 0; id < opt.items; ++id) {
    unsigned total = 0;
    for (int f = 0; f < kFates; ++f) total += fates[id * kFates + f].load();
    if (total == 0) ++none;
    if (total > 1) ++twice;
  }
  const auto c = client->counters();
  std::cout << "items " << opt.items << " in " << seconds << " s (" << opt.items / seconds
            << " items/s), in flight " << opt.in_flight << ", threads " << opt.threads << "\n";
  for (int f = 0; f < kFates; ++f) std::cout << "  " << kFateNames[f] << " " << seen[f] << "\n";
  std::cout << "  report: produced " << report.produced << ", delivered " << report.delivered
            << ", filtered " << report.filtered << ", failed " << report.failed << ", cancelled "
            << report.cancelled << "\n";
  std::cout << "  http: requests " << c.submitted << ", attempts " << c.attempts << ", retries "
            << c.retries << ", by kind:";
  for (std::size_t k = 0; k < sluice::http::kErrorKinds; ++k) {
    if (c.by_error[k] != 0) {
      std::cout << " " << sluice::http::to_string(static_cast<sluice::http::ErrorKind>(k)) << "="
                << c.by_error[k];
    }
  }
  std::cout << "\n  server: flaky failures " << server.stats().flaky_failures << ", resets "
            << server.stats().resets << ", abandoned " << server.stats().abandoned << "\n";

  // RSS: after the first quarter (warm: pools, caches, the connection set), the rest of
  // the run may not grow past it by more than a margin.
  std::uint64_t warm = 0;
  std::uint64_t later = 0;
  std::cout << "  rss MiB:";
  for (const auto& [n, bytes] : rss) {
    std::cout << " " << bytes / (1 << 20);
    if (n <= seen[delivered] / 4) {
      warm = std::max(warm, bytes);
    } else {
      later = std::max(later, bytes);
    }
  }
  std::cout << "\n";

  int failures = 0;
  const auto check = [&](bool ok, const std::string& what) {
    if (!ok) {
      std::cout << "FAIL: " << what << "\n";
      ++failures;
    }
  };
  check(none == 0, std::to_string(none) + " items never ended");
  check(twice == 0, std::to_string(twice) + " items ended more than once");
  check(report.balanced(), "the report does not balance");
  check(report.produced == opt.items, "produced != items");
  check(report.delivered == seen[delivered], "report.delivered != delivered seen");
  check(report.filtered == seen[filtered], "report.filtered != filtered seen");
  check(report.failed == seen[failed], "report.failed != failed seen");
  check(report.cancelled == 0 && !report.was_cancelled, "the run was cancelled");
  check(c.in_flight == 0 && c.completed == c.submitted, "requests left in the client");
  check(bad_bodies == 0, std::to_string(bad_bodies) + " bodies did not match the pattern");
  check(later <= warm + warm / 4 + (32u << 20), "RSS grew from " + std::to_string(warm >> 20) +
                                                    " MiB to " + std::to_string(later >> 20) +
                                                    " MiB");
  std::cout << (failures == 0 ? "PASS" : "FAILED") << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"sluice-soak: every item ends exactly once under injected faults"};
  app.add_option("--items", opt.items, "items to push through")->check(CLI::PositiveNumber);
  app.add_option("--in-flight", opt.in_flight, "requests in flight")->check(CLI::PositiveNumber);
  app.add_option("--threads", opt.threads, "pipeline threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(opt);
  } catch (const std::exception& e) {
    std::cerr << "sluice-soak: " << e.what() << "\n";
    return 2;
  }
}
