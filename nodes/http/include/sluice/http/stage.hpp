// sluice::http::FetchStage: a Client as an `async_map` operation of a pipeline.
#pragma once

#include <memory>
#include <utility>

#include "sluice/completion.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/types.hpp"

namespace sluice::http {

/// How FetchStage hands outcomes to the pipeline.
struct FetchStageOptions {
  /// false (the default): every outcome is data — a Response with a status or an error
  /// kind — and the item goes on. true: a request that got no response (not
  /// `received()`: an error kind other than none) becomes a failed item carrying its
  /// error message. Statuses are data either way: a 404 or a 503 goes on as a Response.
  bool fail_on_error = false;
};

/// An async operation `void(Request, Completion<Response>)` that runs each request on a
/// shared Client. The stage's max in flight is the number of concurrent requests;
/// `cancel()` (wire it to the pipeline's on_cancel) ends every request in flight with
/// ErrorKind::cancelled, so nothing is left waiting in the graph.
///
///   auto client = std::make_shared<sluice::http::Client>();
///   auto fetch = sluice::http::fetch_stage(client);
///   sluice::from("ids", std::views::iota(0, 10'000))
///       .map("request", [](int i) { return sluice::http::Request{.url = url_for(i)}; })
///       .async_map("fetch", fetch,
///                  {.max_in_flight = 1000, .on_cancel = [fetch] { fetch.cancel(); }})
///       .sink("store", store)
///       .run();
///
/// Copies share the client. cancel() ends every request of that client, so pipelines
/// that are cancelled independently should each have a client of their own.
class FetchStage {
 public:
  /// What the stage emits, so async_map needs no explicit type.
  using output_type = Response;

  explicit FetchStage(std::shared_ptr<Client> client, FetchStageOptions options = {})
      : client_(std::move(client)), options_(options) {}

  void operator()(Request request, Completion<Response> done) const {
    if (done.cancelled()) {
      // The run is being cancelled: do not start what nobody will wait for.
      Response r;
      r.url = request.url;
      r.effective_url = request.url;
      r.tag = request.tag;
      r.error = ErrorKind::cancelled;
      r.error_message = "cancelled: " + request.method + " " + request.url +
                        ": the pipeline was cancelled before the request started";
      deliver(done, std::move(r), options_.fail_on_error);
      return;
    }
    client_->submit(std::move(request), [done, fail = options_.fail_on_error](Response r) {
      deliver(done, std::move(r), fail);
    });
    // A cancel that came between the check above and the submit has already run its
    // cancel_all without this request; ended here, it is not left running after the run
    // has returned. (A cancel after this check ends it through on_cancel.)
    if (done.cancelled()) client_->cancel_all();
  }

  /// Ends every request of the client (in flight, queued, waiting to retry) with
  /// ErrorKind::cancelled; returns once their completions have run.
  void cancel() const { client_->cancel_all(); }

  const std::shared_ptr<Client>& client() const noexcept { return client_; }

 private:
  static void deliver(const Completion<Response>& done, Response r, bool fail_on_error) {
    if (fail_on_error && !r.received()) {
      done.fail(r.error_message);
    } else {
      done.succeed(std::move(r));
    }
  }
  std::shared_ptr<Client> client_;
  FetchStageOptions options_;
};

/// A FetchStage over `client`.
///
///   auto stage = sluice::http::fetch_stage(std::make_shared<sluice::http::Client>());
inline FetchStage fetch_stage(std::shared_ptr<Client> client, FetchStageOptions options = {}) {
  return FetchStage(std::move(client), options);
}

}  // namespace sluice::http
