#include "sluice/http/client.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "client_engine.hpp"

namespace sluice::http {

Client::Client(ClientOptions options)
    : options_(options), engine_(std::make_shared<detail::Engine>(std::move(options))) {
  engine_->start();
}

Client::~Client() {
  engine_->shutdown();
}

void Client::submit(Request request, Callback on_done) {
  engine_->submit(std::move(request), std::move(on_done));
}

Response Client::fetch(Request request) {
  if (engine_->on_io_thread()) {
    throw std::logic_error(
        "sluice::http::Client::fetch called from the client's own callback: it would wait "
        "on the thread that has to answer it; use submit there");
  }
  struct Waiter {
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<Response> response;
  };
  auto waiter = std::make_shared<Waiter>();
  submit(std::move(request), [waiter](Response response) {
    {
      std::lock_guard lock(waiter->mutex);
      waiter->response = std::move(response);
    }
    waiter->ready.notify_one();
  });
  std::unique_lock lock(waiter->mutex);
  waiter->ready.wait(lock, [&] { return waiter->response.has_value(); });
  return std::move(*waiter->response);
}

void Client::cancel_all() {
  engine_->cancel_all();
}

Counters Client::counters() const noexcept {
  return engine_->counters();
}

}  // namespace sluice::http
