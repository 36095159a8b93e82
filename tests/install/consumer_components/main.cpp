// A user's program built against an installed sluice with find_package(sluice COMPONENTS
// http http_server window image gpu): it fetches from the local server through an HTTP
// stage and touches each other family once, so every component's link is exercised.
#include <sluice/gpu.hpp>
#include <sluice/http.hpp>
#include <sluice/http_server.hpp>
#include <sluice/image.hpp>
#include <sluice/sluice.hpp>
#include <sluice/window.hpp>

#include <cstdio>
#include <memory>
#include <ranges>
#include <string>

int main() {
  sluice::http_server::LocalServer server;
  auto fetch = sluice::http::fetch_stage(std::make_shared<sluice::http::Client>());
  std::size_t bytes = 0;
  auto r =
      sluice::from("n", std::views::iota(1, 11))
          .map("request",
               [&](int n) {
                 return sluice::http::Request{.url = server.url("/bytes?n=" + std::to_string(n))};
               })
          .async_map("fetch", fetch, {.max_in_flight = 4})
          .sink("count",
                [&](sluice::http::Response resp) {
                  if (resp.ok()) bytes += resp.body.size();
                })
          .run();
  const auto jpeg = sluice::image::encode_test_image(0);
  const auto img = sluice::image::decode_jpeg(jpeg);
  std::printf("fetched %zu bytes, image %dx%d, cuda compiled: %d\n", bytes, img.width, img.height,
              sluice::gpu::cuda_compiled() ? 1 : 0);
  return bytes == 55 && r.balanced() && img.width > 0 ? 0 : 1;
}
