#include "bare_curl.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace {

using Clock = std::chrono::steady_clock;

struct Slot {
  CURL* easy = nullptr;
  Clock::time_point started;
};

std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
  return size * n;
}

}  // namespace

BareCurlMulti::BareCurlMulti() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("BareCurlMulti: curl_multi_init failed");
}

BareCurlMulti::~BareCurlMulti() {
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

BareCurlMulti::Result BareCurlMulti::run(const std::string& url, std::size_t requests,
                                         std::size_t in_flight) {
  auto* multi = static_cast<CURLM*>(multi_);
  // Enough cached connections that none of this run's is closed between two requests.
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(in_flight));
  Result result;
  result.latency_ms.reserve(requests);
  std::vector<Slot> slots(std::min(in_flight, requests));
  std::size_t started = 0;
  const auto start = [&](Slot& slot) {
    slot.started = Clock::now();
    curl_multi_add_handle(multi, slot.easy);
    ++started;
  };
  for (Slot& slot : slots) {
    slot.easy = curl_easy_init();
    curl_easy_setopt(slot.easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(slot.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, static_cast<void*>(&slot));
    start(slot);
  }
  std::size_t done = 0;
  while (done < requests) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      void* data = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &data);
      Slot& slot = *static_cast<Slot*>(data);
      long status = 0;
      curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK || status < 200 || status > 299) ++result.errors;
      result.latency_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - slot.started).count());
      ++done;
      curl_multi_remove_handle(multi, slot.easy);
      if (started < requests) start(slot);
    }
    if (done == requests) break;
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (Slot& slot : slots) curl_easy_cleanup(slot.easy);
  return result;
}
