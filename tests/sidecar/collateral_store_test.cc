// CollateralStore with an injected clock (the verification time of each lookup): newest
// collateral wins. A newer bundle that failed once (issued a few seconds in the future) is tried
// again after CollateralStore::kRecheckInterval, without SIGHUP, while the older bundle serves.
#include "verifier/server/collateral_store.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "verifier/common/time_util.h"

namespace teeverify::server {
namespace {

using ::teeverify::testing::MakeTempDir;
using ::teeverify::testing::TdxTestOptions;
using ::teeverify::testing::TdxTestTee;
using ::teeverify::testing::WriteBundle;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// Two bundles of one FMSPC under one test root: "older" (TCB info nextUpdate 2049-01-01) and
// "newer" (nextUpdate 2049-06-01), the newer issued at `newer_issued`.
struct TwoBundles {
  std::unique_ptr<TdxTestTee> older, newer;
  std::shared_ptr<CollateralStore> store;

  explicit TwoBundles(absl::Time newer_issued) {
    older = *TdxTestTee::Create();
    TdxTestOptions options;
    options.root_pem = older->RootPem();
    options.tcb_info = {newer_issued, absl::FromUnixSeconds(2506118400)};  // 2049-06-01
    newer = *TdxTestTee::Create(options);
    const std::string dir = MakeTempDir();
    WriteBundle(dir + "/older", *older->MakeCollateral());
    WriteBundle(dir + "/newer", *newer->MakeCollateral());
    auto roots = *TrustRoots::FromPem({{RootId::kIntelSgxRootCa, older->RootPem()}});
    store = std::make_shared<CollateralStore>(dir, roots);
    EXPECT_TRUE(store->Reload().ok());
  }

  // The TCB info nextUpdate of the bundle served at `now`, or the error.
  std::string Served(absl::Time now) const {
    auto verified = store->ForPlatform(older->options().fmspc, now);
    if (!verified.ok()) return std::string(verified.status().message());
    return FormatRfc3339((*verified)->tcb_info.next_update);
  }
};

const char kOlder[] = "2049-01-01T00:00:00Z";
const char kNewer[] = "2049-06-01T00:00:00Z";

TEST(CollateralStoreTest, NewerBundleIsServedOnceValidWithoutReload) {
  TwoBundles bundles(kNow + absl::Seconds(5));
  // Not yet valid: the older bundle serves.
  EXPECT_EQ(bundles.Served(kNow), kOlder);
  // Within the re-check interval the failed newer bundle is left alone.
  EXPECT_EQ(bundles.Served(kNow + absl::Seconds(10)), kOlder);
  // Time passes: the newer bundle is tried again and wins, and keeps serving.
  EXPECT_EQ(bundles.Served(kNow + CollateralStore::kRecheckInterval), kNewer);
  EXPECT_EQ(bundles.Served(kNow + CollateralStore::kRecheckInterval + absl::Seconds(1)), kNewer);
}

TEST(CollateralStoreTest, NewestValidBundleServesFromTheFirstLookup) {
  TwoBundles bundles(kNow - absl::Seconds(5));
  EXPECT_EQ(bundles.Served(kNow), kNewer);
  // A lookup pinned before the newer bundle's issue date (replayed evidence) gets the older one.
  EXPECT_EQ(bundles.Served(kNow - absl::Seconds(10)), kOlder);
  EXPECT_EQ(bundles.Served(kNow), kNewer);
}

// With no older bundle to fall back on there is nothing to wait for: each lookup verifies again
// and names what is wrong at its own time.
TEST(CollateralStoreTest, WithoutAnOlderBundleEveryLookupVerifiesAgain) {
  auto tee = *TdxTestTee::Create([] {
    TdxTestOptions options;
    options.tcb_info = {kNow + absl::Seconds(5), absl::FromUnixSeconds(2493072000)};
    return options;
  }());
  const std::string dir = MakeTempDir();
  WriteBundle(dir + "/only", *tee->MakeCollateral());
  CollateralStore store(dir, *TrustRoots::FromPem({{RootId::kIntelSgxRootCa, tee->RootPem()}}));
  ASSERT_TRUE(store.Reload().ok());
  auto early = store.ForPlatform(tee->options().fmspc, kNow);
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(absl::StrContains(early.status().message(), "(bundle only in " + dir + ")"))
      << early.status();
  EXPECT_TRUE(store.ForPlatform(tee->options().fmspc, kNow + absl::Seconds(6)).ok());
}

}  // namespace
}  // namespace teeverify::server
