// The live TDX collateral cache against an in-memory PCS (the real dcap-qvl responses with their
// URL-encoded issuer chain headers): one fetch per item under concurrency, restart from disk
// without fetching, refresh ahead of nextUpdate, stale-but-valid serving then failing closed,
// rejected sources, Retry-After and 404 caching. Time moves by FakeClock, never by sleeping.
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
#include "verifier/common/hex.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify::collateral {
namespace {

namespace fs = std::filesystem;
using testing::ReadTestData;

const ByteArray<6> kFmspc = {0xb0, 0xc0, 0x6f, 0x00, 0x00, 0x00};
using testing::At;

std::string TempDir() {
  std::string dir = (fs::temp_directory_path() / "tee-collateral-test-XXXXXX").string();
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir;
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(absl::StrFormat("%02x", c)));
    }
  }
  return out;
}

// A PCS serving one recorded bundle; every answer can be replaced per path prefix.
constexpr char kEarlyTcb[] = "/tdx/certification/v4/tcb (update=early)";

class FakePcs : public HttpTransport {
 public:
  explicit FakePcs(std::string base, std::string bundle = "dcap-qvl-2025-06") : base_(base) {
    const std::string dir = "tdx/collateral/" + bundle + "/";
    const std::string chain = UrlEncode(ReadTestData(dir + "tcb_info_issuer_chain.pem"));
    ok_["/tdx/certification/v4/tcb"] = {200, {{"tcb-info-issuer-chain", chain}},
                                        ReadTestData(dir + "tcb_info_response.json")};
    ok_["/tdx/certification/v4/qe/identity"] = {
        200, {{"sgx-enclave-identity-issuer-chain",
               UrlEncode(ReadTestData(dir + "qe_identity_issuer_chain.pem"))}},
        ReadTestData(dir + "qe_identity_response.json")};
    ok_["/sgx/certification/v4/pckcrl"] = {
        200, {{"sgx-pck-crl-issuer-chain", UrlEncode(ReadTestData(dir + "pck_crl_issuer_chain.pem"))}},
        ReadTestData(dir + "pck_crl.der")};
    ok_["/sgx/certification/v4/rootcacrl"] = {
        200, {}, absl::BytesToHexString(ReadTestData(dir + "root_ca_crl.der"))};
  }

  // Serving the test platform's bundle (tdx_test_tee.h) instead of a recorded one.
  FakePcs(std::string base, const tdx::TdxCollateral& c) : base_(base) {
    ok_["/tdx/certification/v4/tcb"] = {
        200, {{"tcb-info-issuer-chain", UrlEncode(c.tcb_info_issuer_chain)}}, c.tcb_info_response};
    ok_["/tdx/certification/v4/qe/identity"] = {
        200, {{"sgx-enclave-identity-issuer-chain", UrlEncode(c.qe_identity_issuer_chain)}},
        c.qe_identity_response};
    ok_["/sgx/certification/v4/pckcrl"] = {
        200, {{"sgx-pck-crl-issuer-chain", UrlEncode(c.pck_crl_issuer_chain)}}, c.pck_crl};
    ok_["/sgx/certification/v4/rootcacrl"] = {200, {}, c.root_ca_crl};
  }

  absl::StatusOr<HttpResponse> Get(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    EXPECT_TRUE(absl::StartsWith(request.url, base_)) << request.url;
    std::string path = request.url.substr(base_.size());
    urls_.push_back(path);
    // The early channel's TCB info is its own answer (Item(kEarlyTcb)); 404 unless set.
    const bool early = absl::StrContains(path, "update=early");
    path = path.substr(0, path.find('?'));
    if (early) path = kEarlyTcb;
    if (fail_) return *fail_;
    auto it = ok_.find(path);
    if (it == ok_.end()) return HttpResponse{404, {}, ""};
    return it->second;
  }

  void Fail(std::optional<HttpResponse> r) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(r);
  }
  HttpResponse& Item(const std::string& path) { return ok_[path]; }
  std::vector<std::string> Urls() {
    absl::MutexLock lock(&mu_);
    return urls_;
  }
  size_t Requests() { return Urls().size(); }

 private:
  std::string base_;
  absl::Mutex mu_;
  std::map<std::string, HttpResponse> ok_;
  std::optional<HttpResponse> fail_;
  std::vector<std::string> urls_;
};

// One transport for several sources, told apart by base URL.
class Router : public HttpTransport {
 public:
  std::map<std::string, FakePcs*> by_base;
  absl::StatusOr<HttpResponse> Get(const HttpRequest& r) override {
    for (auto& [base, pcs] : by_base) {
      if (absl::StartsWith(r.url, base)) return pcs->Get(r);
    }
    return absl::UnavailableError("no route");
  }
};

PcsSource Source(const std::string& name) {
  PcsSource s;
  s.name = name;
  s.base_url = "http://" + name;
  return s;
}

class CacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<LiveTdxCollateral> Make(
      std::vector<PcsSource> sources, HttpTransport* t, std::string dir = "",
      std::shared_ptr<CacheObserver> observer = nullptr,
      std::shared_ptr<const TrustRoots> roots = testing::BuiltInRoots()) {
    CacheOptions options;
    options.cache_dir = dir;
    options.observer = std::move(observer);
    options.refresh_jitter = 0;
    // A non-owning shared_ptr: the fake outlives the cache.
    std::shared_ptr<HttpTransport> transport(t, [](HttpTransport*) {});
    auto cache = std::make_unique<LiveTdxCollateral>(
        std::move(sources), transport, std::move(roots), &clock_, options,
        [this](absl::string_view level, absl::string_view event, nlohmann::ordered_json f) {
          absl::MutexLock lock(&log_mu_);
          log_.push_back(absl::StrCat(level, " ", event, " ", f.dump()));
        });
    cache->LoadDisk();
    return cache;
  }
  std::string Log() {
    absl::MutexLock lock(&log_mu_);
    return absl::StrJoin(log_, "\n");
  }

  FakeClock clock_{At("2026-01-01T00:00:00Z")};
  absl::Mutex log_mu_;
  std::vector<std::string> log_;
  const absl::Time kEarly = At("2025-06-25T00:00:00Z");
  const absl::Time kDue = At("2025-07-15T00:00:00Z");  // past 3/4 of the PCK CRL's month
  const absl::Time kLast = At("2025-07-19T10:00:34Z");  // MANIFEST time of the dcap-qvl quote
  const absl::Time kPast = At("2025-07-19T10:00:36Z");  // the PCK CRL's nextUpdate has passed
};

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
}  // namespace teeverify::collateral
