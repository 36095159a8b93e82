// The closing rules of tumbling windows, on made-up times: no thread, no graph.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sluice/window/table.hpp>

namespace {

using namespace std::chrono_literals;
// What a window holds of its items; the stage uses sluice::ItemGroup.
struct Item {
  std::uint64_t index = 0;
  std::uint64_t weight = 1;
};
struct Members {
  std::uint64_t items = 0;
  std::optional<std::uint64_t> first;
  void add(Item&& i) {
    if (!first) first = i.index;
    items += i.weight;
  }
};
using Table = sluice::window::detail::Table<std::string, int, Members>;
using Closed = Table::Closed;

Item item(std::uint64_t index, std::uint64_t weight = 1) {
  return Item{index, weight};
}

// Adds `value` under `key` at time `t` (ns), summing into the accumulator.
void add(Table& t, const std::string& key, std::int64_t at, int value, std::vector<Closed>& out,
         std::uint64_t index = 0) {
  t.add(
      key, at, item(index), [&](int& acc) { acc += value; }, out);
}

TEST(WindowTable, CountWindowsCloseAtTheirSizePerKey) {
  Table t(sluice::window::Size::count(3), 0, false);
  std::vector<Closed> out;
  for (int i = 0; i < 7; ++i) add(t, "a", i, i, out);
  add(t, "b", 10, 100, out);
  add(t, "b", 11, 100, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].window.key, "a");
  EXPECT_EQ(out[0].window.value, 0 + 1 + 2);
  EXPECT_EQ(out[0].window.count, 3u);
  EXPECT_EQ(out[0].window.number, 0u);
  EXPECT_EQ(out[0].window.start, 0ns);
  EXPECT_EQ(out[0].window.end, 2ns);
  EXPECT_FALSE(out[0].window.partial);
  EXPECT_EQ(out[1].window.value, 3 + 4 + 5);
  EXPECT_EQ(out[1].window.number, 1u);
  EXPECT_EQ(t.open_windows(), 2u);
  EXPECT_EQ(t.next_deadline(), Table::kNever);  // count windows need no timer

  out.clear();
  t.close_all(20, out);
  ASSERT_EQ(out.size(), 2u);  // the tails, in key order, partial
  EXPECT_EQ(out[0].window.key, "a");
  EXPECT_EQ(out[0].window.value, 6);
  EXPECT_EQ(out[0].window.number, 2u);
  EXPECT_TRUE(out[0].window.partial);
  EXPECT_EQ(out[1].window.key, "b");
  EXPECT_EQ(out[1].window.count, 2u);
  EXPECT_TRUE(out[1].window.partial);
  EXPECT_TRUE(t.ended());
  EXPECT_EQ(t.open_windows(), 0u);
}

TEST(WindowTable, TimeWindowsCloseWhenTheirIntervalEndsNotEarlier) {
  const std::int64_t origin = 1000;
  Table t(sluice::window::Size::time(100ns), origin, false);
  std::vector<Closed> out;
  EXPECT_EQ(t.next_deadline(), Table::kNever);  // nothing open, nothing to wake for
  add(t, "b", origin + 10, 1, out, 0);
  add(t, "a", origin + 50, 2, out, 1);
  add(t, "a", origin + 99, 3, out, 2);
  add(t, "a", origin + 120, 4, out, 3);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(t.next_deadline(), origin + 100);

  t.close_due(origin + 99, out);
  EXPECT_TRUE(out.empty());
  t.close_due(origin + 100, out);
  ASSERT_EQ(out.size(), 2u);  // interval 0, in key order
  EXPECT_EQ(out[0].window.key, "a");
  EXPECT_EQ(out[0].window.value, 5);
  EXPECT_EQ(out[0].window.count, 2u);
  EXPECT_EQ(out[0].members.first.value_or(99), 1u);
  EXPECT_EQ(out[1].window.key, "b");
  for (const auto& c : out) {
    EXPECT_EQ(c.window.number, 0u);
    EXPECT_EQ(c.window.start, 0ns);
    EXPECT_EQ(c.window.end, 100ns);
    EXPECT_FALSE(c.window.partial);
  }
  EXPECT_EQ(t.next_deadline(), origin + 200);

  out.clear();
  t.close_due(origin + 1000, out);  // a late wake-up closes what is due, once
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].window.number, 1u);
  EXPECT_EQ(out[0].window.value, 4);
  EXPECT_EQ(t.next_deadline(), Table::kNever);
}

TEST(WindowTable, AnItemAfterAWindowClosedOpensTheNextOne) {
  Table t(sluice::window::Size::time(100ns), 0, false);
  std::vector<Closed> out;
  add(t, "a", 10, 1, out);
  t.close_due(150, out);
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  add(t, "a", 150, 1, out);
  t.close_due(199, out);
  EXPECT_TRUE(out.empty());
  t.close_due(200, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].window.number, 1u);
}

TEST(WindowTable, EndOfInputFlushesOpenTimeWindowsAsPartial) {
  Table t(sluice::window::Size::time(100ns), 0, false);
  std::vector<Closed> out;
  add(t, "a", 10, 1, out);
  add(t, "a", 150, 2, out);
  t.close_all(160, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].window.partial);  // its interval was over: closed as due
  EXPECT_TRUE(out[1].window.partial);
  EXPECT_EQ(out[1].window.end, 200ns);
  EXPECT_EQ(t.next_deadline(), Table::kNever);
  out.clear();
  t.close_due(1000, out);
  t.close_all(1000, out);
  EXPECT_TRUE(out.empty());  // once only
}

TEST(WindowTable, EmptyWindowsForSeenKeysWhenAsked) {
  Table t(sluice::window::Size::time(100ns), 0, true);
  std::vector<Closed> out;
  EXPECT_EQ(t.next_deadline(), Table::kNever);  // no key seen yet
  add(t, "a", 10, 1, out);
  add(t, "b", 20, 1, out);
  add(t, "b", 230, 1, out);
  t.close_due(400, out);  // intervals 0, 1, 2, 3
  ASSERT_EQ(out.size(), 8u);
  std::vector<std::uint64_t> counts;
  for (const auto& c : out) counts.push_back(c.window.count);
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{1, 1, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(out[2].window.number, 1u);
  EXPECT_EQ(out[2].window.key, "a");
  EXPECT_EQ(out[2].members.items, 0u);
  EXPECT_EQ(t.next_deadline(), 500);  // keeps ticking for the seen keys
  out.clear();
  t.close_all(450, out);
  EXPECT_TRUE(out.empty());  // the current interval has no item: no partial empties
}

TEST(WindowTable, NoEmptyWindowForAKeyBeforeItFirstCame) {
  Table t(sluice::window::Size::time(100ns), 0, true);
  std::vector<Closed> out;
  add(t, "a", 10, 1, out);
  add(t, "b", 150, 1, out);  // the timer is late: interval 0 is still open
  t.close_due(250, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].window.key, "a");  // interval 0: a only, no empty b
  EXPECT_EQ(out[0].window.number, 0u);
  EXPECT_EQ(out[1].window.key, "a");  // interval 1: a empty, b with its item
  EXPECT_EQ(out[1].window.count, 0u);
  EXPECT_EQ(out[2].window.key, "b");
  EXPECT_EQ(out[2].window.count, 1u);
}

TEST(WindowTable, WithoutEmptyWindowsIdleIntervalsAreSkippedCheaply) {
  Table t(sluice::window::Size::time(1ns), 0, false);
  std::vector<Closed> out;
  add(t, "a", 0, 1, out);
  t.close_due(1'000'000'000'000, out);  // a million seconds of 1 ns intervals
  ASSERT_EQ(out.size(), 1u);
  add(t, "a", 1'000'000'000'001, 1, out);
  EXPECT_EQ(t.next_deadline(), 1'000'000'000'002);
}

TEST(WindowTable, AFailingFoldLeavesNoWindowBehind) {
  Table t(sluice::window::Size::time(100ns), 0, false);
  std::vector<Closed> out;
  EXPECT_THROW(t.add(
                   "a", 10, item(0), [](int&) { throw std::runtime_error("no"); }, out),
               std::runtime_error);
  EXPECT_EQ(t.open_windows(), 0u);
  EXPECT_EQ(t.next_deadline(), Table::kNever);
  add(t, "a", 20, 5, out);
  EXPECT_THROW(t.add(
                   "a", 30, item(1), [](int&) { throw std::runtime_error("no"); }, out),
               std::runtime_error);
  t.close_all(40, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].window.count, 1u);  // the failed item is not counted
  EXPECT_EQ(out[0].window.value, 5);
}

TEST(WindowTable, ItemsCountSourceWeights) {
  Table t(sluice::window::Size::count(2), 0, false);
  std::vector<Closed> out;
  t.add(
      "a", 1, item(0, 3), [](int& acc) { ++acc; }, out);
  t.add(
      "a", 2, item(1, 0), [](int& acc) { ++acc; }, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].window.count, 2u);
  EXPECT_EQ(out[0].members.items, 3u);
}

TEST(WindowSizeTest, RefusesEmptySizes) {
  EXPECT_THROW(sluice::window::Size::time(0ns), std::invalid_argument);
  EXPECT_THROW(sluice::window::Size::time(-1s), std::invalid_argument);
  EXPECT_THROW(sluice::window::Size::count(0), std::invalid_argument);
  EXPECT_EQ(sluice::window::Size::time(10s).describe(), "10s");
  EXPECT_EQ(sluice::window::Size::time(250ms).describe(), "250ms");
  EXPECT_EQ(sluice::window::Size::count(100).describe(), "100 items");
}

}  // namespace
