// The fan-out scenario in each mode against the local server: every message ends sent or
// unsent, every sent call ends ok or failed, windows add up to the totals, and the modes
// differ the way the seed shows (a slow server starves the sequential mode).
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>

#include <sluice/http/client.hpp>
#include <sluice/http_server.hpp>

#include "scenario.hpp"
#include "summary.hpp"
#include "target.hpp"
#include "window_stats.hpp"

namespace {

using namespace std::chrono_literals;
using namespace http_fanout;

std::uint64_t window_total(const ScenarioResult& r) {
  return std::accumulate(r.windows.begin(), r.windows.end(), std::uint64_t{0},
                         [](std::uint64_t n, const WindowLine& w) { return n + w.completed(); });
}

void expect_accounted(const ScenarioResult& r) {
  EXPECT_EQ(r.generated, r.sent + r.unsent);
  EXPECT_EQ(r.sent, r.ok + r.failed);
  EXPECT_EQ(window_total(r), r.ok + r.failed);
  std::uint64_t errors = 0;
  for (const auto& [kind, n] : r.errors) errors += n;
  EXPECT_EQ(errors, r.failed);
  EXPECT_TRUE(r.report.balanced());
  for (std::size_t i = 1; i < r.windows.size(); ++i) {
    EXPECT_LT(r.windows[i - 1].index, r.windows[i].index);
  }
}

TEST(Scenario, AsyncKeepsUpWithTheRate) {
  sluice::http_server::LocalServer server;
  ScenarioOptions o{.mode = Mode::async,
                    .rpu = 400,
                    .delay = 20ms,
                    .window = 250ms,
                    .duration = 1s,
                    .concurrency = 100};
  const ScenarioResult r = run_scenario(o, with_delay(server.url("/delay"), o.delay));
  expect_accounted(r);
  EXPECT_GE(r.generated, 300u);  // about 400 at 400/s for 1 s, less scheduling jitter
  // Keeping up means no backlog. A message made in the last moment may still not have
  // started its call when time is up (under TSan on a busy machine, one did): that is
  // the cut, not a backlog. The sequential mode below leaves most of its messages unsent.
  EXPECT_LE(r.unsent, r.generated / 50);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_GE(r.p50_ms, 20.0);  // the server's delay is in every call
  EXPECT_GE(r.windows.size(), 4u);
}

TEST(Scenario, SequentialFallsBehindASlowServer) {
  sluice::http_server::LocalServer server;
  ScenarioOptions o{
      .mode = Mode::sequential, .rpu = 100, .delay = 50ms, .window = 250ms, .duration = 1s};
  const ScenarioResult r = run_scenario(o, with_delay(server.url("/delay"), o.delay));
  expect_accounted(r);
  EXPECT_LE(r.sent, 25u);  // one call per 50 ms at most
  // Most were still waiting when time was up: more than were sent, however few a loaded
  // machine (or a sanitizer build) generated in the second.
  EXPECT_GT(r.unsent, r.sent);
}

TEST(Scenario, AThreadPoolRunsItsWorkersAtOnce) {
  sluice::http_server::LocalServer server;
  ScenarioOptions o{.mode = Mode::threadpool,
                    .rpu = 200,
                    .delay = 50ms,
                    .window = 250ms,
                    .duration = 1s,
                    .threads = 20};
  const ScenarioResult r = run_scenario(o, with_delay(server.url("/delay"), o.delay));
  expect_accounted(r);
  EXPECT_GT(r.sent, 100u);  // 20 workers x 20 calls/s each is 400/s: the rate is the bound
}

TEST(Scenario, ServerErrorsAreCountedByKind) {
  sluice::http_server::LocalServer server;
  ScenarioOptions o{
      .mode = Mode::async, .rpu = 500, .delay = 0us, .window = 200ms, .duration = 500ms};
  const ScenarioResult r = run_scenario(o, server.url("/flaky?fail=0.25&code=503"));
  expect_accounted(r);
  ASSERT_TRUE(r.errors.contains("http_503"));
  EXPECT_NEAR(static_cast<double>(r.errors.at("http_503")), 0.25 * static_cast<double>(r.sent), 2);
}

TEST(Scenario, TransportErrorsAreCountedByKind) {
  ScenarioOptions o{
      .mode = Mode::async, .rpu = 200, .delay = 0us, .window = 200ms, .duration = 300ms};
  const ScenarioResult r = run_scenario(o, "http://127.0.0.1:1/");  // nothing listens there
  expect_accounted(r);
  EXPECT_EQ(r.ok, 0u);
  EXPECT_EQ(r.errors.at("refused"), r.sent);
}

TEST(WindowStats, PercentilesAreNearestRank) {
  WindowStats s;
  for (int i = 1; i <= 100; ++i)
    s.add({.sent = true, .ok = true, .error = {}, .latency_ms = double(i)});
  s.add({.sent = true, .ok = false, .error = "timeout", .latency_ms = 1000});
  s.add(Outcome{});  // unsent: not a latency
  EXPECT_EQ(s.completed(), 101u);
  EXPECT_EQ(s.unsent(), 1u);
  EXPECT_DOUBLE_EQ(s.percentile_ms(0.5), 51);
  EXPECT_DOUBLE_EQ(s.percentile_ms(0.99), 100);
  EXPECT_DOUBLE_EQ(s.percentile_ms(1.0), 1000);
  EXPECT_DOUBLE_EQ(WindowStats{}.percentile_ms(0.5), 0);
}

TEST(Target, DelayIsAddedAsAQueryParameter) {
  EXPECT_EQ(with_delay("http://h/delay", 0us), "http://h/delay");
  EXPECT_EQ(with_delay("http://h/delay", 200us), "http://h/delay?delay_us=200");
  EXPECT_EQ(with_delay("http://h/bytes?n=10", 1s), "http://h/bytes?n=10&delay_us=1000000");
}

TEST(Target, BadUrlsAreRefusedWithTheReason) {
  sluice::http::Client client;
  auto reason = [&](const std::string& url) {
    try {
      check_target(url, client, 2s);
    } catch (const TargetError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(reason("file:///etc/passwd").find("scheme 'file' is refused"), std::string::npos);
  EXPECT_NE(reason("gopher://h/").find("scheme 'gopher' is refused"), std::string::npos);
  EXPECT_NE(reason("no-scheme").find("is not a URL"), std::string::npos);
  EXPECT_NE(reason("http://127.0.0.1:1/").find("refused"), std::string::npos);
  sluice::http_server::LocalServer server;
  EXPECT_EQ(reason(server.url("/status?code=404")), "accepted");  // it answers: usable
}

TEST(Summary, DelaysAndWindowsReadWell) {
  EXPECT_EQ(format_delay(0us), "0");
  EXPECT_EQ(format_delay(200us), "200us");
  EXPECT_EQ(format_delay(5ms), "5ms");
  EXPECT_EQ(format_delay(1s), "1s");
  WindowLine w{.index = 2,
               .start_s = 20,
               .end_s = 30,
               .ok = 7,
               .errors = 1,
               .p50_ms = 1.5,
               .p99_ms = 2.5,
               .partial = true};
  const std::string line = format_window(w);
  EXPECT_NE(line.find("window   2 [  20.0s,   30.0s):       7 ok,     1 errors"), std::string::npos)
      << line;
  EXPECT_NE(line.find("partial"), std::string::npos);
}

}  // namespace
