// What a run of the loader prints: a readable summary, or one JSON object.
//
//   print_text(std::cout, result);              // or
//   std::cout << to_json(result).dump(2) << "\n";
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "loader.hpp"

namespace image_loader {

struct Rates {
  double images_per_s = 0;  ///< verified images per second
  double mb_per_s = 0;      ///< decoded RGB megabytes (1e6) per second
};

Rates rates(const LoaderResult& r);

/// The stage table, throughput, failures with their reasons, and the consumer's check.
void print_text(std::ostream& os, const LoaderResult& r);

/// The figures above, the failures and the stage report, for --json:
///   {"requested", "ok", "failed", "wrong", "batches", "elapsed_s", "images_per_s",
///    "mb_per_s", "downloaded_mb", "device", "device_detail", "decode_concurrency",
///    "decode_peak", "failures": [...], "quarantined": ["URL: why", ...], "checksummed",
///    "manifest", "mix": [a, b], "sets": [{"name", "url", "requests"}, ...],
///    "wrong_reasons": [...], "report": {..., "stages"}}
nlohmann::json to_json(const LoaderResult& r);

}  // namespace image_loader
