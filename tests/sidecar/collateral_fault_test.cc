// tee-verifierd with faulty TDX collateral (docs/sidecar.md, --collateral-dir): a missing
// directory refuses startup naming it; an empty one serves and answers COLLATERAL_MISSING; a bad
// bundle is skipped without hiding the good ones; SIGHUP follows the directory and keeps the last
// good set when the directory vanishes; expired collateral is named and never allows.
#include <signal.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "verifier/common/hex.h"

namespace teeverify::testing {
namespace {

namespace fs = std::filesystem;

const std::string kNonce = "collateral-fault-test-nonce-0001";

// Another platform under the same test root, with FMSPC 00906ed500`last` and `options`.
std::unique_ptr<TdxTestTee> SiblingPlatform(const TestPlatform& base, uint8_t last,
                                            TdxTestOptions options = {}) {
  options.root_pem = base.tee->RootPem();
  options.fmspc = {0x00, 0x90, 0x6e, 0xd5, 0x00, last};
  return *TdxTestTee::Create(options);
}

std::string Fmspc(const TdxTestTee& tee) { return HexEncode(tee.options().fmspc); }

TEST(SidecarCollateralTest, MissingDirectoryRefusesToStartNamingIt) {
  TestPlatform platform;
  const std::string missing = MakeTempDir() + "/no-such-collateral";
  const std::string file = MakeTempDir() + "/collateral.json";
  WriteFile(file, "{}");
  for (const auto& [path, what] : {std::pair<std::string, std::string>{missing, "does not exist"},
                                   {file, "is not a directory"}}) {
    SCOPED_TRACE(path);
    std::unique_ptr<SidecarProcess> sidecar = StartPlatformSidecar(platform, path);
    EXPECT_EQ(sidecar->WaitExit(), 1);
    const std::string message =
        absl::StrCat("--collateral-dir: collateral directory ", path, " ", what);
    EXPECT_EQ(CountLines(sidecar->Log(), R"("event":"startup_failed")"), 1) << sidecar->Log();
    EXPECT_TRUE(absl::StrContains(sidecar->Log(), message)) << sidecar->Log();
    EXPECT_FALSE(absl::StrContains(sidecar->Log(), R"("event":"listening")"));
    // With --log-file the operator still sees why on stderr.
    EXPECT_TRUE(absl::StrContains(sidecar->Stderr(), "tee-verifierd: " + message))
        << sidecar->Stderr();
  }
}

TEST(SidecarCollateralTest, EmptyDirectoryServesCollateralMissingUntilSighupLoadsABundle) {
  TestPlatform platform;
  const std::string dir = MakeTempDir();
  std::unique_ptr<SidecarProcess> sidecar = StartPlatformSidecar(platform, dir);
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  EXPECT_EQ(CountLines(sidecar->Log(), R"("event":"collateral_empty")"), 1) << sidecar->Log();
  auto stub = sidecar->Stub();
  EXPECT_EQ(CallInfo(*stub).tdx_collateral_size(), 0);

  grpc::Status status;
  v1::EvaluateResponse resp =
      CallEvaluate(*stub, platform.Quote(kNonce), platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  EXPECT_EQ(resp.error().reason(), v1::REASON_COLLATERAL_MISSING);
  EXPECT_EQ(resp.error().message(),
            absl::StrCat("no TDX collateral for FMSPC 00906ed50000 in ", dir, " (it holds none)"));

  WriteBundle(dir + "/fetched-later", *platform.tee->MakeCollateral());
  sidecar->Signal(SIGHUP);
  ASSERT_TRUE(sidecar->WaitForLog(R"("event":"collateral_reloaded")")) << sidecar->Log();
  const v1::InfoResponse info = CallInfo(*stub);
  ASSERT_EQ(info.tdx_collateral_size(), 1);
  EXPECT_TRUE(absl::StartsWith(info.tdx_collateral(0), "00906ed50000 (fetched-later, "))
      << info.tdx_collateral(0);
  resp = CallEvaluate(*stub, platform.Quote(kNonce), platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_ALLOW) << resp.error().message();
}

// Decision: bundles are independent (one per platform), so a bundle that cannot be read is
// skipped and logged, and the others keep serving; nothing of the bad bundle is ever used, and
// its platform is told which bundles were skipped.
TEST(SidecarCollateralTest, BadBundlesAreSkippedWithoutHidingTheGoodOnes) {
  TestPlatform platform;  // bundle "test-platform", FMSPC 00906ed50000
  const std::string dir = platform.collateral_dir;
  // FMSPC 00906ed50001: TCB info that is not JSON.
  std::unique_ptr<TdxTestTee> unreadable = SiblingPlatform(platform, 0x01);
  tdx::TdxCollateral broken = *unreadable->MakeCollateral();
  broken.tcb_info_response = "{\"tcbInfo\": ";
  WriteBundle(dir + "/broken-json", broken);
  // A copy of the good bundle without its PCK CRL.
  WriteBundle(dir + "/incomplete", *platform.tee->MakeCollateral());
  fs::remove(dir + "/incomplete/pck_crl.der");
  // FMSPC 00906ed50002: TCB info edited after signing; it loads, and fails when used.
  std::unique_ptr<TdxTestTee> tampered = SiblingPlatform(platform, 0x02);
  tdx::TdxCollateral edited = *tampered->MakeCollateral();
  const std::string before = edited.tcb_info_response;
  edited.tcb_info_response = absl::StrReplaceAll(
      before, {{R"("tcbEvaluationDataNumber":18)", R"("tcbEvaluationDataNumber":19)"}});
  ASSERT_NE(edited.tcb_info_response, before);
  WriteBundle(dir + "/tampered", edited);

  std::unique_ptr<SidecarProcess> sidecar = StartPlatformSidecar(platform, dir);
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  const std::string log = sidecar->Log();
  EXPECT_EQ(CountLines(log, R"("event":"collateral_skipped")"), 2) << log;
  EXPECT_EQ(CountLines(log, R"("bundle":"broken-json: tcb_info_response.json)"), 1) << log;
  EXPECT_EQ(CountLines(log, R"("bundle":"incomplete: tdx collateral: pck_crl.der is missing in )"), 1)
      << log;
  auto stub = sidecar->Stub();
  const v1::InfoResponse info = CallInfo(*stub);
  ASSERT_EQ(info.tdx_collateral_size(), 2);
  EXPECT_TRUE(absl::StartsWith(info.tdx_collateral(0), "00906ed50000 (test-platform, "));
  EXPECT_TRUE(absl::StartsWith(info.tdx_collateral(1), "00906ed50002 (tampered, "));

  grpc::Status status;
  v1::EvaluateResponse resp =
      CallEvaluate(*stub, platform.Quote(kNonce), platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_ALLOW) << resp.error().message();

  const std::string mrtd = HexEncode(unreadable->DefaultReport().mr_td);
  resp = CallEvaluate(*stub, BoundQuote(*unreadable, kNonce), platform.Role(mrtd), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  EXPECT_EQ(resp.error().reason(), v1::REASON_COLLATERAL_MISSING);
  EXPECT_TRUE(absl::StartsWith(
      resp.error().message(),
      absl::StrCat("no TDX collateral for FMSPC 00906ed50001 in ", dir,
                   " (it holds: 00906ed50000, 00906ed50002); bundles skipped as unreadable: ")))
      << resp.error().message();
  EXPECT_TRUE(absl::StrContains(resp.error().message(), "broken-json: "));
  EXPECT_TRUE(absl::StrContains(resp.error().message(), "incomplete: "));

  resp = CallEvaluate(*stub, BoundQuote(*tampered, kNonce),
                      platform.Role(HexEncode(tampered->DefaultReport().mr_td)), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  EXPECT_EQ(resp.error().reason(), v1::REASON_BAD_SIGNATURE) << resp.error().message();
  EXPECT_TRUE(absl::StartsWith(
      resp.error().message(),
      absl::StrCat("TDX collateral for FMSPC 00906ed50002 (bundle tampered in ", dir,
                   "): tcb_info_response.json: tcbInfo signature")))
      << resp.error().message();
  EXPECT_TRUE(resp.claims_json().empty());
}

// SIGHUP makes the directory the truth again; only a directory that cannot be read at all keeps
// the bundles loaded before (they still verify against their own windows on every use).
TEST(SidecarCollateralTest, SighupFollowsTheDirectoryAndKeepsTheLastSetWhenItVanishes) {
  TestPlatform platform;
  const std::string dir = platform.collateral_dir;
  std::unique_ptr<SidecarProcess> sidecar = StartPlatformSidecar(platform, dir);
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  auto stub = sidecar->Stub();
  auto evaluate = [&]() {
    grpc::Status status;
    v1::EvaluateResponse resp = CallEvaluate(*stub, platform.Quote(kNonce),
                                             platform.Role(platform.mrtd_hex), kNonce, &status);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp;
  };
  ASSERT_EQ(evaluate().decision(), v1::DECISION_ALLOW);

  // The bundle is damaged: it is skipped, and the platform has no collateral any more.
  WriteFile(dir + "/test-platform/tcb_info_response.json", "damaged");
  sidecar->Signal(SIGHUP);
  ASSERT_TRUE(sidecar->WaitForLog(R"("event":"collateral_reloaded")", 1)) << sidecar->Log();
  EXPECT_EQ(CountLines(sidecar->Log(), R"("bundle":"test-platform: tcb_info_response.json)"), 1)
      << sidecar->Log();
  EXPECT_EQ(CountLines(sidecar->Log(), R"("event":"collateral_empty")"), 1) << sidecar->Log();
  v1::EvaluateResponse resp = evaluate();
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  EXPECT_EQ(resp.error().reason(), v1::REASON_COLLATERAL_MISSING);
  EXPECT_TRUE(absl::StrContains(resp.error().message(), "skipped as unreadable: test-platform: "))
      << resp.error().message();

  // Repaired.
  WriteBundle(dir + "/test-platform", *platform.tee->MakeCollateral());
  sidecar->Signal(SIGHUP);
  ASSERT_TRUE(sidecar->WaitForLog(R"("event":"collateral_reloaded")", 2)) << sidecar->Log();
  EXPECT_EQ(evaluate().decision(), v1::DECISION_ALLOW);

  // The directory vanishes (say, mid-deployment): the reload fails loudly, the set is kept.
  fs::rename(dir, dir + ".moved");
  sidecar->Signal(SIGHUP);
  ASSERT_TRUE(sidecar->WaitForLog(R"("event":"collateral_reload_failed")")) << sidecar->Log();
  EXPECT_EQ(CountLines(sidecar->Log(), absl::StrCat("collateral directory ", dir, " does not exist")),
            1);
  EXPECT_EQ(CountLines(sidecar->Log(), R"("kept_bundles":["00906ed50000 (test-platform, )"), 1)
      << sidecar->Log();
  EXPECT_EQ(CallInfo(*stub).tdx_collateral_size(), 1);
  EXPECT_EQ(evaluate().decision(), v1::DECISION_ALLOW);
  fs::rename(dir + ".moved", dir);
}

// One bundle per expired item, each for its own FMSPC under the same test root.
TEST(SidecarCollateralTest, ExpiredCollateralIsNamedAndNeverAllows) {
  TestPlatform platform;
  const std::string dir = platform.collateral_dir;
  const ValidityWindow past{absl::FromUnixSeconds(1672531200),   // 2023-01-01
                            absl::FromUnixSeconds(1704067200)};  // 2024-01-01
  struct Case {
    std::string name;
    ValidityWindow TdxTestOptions::*window;
    std::string names;  // what the error must say
  };
  const std::vector<Case> cases = {
      {"tcb-info", &TdxTestOptions::tcb_info,
       "tcb_info_response.json (issueDate..nextUpdate) expired at 2024-01-01T00:00:00Z"},
      {"qe-identity", &TdxTestOptions::qe_identity,
       "qe_identity_response.json (issueDate..nextUpdate) expired at 2024-01-01T00:00:00Z"},
      {"pck-crl", &TdxTestOptions::pck_crl, "pck_crl.der expired at 2024-01-01T00:00:00Z"},
      {"root-ca-crl", &TdxTestOptions::root_ca_crl,
       "root_ca_crl.der expired at 2024-01-01T00:00:00Z"},
  };
  std::vector<std::unique_ptr<TdxTestTee>> tees;
  for (size_t i = 0; i < cases.size(); ++i) {
    TdxTestOptions options;
    options.*(cases[i].window) = past;
    tees.push_back(SiblingPlatform(platform, static_cast<uint8_t>(0x10 + i), options));
    WriteBundle(dir + "/expired-" + cases[i].name, *tees.back()->MakeCollateral());
  }
  std::unique_ptr<SidecarProcess> sidecar = StartPlatformSidecar(platform, dir);
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  auto stub = sidecar->Stub();
  EXPECT_EQ(CallInfo(*stub).tdx_collateral_size(), 5);

  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const TdxTestTee& tee = *tees[i];
    const std::string context = absl::StrCat("TDX collateral for FMSPC ", Fmspc(tee), " (bundle expired-",
                                             cases[i].name, " in ", dir, "): ");
    grpc::Status status;
    v1::EvaluateResponse resp = CallEvaluate(*stub, BoundQuote(tee, kNonce),
                                             platform.Role(HexEncode(tee.DefaultReport().mr_td)),
                                             kNonce, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
    EXPECT_EQ(resp.error().reason(), v1::REASON_EXPIRED);
    EXPECT_TRUE(absl::StartsWith(resp.error().message(), context)) << resp.error().message();
    EXPECT_TRUE(absl::StrContains(resp.error().message(), cases[i].names)) << resp.error().message();
    EXPECT_TRUE(resp.claims_json().empty());
    EXPECT_EQ(resp.valid_until_unix(), 0);

    v1::VerifyRequest req;
    req.set_evidence(BoundQuote(tee, kNonce));
    grpc::ClientContext ctx;
    v1::VerifyResponse verified;
    ASSERT_TRUE(stub->Verify(&ctx, req, &verified).ok());
    EXPECT_FALSE(verified.verified());
    EXPECT_EQ(verified.error().reason(), v1::REASON_EXPIRED);
    EXPECT_TRUE(absl::StrContains(verified.error().message(), cases[i].names));
  }
  // The fresh bundle beside them still serves its platform.
  grpc::Status status;
  v1::EvaluateResponse resp =
      CallEvaluate(*stub, platform.Quote(kNonce), platform.Role(platform.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_ALLOW) << resp.error().message();
  EXPECT_EQ(CountLines(sidecar->Log(), R"("reason":"EXPIRED")"), 8) << sidecar->Log();
}

}  // namespace
}  // namespace teeverify::testing
