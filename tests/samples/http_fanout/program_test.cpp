// The built http_fanout, run as a user runs it: a JSON summary that adds up, the grid,
// and clear refusals of bad URLs and flags.
#include <algorithm>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "program_fixture.hpp"

namespace {

class HttpFanoutProgram : public sluice::test::ProgramTest {
 protected:
  HttpFanoutProgram() : ProgramTest(HTTP_FANOUT_EXE, "http_fanout") {}
  nlohmann::json stdout_json() const { return nlohmann::json::parse(read("stdout")); }
};

TEST_F(HttpFanoutProgram, JsonSummaryAddsUp) {
  ASSERT_EQ(run("--rpu 200 --delay 1ms --window 250ms --duration 1s --json"), 0) << read("stderr");
  const auto j = stdout_json();
  for (const char* key : {"sent", "ok", "failed", "elapsed_s", "throughput_rps", "p50_ms", "p99_ms",
                          "errors", "windows"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["mode"], "async");
  EXPECT_EQ(j["sent"].get<int>(), j["ok"].get<int>() + j["failed"].get<int>());
  EXPECT_GT(j["sent"].get<int>(), 100);
  int in_windows = 0;
  for (const auto& w : j["windows"]) in_windows += w["count"].get<int>();
  EXPECT_EQ(in_windows, j["ok"].get<int>() + j["failed"].get<int>());
  EXPECT_GT(j["throughput_rps"].get<double>(), 0);
  // The engine's report rides along: the HTTP stage saw every message that was sent.
  const auto& stages = j["report"]["stages"];
  const auto http =
      std::find_if(stages.begin(), stages.end(), [](const auto& s) { return s["name"] == "http"; });
  ASSERT_NE(http, stages.end()) << j["report"].dump();
  EXPECT_EQ((*http)["in"].get<int>(), j["sent"].get<int>());
  EXPECT_TRUE((*http)["async"].get<bool>());
  EXPECT_GE((*http)["busy_fraction"].get<double>(), 0);
}

TEST_F(HttpFanoutProgram, TextModePrintsOneLinePerWindow) {
  ASSERT_EQ(run("--mode sequential --rpu 50 --delay 0 --window 300ms --duration 900ms"), 0)
      << read("stderr");
  const std::string out = read("stdout");
  EXPECT_NE(out.find("window   0 ["), std::string::npos) << out;
  EXPECT_NE(out.find("window   2 ["), std::string::npos) << out;
  EXPECT_NE(out.find("sequential: rpu 50"), std::string::npos) << out;
  EXPECT_EQ(read("stderr"), "");  // not a terminal: no progress line
}

TEST_F(HttpFanoutProgram, TableRunsEveryModeOfTheGrid) {
  const std::string png = path("grid.png").string();
  ASSERT_EQ(run("--table --table-rpu 50 --table-delay 0,2ms --window 200ms --duration 400ms "
                "--threads 4 --json --png '" +
                png + "'"),
            0)
      << read("stderr");
  const auto j = stdout_json();
  ASSERT_EQ(j["grid"].size(), 6u);  // 1 rpu x 2 delays x 3 modes
  for (const auto& cell : j["grid"]) {
    EXPECT_EQ(cell["sent"].get<int>(), cell["ok"].get<int>() + cell["failed"].get<int>());
    EXPECT_FALSE(cell["windows"].empty());
  }
  EXPECT_EQ(nlohmann::json::parse(read("grid.png.json")), j);  // the figures beside the chart
}

TEST_F(HttpFanoutProgram, BadUrlsAndFlagsAreRefusedClearly) {
  EXPECT_EQ(run("--url file:///etc/passwd --duration 1s"), 1);
  EXPECT_NE(read("stderr").find("the scheme 'file' is refused"), std::string::npos)
      << read("stderr");
  EXPECT_EQ(run("--url http://127.0.0.1:1/ --duration 1s"), 1);
  EXPECT_NE(read("stderr").find("cannot be used: refused"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--delay 5parsecs"), 0);
  EXPECT_NE(read("stderr").find("--delay"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--mode turbo"), 0);
  EXPECT_NE(run("--rpu 0"), 0);
  EXPECT_EQ(run("--help"), 0);
  EXPECT_NE(read("stdout").find("--table"), std::string::npos);
}

}  // namespace
