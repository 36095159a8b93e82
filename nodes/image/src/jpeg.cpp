// JPEG through TurboJPEG. Handles are per thread (creating one allocates a libjpeg
// instance, too much per image in a decode stage) and survive failed calls.
#include <sluice/image/jpeg.hpp>

#include <turbojpeg.h>

#include <climits>
#include <memory>
#include <string>

namespace sluice::image {
namespace {

// A per-thread TurboJPEG handle. After a failed call a handle may be left in a state where
// the next header read reports a 0x0 image (seen with libjpeg-turbo 2.1), so a failure
// discards it and the next call starts a fresh one.
class Handle {
 public:
  explicit Handle(bool compress) : compress_(compress) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { discard(); }

  tjhandle get() {
    if (!h_) h_ = compress_ ? tjInitCompress() : tjInitDecompress();
    if (!h_) {
      throw JpegError(std::string("cannot start TurboJPEG: ") + tjGetErrorStr2(nullptr));
    }
    return h_;
  }
  void discard() noexcept {
    if (h_) tjDestroy(h_);
    h_ = nullptr;
  }

 private:
  bool compress_;
  tjhandle h_ = nullptr;
};

Handle& decompressor() {
  thread_local Handle handle(false);
  return handle;
}

Handle& compressor() {
  thread_local Handle handle(true);
  return handle;
}

// Runs `body(handle)`; on any exception the handle is discarded before it propagates.
template <class Body>
auto with_handle(Handle& handle, Body body) {
  try {
    return body(handle.get());
  } catch (...) {
    handle.discard();
    throw;
  }
}

std::string size_note(std::size_t bytes) {
  return "(" + std::to_string(bytes) + " bytes)";
}

unsigned long checked_length(std::span<const std::uint8_t> jpeg, const char* who) {
  if (jpeg.empty()) throw JpegError(std::string(who) + ": empty input is not a JPEG");
  if (jpeg.size() > ULONG_MAX) throw JpegError(std::string(who) + ": input too large");
  return static_cast<unsigned long>(jpeg.size());
}

JpegInfo header(tjhandle h, std::span<const std::uint8_t> jpeg, const char* who) {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(h, jpeg.data(), checked_length(jpeg, who), &width, &height, &subsampling,
                          &colorspace) != 0) {
    throw JpegError(std::string(who) + ": not a JPEG or its header is damaged " +
                    size_note(jpeg.size()) + ": " + tjGetErrorStr2(h));
  }
  if (width <= 0 || height <= 0) {
    // TurboJPEG reads a header cut short as "tables only", without an error: no size.
    throw JpegError(std::string(who) + ": truncated or damaged JPEG header, no image size " +
                    size_note(jpeg.size()));
  }
  return {width, height};
}

Image decode(tjhandle h, std::span<const std::uint8_t> jpeg, std::size_t max_pixels) {
  const JpegInfo info = header(h, jpeg, "decode_jpeg");
  const std::size_t pixels =
      static_cast<std::size_t>(info.width) * static_cast<std::size_t>(info.height);
  if (pixels > max_pixels) {
    throw JpegError("decode_jpeg: " + std::to_string(info.width) + "x" +
                    std::to_string(info.height) + " exceeds the limit of " +
                    std::to_string(max_pixels) + " pixels");
  }
  Image out(info.width, info.height);
  // STOPONWARNING: a truncated or damaged file is an error, not a grey-filled image.
  if (tjDecompress2(h, jpeg.data(), checked_length(jpeg, "decode_jpeg"), out.pixels.data(),
                    info.width, 0, info.height, TJPF_RGB, TJFLAG_STOPONWARNING) != 0) {
    const bool warning = tjGetErrorCode(h) == TJERR_WARNING;
    throw JpegError(std::string("decode_jpeg: ") +
                    (warning ? "truncated or damaged JPEG " : "corrupt JPEG ") +
                    size_note(jpeg.size()) + ": " + tjGetErrorStr2(h));
  }
  return out;
}

}  // namespace

JpegInfo read_jpeg_info(std::span<const std::uint8_t> jpeg) {
  return with_handle(decompressor(), [&](tjhandle h) { return header(h, jpeg, "read_jpeg_info"); });
}

Image decode_jpeg(std::span<const std::uint8_t> jpeg, std::size_t max_pixels) {
  return with_handle(decompressor(), [&](tjhandle h) { return decode(h, jpeg, max_pixels); });
}

std::vector<std::uint8_t> encode_jpeg(std::span<const std::uint8_t> rgb, int width, int height,
                                      int quality) {
  if (width <= 0 || height <= 0) {
    throw JpegError("encode_jpeg: bad size " + std::to_string(width) + "x" +
                    std::to_string(height));
  }
  if (quality < 1 || quality > 100) {
    throw JpegError("encode_jpeg: quality " + std::to_string(quality) + " is outside 1..100");
  }
  const std::size_t need = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3;
  if (rgb.size() != need) {
    throw JpegError("encode_jpeg: " + std::to_string(rgb.size()) + " bytes for a " +
                    std::to_string(width) + "x" + std::to_string(height) + " RGB image (expected " +
                    std::to_string(need) + ")");
  }
  return with_handle(compressor(), [&](tjhandle h) {
    unsigned char* out = nullptr;
    unsigned long out_size = 0;
    const int rc = tjCompress2(h, rgb.data(), width, 0, height, TJPF_RGB, &out, &out_size,
                               TJSAMP_444, quality, TJFLAG_ACCURATEDCT);
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(out, [](unsigned char* p) {
      if (p) tjFree(p);
    });
    if (rc != 0) throw JpegError(std::string("encode_jpeg: ") + tjGetErrorStr2(h));
    return std::vector<std::uint8_t>(out, out + out_size);
  });
}

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality) {
  return encode_jpeg(image.pixels, image.width, image.height, quality);
}

}  // namespace sluice::image
