#include "loader.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <sluice/image.hpp>
#include <sluice/sluice.hpp>

#include "checksum.hpp"

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

// An image that downloaded, decoded or not: the ones that do not decode are quarantined.
struct Decoded {
  std::string url;
  std::optional<img::Image> image;
  std::string error;  ///< why it did not decode
};

// A 404 arrives as data (a status) and fails the item, naming the URL; a damaged JPEG is
// data too: it goes on, without an image, to the quarantine.
Decoded decode(const sluice::http::Response& r, Counters& counters) {
  const RunningDecode running(counters);
  if (!r.ok()) {
    throw std::runtime_error("GET " + r.url + ": HTTP " + std::to_string(r.status));
  }
  counters.downloaded += r.body.size();
  const auto* data = reinterpret_cast<const std::uint8_t*>(r.body.data());
  try {
    Decoded d{r.url, img::decode_jpeg({data, r.body.size()}), {}};
    counters.decoded += d.image->pixels.size();
    return d;
  } catch (const img::JpegError& e) {
    return Decoded{r.url, std::nullopt, e.what()};
  }
}

// What one run's stages share with run_loader, which reads it after the run.
struct Shared {
  Counters counters;
  std::vector<std::string> quarantined;  // appended by the quarantine sink only
  std::ofstream manifest;                // written by the manifest sink only, when open
  std::size_t checksummed = 0;           // manifest sink only
};

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

// images (two sets, sampled with the mix) -> download -> tee:
//   -> decode -> decodes? -> resize -> batch -> collate -> transfer -> the consumer loop
//                         -> quarantine (a sink naming each image that did not decode)
//   -> downloaded? -> checksum -> manifest (a sink, in draw order)
sluice::Flow<DeviceBatch> build(const ImageSets& sets, const LoaderOptions& o,
                                const sluice::http::FetchStage& fetch,
                                const sluice::gpu::TransferStage& transfer,
                                const std::shared_ptr<Shared>& shared) {
  const int size = o.size;
  const std::size_t n = o.decode_concurrency;
  auto [images, downloads] =
      sluice::sample("images", {o.mix[0], o.mix[1]}, sluice::SampleOptions{.seed = o.seed}, sets.a,
                     sets.b)
          .async_map("download", fetch,
                     {.max_in_flight = 64, .on_cancel = [fetch] { fetch.cancel(); }})
          .tee<2>("fan-out");

  downloads.filter("downloaded?", [](const sluice::http::Response& r) { return r.ok(); })
      .map("checksum", [](sluice::http::Response r) { return checksum(std::move(r.url), r.body); })
      .sink("manifest",
            [shared](const ManifestLine& line) {
              ++shared->checksummed;
              if (shared->manifest.is_open()) shared->manifest << format(line) << '\n';
            },
            {.ordered = true});

  auto [decoded, broken] =
      images
          .map("decode",
               [shared](const sluice::http::Response& r) { return decode(r, shared->counters); },
               {.concurrency = n})
          .partition("decodes?", [](const Decoded& d) { return d.image.has_value(); });
  broken.sink("quarantine", [shared](const Decoded& d) {
    shared->quarantined.push_back(d.url + ": " + d.error);
  });

  return decoded
      .map("resize",
           [size](Decoded d) {
             return Sample{std::move(d.url), img::center_crop_resize(*d.image, size, size)};
           },
           {.concurrency = n})
      .batch("batch", o.batch)
      .map("collate", [size](const std::vector<Sample>& s) { return collate(s, size); })
      .async_map("transfer", transfer,
                 {.max_in_flight = 1, .on_cancel = [transfer] { transfer.cancel(); }});
}

}  // namespace

std::string loader_dot(const LoaderOptions& o) {
  // The host backend: drawing the graph needs no device.
  const auto fetch = sluice::http::fetch_stage(std::make_shared<sluice::http::Client>());
  const sluice::gpu::TransferStage transfer({.device = sluice::gpu::Device::cpu});
  return build(ImageSets{}, o, fetch, transfer, std::make_shared<Shared>()).to_dot();
}

LoaderResult run_loader(const ImageSets& sets, const LoaderOptions& o) {
  LoaderResult result;
  result.requested = sets.a.size() + sets.b.size();
  result.requested_a = sets.a.size();
  result.requested_b = sets.b.size();
  result.base_a = sets.base_a;
  result.base_b = sets.base_b;
  result.mix = o.mix;
  result.manifest = o.manifest;
  auto client = std::make_shared<sluice::http::Client>();
  const auto fetch = sluice::http::fetch_stage(client, {.fail_on_error = true});
  const sluice::gpu::TransferStage transfer({.device = o.device, .device_buffers = 4});
  result.device = std::string(sluice::gpu::to_string(transfer.device()));
  result.device_detail = transfer.describe();

  auto shared = std::make_shared<Shared>();
  if (!o.manifest.empty()) {
    shared->manifest.open(o.manifest, std::ios::binary | std::ios::trunc);
    if (!shared->manifest)
      throw std::runtime_error("cannot write the manifest '" + o.manifest + "'");
  }
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
  auto batches = build(sets, o, fetch, transfer, shared).consume(run);

  std::vector<bool> seen(o.good_images, false);
  for (DeviceBatch& batch : batches) train_step(batch, o.size, result, seen);
  result.report = batches.finish();
  transfer.wait_idle();
  if (o.progress) std::fputc('\n', stderr);
  if (shared->manifest.is_open()) {
    shared->manifest.close();
    if (!shared->manifest)
      throw std::runtime_error("writing the manifest '" + o.manifest + "' failed");
  }
  result.failures = std::move(*failures);
  result.quarantined = std::move(shared->quarantined);
  result.checksummed = shared->checksummed;
  result.decoded_bytes = shared->counters.decoded.load();
  result.downloaded_bytes = shared->counters.downloaded.load();
  result.decode_concurrency = o.decode_concurrency;
  result.decode_peak = shared->counters.decode_peak.load();
  return result;
}

}  // namespace image_loader
