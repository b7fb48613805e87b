// The live TDX cache and PCS's early channel (issue 14's early warning of a TCB recovery), on the
// test platform, and the PCS client's header parsing.
#include <filesystem>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/collateral/pcs_client.h"
#include "verifier/collateral/tdx_cache_test_fixture.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify::collateral::cache_test {
namespace {

using testing::At;

// Issue 14's early warning fed by a live source: the test platform, whose PCS also publishes
// the TCB info of a coming TCB recovery (evaluation number 19) on the early channel.
class EarlyChannelTest : public CacheTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::TdxTestTee>> tee = testing::TdxTestTee::Create();
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots =
        TrustRoots::FromPem({{RootId::kIntelSgxRootCa, tee_->RootPem()}});
    ASSERT_TRUE(roots.ok()) << roots.status();
    roots_ = *roots;
    absl::StatusOr<tdx::TdxCollateral> collateral = tee_->MakeCollateral();
    ASSERT_TRUE(collateral.ok()) << collateral.status();
    collateral_ = *std::move(collateral);
    absl::StatusOr<std::string> early =
        tee_->SignTcbInfo(tee_->RecoveredTcbInfoBody(At("2026-07-01T00:00:00Z")));
    ASSERT_TRUE(early.ok()) << early.status();
    early_ = *std::move(early);
    source_ = Source("pcs");
    source_.fetch_early_tcb_info = true;
  }

  std::unique_ptr<LiveTdxCollateral> MakeFor(FakePcs& pcs, std::string dir = "") {
    return Make({source_}, &pcs, std::move(dir), nullptr, roots_);
  }

  const ByteArray<6> fmspc_ = testing::TdxTestOptions().fmspc;
  const absl::Time now_ = At("2026-06-01T00:00:00Z");
  std::unique_ptr<testing::TdxTestTee> tee_;
  std::shared_ptr<const TrustRoots> roots_;
  tdx::TdxCollateral collateral_;
  std::string early_;
  PcsSource source_;
};

TEST_F(EarlyChannelTest, EarlyTcbInfoIsFetchedVerifiedKeptOnDiskAndWarns) {
  const std::string dir = TempDir();
  FakePcs pcs("http://pcs", collateral_);
  pcs.Item(kEarlyTcb) = {200, {}, early_};
  auto cache = MakeFor(pcs, dir);
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> held =
      cache->ForPlatform(fmspc_, now_);
  ASSERT_TRUE(held.ok()) << held.status() << Log();
  ASSERT_TRUE((*held)->tcb_info_early.has_value());
  EXPECT_EQ((*held)->tcb_info_early->tcb_evaluation_data_number, 19u);
  ASSERT_EQ(pcs.Requests(), 5u);
  EXPECT_EQ(pcs.Urls()[4], "/tdx/certification/v4/tcb?fmspc=00906ed50000&update=early");
  std::vector<BundleStatus> status = cache->Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].tcb_evaluation_data_number, 18u);
  EXPECT_EQ(status[0].tcb_evaluation_data_number_early, 19u);

  // The platform is UpToDate today and OutOfDate once the standard channel switches.
  TdxVerifier verifier(roots_);
  absl::StatusOr<std::string> quote = tee_->MakeQuote(tee_->DefaultReport());
  ASSERT_TRUE(quote.ok()) << quote.status();
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(*quote, *cache, now_);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->claims().tcb_status, "UpToDate");
  ASSERT_TRUE(claims->claims().tdx->tcb->early.has_value());
  EXPECT_EQ(claims->claims().tdx->tcb->early->tcb_status, "OutOfDate");

  // A restart keeps the early TCB info without asking again.
  auto restarted = MakeFor(pcs, dir);
  held = restarted->ForPlatform(fmspc_, now_);
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_TRUE((*held)->tcb_info_early.has_value());
  EXPECT_EQ((*held)->tcb_info_early->tcb_evaluation_data_number, 19u);
  EXPECT_EQ(pcs.Requests(), 5u);
}

TEST_F(EarlyChannelTest, AMissingOrBadEarlyTcbInfoNeverCostsTheStandardBundle) {
  {
    FakePcs pcs("http://pcs", collateral_);  // no early channel: 404
    auto cache = MakeFor(pcs);
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> held =
        cache->ForPlatform(fmspc_, now_);
    ASSERT_TRUE(held.ok()) << held.status() << Log();
    EXPECT_FALSE((*held)->tcb_info_early.has_value());
    EXPECT_EQ(pcs.Requests(), 5u);
    EXPECT_TRUE(absl::StrContains(Log(), "collateral_early_tcb_info_unavailable")) << Log();
  }
  {
    // Signed over other bytes: dropped and logged; the standard bundle is served.
    std::string tampered = early_;
    const size_t at = tampered.find("\"tcbEvaluationDataNumber\":19");
    ASSERT_NE(at, std::string::npos) << early_;
    tampered.replace(at, 28, "\"tcbEvaluationDataNumber\":20");
    FakePcs pcs("http://pcs", collateral_);
    pcs.Item(kEarlyTcb) = {200, {}, tampered};
    auto cache = MakeFor(pcs);
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> held =
        cache->ForPlatform(fmspc_, now_);
    ASSERT_TRUE(held.ok()) << held.status() << Log();
    EXPECT_FALSE((*held)->tcb_info_early.has_value());
    EXPECT_TRUE(absl::StrContains(Log(), "collateral_early_tcb_info_rejected")) << Log();
    EXPECT_EQ(cache->Status()[0].tcb_evaluation_data_number_early, 0u);
  }
}

TEST(PcsClientTest, UrlDecodeAndRetryAfter) {
  EXPECT_EQ(*UrlDecode("%2D%2D-a+b%0A"), "---a b\n");
  EXPECT_FALSE(UrlDecode("%2").ok());
  EXPECT_FALSE(UrlDecode("%zz").ok());
  const absl::Time now = absl::FromUnixSeconds(1784000000);
  EXPECT_EQ(*ParseRetryAfter("30", now), absl::Seconds(30));
  EXPECT_EQ(*ParseRetryAfter(absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now + absl::Seconds(90),
                                              absl::UTCTimeZone()),
                             now),
            absl::Seconds(90));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
}

}  // namespace
}  // namespace teeverify::collateral::cache_test
