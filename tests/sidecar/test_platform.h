// TEST-ONLY: a test TDX platform laid out as tee-verifierd reads it (a test-roots directory and a
// collateral directory of bundles), and small helpers shared by the sidecar tests.
#ifndef TEE_TESTS_SIDECAR_TEST_PLATFORM_H_
#define TEE_TESTS_SIDECAR_TEST_PLATFORM_H_

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "teeverify/v1/verifier.grpc.pb.h"
#include "tests/sidecar/sidecar_process.h"
#include "verifier/common/hex.h"
#include "verifier/policy/nonce_binding.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/collateral.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify::testing {

inline void WriteFile(const std::string& path, absl::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), data.size());
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

// Writes the seven collateral files of `c` into `dir` (created), in the names of
// tee-verify --collateral.
inline void WriteBundle(const std::string& dir, const tdx::TdxCollateral& c) {
  std::filesystem::create_directories(dir);
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    WriteFile(dir + "/" + std::string(item.file), c.*item.bytes);
  }
}

// A quote of `tee` whose REPORT_DATA binds `nonce` (and `client_public_key`, when given).
inline std::string BoundQuote(const TdxTestTee& tee, absl::string_view nonce,
                              absl::string_view client_public_key = "") {
  tdx::TdReport report = tee.DefaultReport();
  const std::string bound = *policy::ExpectedReportData(nonce, client_public_key);
  std::copy(bound.begin(), bound.end(), report.report_data.begin());
  return *tee.MakeQuote(report);
}

// A test platform: its root in a test-roots directory and its collateral as the bundle
// `test-platform` of a collateral directory (FMSPC 00906ed50000 unless `options` say otherwise).
struct TestPlatform {
  std::unique_ptr<TdxTestTee> tee;
  std::string roots_dir;
  std::string collateral_dir;
  std::string mrtd_hex;

  explicit TestPlatform(const TdxTestOptions& options = {}) {
    tee = *TdxTestTee::Create(options);
    roots_dir = MakeTempDir();
    WriteFile(roots_dir + "/" + std::string(RootFileName(RootId::kIntelSgxRootCa)), tee->RootPem());
    collateral_dir = MakeTempDir();
    WriteBundle(collateral_dir + "/test-platform", *tee->MakeCollateral());
    mrtd_hex = HexEncode(tee->DefaultReport().mr_td);
  }

  // A quote whose REPORT_DATA binds `nonce`.
  std::string Quote(absl::string_view nonce) const { return BoundQuote(*tee, nonce); }

  // Pins `mrtd` and the platform's RTMR1 and RTMR2 (the TDX image anchor).
  v1::Policy Role(const std::string& mrtd) const {
    v1::Policy p;
    p.add_tee_types("tdx");
    p.mutable_tdx()->add_mrtd(mrtd);
    p.mutable_tdx()->add_rtmr1(HexEncode(tee->DefaultReport().rtmr[1]));
    p.mutable_tdx()->add_rtmr2(HexEncode(tee->DefaultReport().rtmr[2]));
    return p;
  }
};

// A sidecar on a fresh unix socket with `platform`'s test roots and `collateral_dir` (the
// platform's own when empty), plus `extra` flags.
inline std::unique_ptr<SidecarProcess> StartPlatformSidecar(const TestPlatform& platform,
                                                            std::string collateral_dir = "",
                                                            std::vector<std::string> extra = {}) {
  const std::string socket = MakeTempDir() + "/s.sock";
  std::vector<std::string> args = {
      "--listen=unix:" + socket, "--test-roots=" + platform.roots_dir,
      "--collateral-dir=" + (collateral_dir.empty() ? platform.collateral_dir : collateral_dir)};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<SidecarProcess>(args, "unix:" + socket);
}

// One Evaluate call with a 10 s deadline.
inline v1::EvaluateResponse CallEvaluate(v1::Verifier::Stub& stub, const std::string& evidence,
                                         const v1::Policy& policy, const std::string& nonce,
                                         grpc::Status* status,
                                         const std::string& client_public_key = "") {
  v1::EvaluateRequest req;
  req.mutable_evidence()->set_evidence(evidence);
  req.set_nonce(nonce);
  req.set_client_public_key(client_public_key);
  *req.mutable_policy() = policy;
  req.set_role("test-role");
  v1::EvaluateResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  *status = stub.Evaluate(&ctx, req, &resp);
  return resp;
}

// Info over `stub`; fails the test when the call fails.
inline v1::InfoResponse CallInfo(v1::Verifier::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::InfoResponse info;
  const grpc::Status status = stub.Info(&ctx, v1::InfoRequest(), &info);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return info;
}

}  // namespace teeverify::testing

#endif  // TEE_TESTS_SIDECAR_TEST_PLATFORM_H_
