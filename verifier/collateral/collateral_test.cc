// The live TDX collateral cache against an in-memory PCS (the real dcap-qvl responses with their
// URL-encoded issuer chain headers): one fetch per item under concurrency, restart from disk
// without fetching, refresh ahead of nextUpdate, stale-but-valid serving then failing closed,
// rejected sources, Retry-After and 404 caching (the fixture: tdx_cache_test_fixture.h). Time
// moves by FakeClock, never by sleeping.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/collateral/pcs_client.h"
#include "verifier/collateral/tdx_cache.h"
#include "verifier/collateral/tdx_cache_test_fixture.h"
#include "verifier/common/hex.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify::collateral::cache_test {
namespace {

using testing::At;
using testing::ReadTestData;
namespace fs = std::filesystem;

TEST_F(CacheTest, FiftyConcurrentLookupsFetchEachItemOnceAndVerifyTheRealQuote) {
  FakePcs pcs("http://pccs");
  auto cache = Make({Source("pccs")}, &pcs);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      if (cache->ForPlatform(kFmspc, PckCa::kPlatform, kLast).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50) << Log();
  EXPECT_EQ(pcs.Requests(), 4u);
  const std::vector<std::string> urls = pcs.Urls();
  EXPECT_EQ(urls[0], "/tdx/certification/v4/tcb?fmspc=b0c06f000000&update=standard");
  EXPECT_EQ(urls[1], "/tdx/certification/v4/qe/identity?update=standard");
  EXPECT_EQ(urls[2], "/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
  EXPECT_EQ(urls[3], "/sgx/certification/v4/rootcacrl");
  EXPECT_EQ(cache->Counters().misses, 1u);

  // The core verifies the real quote with what the cache holds.
  TdxVerifier verifier(testing::BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"), *cache, kLast);
  EXPECT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(pcs.Requests(), 4u);

  std::vector<BundleStatus> status = cache->Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].fmspc, "b0c06f000000");
  EXPECT_EQ(status[0].source, "pccs");
  EXPECT_EQ(status[0].tcb_evaluation_data_number, 17u);
  EXPECT_EQ(status[0].state, ItemState::kValid);
}

// The verifier asks through TdxCollateralProvider with the CA of the quote's PCK chain: a
// Processor-CA platform's lookup asks for the Processor CA's CRL (this source's CRL is the
// Platform CA's, so the bundle is then refused naming the CA).
TEST_F(CacheTest, TheVerifiersLookupAsksForTheCrlOfThePcksCa) {
  FakePcs pcs("http://pccs");
  auto cache = Make({Source("pccs")}, &pcs);
  const TdxCollateralProvider& provider = *cache;
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> held =
      provider.ForPlatform(kFmspc, tdx::PckCa::kProcessor, kLast);
  ASSERT_EQ(pcs.Requests(), 4u);
  EXPECT_EQ(pcs.Urls()[2], "/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
  ASSERT_FALSE(held.ok());
  EXPECT_TRUE(absl::StrContains(held.status().message(), "not the PCK processor CA"))
      << held.status();
}

TEST_F(CacheTest, RestartServesFromDiskWithoutFetching) {
  const std::string dir = TempDir();
  FakePcs pcs("http://pccs");
  ASSERT_TRUE(Make({Source("pccs")}, &pcs, dir)->ForPlatform(kFmspc, kEarly).ok());
  ASSERT_EQ(pcs.Requests(), 4u);
  ASSERT_TRUE(fs::exists(dir + "/tdx-b0c06f000000-platform.json"));
  auto restarted = Make({Source("pccs")}, &pcs, dir);
  EXPECT_TRUE(restarted->ForPlatform(kFmspc, kEarly).ok()) << Log();
  EXPECT_EQ(pcs.Requests(), 4u);
}

TEST_F(CacheTest, CorruptCacheFileIsIgnoredLoggedAndRefetched) {
  const std::string dir = TempDir();
  std::ofstream(dir + "/tdx-b0c06f000000-platform.json") << "{not json";
  FakePcs pcs("http://pccs");
  auto cache = Make({Source("pccs")}, &pcs, dir);
  EXPECT_TRUE(absl::StrContains(Log(), "collateral_cache_file_ignored")) << Log();
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_EQ(pcs.Requests(), 4u);
}

// A bundle file nests 2 deep; a deeper one (here 1 MiB of '[' in an item) is refused by a linear
// scan before nlohmann builds it, and the log names the file and the limit.
TEST_F(CacheTest, DeeplyNestedCacheFileIsRefusedBeforeParsingNamingTheLimit) {
  const std::string dir = TempDir();
  std::ofstream(dir + "/tdx-b0c06f000000-platform.json")
      << R"({"version":1,"source":"pccs","items":{"tcb_info.json":)" << std::string(500000, '[')
      << std::string(500000, ']') << "}}";
  FakePcs pcs("http://pccs");
  auto cache = Make({Source("pccs")}, &pcs, dir);
  EXPECT_TRUE(absl::StrContains(Log(), "tdx-b0c06f000000-platform.json")) << Log();
  EXPECT_TRUE(absl::StrContains(Log(), "collateral cache file: items: nesting deeper than the 2 "
                                       "levels of arrays and objects accepted (at byte 54)"))
      << Log();
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_EQ(pcs.Requests(), 4u);
}

TEST_F(CacheTest, RefreshesAheadOfNextUpdateAndServesStaleUntilItThenFailsClosed) {
  FakePcs pcs("http://pccs");
  auto cache = Make({Source("pccs")}, &pcs);
  ASSERT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
  ASSERT_EQ(pcs.Requests(), 4u);
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_EQ(pcs.Requests(), 4u) << "not yet due";
  EXPECT_EQ(cache->RefreshDue(kEarly), 0);

  EXPECT_EQ(cache->RefreshDue(kDue), 1);  // the background refresher
  EXPECT_EQ(pcs.Requests(), 8u);

  // A failing source: the held bundle is served until its nextUpdate.
  pcs.Fail(HttpResponse{500, {}, "down"});
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kDue).ok());
  EXPECT_EQ(pcs.Requests(), 9u);
  EXPECT_EQ(cache->Status()[0].state, ItemState::kStale);
  EXPECT_TRUE(absl::StrContains(cache->Status()[0].last_error, "HTTP 500"));
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kLast).ok());

  clock_.Advance(absl::Hours(1));
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> past =
      cache->ForPlatform(kFmspc, kPast);
  ASSERT_FALSE(past.ok());
  EXPECT_TRUE(absl::StrContains(past.status().message(), "pck_crl.der")) << past.status();
  EXPECT_TRUE(absl::StrContains(past.status().message(), "HTTP 500")) << past.status();
  EXPECT_EQ(cache->Status()[0].state, ItemState::kExpired);
}

TEST_F(CacheTest, BadlySignedCollateralIsRefusedNotCachedAndTheNextSourceServes) {
  const std::string dir = TempDir();
  FakePcs bad("http://bad"), good("http://good");
  std::string& body = bad.Item("/tdx/certification/v4/tcb").body;
  const size_t sig = body.find("\"signature\":\"") + 13;
  body[sig] = body[sig] == '0' ? '1' : '0';
  Router router;
  router.by_base = {{"http://bad", &bad}, {"http://good", &good}};
  auto cache = Make({Source("bad"), Source("good")}, &router, dir);
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> c =
      cache->ForPlatform(kFmspc, kEarly);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(bad.Requests(), 4u);
  EXPECT_EQ(good.Requests(), 4u);
  EXPECT_EQ(cache->Status()[0].source, "good");
  EXPECT_TRUE(absl::StrContains(Log(), "collateral_source_rejected")) << Log();
  EXPECT_EQ((cache->Counters().fetches[{"bad", "rejected"}]), 1u);

  // Only the good source's bundle was written.
  auto disk = Make({}, &router, dir);
  EXPECT_TRUE(disk->ForPlatform(kFmspc, kEarly).ok());
}

TEST_F(CacheTest, AnotherPlatformsTcbInfoIsRefusedAndNotCached) {
  const std::string dir = TempDir();
  FakePcs pcs("http://pccs");
  auto cache = Make({Source("pccs")}, &pcs, dir);
  const ByteArray<6> other = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> c =
      cache->ForPlatform(other, kEarly);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(),
                                "TCB info is for FMSPC b0c06f000000, not the requested 00906ed50000"))
      << c.status();
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST_F(CacheTest, NoRequestBeforeRetryAfterElapses) {
  FakePcs pcs("http://pccs");
  pcs.Fail(HttpResponse{429, {{"retry-after", "120"}}, ""});
  auto cache = Make({Source("pccs")}, &pcs);
  EXPECT_FALSE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_EQ(pcs.Requests(), 1u);
  pcs.Fail(std::nullopt);
  clock_.Advance(absl::Seconds(119));
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> c =
      cache->ForPlatform(kFmspc, kEarly);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "backoff or Retry-After")) << c.status();
  EXPECT_EQ(pcs.Requests(), 1u);
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_EQ(pcs.Requests(), 5u);
}

TEST_F(CacheTest, NotFoundIsCachedBriefly) {
  FakePcs pcs("http://pccs");
  pcs.Fail(HttpResponse{404, {}, ""});
  auto cache = Make({Source("pccs")}, &pcs);
  EXPECT_FALSE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_FALSE(cache->ForPlatform(kFmspc, kEarly).ok());
  EXPECT_EQ(pcs.Requests(), 1u);
  pcs.Fail(std::nullopt);
  clock_.Advance(absl::Minutes(6));
  EXPECT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
}

// Records what the cache reports, as tee-verifierd's metrics do.
class RecordingObserver : public CacheObserver {
 public:
  void OnFetch(absl::string_view source, FetchOutcome outcome) override {
    absl::MutexLock lock(&mu_);
    fetches_.push_back(absl::StrCat(source, " ", FetchOutcomeName(outcome)));
  }
  void OnLookup(bool hit) override { ++(hit ? hits : misses); }
  std::vector<std::string> Fetches() {
    absl::MutexLock lock(&mu_);
    return fetches_;
  }
  std::atomic<int> hits{0}, misses{0};

 private:
  absl::Mutex mu_;
  std::vector<std::string> fetches_;
};

TEST_F(CacheTest, ObserverIsToldEachSourcesOutcomeAndEveryHitAndMiss) {
  FakePcs down("http://down"), gone("http://gone"), busy("http://busy"), bad("http://bad"),
      good("http://good");
  down.Fail(HttpResponse{500, {}, "down"});
  gone.Fail(HttpResponse{404, {}, ""});
  busy.Fail(HttpResponse{429, {{"retry-after", "600"}}, ""});
  std::string& body = bad.Item("/tdx/certification/v4/tcb").body;
  const size_t sig = body.find("\"signature\":\"") + 13;
  body[sig] = body[sig] == '0' ? '1' : '0';
  Router router;  // "unrouted" has no route: the transport fails without an HTTP answer
  router.by_base = {{"http://down", &down}, {"http://gone", &gone}, {"http://busy", &busy},
                    {"http://bad", &bad},   {"http://good", &good}};
  auto observer = std::make_shared<RecordingObserver>();
  auto cache = Make({Source("unrouted"), Source("down"), Source("gone"), Source("busy"),
                     Source("bad"), Source("good")},
                    &router, "", observer);
  ASSERT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok()) << Log();
  EXPECT_EQ(observer->Fetches(),
            (std::vector<std::string>{"unrouted network", "down http_error", "gone not_found",
                                      "busy throttled", "bad rejected", "good ok"}));
  EXPECT_EQ(observer->misses.load(), 1);
  EXPECT_EQ(observer->hits.load(), 0);
  ASSERT_TRUE(cache->ForPlatform(kFmspc, kEarly).ok());
  ASSERT_TRUE(cache->ForPlatform(kFmspc, kLast).ok());
  EXPECT_EQ(observer->hits.load(), 2);
  EXPECT_EQ(observer->misses.load(), 1);
  EXPECT_EQ(observer->Fetches().size(), 6u);

  // Another platform: the sources in backoff are not asked; 404s cause none.
  const ByteArray<6> other = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
  EXPECT_FALSE(cache->ForPlatform(other, kEarly).ok());
  const std::vector<std::string> all = observer->Fetches();
  ASSERT_GE(all.size(), 6u);
  const std::vector<std::string> second(all.begin() + 6, all.end());
  EXPECT_EQ(second, (std::vector<std::string>{"unrouted skipped_backoff", "down skipped_backoff",
                                              "gone not_found", "busy skipped_backoff",
                                              "bad skipped_backoff", "good rejected"}));
  EXPECT_EQ(observer->misses.load(), 2);
  EXPECT_EQ((cache->Counters().fetches[{"good", "ok"}]), 1u);
  EXPECT_EQ((cache->Counters().fetches[{"good", "rejected"}]), 1u);
}

}  // namespace
}  // namespace teeverify::collateral::cache_test
