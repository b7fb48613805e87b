// The live AMD KDS cache: a real SEV-SNP report without certificates verifies through the local
// KDS stand-in (the real recorded VCEKs and cert_chains) with one VCEK fetch however many
// verifications wait, and from disk after a restart without any; another chip's VCEK is refused
// and not cached; Retry-After is honoured; Turin VCEKs are asked for by their 8-byte hwID and
// fmcSPL; a CRL revoking the ASK (the test ARK's CRL: no real AMD CRL is recorded) rejects the
// chip's reports, and a held CRL past its nextUpdate fails closed. Time moves by FakeClock.
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/sidecar/pcs_standin.h"
#include "tests/test_util.h"
#include "verifier/collateral/cache_test_util.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/snp/vek_checks.h"
#include "verifier/testing/snp_test_keys.h"
#include "verifier/testing/snp_test_tee.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::collateral {
namespace {

namespace fs = std::filesystem;
using testing::At;
using testing::ReadTestData;

using cache_test::Borrow;
using cache_test::CacheLog;
using cache_test::TempDir;

// Oak's Genoa report (MANIFEST: verified at 2025-10-01T08:00:00Z) and the KDS path of its VCEK.
constexpr char kGenoaReport[] = "sevsnp/reports/oak_genoa_oc_report.bin";
constexpr char kGenoaVcekPath[] =
    "/vcek/v1/Genoa/d2421d976f95ce0ba849b7cc5c789122f1e59c77a037272c137ae4d188bb102adbc7c53d0302bff"
    "82a432c94a305dec7a7a270ceb19a10f04a83316c6486968d";
const absl::Time kOakTime = At("2025-10-01T08:00:00Z");

// A KDS in memory: answers per path (with query), a log of what was asked.
class FakeKds : public HttpTransport {
 public:
  absl::StatusOr<HttpResponse> Get(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    const std::string path = request.url.substr(request.url.find('/', 8));
    urls_.push_back(path);
    if (fail_) return *fail_;
    auto it = answers_.find(path);
    if (it == answers_.end()) return HttpResponse{404, {}, ""};
    return it->second;
  }
  void Serve(const std::string& path, std::string body) {
    absl::MutexLock lock(&mu_);
    answers_[path] = HttpResponse{200, {}, std::move(body)};
  }
  void Fail(std::optional<HttpResponse> r) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(r);
  }
  std::vector<std::string> Urls() {
    absl::MutexLock lock(&mu_);
    return urls_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, HttpResponse> answers_;
  std::optional<HttpResponse> fail_;
  std::vector<std::string> urls_;
};

KdsSource Source(const std::string& name, const std::string& url) {
  KdsSource s;
  s.name = name;
  s.base_url = url;
  return s;
}

class SnpCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<LiveSnpCollateral> Make(std::vector<KdsSource> sources,
                                          std::shared_ptr<HttpTransport> transport,
                                          std::shared_ptr<const TrustRoots> roots,
                                          std::string dir = "") {
    SnpCacheOptions options;
    options.cache.cache_dir = dir;
    options.cache.refresh_jitter = 0;
    options.max_vceks = max_vceks_;
    auto cache = std::make_unique<LiveSnpCollateral>(std::move(sources), std::move(transport),
                                                     std::move(roots), &clock_, options, log_.Sink());
    cache->LoadDisk();
    return cache;
  }
  std::string Log() const { return log_.Text(); }

  FakeClock clock_{At("2026-01-01T00:00:00Z")};
  size_t max_vceks_ = 4096;
  CacheLog log_;
};

TEST(KdsClientTest, UrlsByProduct) {
  snp::TcbVersion milan;
  milan.boot_loader = 2;
  milan.snp = 5;
  milan.microcode = 68;
  EXPECT_EQ(KdsVcekPath(snp::Product::kMilan, std::string("\x3a\xc3", 2), milan),
            "/vcek/v1/Milan/3ac3?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68");
  // Turin: the 8-byte hwID and fmcSPL first (the real Turin VCEK of tests/data).
  snp::TcbVersion turin;
  turin.fmc = 0;
  turin.microcode = 9;
  EXPECT_EQ(KdsVcekPath(snp::Product::kTurin, std::string("\x1e\x55\x0a\x8e\xe5\xcf\x9f\x4d", 8),
                        turin),
            "/vcek/v1/Turin/1e550a8ee5cf9f4d?fmcSPL=0&blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=9");
  EXPECT_EQ(KdsCertChainPath(snp::Product::kGenoa, false), "/vcek/v1/Genoa/cert_chain");
  EXPECT_EQ(KdsCrlPath(snp::Product::kTurin, true), "/vlek/v1/Turin/crl");
}

// Through the stand-in over HTTP: 50 verifications of a real report without certificates cause
// one request for its VCEK, one for the Genoa cert_chain and one for the (unrecorded, 404) CRL;
// a restarted cache on the same directory verifies with no request at all.
TEST_F(SnpCacheTest, RealReportWithoutCertificatesVerifiesThroughTheKdsStandIn) {
  testing::PcsStandIn kds(testing::PcsStandIn::KdsArgs());
  const std::string dir = TempDir();
  auto curl = std::make_shared<CurlTransport>();
  auto cache = Make({Source("kds", kds.url())}, curl, testing::BuiltInRoots(), dir);
  const std::string report = ReadTestData(kGenoaReport);
  SnpVerifier verifier(testing::BuiltInRoots(), std::make_shared<SnpCaches>(16));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(50);
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<VerifiedClaims> c = verifier.Verify(report, "", kOakTime, cache.get());
      if (c.ok()) {
        ++ok;
      } else {
        errors[i] = c.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50) << absl::StrJoin(errors, "\n") << Log();
  std::map<std::string, int> stats = kds.Stats();
  EXPECT_EQ(stats[kGenoaVcekPath], 1);
  EXPECT_EQ(stats["/vcek/v1/Genoa/cert_chain"], 1);
  EXPECT_EQ(stats["/vcek/v1/Genoa/crl"], 1);
  EXPECT_EQ(kds.Requests(), 3);

  // Without the provider the same report is refused: the VCEK really came from KDS.
  EXPECT_EQ(ReasonOf(verifier.Verify(report, "", kOakTime).status()),
            v1::REASON_COLLATERAL_MISSING);

  auto restarted = Make({Source("kds", kds.url())}, curl, testing::BuiltInRoots(), dir);
  SnpVerifier fresh(testing::BuiltInRoots());
  absl::StatusOr<VerifiedClaims> again = fresh.Verify(report, "", kOakTime, restarted.get());
  EXPECT_TRUE(again.ok()) << again.status() << Log();
  EXPECT_EQ(kds.Requests(), 3) << "a restart serves the VCEK, the chain and the CRL's absence from disk";
  bool vcek_valid = false;
  for (const SnpItemStatus& s : restarted->Status()) {
    if (s.kind == "vcek") vcek_valid = s.state == ItemState::kValid && s.source == "kds";
  }
  EXPECT_TRUE(vcek_valid);
}

// A cache file is one flat object; a nested one (1 MiB of '[' in its body) is refused by a linear
// scan before nlohmann builds it, logged naming the file and the limit, and the item is fetched.
TEST_F(SnpCacheTest, NestedCacheFileIsRefusedBeforeParsingNamingTheLimit) {
  const std::string dir = TempDir();
  const std::string file = dir + "/snp-cert_chain-vcek-Genoa.json";
  std::ofstream(file) << R"({"version":1,"kind":"cert_chain","product":"Genoa","body":)"
                      << std::string(500000, '[') << std::string(500000, ']') << "}";
  auto cache = Make({}, nullptr, testing::BuiltInRoots(), dir);
  EXPECT_TRUE(absl::StrContains(Log(), file)) << Log();
  EXPECT_TRUE(absl::StrContains(Log(), "SNP collateral cache file: body: nesting deeper than the "
                                       "1 levels of arrays and objects accepted (at byte 58)"))
      << Log();
}

TEST_F(SnpCacheTest, AnotherChipsVcekIsRefusedNotCachedAndTheNextSourceServes) {
  const std::string dir = TempDir();
  FakeKds fake;
  const std::string query = "?blSPL=10&teeSPL=0&snpSPL=25&ucodeSPL=84";
  fake.Serve("/vcek/v1/Genoa/cert_chain", ReadTestData("sevsnp/chains/ask_ark_genoa.pem"));
  // The "bad" source answers with another Genoa chip's real VCEK.
  fake.Serve(std::string("/bad") + kGenoaVcekPath + query,
             ReadTestData("sevsnp/certs/trustee_e2e-vcek.der"));
  fake.Serve(std::string("/good") + kGenoaVcekPath + query,
             ReadTestData("sevsnp/certs/oak_genoa_oc_vcek.der"));
  fake.Serve("/bad/vcek/v1/Genoa/cert_chain", ReadTestData("sevsnp/chains/ask_ark_genoa.pem"));
  const std::string report = ReadTestData(kGenoaReport);
  SnpVerifier verifier(testing::BuiltInRoots());
  {
    auto only_bad = Make({Source("bad", "http://kds/bad")}, Borrow(&fake), testing::BuiltInRoots(),
                         dir);
    absl::StatusOr<VerifiedClaims> c = verifier.Verify(report, "", kOakTime, only_bad.get());
    ASSERT_FALSE(c.ok());
    EXPECT_TRUE(absl::StrContains(c.status().message(), "belongs to another chip")) << c.status();
    EXPECT_TRUE(absl::StrContains(Log(), "collateral_source_rejected")) << Log();
    EXPECT_EQ((only_bad->Counters().fetches[{"bad", "rejected"}]), 1u);
    for (const auto& f : fs::directory_iterator(dir)) {
      EXPECT_FALSE(absl::StrContains(f.path().filename().string(), "snp-vcek-"))
          << f.path() << " cached a VCEK that did not verify";
    }
  }
  auto both = Make({Source("bad", "http://kds/bad"), Source("good", "http://kds/good")},
                   Borrow(&fake), testing::BuiltInRoots(), TempDir());
  absl::StatusOr<VerifiedClaims> c = verifier.Verify(report, "", kOakTime, both.get());
  EXPECT_TRUE(c.ok()) << c.status() << Log();
}

TEST_F(SnpCacheTest, NoRequestBeforeRetryAfterElapses) {
  FakeKds fake;
  fake.Fail(HttpResponse{429, {{"retry-after", "120"}}, ""});
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake), testing::BuiltInRoots());
  const std::string report = ReadTestData(kGenoaReport);
  SnpVerifier verifier(testing::BuiltInRoots());
  EXPECT_FALSE(verifier.Verify(report, "", kOakTime, cache.get()).ok());
  EXPECT_EQ(fake.Urls().size(), 1u);
  fake.Fail(std::nullopt);
  fake.Serve("/vcek/v1/Genoa/cert_chain", ReadTestData("sevsnp/chains/ask_ark_genoa.pem"));
  fake.Serve(std::string(kGenoaVcekPath) + "?blSPL=10&teeSPL=0&snpSPL=25&ucodeSPL=84",
             ReadTestData("sevsnp/certs/oak_genoa_oc_vcek.der"));
  clock_.Advance(absl::Seconds(119));
  absl::StatusOr<VerifiedClaims> c = verifier.Verify(report, "", kOakTime, cache.get());
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "backoff or Retry-After")) << c.status();
  EXPECT_EQ(fake.Urls().size(), 1u);
  clock_.Advance(absl::Seconds(2));
  c = verifier.Verify(report, "", kOakTime, cache.get());
  EXPECT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(fake.Urls().size(), 4u);  // cert_chain, VCEK, CRL
}

// Reports are not signature-checked before their VCEK is known, so what the sidecar asks KDS for
// is bounded by what a VCEK can be issued for: a REPORTED_TCB with reserved bits causes no request.
TEST_F(SnpCacheTest, ReportedTcbWithReservedBitsAsksNothing) {
  FakeKds fake;
  fake.Serve("/vcek/v1/Genoa/cert_chain", ReadTestData("sevsnp/chains/ask_ark_genoa.pem"));
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake), testing::BuiltInRoots());
  std::string report = ReadTestData(kGenoaReport);
  report[0x180 + 3] = 1;  // bits 31:24 of REPORTED_TCB: reserved on Genoa
  absl::StatusOr<VerifiedClaims> c =
      SnpVerifier(testing::BuiltInRoots()).Verify(report, "", kOakTime, cache.get());
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "sets reserved bits")) << c.status();
  EXPECT_EQ(fake.Urls(), std::vector<std::string>{"/vcek/v1/Genoa/cert_chain"});
}

TEST_F(SnpCacheTest, VceksAreBoundedInNumberLeastRecentlyUsedFirst) {
  FakeKds fake;
  fake.Serve("/vcek/v1/Milan/cert_chain", ReadTestData("sevsnp/chains/ask_ark_milan.pem"));
  const std::string query = "?blSPL=4&teeSPL=0&snpSPL=24&ucodeSPL=219";
  fake.Serve("/vcek/v1/Milan/a3fdc2c64dc299ab90d4238973864b586378e2e5ef9c9d4dc608f3bdaa89a969a03f1b57"
             "52cad55a0c1547ade800dbd7404e9cb3f9738da3b280d1df69cf82e4" + query,
             ReadTestData("sevsnp/certs/oak_milan_oc_release_vcek.der"));
  fake.Serve("/vcek/v1/Milan/6c65aee8a139e984657ee8bfe50cbdc39067e3a99da09bba4e948236c91df95baa7bbd23"
             "3fa56b101b90d136c7a78091013a7ce62c31fc25be1c6ca87da31a5a" + query,
             ReadTestData("sevsnp/certs/oak_milan_rk_release_vcek.der"));
  max_vceks_ = 1;
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake), testing::BuiltInRoots());
  SnpVerifier verifier(testing::BuiltInRoots());
  const std::string oc = ReadTestData("sevsnp/reports/oak_milan_oc_release_report.bin");
  const std::string rk = ReadTestData("sevsnp/reports/oak_milan_rk_release_report.bin");
  auto vceks_held = [&] {
    int n = 0;
    for (const SnpItemStatus& s : cache->Status()) n += s.kind == "vcek";
    return n;
  };
  auto vcek_requests = [&] {
    int n = 0;
    for (const std::string& u : fake.Urls()) n += absl::StrContains(u, "SPL=");
    return n;
  };
  for (const std::string* report : {&oc, &oc, &rk, &oc}) {
    absl::StatusOr<VerifiedClaims> c = verifier.Verify(*report, "", kOakTime, cache.get());
    EXPECT_TRUE(c.ok()) << c.status() << Log();
    EXPECT_EQ(vceks_held(), 1);
  }
  EXPECT_EQ(vcek_requests(), 3) << "oc, rk (evicting oc), oc again (evicting rk)";
}

// The test platform (test ARK as the trusted root), with the ARK's CRL served by KDS.
class SnpTestPlatformCacheTest : public SnpCacheTest {
 protected:
  void SetUpPlatform(snp::Product product, const char* ark_key_pem) {
    testing::SnpTestOptions options;
    options.product = product;
    absl::StatusOr<std::unique_ptr<testing::SnpTestTee>> tee = testing::SnpTestTee::Create(options);
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = tee_->Roots();
    ASSERT_TRUE(roots.ok());
    roots_ = *roots;
    absl::StatusOr<std::string> report = tee_->MakeReport(tee_->DefaultReport());
    ASSERT_TRUE(report.ok());
    report_ = *report;
    absl::StatusOr<EvpPkeyPtr> key = testing::LoadPrivateKey(ark_key_pem);
    ASSERT_TRUE(key.ok());
    ark_key_ = *std::move(key);
    ark_ = *ParseCertificate(tee_->ArkPem(), "test ARK");
    ask_ = *ParseCertificate(tee_->IntermediatePem(), "test ASK");
    const std::string p(snp::ProductName(product));
    fake_.Serve("/vcek/v1/" + p + "/cert_chain", tee_->IntermediatePem() + tee_->ArkPem());
    const snp::Report parsed = tee_->DefaultReport();
    fake_.Serve(KdsVcekPath(product, snp::HwIdOf(parsed, product),
                            snp::DecodeTcb(parsed.reported_tcb, product)),
                tee_->VekDer());
  }
  std::string Crl(std::vector<X509*> revoked, absl::Time this_update, absl::Time next_update) {
    testing::CrlSpec spec{this_update, next_update, std::move(revoked), EVP_sha384(), true};
    absl::StatusOr<X509CrlPtr> crl = testing::MakeCrl(spec, ark_.get(), ark_key_.get());
    EXPECT_TRUE(crl.ok()) << crl.status();
    return crl.ok() ? testing::CrlDer(crl->get()) : "";
  }

  FakeKds fake_;
  std::unique_ptr<testing::SnpTestTee> tee_;
  std::shared_ptr<const TrustRoots> roots_;
  std::string report_;
  EvpPkeyPtr ark_key_;
  X509Ptr ark_, ask_;
  const absl::Time now_ = At("2026-06-01T00:00:00Z");
};

TEST_F(SnpTestPlatformCacheTest, TurinVcekIsFetchedByItsEightByteHwIdAndFmcSpl) {
  SetUpPlatform(snp::Product::kTurin, testing::kSnpArkTurinKeyPem);
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake_), roots_);
  SnpVerifier verifier(roots_);
  absl::StatusOr<VerifiedClaims> c = verifier.Verify(report_, "", now_, cache.get());
  ASSERT_TRUE(c.ok()) << c.status() << Log();
  const std::vector<std::string> urls = fake_.Urls();
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_EQ(urls[0], "/vcek/v1/Turin/cert_chain");
  const snp::TcbVersion tcb = testing::SnpTestTee::DefaultTcb(snp::Product::kTurin);
  EXPECT_EQ(urls[1], absl::StrCat("/vcek/v1/Turin/",
                                  HexEncode(AsView(testing::SnpTestTee::ChipId(0, snp::Product::kTurin)).substr(0, 8)),
                                  "?fmcSPL=", *tcb.fmc, "&blSPL=", tcb.boot_loader, "&teeSPL=",
                                  tcb.tee, "&snpSPL=", tcb.snp, "&ucodeSPL=", tcb.microcode));
  EXPECT_EQ(urls[2], "/vcek/v1/Turin/crl");
}

TEST_F(SnpTestPlatformCacheTest, ACrlRevokingTheAskRejectsTheChipsReports) {
  SetUpPlatform(snp::Product::kMilan, testing::kSnpArkMilanKeyPem);
  fake_.Serve("/vcek/v1/Milan/crl", Crl({ask_.get()}, At("2026-05-01T00:00:00Z"),
                                        At("2026-07-01T00:00:00Z")));
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake_), roots_);
  SnpVerifier verifier(roots_);
  absl::StatusOr<VerifiedClaims> c = verifier.Verify(report_, "", now_, cache.get());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ReasonOf(c.status()), v1::REASON_REVOKED) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "'SEV-Milan'")) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "vcek CRL of Milan")) << c.status();
  // Carried certificates are checked against the same CRL.
  absl::StatusOr<std::string> extended = tee_->MakeEvidence(tee_->DefaultReport());
  ASSERT_TRUE(extended.ok());
  EXPECT_EQ(ReasonOf(verifier.Verify(*extended, "", now_, cache.get()).status()),
            v1::REASON_REVOKED);
  // Without the provider nothing says it is revoked (what the CRL adds).
  EXPECT_TRUE(verifier.Verify(*extended, "", now_).ok());
}

TEST_F(SnpTestPlatformCacheTest, HeldCrlPastNextUpdateFailsClosedNamingIt) {
  SetUpPlatform(snp::Product::kMilan, testing::kSnpArkMilanKeyPem);
  fake_.Serve("/vcek/v1/Milan/crl",
              Crl({}, At("2026-05-01T00:00:00Z"), At("2026-07-01T00:00:00Z")));
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake_), roots_);
  SnpVerifier verifier(roots_);
  ASSERT_TRUE(verifier.Verify(report_, "", now_, cache.get()).ok()) << Log();
  fake_.Fail(HttpResponse{500, {}, "down"});
  clock_.Advance(absl::Hours(1));
  absl::StatusOr<VerifiedClaims> c =
      verifier.Verify(report_, "", At("2026-07-02T00:00:00Z"), cache.get());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ReasonOf(c.status()), v1::REASON_EXPIRED) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "vcek crl of Milan")) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), "HTTP 500")) << c.status();
}

TEST_F(SnpTestPlatformCacheTest, CrlNotSignedByTheArkIsRefusedAndNotCached) {
  SetUpPlatform(snp::Product::kMilan, testing::kSnpArkMilanKeyPem);
  // Signed by the ASK's key under the ARK's name: the signature cannot verify under the ARK.
  absl::StatusOr<EvpPkeyPtr> ask_key = testing::LoadPrivateKey(testing::kSnpAskMilanKeyPem);
  ASSERT_TRUE(ask_key.ok());
  testing::CrlSpec spec{At("2026-05-01T00:00:00Z"), At("2026-07-01T00:00:00Z"), {ask_.get()},
                        EVP_sha384(), true};
  absl::StatusOr<X509CrlPtr> forged = testing::MakeCrl(spec, ark_.get(), ask_key->get());
  ASSERT_TRUE(forged.ok());
  fake_.Serve("/vcek/v1/Milan/crl", testing::CrlDer(forged->get()));
  const std::string dir = TempDir();
  auto cache = Make({Source("kds", "http://kds")}, Borrow(&fake_), roots_, dir);
  SnpVerifier verifier(roots_);
  // No CRL was ever held, so (default policy) verification goes on; the forged one is not used.
  EXPECT_TRUE(verifier.Verify(report_, "", now_, cache.get()).ok()) << Log();
  EXPECT_TRUE(absl::StrContains(Log(), "collateral_source_rejected")) << Log();
  EXPECT_FALSE(fs::exists(dir + "/snp-crl-vcek-Milan.json"));
}

}  // namespace
}  // namespace teeverify::collateral
