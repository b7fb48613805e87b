// What a role's decision covers beyond one login: the workload identity (entity alias) it yields,
// and unbound evidence, which only a replay-mode sidecar honours.
#include <chrono>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/sidecar/test_platform.h"
#include "tests/test_util.h"

namespace teeverify::testing {
namespace {

const std::string kNonce(32, '\x5a');

// A quote binding kNonce whose RTMR3 (run-time extended, e.g. the application) ends in `last`.
std::string QuoteWithRtmr3(const TestPlatform& platform, uint8_t last) {
  tdx::TdReport report = platform.tee->DefaultReport();
  const std::string bound = *policy::ExpectedReportData(kNonce, "");
  std::copy(bound.begin(), bound.end(), report.report_data.begin());
  report.rtmr[3][47] = last;
  return *platform.tee->MakeQuote(report);
}

v1::EvaluateRequest Login(const std::string& evidence, const v1::Policy& policy,
                          const std::string& role) {
  v1::EvaluateRequest req;
  req.mutable_evidence()->set_evidence(evidence);
  req.set_nonce(kNonce);
  *req.mutable_policy() = policy;
  req.set_role(role);
  return req;
}

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

class RoleScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sidecar_ = StartPlatformSidecar(platform_);
    ASSERT_TRUE(sidecar_->WaitReady()) << sidecar_->Log();
    stub_ = sidecar_->Stub();
  }

  v1::EvaluateResponse Evaluate(const v1::EvaluateRequest& req, grpc::Status* status) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::EvaluateResponse resp;
    *status = stub_->Evaluate(&ctx, req, &resp);
    return resp;
  }

  std::string IdentityOf(const std::string& evidence, const v1::Policy& policy,
                         const std::string& role) {
    grpc::Status status;
    v1::EvaluateResponse resp = Evaluate(Login(evidence, policy, role), &status);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.decision(), v1::DECISION_ALLOW);
    return resp.workload_identity();
  }

  TestPlatform platform_;
  std::unique_ptr<SidecarProcess> sidecar_;
  std::unique_ptr<v1::Verifier::Stub> stub_;
};

TEST_F(RoleScopeTest, IdentitySeparatesWhatTheRoleSeparatesAndNeverMergesRoles) {
  const std::string app_a = QuoteWithRtmr3(platform_, 0xa1), app_b = QuoteWithRtmr3(platform_, 0xb2);
  v1::Policy by_rtmr3 = platform_.Role(platform_.mrtd_hex);
  tdx::TdReport r = platform_.tee->DefaultReport();
  r.rtmr[3][47] = 0xa1;
  by_rtmr3.mutable_tdx()->add_rtmr3(HexEncode(r.rtmr[3]));
  r.rtmr[3][47] = 0xb2;
  by_rtmr3.mutable_tdx()->add_rtmr3(HexEncode(r.rtmr[3]));

  // A role that tells the two apps apart gives them different identities.
  const std::string a = IdentityOf(app_a, by_rtmr3, "app-a");
  EXPECT_TRUE(absl::StartsWith(a, "tdx:")) << a;
  EXPECT_NE(a, IdentityOf(app_b, by_rtmr3, "app-a"));
  // The same workload in another role is another identity.
  EXPECT_NE(a, IdentityOf(app_a, by_rtmr3, "app-b"));
  // Stable: the same login again is the same identity.
  EXPECT_EQ(a, IdentityOf(app_a, by_rtmr3, "app-a"));
  // A role that does not look at RTMR3 admits both as one workload (its admin said they are one).
  const v1::Policy mrtd_only = platform_.Role(platform_.mrtd_hex);
  EXPECT_EQ(IdentityOf(app_a, mrtd_only, "any"), IdentityOf(app_b, mrtd_only, "any"));
}

TEST_F(RoleScopeTest, UnboundEvidenceIsRefusedOutsideReplayMode) {
  v1::Policy unbound = platform_.Role(platform_.mrtd_hex);
  unbound.set_allow_unbound_evidence(true);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    v1::ValidatePolicyRequest req;
    *req.mutable_policy() = unbound;
    v1::ValidatePolicyResponse resp;
    ASSERT_TRUE(stub_->ValidatePolicy(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.errors_size(), 1);
    EXPECT_TRUE(absl::StartsWith(resp.errors(0), "allow_unbound_evidence: honoured only by a sidecar "
                                                 "started with --replay-recorded-evidence"))
        << resp.errors(0);
  }
  // A role stored while a replay-mode sidecar answered is still refused at login: one captured
  // quote, no nonce, no token.
  v1::EvaluateRequest req = Login(platform_.Quote(kNonce), unbound, "captured");
  req.clear_nonce();
  grpc::Status status;
  v1::EvaluateResponse resp = Evaluate(req, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "allow_unbound_evidence"));
  EXPECT_NE(resp.decision(), v1::DECISION_ALLOW);
}

}  // namespace
}  // namespace teeverify::testing
