// tee-verifierd's Prometheus endpoint (--metrics-listen, docs/collateral.md "Metrics") scraped
// over HTTP after real calls: requests by TEE, outcome and reason, the Evaluate latency
// histogram, the TCB recovery early warning by FMSPC, live collateral fetches by source and
// outcome against the PCS stand-in, cache hits and misses, and the nextUpdate gauges; and the
// settings it refuses.
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/sidecar/pcs_standin.h"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "tests/test_util.h"
#include "verifier/collateral/clock.h"
#include "verifier/collateral/http.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/io/files.h"
#include "verifier/server/metrics.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/snp_test_keys.h"
#include "verifier/testing/snp_test_tee.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testing {
namespace {

using Labels = std::map<std::string, std::string>;

// One scrape: each sample by metric name and label set.
class Scrape {
 public:
  explicit Scrape(int port) {
    collateral::CurlTransport curl;
    collateral::HttpRequest req;
    req.url = absl::StrCat("http://127.0.0.1:", port, "/metrics");
    absl::StatusOr<collateral::HttpResponse> resp = curl.Get(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok()) return;
    EXPECT_EQ(resp->status, 200);
    text_ = resp->body;
    for (absl::string_view line : absl::StrSplit(text_, '\n', absl::SkipEmpty())) {
      if (absl::StartsWith(line, "#")) continue;
      const size_t space = line.rfind(' ');
      const size_t brace = line.find('{');
      std::string name(line.substr(0, std::min(brace, space)));
      Labels labels;
      if (brace != absl::string_view::npos) {
        const absl::string_view inner = line.substr(brace + 1, line.rfind('}') - brace - 1);
        for (absl::string_view pair : absl::StrSplit(inner, "\",", absl::SkipEmpty())) {
          const size_t eq = pair.find("=\"");
          std::string value(pair.substr(eq + 2));
          if (absl::EndsWith(value, "\"")) value.pop_back();
          labels[std::string(pair.substr(0, eq))] = value;
        }
      }
      double value = 0;
      EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
      samples_[name][labels] = value;
    }
  }

  // The sample's value; nullopt when absent.
  std::optional<double> Get(const std::string& name, const Labels& labels = {}) const {
    auto family = samples_.find(name);
    if (family == samples_.end()) return std::nullopt;
    auto it = family->second.find(labels);
    if (it == family->second.end()) return std::nullopt;
    return it->second;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::map<std::string, std::map<Labels, double>> samples_;
};

// The port the sidecar's metrics endpoint bound (logged as metrics_listening).
int MetricsPort(const SidecarProcess& sidecar) {
  for (absl::string_view line : absl::StrSplit(sidecar.Log(), '\n', absl::SkipEmpty())) {
    if (!absl::StrContains(line, "\"metrics_listening\"")) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    return j["port"].get<int>();
  }
  ADD_FAILURE() << "no metrics_listening in the log: " << sidecar.Log();
  return 0;
}

constexpr char kNonce[] = "metrics-test-nonce-0123456789abc";

// Intel's early channel already publishes the next evaluation number (19), under which the test
// platform falls OutOfDate in 30 days (issue 14's early warning); the standard one (18) says
// UpToDate. Written into the platform's collateral bundle, whose directory is returned.
std::string AnnounceTcbRecovery(const TestPlatform& platform) {
  const std::string bundle = platform.collateral_dir + "/test-platform";
  absl::StatusOr<std::string> early = platform.tee->SignTcbInfo(
      platform.tee->RecoveredTcbInfoBody(absl::Now() + absl::Hours(24 * 30)));
  EXPECT_TRUE(early.ok()) << early.status();
  if (early.ok()) WriteFile(bundle + "/" + std::string(tdx::kTcbInfoEarlyFile), *early);
  return bundle;
}

TEST(MetricsTest, CountsEvaluationsByOutcomeLatencyEarlyTcbWarningAndCollateralDirNextUpdate) {
  TestPlatform platform;
  const std::string bundle = AnnounceTcbRecovery(platform);
  const std::string dir = MakeTempDir();
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--test-roots=" + platform.roots_dir,
                          "--collateral-dir=" + platform.collateral_dir,
                          "--metrics-listen=127.0.0.1:0"},
                         "unix:" + dir + "/s.sock");
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  const int port = MetricsPort(sidecar);
  ASSERT_GT(port, 0);
  {
    // Before any call: nothing counted yet, the collateral directory's gauge already reads.
    Scrape before(port);
    EXPECT_FALSE(before.Get("tee_verifier_requests_total",
                            {{"rpc", "Evaluate"}, {"tee", "tdx"}, {"outcome", "allow"},
                             {"reason", "none"}}));
    EXPECT_TRUE(before.Get("tee_collateral_next_update_seconds",
                           {{"store", "collateral_dir"}, {"fmspc", "00906ed50000"}}))
        << before.text();
  }

  auto stub = sidecar.Stub();
  grpc::Status status;
  v1::EvaluateResponse allowed = CallEvaluate(*stub, platform.Quote(kNonce),
                                              platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(allowed.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(allowed.metadata().at("tcb_status_early"), "OutOfDate");
  v1::EvaluateResponse denied = CallEvaluate(*stub, platform.Quote(kNonce),
                                             platform.Role(std::string(96, 'e')), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(denied.decision(), v1::DECISION_DENY);
  // Evidence that is not a quote: an RPC error, counted with its reason.
  CallEvaluate(*stub, std::string(64, '\x04'), platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string error_reason = status.error_message().substr(0, status.error_message().find(':'));

  const absl::Time scraped_after = absl::Now();
  Scrape s(port);
  const absl::Time scraped_before = absl::Now();
  auto requests = [&](const std::string& tee, const std::string& outcome,
                      const std::string& reason) {
    return s.Get("tee_verifier_requests_total",
                 {{"rpc", "Evaluate"}, {"tee", tee}, {"outcome", outcome}, {"reason", reason}});
  };
  EXPECT_EQ(requests("tdx", "allow", "none"), 1.0) << s.text();
  EXPECT_EQ(requests("tdx", "deny", "POLICY_MISMATCH"), 1.0) << s.text();
  EXPECT_EQ(requests("unknown", "error", error_reason), 1.0) << error_reason << "\n" << s.text();
  EXPECT_EQ(s.Get("tee_verifier_evaluate_duration_seconds_count", {{"tee", "tdx"}}), 2.0)
      << s.text();
  EXPECT_EQ(s.Get("tee_verifier_evaluate_duration_seconds_bucket", {{"tee", "tdx"}, {"le", "+Inf"}}),
            2.0)
      << s.text();
  const std::optional<double> sum = s.Get("tee_verifier_evaluate_duration_seconds_sum", {{"tee", "tdx"}});
  ASSERT_TRUE(sum.has_value()) << s.text();
  EXPECT_GT(*sum, 0.0);
  // Both evaluations verified the platform, and both saw the coming downgrade.
  EXPECT_EQ(s.Get("tee_tdx_tcb_early_downgrades_total", {{"fmspc", "00906ed50000"}}), 2.0)
      << s.text();
  // ... and they were one platform (one PPID): one host to patch.
  EXPECT_EQ(s.Get("tee_tdx_tcb_early_downgrade_platforms", {{"fmspc", "00906ed50000"}}), 1.0)
      << s.text();

  // The collateral directory's bundle: the end of its verified window, as the core computes it.
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = LoadRootsDir(platform.roots_dir);
  ASSERT_TRUE(roots.ok());
  absl::StatusOr<tdx::TdxCollateral> raw = LoadTdxCollateralDir(bundle);
  ASSERT_TRUE(raw.ok());
  auto verified = tdx::VerifyTdxCollateral(*raw, *(*roots)->Get(RootId::kIntelSgxRootCa), absl::Now());
  ASSERT_TRUE(verified.ok()) << verified.status();
  const absl::Time next_update = (*verified)->window.not_after;
  const Labels dir_labels = {{"store", "collateral_dir"}, {"fmspc", "00906ed50000"}};
  EXPECT_EQ(s.Get("tee_collateral_next_update_timestamp_seconds", dir_labels),
            static_cast<double>(absl::ToUnixSeconds(next_update)))
      << s.text();
  const std::optional<double> until = s.Get("tee_collateral_next_update_seconds", dir_labels);
  ASSERT_TRUE(until.has_value()) << s.text();
  EXPECT_LE(*until, absl::ToDoubleSeconds(next_update - scraped_after));
  EXPECT_GE(*until, absl::ToDoubleSeconds(next_update - scraped_before));
  stub.reset();
  EXPECT_EQ(sidecar.Stop(), 0) << sidecar.Stderr();
}

TEST(MetricsTest, CountsLiveCollateralFetchesBySourceAndOutcomeHitsMissesAndNextUpdate) {
  PcsStandIn throttled(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  PcsStandIn bad(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  PcsStandIn good(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  throttled.Fault("kind=429&retry_after=600");
  bad.Fault("kind=wrong_chain&path=/tdx/certification/v4/tcb");
  const std::string dir = MakeTempDir();
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--replay-recorded-evidence",
                          "--collateral-cache-dir=" + dir + "/cache",
                          "--collateral-source=pccs=" + throttled.url(),
                          "--collateral-source=pccs=" + bad.url(),
                          "--collateral-source=pccs=" + good.url(),
                          "--metrics-listen=127.0.0.1:0"},
                         "unix:" + dir + "/s.sock");
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  const int port = MetricsPort(sidecar);
  ASSERT_GT(port, 0);
  auto stub = sidecar.Stub();
  for (int i = 0; i < 2; ++i) {
    v1::VerifyRequest req;
    req.set_evidence(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"));
    // Early in the collateral's window (2025-06-19T10:32:27Z to 2025-07-19T10:00:35Z), before
    // its refresh point: the second lookup is a plain hit, not a refresh.
    req.set_verification_time_unix(1750809600);  // 2025-06-25T00:00:00Z
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::VerifyResponse resp;
    ASSERT_TRUE(stub->Verify(&ctx, req, &resp).ok());
    ASSERT_TRUE(resp.verified()) << resp.error().message() << sidecar.Log();
  }
  const absl::Time scraped_after = absl::Now();
  Scrape s(port);
  const absl::Time scraped_before = absl::Now();
  auto fetches = [&](const std::string& source, const std::string& outcome) {
    return s.Get("tee_collateral_fetches_total", {{"source", source}, {"outcome", outcome}});
  };
  EXPECT_EQ(fetches(throttled.url(), "throttled"), 1.0) << s.text();
  EXPECT_EQ(fetches(bad.url(), "rejected"), 1.0) << s.text();
  EXPECT_EQ(fetches(good.url(), "ok"), 1.0) << s.text();
  EXPECT_FALSE(fetches(good.url(), "rejected")) << s.text();
  EXPECT_EQ(s.Get("tee_collateral_cache_lookups_total", {{"result", "miss"}}), 1.0) << s.text();
  EXPECT_EQ(s.Get("tee_collateral_cache_lookups_total", {{"result", "hit"}}), 1.0) << s.text();
  EXPECT_EQ(s.Get("tee_verifier_requests_total",
                  {{"rpc", "Verify"}, {"tee", "tdx"}, {"outcome", "verified"}, {"reason", "none"}}),
            2.0)
      << s.text();
  // The bundle's first item to expire is the PCK CRL: 2025-07-19T10:00:35Z (Info says the same).
  const absl::Time next_update = absl::FromUnixSeconds(1752919235);
  const Labels live = {{"store", "live"}, {"fmspc", "b0c06f000000"}};
  EXPECT_EQ(s.Get("tee_collateral_next_update_timestamp_seconds", live), 1752919235.0) << s.text();
  const std::optional<double> until = s.Get("tee_collateral_next_update_seconds", live);
  ASSERT_TRUE(until.has_value()) << s.text();
  EXPECT_LE(*until, absl::ToDoubleSeconds(next_update - scraped_after));
  EXPECT_GE(*until, absl::ToDoubleSeconds(next_update - scraped_before));
  stub.reset();
  EXPECT_EQ(sidecar.Stop(), 0) << sidecar.Stderr();
}

// The early channel from a live source (issue 14): the test platform's PCS publishes a coming
// TCB recovery (evaluation number 19) beside the standard TCB info (18).
TEST(MetricsTest, LiveEarlyChannelShowsTheComingRecoveryByEvaluationNumberAndPlatform) {
  TestPlatform platform;
  const std::string bundle = AnnounceTcbRecovery(platform);
  PcsStandIn pcs(bundle);
  const std::string dir = MakeTempDir();
  const std::string config = dir + "/config.json";
  std::ofstream(config) << R"({"collateral_sources": [{"kind": "pccs", "url": ")" << pcs.url()
                        << R"(", "early_tcb_info": true}]})";
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--test-roots=" + platform.roots_dir,
                          "--config=" + config, "--metrics-listen=127.0.0.1:0"},
                         "unix:" + dir + "/s.sock");
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  const int port = MetricsPort(sidecar);
  ASSERT_GT(port, 0);
  auto stub = sidecar.Stub();
  grpc::Status status;
  v1::EvaluateResponse allowed = CallEvaluate(*stub, platform.Quote(kNonce),
                                              platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(allowed.decision(), v1::DECISION_ALLOW) << sidecar.Log();
  EXPECT_EQ(allowed.metadata().at("tcb_status_early"), "OutOfDate");
  EXPECT_EQ(pcs.Stats()["/tdx/certification/v4/tcb?update=early"], 1) << pcs.Requests();

  Scrape s(port);
  auto evaluation = [&](const std::string& channel) {
    return s.Get("tee_tdx_tcb_evaluation_data_number",
                 {{"fmspc", "00906ed50000"}, {"pck_ca", "platform"}, {"channel", channel}});
  };
  EXPECT_EQ(evaluation("standard"), 18.0) << s.text();
  EXPECT_EQ(evaluation("early"), 19.0) << s.text();
  EXPECT_EQ(s.Get("tee_tdx_tcb_early_downgrade_platforms", {{"fmspc", "00906ed50000"}}), 1.0)
      << s.text();
  stub.reset();
  EXPECT_EQ(sidecar.Stop(), 0) << sidecar.Stderr();
}

TEST(MetricsTest, RefusesRemoteOrMalformedListenAddressesNamingTheSetting) {
  const std::string dir = MakeTempDir();
  const std::string config = dir + "/config.json";
  std::ofstream(config) << R"({"metrics_listen": "192.0.2.1:9464"})";
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"--metrics-listen=0.0.0.0:9464"}, "--metrics-listen 0.0.0.0:9464: not a loopback address"},
      {{"--config=" + config}, "--metrics-listen 192.0.2.1:9464: not a loopback address"},
      {{"--metrics-listen=localhost:9464"}, "--metrics-listen: 'localhost:9464' is not IPv4:port"},
      {{"--metrics-listen=127.0.0.1:70000"}, "--metrics-listen: '127.0.0.1:70000' is not"},
      {{"--metrics-allow-remote"}, "--metrics-allow-remote: needs --metrics-listen"},
  };
  for (const auto& [flags, message] : refused) {
    std::vector<std::string> args = {"--listen=unix:" + dir + "/s.sock"};
    args.insert(args.end(), flags.begin(), flags.end());
    SidecarProcess sidecar(args, "unix:" + dir + "/s.sock");
    EXPECT_EQ(sidecar.WaitExit(), 2) << flags[0];
    EXPECT_TRUE(absl::StrContains(sidecar.Stderr(), message)) << sidecar.Stderr();
  }
  // Explicitly allowed: every address, on a port the sidecar picks.
  SidecarProcess remote({"--listen=unix:" + dir + "/s.sock", "--metrics-listen=0.0.0.0:0",
                         "--metrics-allow-remote"},
                        "unix:" + dir + "/s.sock");
  ASSERT_TRUE(remote.WaitReady()) << remote.Log();
  EXPECT_GT(MetricsPort(remote), 0);
  EXPECT_EQ(remote.Stop(), 0) << remote.Stderr();
}

// A KDS in memory: answers by path, 404 otherwise.
class InMemoryKds : public collateral::HttpTransport {
 public:
  absl::StatusOr<collateral::HttpResponse> Get(const collateral::HttpRequest& request) override {
    auto it = answers.find(request.url.substr(request.url.find('/', sizeof("http://") - 1)));
    if (it == answers.end()) return collateral::HttpResponse{404, {}, ""};
    return collateral::HttpResponse{200, {}, it->second};
  }
  std::map<std::string, std::string> answers;
};

// The AMD CRLs the live KDS cache holds (issue 13): per product and signing key, the CRL's
// nextUpdate and the seconds until it, computed at the scrape. The test ARK signs the CRL (no
// real AMD CRL was recorded; tests/data/sevsnp/PROVENANCE.md).
TEST(MetricsTest, AmdCrlNextUpdateGaugesFollowTheCrlsTheLiveCacheHolds) {
  testing::SnpTestOptions options;
  options.product = snp::Product::kMilan;
  absl::StatusOr<std::unique_ptr<testing::SnpTestTee>> tee = testing::SnpTestTee::Create(options);
  ASSERT_TRUE(tee.ok()) << tee.status();
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = (*tee)->Roots();
  ASSERT_TRUE(roots.ok()) << roots.status();
  absl::StatusOr<EvpPkeyPtr> ark_key = testing::LoadPrivateKey(testing::kSnpArkMilanKeyPem);
  ASSERT_TRUE(ark_key.ok()) << ark_key.status();
  absl::StatusOr<X509Ptr> ark = ParseCertificate((*tee)->ArkPem(), "test ARK");
  ASSERT_TRUE(ark.ok()) << ark.status();
  const absl::Time next_update =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 10)));
  const testing::CrlSpec spec{absl::Now() - absl::Hours(1), next_update, {}, EVP_sha384(), true};
  absl::StatusOr<X509CrlPtr> crl = testing::MakeCrl(spec, ark->get(), ark_key->get());
  ASSERT_TRUE(crl.ok()) << crl.status();
  auto kds = std::make_shared<InMemoryKds>();
  kds->answers["/vcek/v1/Milan/cert_chain"] = (*tee)->IntermediatePem() + (*tee)->ArkPem();
  kds->answers["/vcek/v1/Milan/crl"] = testing::CrlDer(crl->get());
  collateral::KdsSource source;
  source.name = "kds";
  source.base_url = "http://kds.test";
  const collateral::RealClock clock;
  auto live = std::make_shared<collateral::LiveSnpCollateral>(
      std::vector<collateral::KdsSource>{source}, kds, *roots, &clock,
      collateral::SnpCacheOptions{},
      [](absl::string_view, absl::string_view, nlohmann::ordered_json) {});
  server::Metrics metrics;
  metrics.Watch({}, {}, live);
  absl::StatusOr<int> port = metrics.Serve("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  const Labels milan_vcek = {{"product", "Milan"}, {"key", "vcek"}};
  EXPECT_FALSE(Scrape(*port).Get("tee_collateral_amd_crl_next_update_seconds", milan_vcek))
      << "no CRL held yet";

  ASSERT_TRUE(live->CrlFor(snp::Product::kMilan, /*vlek=*/false, absl::Now()).ok());
  const absl::Time scraped_after = absl::Now();
  Scrape s(*port);
  const absl::Time scraped_before = absl::Now();
  EXPECT_EQ(s.Get("tee_collateral_amd_crl_next_update_timestamp_seconds", milan_vcek),
            static_cast<double>(absl::ToUnixSeconds(next_update)))
      << s.text();
  const std::optional<double> until = s.Get("tee_collateral_amd_crl_next_update_seconds", milan_vcek);
  ASSERT_TRUE(until.has_value()) << s.text();
  EXPECT_LE(*until, absl::ToDoubleSeconds(next_update - scraped_after));
  EXPECT_GE(*until, absl::ToDoubleSeconds(next_update - scraped_before));
  EXPECT_FALSE(s.Get("tee_collateral_amd_crl_next_update_seconds",
                     {{"product", "Milan"}, {"key", "vlek"}}))
      << "no VLEK CRL was fetched";
}

}  // namespace
}  // namespace teeverify::testing
