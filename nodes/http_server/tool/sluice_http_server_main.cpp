// sluice-http-server: the LocalServer as a standalone program, for benchmarks (wrk
// and the sluice client against the same server) and for trying endpoints by hand.
//
//   sluice-http-server --port 8080 --root ./data
//   curl 'http://127.0.0.1:8080/bytes?n=100&delay_us=2000'
//
// Runs until SIGINT or SIGTERM, then stops cleanly and prints what it served.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "sluice/http_server.hpp"

namespace {

// Blocks the stop signals in this thread (and every thread started after, the server's
// included) so that sigwait below is the only place they are delivered.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void print_stats(const sluice::http_server::LocalServerStats& stats) {
  std::printf(
      "served %llu requests on %llu connections (%llu open at most; %llu bad, %llu abandoned)\n",
      static_cast<unsigned long long>(stats.requests_received),
      static_cast<unsigned long long>(stats.connections_accepted),
      static_cast<unsigned long long>(stats.peak_active_connections),
      static_cast<unsigned long long>(stats.bad_requests),
      static_cast<unsigned long long>(stats.abandoned));
  for (std::size_t i = 0; i < sluice::http_server::kEndpointCount; ++i) {
    if (stats.per_endpoint[i] == 0) continue;
    const auto name = sluice::http_server::to_string(static_cast<sluice::http_server::Endpoint>(i));
    std::printf("  %-12.*s %llu\n", static_cast<int>(name.size()), name.data(),
                static_cast<unsigned long long>(stats.per_endpoint[i]));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sluice-http-server: a local HTTP server with delays, errors, resets and hangs "
      "on request (see sluice/http_server.hpp for the endpoints)"};
  sluice::http_server::LocalServerOptions options;
  options.port = 8080;
  app.add_option("--host", options.host, "Numeric address to listen on")->capture_default_str();
  app.add_option("-p,--port", options.port, "TCP port (0: any free port)")->capture_default_str();
  std::string root;
  app.add_option("-r,--root", root, "Folder served under /static/")->check(CLI::ExistingDirectory);
  app.add_option("--backlog", options.listen_backlog, "listen(2) backlog")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!root.empty()) options.static_root = root;

  const sigset_t stop_signals = block_stop_signals();
  try {
    const std::uint64_t fd_limit = sluice::http_server::raise_fd_limit();
    sluice::http_server::LocalServer server(options);
    std::printf("sluice-http-server listening on %s (descriptor limit %llu%s%s)\n",
                server.base_url().c_str(), static_cast<unsigned long long>(fd_limit),
                root.empty() ? "" : ", static files from ", root.c_str());
    std::fflush(stdout);

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    std::printf("%s: stopping\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
    print_stats(server.stats());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "sluice-http-server: %s\n", error.what());
    return 1;
  }
  return 0;
}
