// Resizing to the fixed size a batch needs.
//
//   Image square = sluice::image::center_crop_resize(decoded, 224, 224);   // keeps aspect
//   Image stretched = sluice::image::resize_bilinear(decoded, 224, 224);   // does not
#pragma once

#include <sluice/image/image.hpp>

namespace sluice::image {

/// Bilinear resampling to width x height (pixel centres aligned, edges clamped). Plain
/// bilinear: fine for moderate factors, aliases on large downscales. Throws
/// std::invalid_argument for an empty source or a non-positive size.
Image resize_bilinear(const Image& src, int width, int height);

/// Crops the largest centred region with the target's aspect ratio, then resizes it
/// bilinearly to width x height: the usual "center crop" of image loaders.
Image center_crop_resize(const Image& src, int width, int height);

}  // namespace sluice::image
