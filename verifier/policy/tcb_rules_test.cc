// TCB recovery end to end on the test TDX platform: TCB info for evaluation numbers 18 (the
// platform is UpToDate) and 19 (a recovery on kRecovery makes it OutOfDate), signed by the test
// TCB signing key; the claims, the early warning, and the role's grace, minimum evaluation
// number, collateral age and rejected advisories at injected times.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/claims/claims.h"
#include "verifier/common/hex.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_fixture.h"

namespace teeverify::policy {
namespace {

using ::teeverify::testing::At;

const absl::Time kRecovery = At("2025-06-01T00:00:00Z");
constexpr absl::Duration kDay = absl::Hours(24);
constexpr int64_t k30Days = 30 * 24 * 3600;

// collateral_ (the fixture's) is the standard TCB info, evaluation number 18.
class TcbRecoveryTest : public ::teeverify::testing::TdxTestTeeTest {
 protected:
  void SetUp() override {
    TdxTestTeeTest::SetUp();
    if (HasFatalFailure()) return;
    recovered_ = collateral_;
    recovered_.tcb_info_response = *tee_->SignTcbInfo(tee_->RecoveredTcbInfoBody(kRecovery));
    quote_ = *tee_->MakeQuote(tee_->DefaultReport());
  }

  Claims Verify(const tdx::TdxCollateral& collateral, absl::Time now) {
    absl::StatusOr<VerifiedClaims> claims = verifier_->Verify(quote_, collateral, now);
    EXPECT_TRUE(claims.ok()) << claims.status();
    return claims.ok() ? claims->claims() : Claims{};
  }

  Decision Login(const tdx::TdxCollateral& collateral, absl::Time now, const std::string& extra) {
    absl::StatusOr<v1::Policy> p = PolicyFromJson(absl::StrCat(
        R"({"tee_types":["tdx"],"allow_unbound_evidence":true,"tdx":{"mrtd":[")", mrtd_,
        R"("],"rtmr1":[")", HexEncode(tee_->DefaultReport().rtmr[1]), R"("],"rtmr2":[")",
        HexEncode(tee_->DefaultReport().rtmr[2]), R"("]})", extra, "}"));
    EXPECT_TRUE(p.ok()) << p.status();
    PolicyValidation v = ValidatePolicy(*p);
    EXPECT_TRUE(v.errors.empty()) << v.errors.front();
    absl::StatusOr<VerifiedClaims> claims = verifier_->Verify(quote_, collateral, now);
    EXPECT_TRUE(claims.ok()) << claims.status();
    return Evaluate(*claims, v.normalized, {}, now);
  }

  tdx::TdxCollateral recovered_;
  std::string quote_;
};

TEST_F(TcbRecoveryTest, ClaimsBeforeAndAfterTheRecovery) {
  const Claims before = Verify(collateral_, kRecovery + kDay);
  EXPECT_EQ(before.tcb_status, "UpToDate");
  EXPECT_EQ(before.tdx->tcb->tcb_evaluation_data_number, 18u);
  EXPECT_TRUE(before.tdx->tcb->shortfall.empty());

  const Claims after = Verify(recovered_, kRecovery + kDay);
  EXPECT_EQ(after.tcb_status, "OutOfDate");
  EXPECT_EQ(after.tdx->tcb->tcb_evaluation_data_number, 19u);
  EXPECT_EQ(after.advisory_ids, std::vector<std::string>({"INTEL-SA-TEST-RECOVERY"}));
  ASSERT_EQ(after.tdx->tcb->shortfall.size(), 1u);
  const auto& s = after.tdx->tcb->shortfall[0];
  EXPECT_EQ(s.svn.component, "tee_tcb_svn[2]");
  EXPECT_EQ(s.svn.have, 3u);
  EXPECT_EQ(s.svn.need, 4u);
  EXPECT_EQ(s.level_status, tdx::TcbStatus::kUpToDate);
  EXPECT_EQ(s.level_tcb_date, kRecovery);
  EXPECT_EQ(after.tdx->tcb->out_of_date_since, kRecovery);

  const nlohmann::ordered_json j = ClaimsToJson(after, true)["tdx"];
  EXPECT_EQ(j["tcb_shortfall"][0]["component"], "tee_tcb_svn[2]");
  EXPECT_EQ(j["tcb_shortfall"][0]["have"], 3);
  EXPECT_EQ(j["tcb_shortfall"][0]["need"], 4);
  EXPECT_EQ(j["tcb_shortfall"][0]["level_status"], "UpToDate");
  EXPECT_EQ(j["tcb_shortfall"][0]["level_tcb_date"], "2025-06-01T00:00:00Z");
  EXPECT_EQ(j["tcb_out_of_date_since"], "2025-06-01T00:00:00Z");
}

TEST_F(TcbRecoveryTest, EarlyWarningWhileTheStandardChannelSaysUpToDate) {
  tdx::TdxCollateral c = collateral_;
  c.tcb_info_early_response = recovered_.tcb_info_response;
  const Claims claims = Verify(c, kRecovery - 10 * kDay);
  EXPECT_EQ(claims.tcb_status, "UpToDate");
  ASSERT_TRUE(claims.tdx->tcb->early.has_value());
  EXPECT_EQ(claims.tdx->tcb->early->tcb_status, "OutOfDate");
  EXPECT_EQ(claims.tdx->tcb->early->tcb_evaluation_data_number, 19u);
  ASSERT_EQ(claims.tdx->tcb->early->shortfall.size(), 1u);
  EXPECT_EQ(claims.tdx->tcb->early->shortfall[0].svn.component, "tee_tcb_svn[2]");
  const nlohmann::ordered_json j = ClaimsToJson(claims, true)["tdx"];
  EXPECT_EQ(j["tcb_status_early"], "OutOfDate");
  EXPECT_EQ(j["tcb_evaluation_data_number_early"], 19);

  // The login is allowed (standard says UpToDate) and the token shows what is coming.
  const Decision d = Login(c, kRecovery - 10 * kDay, "");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.metadata.at("tcb_status_early"), "OutOfDate");

  // A forged early TCB info is refused with the rest, naming it.
  c.tcb_info_early_response[c.tcb_info_early_response.size() - 4] ^= 1;
  EXPECT_FALSE(verifier_->Verify(quote_, c, kRecovery).ok());
}

TEST_F(TcbRecoveryTest, GraceAdmitsInsideTheWindowAndRefusesAfter) {
  const std::string grace = absl::StrCat(R"(,"tcb_grace_period":)", k30Days);
  Decision d = Login(recovered_, kRecovery + kDay, grace);
  EXPECT_TRUE(d.allow) << MismatchesToJson(d.mismatches).dump();
  EXPECT_EQ(d.metadata.at("tcb_grace_deadline"), "2025-07-01T00:00:00Z");
  EXPECT_EQ(d.metadata.at("tcb_out_of_date_since"), "2025-06-01T00:00:00Z");
  EXPECT_EQ(d.metadata.at("tcb_status"), "OutOfDate");

  d = Login(recovered_, kRecovery + k30Days * absl::Seconds(1) - absl::Seconds(1), grace);
  EXPECT_TRUE(d.allow);
  d = Login(recovered_, kRecovery + 31 * kDay, grace);
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tcb_grace_period");
  EXPECT_EQ(d.mismatches[0].expected,
            std::vector<std::string>(
                {"before 2025-07-01T00:00:00Z (OutOfDate since 2025-06-01T00:00:00Z)"}));
  EXPECT_EQ(d.mismatches[0].actual, "2025-07-02T00:00:00Z");
  EXPECT_EQ(d.metadata.count("tcb_grace_deadline"), 0u);

  // Without grace the same login the day after is refused on its status.
  d = Login(recovered_, kRecovery + kDay, "");
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.mismatches[0].field, "tcb_status");
}

TEST_F(TcbRecoveryTest, RejectedAdvisoryIsRefusedEvenWithinGrace) {
  const Decision d = Login(recovered_, kRecovery + kDay,
                           absl::StrCat(R"(,"tcb_grace_period":)", k30Days,
                                        R"(,"rejected_advisory_ids":["intel-sa-test-recovery"])"));
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "advisory_ids");
  EXPECT_EQ(d.mismatches[0].actual, "INTEL-SA-TEST-RECOVERY");
}

TEST_F(TcbRecoveryTest, MinimumEvaluationNumberAndCollateralAge) {
  // The standard (18) TCB info is refused by a role that wants 19; the QE identity is still 18.
  Decision d = Login(collateral_, kRecovery, R"(,"min_tcb_evaluation_data_number":19)");
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 2u);
  EXPECT_EQ(d.mismatches[0].field, "tdx.tcb_evaluation_data_number");
  EXPECT_EQ(d.mismatches[0].expected, std::vector<std::string>({">= 19"}));
  EXPECT_EQ(d.mismatches[0].actual, "18");
  EXPECT_EQ(d.mismatches[1].field, "tdx.qe_identity_tcb_evaluation_data_number");
  EXPECT_TRUE(Login(collateral_, kRecovery, R"(,"min_tcb_evaluation_data_number":18)").allow);

  // Test collateral is issued 2024-01-01: 30 days later it is fresh enough, 31 days not.
  const std::string age = absl::StrCat(R"(,"max_collateral_age":)", k30Days);
  EXPECT_TRUE(Login(collateral_, At("2024-01-31T00:00:00Z"), age).allow);
  d = Login(collateral_, At("2024-02-01T00:00:00Z"), age);
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 3u);
  EXPECT_EQ(d.mismatches[0].field, "tdx.collateral_dates.tcb_info_issue_date");
  EXPECT_EQ(d.mismatches[0].expected, std::vector<std::string>({"at or after 2024-01-02T00:00:00Z"}));
  EXPECT_EQ(d.mismatches[0].actual, "2024-01-01T00:00:00Z");
  EXPECT_EQ(d.mismatches[1].field, "tdx.collateral_dates.qe_identity_issue_date");
  EXPECT_EQ(d.mismatches[2].field, "tdx.collateral_dates.pck_crl_this_update");
}

TEST(TcbRecoveryValidationTest, FieldsAreCheckedWhenTheRoleIsWritten) {
  auto errors = [](const std::string& json) {
    absl::StatusOr<v1::Policy> p = PolicyFromJson(json);
    EXPECT_TRUE(p.ok()) << p.status();
    return ValidatePolicy(*p).errors;
  };
  const std::string mrtd(96, 'a');
  const std::string base =
      absl::StrCat(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")", mrtd, R"("],"rtmr1":[")", mrtd,
                   R"("],"rtmr2":[")", mrtd, R"("]})");
  EXPECT_TRUE(errors(base + R"(,"tcb_grace_period":86400,"max_collateral_age":86400})").empty());
  EXPECT_EQ(errors(base + R"(,"tcb_grace_period":-1})"),
            std::vector<std::string>({"tcb_grace_period: must not be negative"}));
  EXPECT_EQ(errors(base + R"(,"max_collateral_age":-5})"),
            std::vector<std::string>({"max_collateral_age: must not be negative"}));
  EXPECT_EQ(errors(base + R"(,"rejected_advisory_ids":["INTEL-SA-1 ,x"]})"),
            std::vector<std::string>({"rejected_advisory_ids[0]: \"INTEL-SA-1 ,x\" is not an "
                                      "advisory ID such as INTEL-SA-00837"}));
  const std::vector<std::string> e = errors(
      R"({"tee_types":["nitro"],"nitro":{"pcr0":[")" + std::string(96, 'b') +
      R"("]},"min_tcb_evaluation_data_number":17})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("apply to TDX only"), std::string::npos);

  absl::StatusOr<v1::Policy> p =
      PolicyFromJson(base + R"(,"rejected_advisory_ids":["intel-sa-00837","INTEL-SA-00837"]})");
  ASSERT_TRUE(p.ok());
  const PolicyValidation v = ValidatePolicy(*p);
  ASSERT_TRUE(v.errors.empty());
  EXPECT_EQ(v.normalized.rejected_advisory_ids().size(), 1);
  EXPECT_EQ(v.normalized.rejected_advisory_ids(0), "INTEL-SA-00837");
}

}  // namespace
}  // namespace teeverify::policy
