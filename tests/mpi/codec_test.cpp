// Codecs: values come back equal after a round trip, whatever path they take (raw bytes,
// strings, containers, cereal, a user's Codec), and short or corrupt bytes are errors
// that say so, never reads past the end.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/mpi/codec.hpp>

#if SLUICE_MPI_HAS_CEREAL
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#endif

namespace {

using sluice::mpi::Bytes;
using sluice::mpi::decode;
using sluice::mpi::encode;

struct Point {
  double x = 0;
  double y = 0;
  bool operator==(const Point&) const = default;
};

// Not trivially copyable: travels only through the Codec below.
struct Tagged {
  std::string tag;
  std::vector<Point> points;
  bool operator==(const Tagged&) const = default;
};

}  // namespace

template <>
struct sluice::mpi::Codec<Tagged> {
  static void write(ByteWriter& w, const Tagged& t) {
    sluice::mpi::write(w, t.tag);
    sluice::mpi::write(w, t.points);
  }
  static Tagged read(ByteReader& r) {
    Tagged t;
    t.tag = sluice::mpi::read<std::string>(r);
    t.points = sluice::mpi::read<std::vector<Point>>(r);
    return t;
  }
};

namespace {

template <class T>
void expect_round_trip(const T& value) {
  EXPECT_EQ(decode<T>(encode(value)), value);
}

TEST(Codec, TriviallyCopyableValuesTravelAsTheirBytes) {
  expect_round_trip(42);
  expect_round_trip(std::uint64_t{1} << 63);
  expect_round_trip(Point{1.5, -2.25});
  EXPECT_EQ(encode(Point{}).size(), sizeof(Point));
}

TEST(Codec, StringsVectorsPairsAndOptionalsTravel) {
  expect_round_trip(std::string());
  expect_round_trip(std::string("row 7,with \"quotes\"\n\0 and a zero", 32));
  expect_round_trip(std::vector<int>{});
  expect_round_trip(std::vector<double>{1, 2, 3});
  expect_round_trip(std::vector<std::string>{"a", "", "bc"});
  expect_round_trip(std::vector<bool>{true, false, true});
  expect_round_trip(std::vector<std::pair<std::uint64_t, std::string>>{{3, "c"}, {1, "a"}});
  expect_round_trip(std::optional<std::string>());
  expect_round_trip(std::optional<std::string>("x"));
  expect_round_trip(std::vector<std::vector<int>>{{1}, {}, {2, 3}});
}

TEST(Codec, AUsersCodecCarriesItsType) {
  expect_round_trip(Tagged{"t", {{1, 2}, {3, 4}}});
  expect_round_trip(std::vector<Tagged>{{"a", {}}, {"b", {{5, 6}}}});
}

#if SLUICE_MPI_HAS_CEREAL
struct Record {
  std::string name;
  std::map<std::string, int> counts;
  template <class Archive>
  void serialize(Archive& a) {
    a(name, counts);
  }
  bool operator==(const Record&) const = default;
};

TEST(Codec, CerealTypesTravelWithoutACodec) {
  expect_round_trip(Record{"r", {{"a", 1}, {"b", 2}}});
  expect_round_trip(std::vector<Record>{{"x", {}}, {"y", {{"z", 3}}}});
}
#endif

TEST(Codec, ShortBytesAreAnErrorThatSaysWhere) {
  Bytes b = encode(std::string("hello"));
  b.pop_back();
  try {
    decode<std::string>(b);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a message claims 5 items but holds 4 bytes"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(decode<std::uint64_t>(Bytes(3)), std::runtime_error);
}

TEST(Codec, ACorruptCountIsCaughtBeforeAnyAllocation) {
  sluice::mpi::ByteWriter w;
  w.put(std::uint64_t{1} << 60);  // a vector of 2^60 doubles, with no bytes behind it
  EXPECT_THROW(decode<std::vector<double>>(w.take()), std::runtime_error);
}

TEST(Codec, BytesLeftOverAreAnError) {
  Bytes b = encode(7);
  b.push_back(std::byte{0});
  try {
    decode<int>(b);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "sluice::mpi: 1 bytes left over after decoding a message");
  }
}

}  // namespace
