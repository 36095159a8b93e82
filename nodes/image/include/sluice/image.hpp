// sluice::image — JPEG decode/encode, resizing, and a self-checking test-image set.
//
//   #include <sluice/image.hpp>
//
//   sluice::image::Image img = sluice::image::decode_jpeg(bytes);          // throws JpegError
//   sluice::image::Image in = sluice::image::center_crop_resize(img, 224, 224);
#pragma once

#include <sluice/image/image.hpp>
#include <sluice/image/jpeg.hpp>
#include <sluice/image/resize.hpp>
#include <sluice/image/test_images.hpp>
