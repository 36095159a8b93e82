// sluice's HTTP node family, all in one include.
//
//   #include <sluice/http.hpp>
//
//   auto client = std::make_shared<sluice::HttpClient>();
//   sluice::HttpResponse r = client->fetch({.url = "http://127.0.0.1:8080/"});
//   auto stage = sluice::http::fetch_stage(client);  // for flow.async_map(...)
#pragma once

#include "sluice/http_client.hpp"
#include "sluice/http_retry.hpp"
#include "sluice/http_stage.hpp"
#include "sluice/http_types.hpp"
