// What a run of the loader prints: a readable summary, or one JSON object.
#pragma once

#include <iosfwd>

#include "loader.hpp"

namespace image_loader {

struct Rates {
  double images_per_s = 0;  ///< verified images per second
  double mb_per_s = 0;      ///< decoded RGB megabytes (1e6) per second
};

Rates rates(const LoaderResult& r);

/// The stage table, throughput, failures with their reasons, and the consumer's check.
void print_text(std::ostream& os, const LoaderResult& r);

/// {"images", "ok", "failed", "wrong", "batches", "elapsed_s", "images_per_s",
///  "mb_per_s", "device", "device_detail"} on one line.
void print_json(std::ostream& os, const LoaderResult& r);

}  // namespace image_loader
