// sluice::http — the asynchronous HTTP client node family, all in one include.
//
//   #include <sluice/http.hpp>
//
//   auto client = std::make_shared<sluice::http::Client>();
//   sluice::http::Response r = client->fetch({.url = "http://127.0.0.1:8080/"});
//   if (r.ok()) use(r.body);                        // a 2xx response
//   auto stage = sluice::http::fetch_stage(client);  // for flow.async_map(...)
//
// Pieces: Request, Response and Headers (types.hpp), ErrorKind (error_kind.hpp),
// RetryPolicy (retry.hpp), ClientOptions (client_options.hpp), Client and Counters
// (client.hpp), and FetchStage, the async_map operation (stage.hpp).
#pragma once

#include <sluice/http/client.hpp>
#include <sluice/http/client_options.hpp>
#include <sluice/http/error_kind.hpp>
#include <sluice/http/retry.hpp>
#include <sluice/http/stage.hpp>
#include <sluice/http/types.hpp>
