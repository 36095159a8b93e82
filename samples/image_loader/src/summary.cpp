#include "summary.hpp"

#include <cstdio>
#include <ostream>
#include <string>

#include "report_json.hpp"

namespace image_loader {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

Rates rates(const LoaderResult& r) {
  const double s = r.report.elapsed_s;
  if (s <= 0) return {};
  return {static_cast<double>(r.verified) / s, static_cast<double>(r.decoded_bytes) / 1e6 / s};
}

void print_text(std::ostream& os, const LoaderResult& r) {
  const Rates x = rates(r);
  os << r.report << "\n";
  os << "transfer device: " << r.device << " (" << r.device_detail << ")\n";
  os << "image sets, drawn with weights " << fixed(r.mix[0], 2) << " and " << fixed(r.mix[1], 2)
     << ": a " << r.requested_a << " requests from " << r.base_a << ", b " << r.requested_b
     << " requests from " << r.base_b << "\n";
  os << "requested " << r.requested << " images: " << r.verified << " ok, " << r.quarantined.size()
     << " quarantined, " << r.report.failed << " failed, in " << fixed(r.report.elapsed_s, 3)
     << " s\n";
  os << "throughput: " << fixed(x.images_per_s, 1) << " images/s, " << fixed(x.mb_per_s, 1)
     << " MB/s decoded (" << fixed(static_cast<double>(r.downloaded_bytes) / 1e6, 1)
     << " MB of JPEG downloaded)\n";
  const sluice::StageReport* busiest = nullptr;
  for (const auto& s : r.report.stages) {
    if (busiest == nullptr || s.busy_fraction > busiest->busy_fraction) busiest = &s;
  }
  if (busiest != nullptr) {
    os << "busiest stage (it bounds the run): " << busiest->name << ", "
       << fixed(busiest->busy_fraction * 100, 1) << " % busy (the table's busy column)\n";
  }
  os << "decode: at most " << r.decode_peak << " at once (cap " << r.decode_concurrency << ")\n";
  os << "checksums: " << r.checksummed << " downloaded images";
  if (!r.manifest.empty()) os << ", written to " << r.manifest;
  os << "\n";
  os << "quarantined (did not decode): " << r.quarantined.size() << "\n";
  for (const auto& q : r.quarantined) os << "  quarantine: " << q << "\n";
  os << "failures: " << r.failures.size() << "\n";
  for (const auto& f : r.failures) os << "  " << f << "\n";
  os << "consumer: " << r.verified << " images in " << r.batches
     << " batches checked OK (each a distinct test image with the right colours)";
  if (r.wrong > 0) os << ", " << r.wrong << " WRONG";
  os << "\n";
  for (const auto& w : r.wrong_reasons) os << "  " << w << "\n";
}

nlohmann::json to_json(const LoaderResult& r) {
  const Rates x = rates(r);
  return {{"requested", r.requested},
          {"ok", r.verified},
          {"failed", r.report.failed},
          {"wrong", r.wrong},
          {"batches", r.batches},
          {"elapsed_s", r.report.elapsed_s},
          {"images_per_s", x.images_per_s},
          {"mb_per_s", x.mb_per_s},
          {"downloaded_mb", static_cast<double>(r.downloaded_bytes) / 1e6},
          {"device", r.device},
          {"device_detail", r.device_detail},
          {"decode_concurrency", r.decode_concurrency},
          {"decode_peak", r.decode_peak},
          {"failures", r.failures},
          {"quarantined", r.quarantined},
          {"checksummed", r.checksummed},
          {"manifest", r.manifest},
          {"mix", r.mix},
          {"sets",
           {{{"name", "a"}, {"url", r.base_a}, {"requests", r.requested_a}},
            {{"name", "b"}, {"url", r.base_b}, {"requests", r.requested_b}}}},
          {"wrong_reasons", r.wrong_reasons},
          {"report", r.report}};
}

}  // namespace image_loader
