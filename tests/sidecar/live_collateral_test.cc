// tee-verifierd with live TDX collateral (docs/collateral.md) from a local PCS stand-in serving
// the real recorded dcap-qvl responses: an empty cache and one source URL verify the real quote
// at its MANIFEST time after fetching each of the four items once, however many logins ask at
// once; a restart serves from the disk cache without a request; the next source serves when the
// first fails; Info names the bundle's source, dates and evaluation number. The same for AMD KDS
// (a real SEV-SNP report without certificates).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/sidecar/pcs_standin.h"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "tests/test_util.h"

namespace teeverify::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kManifestTime = 1752919234;  // 2025-07-19T10:00:34Z
// Inside the collateral's window (2025-06-19T10:32:27Z to 2025-07-19T10:00:35Z) and before its
// refresh point (3/4 of the window): a lookup there serves what is held. A lookup at the
// MANIFEST time, past the refresh point, rightly refreshes once per pacing interval.
constexpr int64_t kEarlyInWindow = 1750809600;  // 2025-06-25T00:00:00Z
const std::map<std::string, int> kOneEach = {{"/sgx/certification/v4/pckcrl", 1},
                                             {"/sgx/certification/v4/rootcacrl", 1},
                                             {"/tdx/certification/v4/qe/identity", 1},
                                             {"/tdx/certification/v4/tcb", 1}};

std::unique_ptr<SidecarProcess> StartLive(const std::string& dir,
                                          std::vector<std::string> sources,
                                          const std::string& cache) {
  std::vector<std::string> args = {"--listen=unix:" + dir + "/s.sock",
                                   "--replay-recorded-evidence",
                                   // 50 logins at once all wait for the one fetch (the default
                                   // admits 4 and queues 16; the rest would be turned away).
                                   "--max-concurrent=50",
                                   "--collateral-cache-dir=" + cache};
  for (const std::string& s : sources) args.push_back("--collateral-source=pccs=" + s);
  auto sidecar = std::make_unique<SidecarProcess>(args, "unix:" + dir + "/s.sock");
  EXPECT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  return sidecar;
}

v1::VerifyResponse VerifyRealQuote(v1::Verifier::Stub& stub, int64_t at = kManifestTime) {
  v1::VerifyRequest req;
  req.set_evidence(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"));
  req.set_verification_time_unix(at);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::VerifyResponse resp;
  EXPECT_TRUE(stub.Verify(&ctx, req, &resp).ok());
  return resp;
}

TEST(LiveCollateralTest, FetchesEachItemOnceForFiftyConcurrentLoginsAndRestartsWithoutFetching) {
  PcsStandIn pcs(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  const std::string dir = MakeTempDir();
  const std::string cache = dir + "/cache";
  {
    std::unique_ptr<SidecarProcess> sidecar = StartLive(dir, {pcs.url()}, cache);
    auto stub = sidecar->Stub();
    v1::Policy policy;
    policy.add_tee_types("tdx");
    policy.set_allow_unbound_evidence(true);
    // The dcap-qvl quote's image (as in policy_examples/mcp-server-tdx.role.json); it is not a
    // SEPT_VE_DISABLE TD, so the role states the attributes it admits.
    v1::TdxPolicy* tdx = policy.mutable_tdx();
    tdx->add_mrtd(
        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
    tdx->add_rtmr1(
        "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378");
    tdx->add_rtmr2(
        "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132");
    tdx->set_attributes("0000001000000000");
    tdx->set_attributes_mask("0000003000000080");
    std::vector<std::thread> threads;
    std::atomic<int> verified{0};
    for (int i = 0; i < 50; ++i) {
      threads.emplace_back([&] {
        v1::EvaluateRequest req;
        req.mutable_evidence()->set_evidence(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"));
        req.mutable_evidence()->set_verification_time_unix(kManifestTime);
        req.set_nonce("live-collateral-test-nonce-00001");
        *req.mutable_policy() = policy;
        req.set_role("live");
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        v1::EvaluateResponse resp;
        grpc::Status status = stub->Evaluate(&ctx, req, &resp);
        if (status.ok() && !resp.has_error() && resp.tee_type() == v1::TEE_TYPE_TDX) ++verified;
        else ADD_FAILURE() << status.error_message() << " " << resp.error().message();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(verified.load(), 50) << sidecar->Log();
    EXPECT_EQ(pcs.Stats(), kOneEach) << sidecar->Log();

    v1::VerifyResponse resp = VerifyRealQuote(*stub);
    EXPECT_TRUE(resp.verified()) << resp.error().message();
    EXPECT_EQ(pcs.Stats(), kOneEach);

    grpc::ClientContext ctx;
    v1::InfoResponse info;
    ASSERT_TRUE(stub->Info(&ctx, v1::InfoRequest(), &info).ok());
    ASSERT_EQ(info.live_tdx_collateral_size(), 1);
    const v1::TdxCollateralStatus& s = info.live_tdx_collateral(0);
    EXPECT_EQ(s.fmspc(), "b0c06f000000");
    EXPECT_EQ(s.pck_ca(), "platform");
    EXPECT_EQ(s.source(), pcs.url());
    EXPECT_EQ(s.tcb_info_issue_date(), "2025-06-19T10:16:03Z");
    EXPECT_EQ(s.tcb_info_next_update(), "2025-07-19T10:16:03Z");
    EXPECT_EQ(s.next_update(), "2025-07-19T10:00:35Z");
    EXPECT_EQ(s.tcb_evaluation_data_number(), 17u);
    EXPECT_FALSE(s.last_refresh().empty());
    EXPECT_EQ(s.last_error(), "");
    stub.reset();
    EXPECT_EQ(sidecar->Stop(), 0);
  }
  EXPECT_TRUE(fs::exists(cache + "/tdx-b0c06f000000-platform.json"));
  // A restart: everything comes from the disk cache.
  std::unique_ptr<SidecarProcess> sidecar = StartLive(dir, {pcs.url()}, cache);
  auto stub = sidecar->Stub();
  v1::VerifyResponse resp = VerifyRealQuote(*stub, kEarlyInWindow);
  EXPECT_TRUE(resp.verified()) << resp.error().message() << sidecar->Log();
  EXPECT_EQ(pcs.Stats(), kOneEach);
  stub.reset();
  EXPECT_EQ(sidecar->Stop(), 0);
}

TEST(LiveCollateralTest, NextSourceServesWhenTheFirstFailsAndBadDataIsNeverCached) {
  PcsStandIn down(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  PcsStandIn bad(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  PcsStandIn good(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  down.Fault("kind=503&retry_after=600");
  bad.Fault("kind=wrong_chain&path=/tdx/certification/v4/tcb");
  const std::string dir = MakeTempDir();
  std::unique_ptr<SidecarProcess> sidecar =
      StartLive(dir, {down.url(), bad.url(), good.url()}, dir + "/cache");
  auto stub = sidecar->Stub();
  v1::VerifyResponse resp = VerifyRealQuote(*stub);
  EXPECT_TRUE(resp.verified()) << resp.error().message() << sidecar->Log();
  EXPECT_EQ(down.Requests(), 1);
  EXPECT_EQ(good.Stats(), kOneEach);
  EXPECT_TRUE(absl::StrContains(sidecar->Log(), "collateral_source_rejected")) << sidecar->Log();
  grpc::ClientContext ctx;
  v1::InfoResponse info;
  ASSERT_TRUE(stub->Info(&ctx, v1::InfoRequest(), &info).ok());
  ASSERT_EQ(info.live_tdx_collateral_size(), 1);
  EXPECT_EQ(info.live_tdx_collateral(0).source(), good.url());
  stub.reset();
  EXPECT_EQ(sidecar->Stop(), 0);
}

// AMD: a real SEV-SNP report without certificates (Oak's Genoa report, MANIFEST time
// 2025-10-01T08:00:00Z) verifies through a KDS source with one request for its VCEK, however many
// logins ask at once (the stand-in has no CRL: no real AMD CRL is recorded); a restart serves
// from the disk cache without a request.
constexpr int64_t kOakTime = 1759305600;
constexpr char kGenoaVcekPath[] =
    "/vcek/v1/Genoa/d2421d976f95ce0ba849b7cc5c789122f1e59c77a037272c137ae4d188bb102adbc7c53d0302bff"
    "82a432c94a305dec7a7a270ceb19a10f04a83316c6486968d";

TEST(LiveCollateralTest, SnpReportWithoutCertificatesFetchesItsVcekOnceAndRestartsFromDisk) {
  PcsStandIn kds(PcsStandIn::KdsArgs());
  const std::string dir = MakeTempDir();
  const std::vector<std::string> args = {
      "--listen=unix:" + dir + "/s.sock", "--replay-recorded-evidence", "--max-concurrent=50",
      "--collateral-cache-dir=" + dir + "/cache", "--collateral-source=kds=" + kds.url()};
  const std::map<std::string, int> one_each = {
      {kGenoaVcekPath, 1}, {"/vcek/v1/Genoa/cert_chain", 1}, {"/vcek/v1/Genoa/crl", 1}};
  auto verify = [](v1::Verifier::Stub& stub) {
    v1::VerifyRequest req;
    req.set_evidence(ReadTestData("sevsnp/reports/oak_genoa_oc_report.bin"));
    req.set_verification_time_unix(kOakTime);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::VerifyResponse resp;
    grpc::Status status = stub.Verify(&ctx, req, &resp);
    return status.ok() && resp.verified() && resp.tee_type() == v1::TEE_TYPE_SEV_SNP
               ? std::string()
               : absl::StrCat(status.error_message(), resp.error().message());
  };
  {
    SidecarProcess sidecar(args, "unix:" + dir + "/s.sock");
    ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
    auto stub = sidecar.Stub();
    std::vector<std::thread> threads;
    std::atomic<int> verified{0};
    for (int i = 0; i < 50; ++i) {
      threads.emplace_back([&] {
        const std::string error = verify(*stub);
        if (error.empty()) ++verified;
        else ADD_FAILURE() << error;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(verified.load(), 50) << sidecar.Log();
    EXPECT_EQ(kds.Stats(), one_each) << sidecar.Log();

    // Info names each item: the VCEK (this chip at this TCB) and the chain came from the KDS
    // source and are valid; every source answered 404 for the CRL.
    grpc::ClientContext ctx;
    v1::InfoResponse info;
    ASSERT_TRUE(stub->Info(&ctx, v1::InfoRequest(), &info).ok());
    std::map<std::string, v1::SnpCollateralStatus> by_kind;
    for (const v1::SnpCollateralStatus& s : info.live_snp_collateral()) {
      EXPECT_EQ(s.product(), "Genoa") << s.ShortDebugString();
      EXPECT_FALSE(s.vlek()) << s.ShortDebugString();
      by_kind[s.kind()] = s;
    }
    ASSERT_EQ(by_kind.size(), 3u) << info.ShortDebugString();
    const v1::SnpCollateralStatus& vcek = by_kind["vcek"];
    EXPECT_EQ(absl::StrCat("/vcek/v1/Genoa/", vcek.hw_id()), kGenoaVcekPath);
    EXPECT_FALSE(vcek.reported_tcb().empty());
    EXPECT_EQ(vcek.state(), "valid");
    EXPECT_EQ(vcek.source(), kds.url());
    EXPECT_FALSE(vcek.not_after().empty());
    EXPECT_FALSE(vcek.last_refresh().empty());
    EXPECT_EQ(vcek.last_error(), "");
    EXPECT_EQ(by_kind["cert_chain"].state(), "valid");
    EXPECT_EQ(by_kind["cert_chain"].source(), kds.url());
    EXPECT_EQ(by_kind["crl"].state(), "absent");
    EXPECT_TRUE(by_kind["crl"].not_found());

    stub.reset();
    EXPECT_EQ(sidecar.Stop(), 0);
  }
  SidecarProcess restarted(args, "unix:" + dir + "/s.sock");
  ASSERT_TRUE(restarted.WaitReady()) << restarted.Log();
  auto stub = restarted.Stub();
  EXPECT_EQ(verify(*stub), "") << restarted.Log();
  EXPECT_EQ(kds.Stats(), one_each) << "a restart fetches nothing";
  stub.reset();
  EXPECT_EQ(restarted.Stop(), 0);
}

// Air-gapped: what `tee-collateral fetch --kds` wrote is what a sidecar whose only KDS source
// is unreachable serves (Oak's real Milan report, without certificates).
TEST(LiveCollateralTest, OfflineSidecarServesWhatTeeCollateralFetched) {
  const std::string dir = MakeTempDir();
  const std::string report = TestDataPath("sevsnp/reports/oak_milan_oc_release_report.bin");
  {
    PcsStandIn kds(PcsStandIn::KdsArgs());
    const std::string command =
        absl::StrCat(TEE_COLLATERAL_PATH, " fetch --kds ", kds.url(), " --snp-report ", report,
                     " --at 2025-10-01T08:00:00Z --out ", dir, "/offline > ", dir, "/fetch.json");
    ASSERT_EQ(std::system(command.c_str()), 0) << ReadFileBytes(dir + "/fetch.json").value_or("");
  }  // the stand-in is gone
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--replay-recorded-evidence",
                          "--collateral-cache-dir=" + dir + "/offline",
                          "--collateral-source=kds=http://127.0.0.1:1"},
                         "unix:" + dir + "/s.sock");
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  auto stub = sidecar.Stub();
  v1::VerifyRequest req;
  req.set_evidence(ReadTestData("sevsnp/reports/oak_milan_oc_release_report.bin"));
  req.set_verification_time_unix(kOakTime);
  grpc::ClientContext ctx;
  v1::VerifyResponse resp;
  ASSERT_TRUE(stub->Verify(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.verified()) << resp.error().message() << sidecar.Log();
  EXPECT_FALSE(absl::StrContains(sidecar.Log(), "collateral_fetch_failed")) << sidecar.Log();
  stub.reset();
  EXPECT_EQ(sidecar.Stop(), 0);
}

TEST(LiveCollateralTest, ConfigErrorsNameTheSetting) {
  const std::string dir = MakeTempDir();
  const std::string config = dir + "/config.json";
  std::ofstream(config) << R"({"collateral_sources": [{"kind": "pccs", "url": "http://x"},
                                                      {"kind": "pcs", "url": "ftp://y"}]})";
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--config=" + config},
                         "unix:" + dir + "/s.sock");
  EXPECT_EQ(sidecar.WaitExit(), 2);
  EXPECT_TRUE(absl::StrContains(sidecar.Stderr(), "collateral_sources[1].url: must be an http"))
      << sidecar.Stderr();

  // The early channel: a boolean, and pointless on a source that decides on it already.
  for (const auto& [setting, error] : std::vector<std::pair<std::string, std::string>>{
           {R"("early_tcb_info": "yes")", "collateral_sources[0].early_tcb_info: not true or false"},
           {R"("early_tcb_info": true, "update": "early")",
            "collateral_sources[0].early_tcb_info: the source already decides on the early channel"}}) {
    std::ofstream(config) << R"({"collateral_sources": [{"kind": "pcs", "url": "http://x", )"
                          << setting << "}]}";
    SidecarProcess refused({"--listen=unix:" + dir + "/s.sock", "--config=" + config},
                           "unix:" + dir + "/s.sock");
    EXPECT_EQ(refused.WaitExit(), 2);
    EXPECT_TRUE(absl::StrContains(refused.Stderr(), error)) << refused.Stderr();
  }

  std::ofstream(config, std::ios::trunc)
      << R"({"collateral_sources": [{"kind": "kds", "url": "http://x", "update": "early"}]})";
  SidecarProcess amd({"--listen=unix:" + dir + "/s.sock", "--config=" + config},
                     "unix:" + dir + "/s.sock");
  EXPECT_EQ(amd.WaitExit(), 2);
  EXPECT_TRUE(absl::StrContains(amd.Stderr(), "collateral_sources[0]: unknown setting update"))
      << amd.Stderr();
}

}  // namespace
}  // namespace teeverify::testing
