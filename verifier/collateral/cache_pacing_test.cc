// SourcePacer: when a failing source is asked again, and what each fetch is counted as.
#include "verifier/collateral/cache_pacing.h"

#include "gtest/gtest.h"

namespace teeverify::collateral {
namespace {

using ::testing::Test;

class SourcePacerTest : public Test {
 protected:
  SourcePacerTest() {
    options_.backoff_initial = absl::Seconds(8);
    options_.backoff_max = absl::Seconds(60);
  }
  uint64_t Fetches(const std::string& source, const std::string& outcome) const {
    auto it = counters_.fetches.find({source, outcome});
    return it == counters_.fetches.end() ? 0 : it->second;
  }

  CacheOptions options_;
  CacheCounters counters_;
  absl::BitGen rng_;
  const absl::Time t0_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(SourcePacerTest, AFailureDefersOnlyThatSourceUntilItsBackoffHasPassed) {
  SourcePacer pacer({"pcs", "mirror"}, &options_, &counters_);
  EXPECT_FALSE(pacer.Deferred(0, t0_).has_value());
  pacer.Failed(0, 500, std::nullopt, t0_, rng_);
  // The first backoff is backoff_initial jittered over its upper half: 4 to 8 s.
  std::optional<std::string> why = pacer.Deferred(0, t0_ + absl::Seconds(3));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("pcs: not asked before"), std::string::npos) << *why;
  EXPECT_FALSE(pacer.Deferred(1, t0_).has_value());
  EXPECT_FALSE(pacer.Deferred(0, t0_ + absl::Seconds(8)).has_value());
  EXPECT_EQ(Fetches("pcs", "http_error"), 1u);
  EXPECT_EQ(Fetches("pcs", "skipped_backoff"), 1u);
}

TEST_F(SourcePacerTest, BackoffDoublesUpToItsMaximumAndHonoursALongerRetryAfter) {
  SourcePacer pacer({"pcs"}, &options_, &counters_);
  for (int i = 0; i < 6; ++i) pacer.Failed(0, 0, std::nullopt, t0_, rng_);
  // 8, 16, 32, 64 -> capped at 60 s, jittered to 30-60 s.
  EXPECT_TRUE(pacer.Deferred(0, t0_ + absl::Seconds(29)).has_value());
  EXPECT_FALSE(pacer.Deferred(0, t0_ + absl::Seconds(60)).has_value());
  pacer.Failed(0, 429, absl::Minutes(5), t0_, rng_);
  EXPECT_TRUE(pacer.Deferred(0, t0_ + absl::Seconds(299)).has_value());
  EXPECT_FALSE(pacer.Deferred(0, t0_ + absl::Seconds(300)).has_value());
  EXPECT_EQ(Fetches("pcs", "network"), 6u);
  EXPECT_EQ(Fetches("pcs", "throttled"), 1u);
}

TEST_F(SourcePacerTest, NotFoundIsCountedWithoutBackingOffAndSuccessForgetsFailures) {
  SourcePacer pacer({"pcs"}, &options_, &counters_);
  pacer.Failed(0, 404, std::nullopt, t0_, rng_);
  EXPECT_FALSE(pacer.Deferred(0, t0_).has_value());
  EXPECT_EQ(Fetches("pcs", "not_found"), 1u);

  pacer.Rejected(0, t0_, rng_);
  EXPECT_TRUE(pacer.Deferred(0, t0_ + absl::Seconds(3)).has_value());
  EXPECT_EQ(Fetches("pcs", "rejected"), 1u);
  pacer.Succeeded(0);
  EXPECT_FALSE(pacer.Deferred(0, t0_).has_value());
  EXPECT_EQ(Fetches("pcs", "ok"), 1u);
  // The failure count started again: the next backoff is the first one (at most 8 s).
  pacer.Failed(0, 503, std::nullopt, t0_, rng_);
  EXPECT_FALSE(pacer.Deferred(0, t0_ + absl::Seconds(8)).has_value());
}

}  // namespace
}  // namespace teeverify::collateral
