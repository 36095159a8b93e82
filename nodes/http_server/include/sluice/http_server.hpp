// sluice::http_server — a local HTTP/1.1 server for tests, samples and benchmarks, all in
// one include.
//
//   #include <sluice/http_server.hpp>
//
//   sluice::http_server::LocalServer server;  // 127.0.0.1, ephemeral port
//   std::string url = server.url("/bytes?n=1000");
//   // ... fetch url, then:
//   EXPECT_EQ(server.endpoint_count(sluice::http_server::Endpoint::bytes), 1u);
//
// Pieces: LocalServer, LocalServerOptions and LocalServerStats (local_server.hpp), the
// endpoints it answers and pattern_byte (endpoint.hpp), raise_fd_limit (fd_limit.hpp).
#pragma once

#include <sluice/http_server/endpoint.hpp>
#include <sluice/http_server/fd_limit.hpp>
#include <sluice/http_server/local_server.hpp>
