// Random graphs: hundreds of DAGs built from tee, route, merge, join, map, filter,
// flat_map, batch and async stages, with failing items and cancels, at 1, 2 and 4
// threads. For each: the values that reach the sink equal what a plain sequential
// evaluation of the same graph gives, the run balances, and a cancelled run balances and
// runs again.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

constexpr long kModulus = 1'000'003;

struct Piece;
using Chain = std::vector<Piece>;

struct Piece {
  enum Kind { map, filter, fail, flat, batch, async, diamond, route_merge, tee_merge };
  Kind kind = map;
  long a = 0;
  long b = 0;
  Chain left, right;
};

Chain random_chain(std::mt19937& rng, int depth, bool identity_only) {
  Chain c;
  const int len = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int i = 0; i < len; ++i) {
    const int most = identity_only ? 3 : (depth > 0 ? 8 : 5);
    Piece p;
    p.kind = static_cast<Piece::Kind>(std::uniform_int_distribution<int>(0, most)(rng));
    if (identity_only && p.kind == Piece::flat) p.kind = Piece::async;
    p.a = std::uniform_int_distribution<long>(1, 9)(rng);
    p.b = std::uniform_int_distribution<long>(0, 6)(rng);
    if (p.kind == Piece::diamond) {
      p.left = random_chain(rng, depth - 1, true);
      p.right = random_chain(rng, depth - 1, true);
    } else if (p.kind == Piece::route_merge || p.kind == Piece::tee_merge) {
      p.left = random_chain(rng, depth - 1, false);
      p.right = random_chain(rng, depth - 1, false);
    }
    c.push_back(std::move(p));
  }
  return c;
}

std::size_t batch_size(const Piece& p) { return static_cast<std::size_t>(1 + p.a % 3); }

/// The largest product of batch sizes along a path: what max_in_flight must hold.
std::size_t need(const Chain& c) {
  std::size_t n = 1;
  for (const Piece& p : c) {
    if (p.kind == Piece::batch) n *= batch_size(p);
    if (!p.left.empty() || !p.right.empty()) n *= std::max(need(p.left), need(p.right));
  }
  return n;
}

// ---- the sequential evaluation ----

std::vector<long> eval(const Chain& c, long v);

std::optional<long> eval_one(const Chain& c, long v) {
  auto out = eval(c, v);
  return out.empty() ? std::nullopt : std::optional<long>(out.front());
}

std::vector<long> eval(const Chain& c, long v) {
  std::vector<long> items{v};
  for (const Piece& p : c) {
    std::vector<long> next;
    for (long x : items) {
      switch (p.kind) {
        case Piece::map:
          next.push_back((x * p.a + p.b) % kModulus);
          break;
        case Piece::filter:
          if (x % (p.a + 1) != p.b % (p.a + 1)) next.push_back(x);
          break;
        case Piece::fail:
          if (x % (p.a + 2) != 0) next.push_back(x);
          break;
        case Piece::flat:
          for (long k = 0; k < p.b % 3; ++k) next.push_back(x + k);
          break;
        case Piece::batch:
          next.push_back(x);
          break;
        case Piece::async:
          next.push_back(x + p.a);
          break;
        case Piece::diamond: {
          auto l = eval_one(p.left, x);
          auto r = eval_one(p.right, x);
          if (l && r) next.push_back((*l + 3 * *r) % kModulus);
          break;
        }
        case Piece::route_merge:
          for (long y : eval(x % 2 == 0 ? p.left : p.right, x)) next.push_back(y);
          break;
        case Piece::tee_merge:
          for (long y : eval(p.left, x)) next.push_back(y);
          for (long y : eval(p.right, x)) next.push_back(y);
          break;
      }
    }
    items = std::move(next);
  }
  return items;
}

// ---- the same graph in sluice ----

struct Builder {
  sluice::test::CompleterThread<long>& completer;
  int names = 0;
  std::string name(const char* kind) { return std::string(kind) + std::to_string(names++); }

  sluice::Flow<long> build(sluice::Flow<long> f, const Chain& c) {
    for (const Piece& p : c) f = add(std::move(f), p);
    return f;
  }

  sluice::Flow<long> add(sluice::Flow<long> f, const Piece& p) {
    const long a = p.a, b = p.b;
    switch (p.kind) {
      case Piece::map:
        return f.map(name("map"), [a, b](long x) { return (x * a + b) % kModulus; },
                     {.concurrency = static_cast<std::size_t>(1 + b % 3)});
      case Piece::filter:
        return f.filter(name("filter"), [a, b](long x) { return x % (a + 1) != b % (a + 1); },
                        {.concurrency = 2, .ordered = b % 2 == 0});
      case Piece::fail:
        return f.map(name("fail"), [a](long x) {
          if (x % (a + 2) == 0) throw std::runtime_error("divisible");
          return x;
        }, {.concurrency = 2});
      case Piece::flat:
        return f.flat_map(name("flat"), [b](long x) {
          std::vector<long> out;
          for (long k = 0; k < b % 3; ++k) out.push_back(x + k);
          return out;
        }, {.concurrency = 2, .ordered = a % 2 == 0});
      case Piece::batch:
        return f.batch(name("batch"), batch_size(p)).unbatch(name("unbatch"));
      case Piece::async:
        return f.async_map<long>(name("async"), [this, a](long x, sluice::Completion<long> done) {
          if (a % 2 == 0) {
            done.succeed(x + a);  // completes on the calling thread
          } else {
            completer.add(std::move(done), x + a);
          }
        }, {.max_in_flight = static_cast<std::size_t>(4 * a), .ordered = b % 2 == 1});
      case Piece::diamond: {
        auto [l, r] = f.tee<2>(name("tee"));
        auto lo = build(l, p.left);
        auto ro = build(r, p.right);
        return sluice::join(name("join"), [](long x, long y) { return (x + 3 * y) % kModulus; },
                            lo, ro);
      }
      case Piece::route_merge: {
        auto [l, r] = f.route<2>(name("route"), [](long x) { return x % 2 == 0 ? 0 : 1; });
        return sluice::merge(name("merge"), build(l, p.left), build(r, p.right));
      }
      case Piece::tee_merge: {
        auto [l, r] = f.tee<2>(name("tee"));
        return sluice::merge(name("merge"), build(l, p.left), build(r, p.right));
      }
    }
    return f;
  }
};

class RandomGraphs : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RandomGraphs, DeliverWhatASequentialEvaluationGivesAndBalance) {
  const std::size_t threads = GetParam();
  std::mt19937 rng(20261202u + static_cast<unsigned>(threads));
  sluice::test::CompleterThread<long> completer(0);
  constexpr int kGraphs = 100;
  constexpr long kItems = 150;
  for (int g = 0; g < kGraphs; ++g) {
    const Chain chain = random_chain(rng, 2, false);
    std::vector<long> expect;
    for (long v = 0; v < kItems; ++v) {
      for (long y : eval(chain, v)) expect.push_back(y);
    }
    std::sort(expect.begin(), expect.end());

    std::mutex m;
    std::vector<long> got;
    Builder builder{completer};
    std::vector<long> input(kItems);
    for (long v = 0; v < kItems; ++v) input[static_cast<std::size_t>(v)] = v;
    sluice::Pipeline p = builder.build(sluice::from("src", input), chain)
                             .sink("sink", [&](long v) {
                               std::lock_guard lock(m);
                               got.push_back(v);
                             });
    const sluice::RunOptions opts{.threads = threads,
                                  .max_in_flight = std::max<std::size_t>(
                                      16 + static_cast<std::size_t>(g % 5) * 8, 2 * need(chain)),
                                  .on_error = sluice::ErrorPolicy::skip()};
    SCOPED_TRACE("graph " + std::to_string(g) + ":\n" + p.to_dot());

    // Sometimes cancel a first run part-way; it must balance, and the graph runs again.
    if (g % 4 == 3) {
      sluice::RunHandle h = p.start(opts);
      sluice::test::wait_until(
          [&] {
            std::lock_guard lock(m);
            return got.size() >= expect.size() / 3;
          },
          std::chrono::seconds(20));
      h.cancel();
      sluice::Report r = h.wait();
      EXPECT_TRUE(r.balanced()) << r;
      std::lock_guard lock(m);
      got.clear();
    }

    sluice::Report r = p.run(opts);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, expect) << r;
    EXPECT_TRUE(r.balanced()) << r;
    EXPECT_EQ(r.produced, static_cast<std::uint64_t>(kItems));
    EXPECT_EQ(r.cancelled, 0u) << r;
    EXPECT_EQ(r.in_flight(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, RandomGraphs, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return "t" + std::to_string(info.param); });

}  // namespace
