// How items travel between ranks: as bytes, written and read by a codec.
//
//   sluice::mpi::Bytes b = sluice::mpi::encode(std::vector<std::string>{"a", "bc"});
//   auto back = sluice::mpi::decode<std::vector<std::string>>(b);
//
// Without code from the user: trivially copyable types, std::string, and std::vector,
// std::pair and std::optional of anything that travels. With cereal (libcereal-dev),
// any type with a cereal serialize() function. Anything else: specialise Codec<T>:
//
//   template <> struct sluice::mpi::Codec<Point> {
//     static void write(sluice::mpi::ByteWriter& w, const Point& p) { w.put(p.x); w.put(p.y); }
//     static Point read(sluice::mpi::ByteReader& r) { return {r.get<double>(), r.get<double>()}; }
//   };
//
// Ranks run the same binary on one kind of machine, so values travel in the machine's own
// byte order; a reader that runs out of bytes throws, naming where (never reads past).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if __has_include(<cereal/archives/binary.hpp>)
#include <cereal/archives/binary.hpp>
#include <sstream>
#define SLUICE_MPI_HAS_CEREAL 1
#else
#define SLUICE_MPI_HAS_CEREAL 0
#endif

namespace sluice::mpi {

using Bytes = std::vector<std::byte>;

class ByteWriter {
 public:
  void put_bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put(const T& value) { put_bytes(&value, sizeof(T)); }
  Bytes& bytes() noexcept { return bytes_; }
  Bytes take() noexcept { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  void get_bytes(void* out, std::size_t size) {
    if (size > bytes_.size() - pos_) {
      throw std::runtime_error("sluice::mpi: a message ended early: " + std::to_string(size) +
                               " bytes wanted at offset " + std::to_string(pos_) + " of " +
                               std::to_string(bytes_.size()));
    }
    if (size != 0) std::memcpy(out, bytes_.data() + pos_, size);
    pos_ += size;
  }
  template <class T>
  requires std::is_trivially_copyable_v<T> T get() {
    T value;
    get_bytes(&value, sizeof(T));
    return value;
  }
  /// A count about to be followed by `count` items of at least `min_item` bytes each:
  /// checked against what is left, so a corrupt count cannot ask for a huge allocation.
  std::uint64_t get_count(std::size_t min_item) {
    const auto count = get<std::uint64_t>();
    if (min_item != 0 && count > (bytes_.size() - pos_) / min_item) {
      throw std::runtime_error("sluice::mpi: a message claims " + std::to_string(count) +
                               " items but holds " + std::to_string(bytes_.size() - pos_) +
                               " bytes");
    }
    return count;
  }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

/// Specialise for a type that travels in its own way (see the top of this file).
template <class T>
struct Codec;

template <class T>
void write(ByteWriter& w, const T& value);
template <class T>
T read(ByteReader& r);

namespace codec_detail {

template <class T>
inline constexpr bool is_vector = false;
template <class U, class A>
inline constexpr bool is_vector<std::vector<U, A>> = true;
template <class T>
inline constexpr bool is_pair = false;
template <class A, class B>
inline constexpr bool is_pair<std::pair<A, B>> = true;
template <class T>
inline constexpr bool is_optional = false;
template <class U>
inline constexpr bool is_optional<std::optional<U>> = true;

template <class T>
concept has_codec = requires(ByteWriter& w, ByteReader& r, const T& v) {
  Codec<T>::write(w, v);
  { Codec<T>::read(r) } -> std::same_as<T>;
};

#if SLUICE_MPI_HAS_CEREAL
template <class T>
inline constexpr bool cereal_serializable =
    cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value&&
        cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value&&
            std::is_default_constructible_v<T>;
#else
template <class T>
inline constexpr bool cereal_serializable = false;
#endif

template <class T>
inline constexpr bool travels =
    has_codec<T> || std::is_trivially_copyable_v<T> || std::is_same_v<T, std::string> ||
    is_vector<T> || is_pair<T> || is_optional<T> || cereal_serializable<T>;

/// Vectors of these travel as one block of bytes.
template <class U>
inline constexpr bool bulk_element =
    std::is_trivially_copyable_v<U> && !std::is_same_v<U, bool> && !has_codec<U>;

template <class T>
constexpr void require_travels() {
  static_assert(travels<T>,
                "sluice::mpi: this type cannot travel between ranks: make it trivially "
                "copyable, give it a cereal serialize() function, or specialise "
                "sluice::mpi::Codec<T>");
}

}  // namespace codec_detail

template <class T>
void write(ByteWriter& w, const T& value) {
  using namespace codec_detail;
  require_travels<T>();
  if constexpr (has_codec<T>) {
    Codec<T>::write(w, value);
  } else if constexpr (std::is_trivially_copyable_v<T>) {
    w.put(value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.put(static_cast<std::uint64_t>(value.size()));
    w.put_bytes(value.data(), value.size());
  } else if constexpr (is_vector<T>) {
    w.put(static_cast<std::uint64_t>(value.size()));
    using U = typename T::value_type;
    if constexpr (bulk_element<U>) {
      w.put_bytes(value.data(), value.size() * sizeof(U));
    } else {
      for (const U& u : value) write(w, u);
    }
  } else if constexpr (is_pair<T>) {
    write(w, value.first);
    write(w, value.second);
  } else if constexpr (is_optional<T>) {
    w.put(static_cast<std::uint8_t>(value.has_value()));
    if (value) write(w, *value);
  } else if constexpr (cereal_serializable<T>) {
#if SLUICE_MPI_HAS_CEREAL
    std::ostringstream os;
    {
      cereal::BinaryOutputArchive archive(os);
      archive(value);
    }
    write(w, std::move(os).str());
#endif
  }
}

template <class T>
T read(ByteReader& r) {
  using namespace codec_detail;
  require_travels<T>();
  if constexpr (has_codec<T>) {
    return Codec<T>::read(r);
  } else if constexpr (std::is_trivially_copyable_v<T>) {
    return r.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    std::string s(r.get_count(1), '\0');
    r.get_bytes(s.data(), s.size());
    return s;
  } else if constexpr (is_vector<T>) {
    using U = typename T::value_type;
    T v;
    if constexpr (bulk_element<U>) {
      v.resize(r.get_count(sizeof(U)));
      r.get_bytes(v.data(), v.size() * sizeof(U));
    } else {
      const std::uint64_t n = r.get_count(1);
      v.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) v.push_back(read<U>(r));
    }
    return v;
  } else if constexpr (is_pair<T>) {
    auto first = read<typename T::first_type>(r);
    auto second = read<typename T::second_type>(r);
    return T(std::move(first), std::move(second));
  } else if constexpr (is_optional<T>) {
    if (r.get<std::uint8_t>() == 0) return std::nullopt;
    return T(read<typename T::value_type>(r));
  } else {
#if SLUICE_MPI_HAS_CEREAL
    const std::string text = read<std::string>(r);
    std::istringstream is(text);
    cereal::BinaryInputArchive archive(is);
    T value;
    archive(value);
    return value;
#endif
  }
}

/// `value` as bytes.
template <class T>
Bytes encode(const T& value) {
  ByteWriter w;
  write(w, value);
  return w.take();
}

/// The value `bytes` hold; throws std::runtime_error when they are short or left over.
template <class T>
T decode(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  T value = read<T>(r);
  if (r.remaining() != 0) {
    throw std::runtime_error("sluice::mpi: " + std::to_string(r.remaining()) +
                             " bytes left over after decoding a message");
  }
  return value;
}

}  // namespace sluice::mpi
