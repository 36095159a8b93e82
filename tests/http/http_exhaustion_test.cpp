// Running out of descriptors: with RLIMIT_NOFILE lowered to 256 and 1,000 requests in
// flight, every request ends once — delivered, or failed with a kind that says what
// happened — and nothing crashes. The limit is process-wide, so this suite is its own
// executable and restores the limit before it ends.
#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::http::ErrorKind;
using sluice_http_test::Collector;

/// Lowers the soft descriptor limit for its lifetime.
class LoweredDescriptorLimit {
 public:
  explicit LoweredDescriptorLimit(rlim_t soft) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~LoweredDescriptorLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }
  LoweredDescriptorLimit(const LoweredDescriptorLimit&) = delete;
  LoweredDescriptorLimit& operator=(const LoweredDescriptorLimit&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST(http_exhaustion, AThousandInFlightWith256DescriptorsEachEndOnceAndSayWhy) {
  constexpr std::size_t kRequests = 1000;
  Collector got;
  {
    LoweredDescriptorLimit limit(256);
    ASSERT_TRUE(limit.ok());
    sluice::http_server::LocalServerOptions server_options;
    server_options.raise_fd_limit = false;
    sluice::http_server::LocalServer server(server_options);
    sluice::http::ClientOptions options;
    options.raise_fd_limit = false;  // the point is to run short
    options.timeout = 3s;            // a connection the starved server never accepts ends
    options.retry = sluice::http::RetryPolicy::none();
    sluice::http::Client client(options);
    for (std::size_t i = 0; i < kRequests; ++i) {
      client.submit({.url = server.url("/delay?us=50000&id=" + std::to_string(i)), .tag = i},
                    got.callback());
    }
    ASSERT_TRUE(got.wait(kRequests, 30s)) << "lost: " << kRequests - got.size();
    const auto c = client.counters();
    EXPECT_EQ(c.completed, kRequests);
    EXPECT_EQ(c.in_flight, 0u);
  }
  std::array<std::size_t, sluice::http::kErrorKinds> kinds{};
  std::vector<int> seen(kRequests, 0);
  std::string no_descriptor_message;
  for (const auto& r : got.take()) {
    ASSERT_LT(r.tag, kRequests);
    ++seen[r.tag];
    ++kinds[static_cast<std::size_t>(r.error)];
    if (r.error == ErrorKind::no_descriptors) no_descriptor_message = r.error_message;
    EXPECT_TRUE(r.error == ErrorKind::none || r.error == ErrorKind::no_descriptors ||
                r.error == ErrorKind::timeout || r.error == ErrorKind::reset)
        << sluice::http::to_string(r.error) << ": " << r.error_message;
  }
  for (std::size_t i = 0; i < kRequests; ++i) ASSERT_EQ(seen[i], 1) << "request " << i;
  EXPECT_GT(kinds[static_cast<std::size_t>(ErrorKind::no_descriptors)], 0u);
  EXPECT_GT(kinds[static_cast<std::size_t>(ErrorKind::none)], 0u) << "some got through";
  EXPECT_EQ(kinds[static_cast<std::size_t>(ErrorKind::refused)], 0u)
      << "no server refused anything: running out of descriptors is not a refusal";
  EXPECT_NE(no_descriptor_message.find("RLIMIT_NOFILE soft 256"), std::string::npos)
      << no_descriptor_message;

  // With the limit back, the same kind of client works again.
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  EXPECT_TRUE(client.fetch({.url = server.url("/bytes?n=10")}).ok());
}

TEST(http_exhaustion, AThousandInFlightAgainstARefusingPortAllEndRefused) {
  sluice::http::ClientOptions options;
  options.retry = sluice::http::RetryPolicy::none();
  sluice::http::Client client(options);
  const std::string url = sluice_http_test::refused_url();
  constexpr std::size_t kRequests = 1000;
  Collector got;
  for (std::size_t i = 0; i < kRequests; ++i) client.submit({.url = url, .tag = i}, got.callback());
  ASSERT_TRUE(got.wait(kRequests, 30s)) << "lost: " << kRequests - got.size();
  std::vector<int> seen(kRequests, 0);
  for (const auto& r : got.take()) {
    ASSERT_LT(r.tag, kRequests);
    ++seen[r.tag];
    EXPECT_EQ(r.error, ErrorKind::refused) << r.error_message;
  }
  for (std::size_t i = 0; i < kRequests; ++i) ASSERT_EQ(seen[i], 1) << "request " << i;
}

}  // namespace
