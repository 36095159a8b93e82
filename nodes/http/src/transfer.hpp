// One request's life inside the client, and its conversion to and from libcurl: the
// easy-handle options an attempt runs with, and the response read back from it.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "memory_budget.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/types.hpp"
#include "socket_loop.hpp"

namespace sluice::http::detail {

/// A request from submit() to its callback, across its attempts.
struct Transfer {
  Request request;
  Client::Callback on_done;
  RetryPolicy policy;
  int attempts = 0;

  // The attempt under way (the easy handle belongs to the I/O thread's free list).
  CURL* easy = nullptr;
  bool easy_plain = false;  // the handle is set up as configure_easy sets up a plain GET
  std::size_t shard = 0;    // the SocketLoop shard running it
  curl_slist* header_list = nullptr;
  std::string body;
  Headers headers;
  std::size_t max_body = 0;
  std::size_t max_header_bytes = 0;
  OpenSocketContext open_context;  // socket(2)'s errno when it failed for this attempt
  long max_redirects = 0;
  MemoryBudget* budget = nullptr;  // the client's; what this transfer holds is charged
  std::size_t charged = 0;         // bytes charged to the budget (buffer capacities)
  std::size_t header_bytes = 0;    // header lines of this attempt, every hop
  int head_status = 0;             // the status of the latest status line (0: none valid)
  bool head_complete = false;      // the latest response's head ended (blank line)
  bool too_large = false;          // the body passed max_body
  bool headers_too_large = false;  // the headers passed max_header_bytes
  bool over_budget = false;        // the client's memory budget was spent
  char error_buffer[CURL_ERROR_SIZE] = {};
};

/// Gives back what the transfer holds against the client's memory budget (its buffers
/// are released or handed to the caller).
void release_budget(Transfer& transfer) noexcept;

/// Clears what the previous attempt collected.
void reset_attempt(Transfer& transfer) noexcept;

/// A GET with no body and no headers of its own: most requests, and the ones whose
/// handle can be set up again by changing only what differs between requests.
bool is_plain_get(const Request& request) noexcept;

/// Sets every option of one attempt on a fresh (or curl_easy_reset) handle: the
/// request itself, the safe defaults, and the callbacks that fill `transfer`.
/// Returns the first option libcurl rejected, or CURLE_OK.
CURLcode configure_easy(CURL* easy, Transfer& transfer, const ClientOptions& options);

/// For a plain GET on a handle whose last set-up was configure_easy's for a plain GET
/// (and that is otherwise untouched since): sets only what differs between requests.
/// Resetting and setting every option again costs more than a fifth of the client's
/// own work per request.
CURLcode configure_plain_again(CURL* easy, Transfer& transfer, const ClientOptions& options);

/// Points a finished plain GET's handle away from its transfer (so an idle handle keeps
/// no pointer into a finished request) and leaves the rest set up for the next one.
void detach_plain(CURL* easy) noexcept;

/// Frees what configure_easy allocated for the attempt (the header list).
void release_attempt(Transfer& transfer) noexcept;

/// Whether the attempt reached the server, for telling connect timeouts from others.
bool attempt_connected(CURL* easy) noexcept;

/// The response of a finished attempt: status, headers and body (moved out of the
/// transfer), timings, and the error kind and message when there was no response.
Response read_response(CURL* easy, Transfer& transfer, CURLcode result);

/// A response that no transfer produced (refused scheme, cancel, bad option).
Response synthetic_response(const Transfer& transfer, ErrorKind error, std::string message);

/// "GET http://host/path" — how messages name a request.
std::string describe_request(const Request& request);

}  // namespace sluice::http::detail
