#include "summary.hpp"

#include <cstdio>
#include <ostream>
#include <string>

namespace image_loader {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

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
  os << "requested " << r.requested << " images: " << r.verified << " ok, " << r.report.failed
     << " failed, in " << fixed(r.report.elapsed_s, 3) << " s\n";
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
  os << "failures: " << r.failures.size() << "\n";
  for (const auto& f : r.failures) os << "  " << f << "\n";
  os << "consumer: " << r.verified << " images in " << r.batches
     << " batches checked OK (each a distinct test image with the right colours)";
  if (r.wrong > 0) os << ", " << r.wrong << " WRONG";
  os << "\n";
  for (const auto& w : r.wrong_reasons) os << "  " << w << "\n";
}

void print_json(std::ostream& os, const LoaderResult& r) {
  const Rates x = rates(r);
  os << "{\"images\": " << r.requested << ", \"ok\": " << r.verified
     << ", \"failed\": " << r.report.failed << ", \"wrong\": " << r.wrong
     << ", \"batches\": " << r.batches << ", \"elapsed_s\": " << fixed(r.report.elapsed_s, 6)
     << ", \"images_per_s\": " << fixed(x.images_per_s, 3)
     << ", \"mb_per_s\": " << fixed(x.mb_per_s, 3) << ", \"device\": " << json_string(r.device)
     << ", \"device_detail\": " << json_string(r.device_detail) << "}\n";
}

}  // namespace image_loader
