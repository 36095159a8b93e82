#include "loader.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

#include <sluice/image.hpp>
#include <sluice/pipeline.hpp>

namespace image_loader {
namespace {

namespace img = sluice::image;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;

struct Sample {
  std::string url;
  img::Image image;
};

struct Counters {
  std::atomic<std::uint64_t> decoded{0};
  std::atomic<std::uint64_t> downloaded{0};
  std::atomic<std::size_t> decoding{0};
  std::atomic<std::size_t> decode_peak{0};
};

// Counts a decode body as running while it lives, and keeps the peak: the summary shows
// the stage's cap was used, and never exceeded.
class RunningDecode {
 public:
  explicit RunningDecode(Counters& c) : counters_(c) {
    const std::size_t now = ++counters_.decoding;
    std::size_t peak = counters_.decode_peak.load();
    while (now > peak && !counters_.decode_peak.compare_exchange_weak(peak, now)) {
    }
  }
  ~RunningDecode() { --counters_.decoding; }
  RunningDecode(const RunningDecode&) = delete;
  RunningDecode& operator=(const RunningDecode&) = delete;

 private:
  Counters& counters_;
};

// A 404 arrives as data (a status); a damaged JPEG throws: both name the URL.
Sample decode(const sluice::http::Response& r, Counters& counters) {
  const RunningDecode running(counters);
  if (!r.ok()) {
    throw std::runtime_error("GET " + r.url + ": HTTP " + std::to_string(r.status));
  }
  counters.downloaded += r.body.size();
  const auto* data = reinterpret_cast<const std::uint8_t*>(r.body.data());
  try {
    Sample s{r.url, img::decode_jpeg({data, r.body.size()})};
    counters.decoded += s.image.pixels.size();
    return s;
  } catch (const std::exception& e) {
    throw std::runtime_error(r.url + ": " + e.what());
  }
}

// The batch as one block of {n, size, size, 3} bytes.
HostBatch collate(const std::vector<Sample>& samples, int size) {
  const std::size_t per = static_cast<std::size_t>(size) * static_cast<std::size_t>(size) * 3;
  std::vector<std::uint8_t> bytes(per * samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].image.pixels.size() != per) {
      throw std::runtime_error(samples[i].url + ": resized image has the wrong size");
    }
    std::memcpy(bytes.data() + i * per, samples[i].image.pixels.data(), per);
  }
  const auto n = static_cast<std::int64_t>(samples.size());
  return HostBatch(std::move(bytes), {n, size, size, 3});
}

// The "training step": reads the batch back and checks that each image is a distinct
// test image, with the colours it should have.
void train_step(const DeviceBatch& batch, int size, LoaderResult& result, std::vector<bool>& seen) {
  const std::vector<std::uint8_t> host = batch.to_host();
  const std::size_t per = static_cast<std::size_t>(size) * static_cast<std::size_t>(size) * 3;
  const auto n = static_cast<std::size_t>(batch.shape().at(0));
  for (std::size_t i = 0; i < n; ++i) {
    img::Image image(size, size);
    std::memcpy(image.pixels.data(), host.data() + i * per, per);
    std::string why;
    const std::optional<std::size_t> index = img::identify_test_image(image);
    if (!index || *index >= seen.size()) {
      why = "batch " + std::to_string(result.batches) + " image " + std::to_string(i) +
            ": not one of the test images";
    } else if (seen[*index]) {
      why = "test image " + std::to_string(*index) + " arrived twice";
    } else if (why = img::check_test_image(image, *index); why.empty()) {
      seen[*index] = true;
      ++result.verified;
      continue;
    }
    ++result.wrong;
    result.wrong_reasons.push_back(why);
  }
  ++result.batches;
}

}  // namespace

LoaderResult run_loader(const std::vector<sluice::http::Request>& requests,
                        const LoaderOptions& o) {
  LoaderResult result;
  result.requested = requests.size();
  auto client = std::make_shared<sluice::http::Client>();
  const auto fetch = sluice::http::fetch_stage(client, {.fail_on_error = true});
  const sluice::gpu::TransferStage transfer({.device = o.device, .device_buffers = 4});
  result.device = std::string(sluice::gpu::to_string(transfer.device()));
  result.device_detail = transfer.describe();

  auto counters = std::make_shared<Counters>();
  auto failures = std::make_shared<std::vector<std::string>>();
  sluice::RunOptions run;
  run.on_error = sluice::ErrorPolicy::dead_letter(
      [failures](const sluice::Failure& f) { failures->push_back(f.stage + ": " + f.message); });
  if (o.progress) {
    run.progress_interval = std::chrono::milliseconds(200);
    run.on_progress = [](const sluice::Progress& p) {
      std::fprintf(stderr, "\r%s\x1b[K", p.line().c_str());
    };
  }
  const int size = o.size;
  const std::size_t n = o.decode_concurrency;
  auto batches =
      sluice::from("requests", requests)
          .async_map("download", fetch,
                     {.max_in_flight = 64, .on_cancel = [fetch] { fetch.cancel(); }})
          .map("decode",
               [counters](const sluice::http::Response& r) { return decode(r, *counters); },
               {.concurrency = n})
          .map("resize",
               [size](Sample s) {
                 s.image = img::center_crop_resize(s.image, size, size);
                 return s;
               },
               {.concurrency = n})
          .batch("batch", o.batch)
          .map("collate", [size](const std::vector<Sample>& s) { return collate(s, size); })
          .async_map("transfer", transfer,
                     {.max_in_flight = 1, .on_cancel = [transfer] { transfer.cancel(); }})
          .consume(run);

  std::vector<bool> seen(o.good_images, false);
  for (DeviceBatch& batch : batches) train_step(batch, size, result, seen);
  result.report = batches.finish();
  transfer.wait_idle();
  if (o.progress) std::fputc('\n', stderr);
  result.failures = std::move(*failures);
  result.decoded_bytes = counters->decoded.load();
  result.downloaded_bytes = counters->downloaded.load();
  result.decode_concurrency = n;
  result.decode_peak = counters->decode_peak.load();
  return result;
}

}  // namespace image_loader
