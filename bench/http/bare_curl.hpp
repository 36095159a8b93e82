// BareCurlMulti: the least a client that drives libcurl can do per request, as a
// baseline for bench_http. One multi handle on the calling thread, `in_flight` easy
// handles set up once and re-added as soon as each finishes, curl_multi_perform and
// curl_multi_poll: no queue, no other thread, no pipeline, no response kept beyond its
// status. What sluice's async stage loses against it is sluice's own cost; what it
// loses against wrk, libcurl's.
//
//   BareCurlMulti curl;                                  // keep it: connections stay open
//   auto r = curl.run("http://127.0.0.1:8080/delay?us=0", 20'000, 64);
//   std::cout << r.latency_ms.size() << " answered, " << r.errors << " errors\n";
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

class BareCurlMulti {
 public:
  struct Result {
    std::vector<double> latency_ms;  ///< one per request that completed
    std::uint64_t errors = 0;        ///< transport errors and non-2xx statuses
  };

  BareCurlMulti();
  ~BareCurlMulti();
  BareCurlMulti(const BareCurlMulti&) = delete;
  BareCurlMulti& operator=(const BareCurlMulti&) = delete;

  /// Makes `requests` GETs of `url`, `in_flight` at a time, and returns when all are done.
  Result run(const std::string& url, std::size_t requests, std::size_t in_flight);

 private:
  void* multi_;  // CURLM*, kept across runs with its connection cache
};
