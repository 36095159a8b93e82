// sluice::http without a server: the scheme check, error classification, the retry
// schedule's maths, header look-up, and the client's behaviour where no HTTP server
// is involved (refused schemes, a closed port, cancelling requests that hang on a
// socket nobody answers).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <latch>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error_kind.hpp"
#include "http_test_support.hpp"
#include "retry_schedule.hpp"
#include "sluice/http.hpp"
#include "url_scheme.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::http::ErrorKind;
using sluice::http::RetryPolicy;
namespace hd = sluice::http::detail;
using sluice_http_test::closed_port;
using sluice_http_test::Collector;
using sluice_http_test::SilentListener;

// ---- the scheme check ---------------------------------------------------------------

TEST(http_url_scheme, ParsesSchemes) {
  EXPECT_EQ(hd::url_scheme("http://a/"), "http");
  EXPECT_EQ(hd::url_scheme("HTTPS://a/"), "https");
  EXPECT_EQ(hd::url_scheme("file:///etc/passwd"), "file");
  EXPECT_EQ(hd::url_scheme("svn+ssh://x"), "svn+ssh");
  EXPECT_FALSE(hd::url_scheme("/relative/path").has_value());
  EXPECT_FALSE(hd::url_scheme("://nothing").has_value());
  EXPECT_FALSE(hd::url_scheme("1http://x").has_value());
}

TEST(http_url_scheme, AllowsOnlyHttpAndHttps) {
  EXPECT_FALSE(hd::refuse_scheme("http://127.0.0.1:80/x").has_value());
  EXPECT_FALSE(hd::refuse_scheme("https://example.org").has_value());
  EXPECT_FALSE(hd::refuse_scheme("HtTp://example.org").has_value());
  for (const char* url :
       {"file:///etc/passwd", "gopher://example.org/", "dict://example.org/", "ftp://example.org/",
        "ldap://x", "example.org/path", "localhost:8080/x", "http:/one-slash", ""}) {
    const auto why = hd::refuse_scheme(url);
    ASSERT_TRUE(why.has_value()) << url;
    EXPECT_NE(why->find("http"), std::string::npos) << "the message says what is allowed";
  }
  EXPECT_NE(hd::refuse_scheme("file:///etc/passwd")->find("'file'"), std::string::npos);
  EXPECT_NE(hd::refuse_scheme("example.org/x")->find("no scheme"), std::string::npos);
}

// ---- error classification -----------------------------------------------------------

TEST(http_error_kind, ClassifiesCurlResults) {
  const hd::AttemptVerdicts none{};
  EXPECT_EQ(hd::classify_curl_result(CURLE_OK, none), ErrorKind::none);
  EXPECT_EQ(hd::classify_curl_result(CURLE_COULDNT_CONNECT, none), ErrorKind::refused);
  EXPECT_EQ(hd::classify_curl_result(CURLE_COULDNT_RESOLVE_HOST, none), ErrorKind::dns);
  EXPECT_EQ(hd::classify_curl_result(CURLE_OPERATION_TIMEDOUT, none), ErrorKind::timeout);
  EXPECT_EQ(hd::classify_curl_result(CURLE_RECV_ERROR, none), ErrorKind::reset);
  EXPECT_EQ(hd::classify_curl_result(CURLE_PARTIAL_FILE, none), ErrorKind::reset);
  EXPECT_EQ(hd::classify_curl_result(CURLE_GOT_NOTHING, none), ErrorKind::reset);
  EXPECT_EQ(hd::classify_curl_result(CURLE_SEND_ERROR, none), ErrorKind::reset);
  EXPECT_EQ(hd::classify_curl_result(CURLE_FILESIZE_EXCEEDED, none), ErrorKind::too_large);
  EXPECT_EQ(hd::classify_curl_result(CURLE_WRITE_ERROR, {.body_too_large = true}),
            ErrorKind::too_large);
  EXPECT_EQ(hd::classify_curl_result(CURLE_WRITE_ERROR, {.headers_too_large = true}),
            ErrorKind::too_large);
  EXPECT_EQ(hd::classify_curl_result(CURLE_WRITE_ERROR, {.over_budget = true}),
            ErrorKind::too_large);
  EXPECT_EQ(hd::classify_curl_result(CURLE_WRITE_ERROR, none), ErrorKind::other);
  EXPECT_EQ(hd::classify_curl_result(CURLE_TOO_MANY_REDIRECTS, none),
            ErrorKind::too_many_redirects);
  EXPECT_EQ(hd::classify_curl_result(CURLE_PEER_FAILED_VERIFICATION, none), ErrorKind::other);
  EXPECT_EQ(hd::classify_curl_result(CURLE_WEIRD_SERVER_REPLY, none), ErrorKind::protocol);
  EXPECT_EQ(hd::classify_curl_result(CURLE_BAD_CONTENT_ENCODING, none), ErrorKind::protocol);
}

TEST(http_error_kind, UnsupportedProtocolIsARefusedRedirectOnlyAfterA3xx) {
  // libcurl says CURLE_UNSUPPORTED_PROTOCOL for a redirect to file:// and for a status
  // line it cannot read: only the first follows a complete 3xx head.
  EXPECT_EQ(hd::classify_curl_result(CURLE_UNSUPPORTED_PROTOCOL,
                                     {.head_complete = true, .head_status = 302}),
            ErrorKind::scheme_refused);
  EXPECT_EQ(hd::classify_curl_result(CURLE_UNSUPPORTED_PROTOCOL, {}), ErrorKind::protocol);
  EXPECT_EQ(hd::classify_curl_result(CURLE_UNSUPPORTED_PROTOCOL,
                                     {.head_complete = true, .head_status = 200}),
            ErrorKind::protocol);
}

TEST(http_error_kind, OutOfMemoryWhileReadingTheHeadIsAHeaderOverTheCap) {
  EXPECT_EQ(hd::classify_curl_result(CURLE_OUT_OF_MEMORY, {}), ErrorKind::too_large);
  EXPECT_EQ(hd::classify_curl_result(CURLE_OUT_OF_MEMORY, {.head_complete = true}),
            ErrorKind::other);
}

TEST(http_error_kind, NamesEveryKind) {
  EXPECT_STREQ(sluice::http::to_string(ErrorKind::none), "none");
  EXPECT_STREQ(sluice::http::to_string(ErrorKind::scheme_refused), "scheme_refused");
  EXPECT_STREQ(sluice::http::to_string(ErrorKind::protocol), "protocol");
  EXPECT_STREQ(sluice::http::to_string(ErrorKind::too_many_redirects), "too_many_redirects");
  EXPECT_STREQ(sluice::http::to_string(ErrorKind::other), "other");
  EXPECT_EQ(static_cast<std::size_t>(ErrorKind::other) + 1, sluice::http::kErrorKinds);
  for (std::size_t k = 0; k < sluice::http::kErrorKinds; ++k) {
    EXPECT_STRNE(sluice::http::to_string(static_cast<ErrorKind>(k)), "unknown") << k;
  }
}

TEST(http_headers, LookUpIgnoresCase) {
  sluice::http::Response r;
  r.headers = {{"Content-Type", "text/plain"}, {"Retry-After", "3"}, {"retry-after", "9"}};
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("RETRY-AFTER"), "3");  // the first one
  EXPECT_FALSE(r.header("Content-Length").has_value());
}

// ---- the retry schedule -------------------------------------------------------------

TEST(http_retry_schedule, BackoffCeilingDoublesUpToTheCap) {
  RetryPolicy p{.max_attempts = 10, .base_delay = 100ms, .max_delay = 1s};
  EXPECT_EQ(hd::backoff_ceiling(p, 1), 100ms);
  EXPECT_EQ(hd::backoff_ceiling(p, 2), 200ms);
  EXPECT_EQ(hd::backoff_ceiling(p, 3), 400ms);
  EXPECT_EQ(hd::backoff_ceiling(p, 4), 800ms);
  EXPECT_EQ(hd::backoff_ceiling(p, 5), 1s);
  EXPECT_EQ(hd::backoff_ceiling(p, 500), 1s);  // no overflow far out
}

TEST(http_retry_schedule, FullJitterSpansZeroToTheCeiling) {
  RetryPolicy p{.max_attempts = 10, .base_delay = 100ms, .max_delay = 1s};
  EXPECT_EQ(hd::backoff_delay(p, 3, 0.0), 0ms);
  EXPECT_EQ(hd::backoff_delay(p, 3, 0.5), 200ms);
  EXPECT_EQ(hd::backoff_delay(p, 3, 1.0), 400ms);
  EXPECT_EQ(hd::backoff_delay(p, 3, 7.0), 400ms);  // clamped
}

TEST(http_retry_schedule, ParsesRetryAfter) {
  EXPECT_EQ(hd::parse_retry_after("3", 0), 3s);
  EXPECT_EQ(hd::parse_retry_after(" 0 ", 0), 0s);
  EXPECT_EQ(hd::parse_retry_after("99999999999999999999999", 0), 86'400s * 365);
  EXPECT_FALSE(hd::parse_retry_after("", 0).has_value());
  EXPECT_FALSE(hd::parse_retry_after("soon", 0).has_value());
  EXPECT_FALSE(hd::parse_retry_after("-5", 0).has_value());
  // An HTTP-date counts from `now`: 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
  EXPECT_EQ(hd::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 20), 20s);
  EXPECT_EQ(hd::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 20), 0s);
  // A date in year 989909999 (found by fuzzing) reads as a year, like huge delta-seconds,
  // so comparing it with the policy's cap in milliseconds cannot overflow.
  EXPECT_EQ(hd::parse_retry_after("9Dec989909999", 0), 86'400s * 365);
}

TEST(http_retry_schedule, RetriesConnectFailures429And5xx) {
  const RetryPolicy p = RetryPolicy::with_attempts(3);
  const auto retryable = [&](ErrorKind e, int status, bool connected, const char* method) {
    return hd::is_retryable({e, status, connected}, method, p);
  };
  EXPECT_TRUE(retryable(ErrorKind::refused, 0, false, "POST"));
  EXPECT_TRUE(retryable(ErrorKind::timeout, 0, false, "POST"));  // connect timeout
  EXPECT_FALSE(retryable(ErrorKind::timeout, 0, true, "GET"));   // the server was slow
  EXPECT_TRUE(retryable(ErrorKind::reset, 0, true, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::reset, 0, true, "POST"));  // it may have acted
  EXPECT_TRUE(retryable(ErrorKind::none, 503, true, "POST"));
  EXPECT_TRUE(retryable(ErrorKind::none, 429, true, "POST"));
  EXPECT_TRUE(retryable(ErrorKind::none, 500, true, "get"));
  EXPECT_FALSE(retryable(ErrorKind::none, 500, true, "POST"));
  EXPECT_FALSE(retryable(ErrorKind::none, 501, true, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::none, 404, true, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::none, 200, true, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::dns, 0, false, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::too_large, 200, true, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::scheme_refused, 0, false, "GET"));
  EXPECT_FALSE(retryable(ErrorKind::cancelled, 0, false, "GET"));

  RetryPolicy unsafe = p;
  unsafe.retry_unsafe_methods = true;
  EXPECT_TRUE(hd::is_retryable({ErrorKind::reset, 0, true}, "POST", unsafe));
}

TEST(http_retry_schedule, StopsAfterMaxAttempts) {
  const RetryPolicy p{.max_attempts = 3, .base_delay = 10ms, .max_delay = 1s};
  hd::RetryBudget budget;
  hd::RetryInput in;
  in.result = {ErrorKind::none, 503, true};
  in.method = "GET";
  in.unit = 1.0;
  in.submitted = 1000;
  in.attempts_made = 1;
  auto d = hd::decide_retry(p, in, budget);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, 10ms);
  in.attempts_made = 2;
  d = hd::decide_retry(p, in, budget);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, 20ms);
  in.attempts_made = 3;
  EXPECT_FALSE(hd::decide_retry(p, in, budget).retry);
  EXPECT_EQ(budget.spent(), 2u);
}

TEST(http_retry_schedule, HonoursRetryAfterWithinTheCap) {
  const RetryPolicy p{
      .max_attempts = 3, .base_delay = 10ms, .max_delay = 1s, .max_retry_after = 5s};
  hd::RetryBudget budget;
  hd::RetryInput in;
  in.result = {ErrorKind::none, 429, true};
  in.method = "GET";
  in.submitted = 1000;
  in.retry_after = "2";
  auto d = hd::decide_retry(p, in, budget);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, 2s);
  in.retry_after = "60";  // longer than the cap: the 429 goes back to the caller
  EXPECT_FALSE(hd::decide_retry(p, in, budget).retry);
  in.retry_after = "garbage";  // unparseable: ordinary backoff
  in.unit = 0.5;
  d = hd::decide_retry(p, in, budget);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, 5ms);
}

TEST(http_retry_schedule, BudgetBoundsRetriesClientWide) {
  const RetryPolicy p{.max_attempts = 5, .budget_ratio = 0.1, .budget_floor = 2};
  hd::RetryBudget budget;
  // 100 requests submitted: floor 2 + 10% = 12 retries, no more.
  int granted = 0;
  for (int i = 0; i < 50; ++i) granted += budget.try_spend(p, 100) ? 1 : 0;
  EXPECT_EQ(granted, 12);
  // More traffic earns more allowance.
  EXPECT_TRUE(budget.try_spend(p, 200));
  const RetryPolicy floor_only{.max_attempts = 5, .budget_ratio = 0.0, .budget_floor = 1};
  hd::RetryBudget small;
  EXPECT_TRUE(small.try_spend(floor_only, 1'000'000));
  EXPECT_FALSE(small.try_spend(floor_only, 1'000'000));
}

// ---- the client, no HTTP server needed ----------------------------------------------

TEST(http_client_no_server, RefusesOtherSchemesAtOnce) {
  sluice::http::Client client;
  Collector got;
  const std::vector<std::string> urls = {"file:///etc/passwd", "gopher://127.0.0.1/",
                                         "dict://127.0.0.1/", "127.0.0.1/no-scheme"};
  for (const auto& url : urls) client.submit({.url = url}, got.callback());
  ASSERT_TRUE(got.wait(urls.size()));
  for (const auto& r : got.take()) {
    EXPECT_EQ(r.error, ErrorKind::scheme_refused) << r.url;
    EXPECT_EQ(r.attempts, 0) << "nothing was sent";
    EXPECT_TRUE(r.body.empty());
    EXPECT_NE(r.error_message.find(r.url), std::string::npos) << r.error_message;
  }
  const auto c = client.counters();
  EXPECT_EQ(c.errors(ErrorKind::scheme_refused), urls.size());
  EXPECT_EQ(c.attempts, 0u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST(http_client_no_server, FetchOfAClosedPortIsRefused) {
  sluice::http::Client client;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  const auto r = client.fetch({.url = url});
  EXPECT_EQ(r.error, ErrorKind::refused) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.error_message.find(url), std::string::npos) << r.error_message;
}

TEST(http_client_no_server, RefusedConnectionsAreRetriedWithBackoff) {
  sluice::http::Client client;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  sluice::http::Request req{.url = url};
  req.retry = RetryPolicy{.max_attempts = 3, .base_delay = 5ms, .max_delay = 20ms};
  const auto r = client.fetch(req);
  EXPECT_EQ(r.error, ErrorKind::refused);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(client.counters().attempts, 3u);
  EXPECT_EQ(client.counters().retries, 2u);
}

TEST(http_client_no_server, TimesOutOnASilentServer) {
  SilentListener silent;
  sluice::http::Client client;
  sluice::http::Request req{.url = silent.url("/x")};
  req.timeout = 100ms;
  req.retry = RetryPolicy::with_attempts(3);  // a response timeout is not retried
  const auto start = std::chrono::steady_clock::now();
  const auto r = client.fetch(req);
  EXPECT_EQ(r.error, ErrorKind::timeout) << r.error_message;
  // One request was sent and, timed out, not sent again. (On a loaded machine the
  // 100 ms may end while still connecting; that attempt sent nothing and is retried,
  // so r.attempts may be more than one.)
  EXPECT_EQ(silent.connections_with_requests(), 1);
  // Ended by the 100 ms timeout, not by the silence: room for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

TEST(http_client_no_server, CancelAllEndsHangingQueuedAndRetryingRequests) {
  SilentListener silent;
  Collector got;
  std::size_t submitted = 0;
  {
    sluice::http::Client client;
    for (int i = 0; i < 200; ++i, ++submitted) client.submit({.url = silent.url()}, got.callback());
    // Waiting to retry, on a long backoff.
    const std::string refused = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
    for (int i = 0; i < 10; ++i, ++submitted) {
      sluice::http::Request req{.url = refused};
      req.retry = RetryPolicy{.max_attempts = 5, .base_delay = 60s, .max_delay = 60s};
      client.submit(req, got.callback());
    }
    // Wait until all 200 connects are under way and the 10 have failed once.
    ASSERT_TRUE(
        sluice_http_test::eventually([&] { return client.counters().attempts >= submitted; }));
    const auto start = std::chrono::steady_clock::now();
    client.cancel_all();
    // Did not wait out the 60 s backoff or the silence.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    // cancel_all returns after the callbacks ran.
    const auto responses = got.take();
    EXPECT_EQ(responses.size(), submitted);
    for (const auto& r : responses) EXPECT_EQ(r.error, ErrorKind::cancelled);
    EXPECT_EQ(client.counters().errors(ErrorKind::cancelled), submitted);
    EXPECT_EQ(client.counters().in_flight, 0u);
  }
}

TEST(http_client_no_server, DestructorCancelsWhatIsLeft) {
  SilentListener silent;
  std::atomic<int> cancelled{0};
  {
    sluice::http::Client client;
    for (int i = 0; i < 50; ++i) {
      client.submit({.url = silent.url()}, [&](sluice::http::Response r) {
        if (r.error == ErrorKind::cancelled) cancelled.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(cancelled.load(), 50);
}

TEST(http_client_no_server, FetchFromACallbackIsALogicError) {
  sluice::http::Client client;
  std::latch done(1);
  bool threw = false;
  client.submit({.url = "file:///x"}, [&](sluice::http::Response) {
    try {
      client.fetch({.url = "file:///y"});
    } catch (const std::logic_error&) {
      threw = true;
    }
    done.count_down();
  });
  done.wait();
  EXPECT_TRUE(threw);
}

TEST(http_client_no_server, ClientDestroyedFromItsOwnCallback) {
  SilentListener silent;
  auto client = std::make_shared<sluice::http::Client>();
  std::latch all_done(11);
  for (int i = 0; i < 10; ++i) {
    client->submit({.url = silent.url()}, [&](sluice::http::Response r) {
      EXPECT_EQ(r.error, ErrorKind::cancelled);
      all_done.count_down();
    });
  }
  // The last reference goes away on the I/O thread itself.
  auto* raw = client.get();
  raw->submit({.url = "file:///x"},
              [&all_done, keep = std::move(client)](sluice::http::Response) mutable {
                keep.reset();
                all_done.count_down();
              });
  all_done.wait();
}

TEST(http_fetch_stage, CompletesThroughACompletion) {
  auto client = std::make_shared<sluice::http::Client>();
  auto stage = sluice::http::fetch_stage(client);
  std::latch done(1);
  sluice::Outcome<sluice::http::Response> outcome;
  stage(sluice::http::Request{.url = "dict://127.0.0.1/", .tag = 7},
        sluice::make_completion<sluice::http::Response>([&](auto o) {
          outcome = std::move(o);
          done.count_down();
        }));
  done.wait();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.value->error, ErrorKind::scheme_refused);
  EXPECT_EQ(outcome.value->tag, 7u);
}

TEST(http_fetch_stage, FailOnErrorTurnsErrorsIntoFailures) {
  auto client = std::make_shared<sluice::http::Client>();
  auto stage = sluice::http::fetch_stage(client, {.fail_on_error = true});
  std::latch done(1);
  sluice::Outcome<sluice::http::Response> outcome;
  stage(sluice::http::Request{.url = "file:///etc/passwd"},
        sluice::make_completion<sluice::http::Response>([&](auto o) {
          outcome = std::move(o);
          done.count_down();
        }));
  done.wait();
  ASSERT_FALSE(outcome.ok());
  try {
    std::rethrow_exception(outcome.error);
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("file:///etc/passwd"), std::string::npos);
  }
}

}  // namespace
