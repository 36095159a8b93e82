#include <sluice/image/image.hpp>

#include <stdexcept>
#include <string>

namespace sluice::image {

Image::Image(int w, int h) : width(w), height(h) {
  if (w < 0 || h < 0) {
    throw std::invalid_argument("sluice::image::Image: negative size " + std::to_string(w) + "x" +
                                std::to_string(h));
  }
  pixels.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * channels);
}

}  // namespace sluice::image
