// The built image_loader, run as a user runs it on the host backend: every request ends
// verified, quarantined (does not decode) or failed (404); the manifest has one correct
// line per downloaded image; --mix decides which set is drawn from first; bad flags are
// refused with a message; --dot draws the graph without running.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "crc32_reference.hpp"
#include "program_fixture.hpp"

namespace {

struct Line {
  std::string url;
  std::uint64_t bytes = 0;
  std::string crc32;
};

std::vector<Line> manifest_lines(const std::string& text) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string row;
  while (std::getline(in, row)) {
    std::istringstream fields(row);
    Line l;
    std::string rest;
    if (!(fields >> l.url >> l.bytes >> l.crc32) || (fields >> rest)) {
      ADD_FAILURE() << "not 'URL BYTES CRC32': " << row;
      continue;
    }
    lines.push_back(l);
  }
  return lines;
}

std::string hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(v));
  return buf;
}

class ImageLoaderProgram : public sluice::test::ProgramTest {
 protected:
  ImageLoaderProgram() : ProgramTest(IMAGE_LOADER_EXE, "image_loader") {}
};

TEST_F(ImageLoaderProgram, JsonRunCountsEveryImageAndTheBadOnes) {
  const std::string args =
      "--images 40 --batch 8 --corrupt 2 --decode-concurrency 2 "
      "--device cpu --json --cache '" +
      (dir_ / "cache").string() + "'";
  for (int pass = 0; pass < 2; ++pass) {  // the first run generates, the second reuses
    ASSERT_EQ(run(args), 0) << read("stderr");
    const std::string out = read("stdout");
    const auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j.at("requested"), 44) << out;
    EXPECT_EQ(j.at("ok"), 40) << out;
    EXPECT_EQ(j.at("failed"), 2) << out << read("stderr");
    EXPECT_EQ(j.at("wrong"), 0) << out;
    EXPECT_EQ(j.at("batches"), 5) << out;  // the 40 good images in batches of 8
    EXPECT_EQ(j.at("device"), "cpu") << out;
    EXPECT_EQ(j.at("decode_concurrency"), 2) << out;
    EXPECT_GE(j.at("decode_peak"), 1) << out;
    EXPECT_LE(j.at("decode_peak"), 2) << out;
    EXPECT_GT(j.at("images_per_s").get<double>(), 0) << out;
    EXPECT_GT(j.at("downloaded_mb").get<double>(), 0) << out;
    ASSERT_EQ(j.at("failures").size(), 2u) << out;
    for (const auto& f : j.at("failures")) {
      const auto text = f.get<std::string>();
      EXPECT_NE(text.find("/static/missing_"), std::string::npos) << text;
    }
    ASSERT_EQ(j.at("quarantined").size(), 2u) << out;
    for (const auto& q : j.at("quarantined")) {
      const auto text = q.get<std::string>();
      EXPECT_NE(text.find("/static/corrupt_"), std::string::npos) << text;
    }
    EXPECT_EQ(j.at("checksummed"), 42) << out;  // 40 good, 2 corrupt: all downloaded
    ASSERT_EQ(j.at("sets").size(), 2u) << out;
    EXPECT_EQ(j.at("sets")[0].at("requests").get<int>() + j.at("sets")[1].at("requests").get<int>(),
              44)
        << out;
    // The stage report: every stage named, with its busy fraction, and the counts add up.
    const auto& report = j.at("report");
    EXPECT_EQ(report.at("produced"), 44) << out;
    EXPECT_EQ(report.at("failed"), 2) << out;
    std::vector<std::string> names;
    for (const auto& s : report.at("stages")) {
      names.push_back(s.at("name"));
      EXPECT_GE(s.at("busy_fraction").get<double>(), 0) << s.dump();
    }
    for (const char* stage :
         {"images", "download", "fan-out", "downloaded?", "checksum", "manifest", "decode",
          "decodes?", "quarantine", "resize", "batch", "transfer"}) {
      EXPECT_NE(std::find(names.begin(), names.end(), stage), names.end()) << stage;
    }
  }
}

TEST_F(ImageLoaderProgram, TextRunNamesTheBusiestStageAndEachFailure) {
  ASSERT_EQ(run("--images 16 --batch 4 --corrupt 1 --device cpu --cache '" +
                (dir_ / "cache").string() + "'"),
            0)
      << read("stderr");
  const std::string out = read("stdout");
  EXPECT_NE(out.find("busiest stage (it bounds the run): "), std::string::npos) << out;
  EXPECT_NE(out.find("failures: 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("missing_000000.jpg: HTTP 404"), std::string::npos) << out;
  EXPECT_NE(out.find("quarantined (did not decode): 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  quarantine: http://127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("/static/corrupt_000000.jpg: "), std::string::npos) << out;
  EXPECT_NE(out.find("consumer: 16 images in 4 batches checked OK"), std::string::npos) << out;
}

TEST_F(ImageLoaderProgram, ManifestHasOneLinePerDownloadedImageWithItsCrc32) {
  const auto cache = dir_ / "cache";
  ASSERT_EQ(run("--images 30 --batch 8 --corrupt 2 --device cpu --json --cache '" + cache.string() +
                "' --manifest '" + path("manifest.txt").string() + "'"),
            0)
      << read("stderr");
  const auto j = nlohmann::json::parse(read("stdout"));
  const std::vector<Line> lines = manifest_lines(read("manifest.txt"));
  EXPECT_EQ(lines.size(), 32u);  // the 30 good and 2 corrupt images; not the 2 missing ones
  EXPECT_EQ(j.at("checksummed"), lines.size());
  std::map<std::string, int> seen;  // file name -> lines naming it
  for (const Line& l : lines) {
    const std::string name = l.url.substr(l.url.rfind('/') + 1);
    ++seen[name];
    EXPECT_NE(l.url.find("/static/"), std::string::npos) << l.url;
    // The bytes the server sent are the file in the cache: compare with it, independently.
    std::ifstream file(cache / name, std::ios::binary);
    ASSERT_TRUE(file) << name;
    std::ostringstream bytes;
    bytes << file.rdbuf();
    EXPECT_EQ(l.bytes, bytes.str().size()) << name;
    EXPECT_EQ(l.crc32, hex8(image_loader::test::crc32_reference(bytes.str()))) << name;
  }
  EXPECT_EQ(seen.size(), 32u);  // each image once
  for (const auto& [name, count] : seen) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(seen.count("missing_000000.jpg"), 0u);
  EXPECT_EQ(seen.count("corrupt_000001.jpg"), 1u);
}

TEST_F(ImageLoaderProgram, MixDecidesWhichSetIsDrawnFromFirst) {
  // Two sets of 30; the manifest is written in draw order. With 0.9 on one set, most of
  // the first 30 draws come from it (27 expected; the seed fixes the sequence).
  for (const bool heavy_a : {true, false}) {
    const std::string mix = heavy_a ? "0.9,0.1" : "0.1,0.9";
    ASSERT_EQ(
        run("--images 60 --batch 10 --corrupt 0 --device cpu --json --mix " + mix + " --cache '" +
            (dir_ / "cache").string() + "' --manifest '" + path("manifest.txt").string() + "'"),
        0)
        << read("stderr");
    const auto j = nlohmann::json::parse(read("stdout"));
    EXPECT_EQ(j.at("ok"), 60);
    const std::string base_a = j.at("sets")[0].at("url");
    const std::vector<Line> lines = manifest_lines(read("manifest.txt"));
    ASSERT_EQ(lines.size(), 60u);
    int from_a = 0;
    for (std::size_t i = 0; i < 30; ++i) from_a += lines[i].url.rfind(base_a, 0) == 0 ? 1 : 0;
    if (heavy_a) {
      EXPECT_GE(from_a, 24) << "--mix " << mix;
    } else {
      EXPECT_LE(from_a, 6) << "--mix " << mix;
    }
  }
}

TEST_F(ImageLoaderProgram, BadMixValuesAreRefusedWithAClearMessage) {
  for (const char* mix : {"0.7", "1,2,3", "0,1", "-1,2", "a,b", "0.5,inf"}) {
    EXPECT_NE(run(std::string("--mix '") + mix + "' --cache '" + (dir_ / "cache").string() + "'"),
              0)
        << mix;
    const std::string err = read("stderr");
    EXPECT_NE(err.find("--mix"), std::string::npos) << mix << ": " << err;
    EXPECT_NE(err.find("expected two positive weights"), std::string::npos) << mix << ": " << err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "cache")) << mix << ": it ran";
  }
}

TEST_F(ImageLoaderProgram, DotPrintsTheGraphWithoutRunning) {
  ASSERT_EQ(run("--dot --cache '" + (dir_ / "cache").string() + "'"), 0) << read("stderr");
  const std::string out = read("stdout");
  EXPECT_EQ(out.rfind("digraph", 0), 0u) << out;
  for (const char* piece : {"fan-out", "decodes?", "quarantine", "manifest", "transfer"}) {
    EXPECT_NE(out.find(piece), std::string::npos) << piece;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cache"));  // nothing generated, nothing run
}

TEST_F(ImageLoaderProgram, AManifestThatCannotBeWrittenIsAnError) {
  EXPECT_EQ(run("--images 4 --device cpu --cache '" + (dir_ / "cache").string() + "' --manifest '" +
                (dir_ / "no-such-dir" / "m.txt").string() + "'"),
            1);
  EXPECT_NE(read("stderr").find("cannot write the manifest"), std::string::npos) << read("stderr");
}

TEST_F(ImageLoaderProgram, BadFlagsAreRefused) {
  EXPECT_NE(run("--device tpu"), 0);
  EXPECT_NE(read("stderr").find("--device"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--batch 0"), 0);
  EXPECT_NE(read("stderr").find("--batch"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--decode-concurrency 0"), 0);
  EXPECT_NE(run("--no-such-flag"), 0);
}

}  // namespace
