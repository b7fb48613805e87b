#include "verifier/policy/policy_validation.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace teeverify::policy {
namespace {

const std::string kMrtd(96, 'a');

v1::Policy FromJson(const std::string& json) {
  absl::StatusOr<v1::Policy> p = PolicyFromJson(json);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : v1::Policy();
}

std::string Errors(const PolicyValidation& v) { return absl::StrJoin(v.errors, "\n"); }

TEST(PolicyValidationTest, TheIssueExampleIsValid) {
  const v1::Policy p = FromJson(
      R"({"tee_types":["tdx"],"tdx":{"mrtd":[")" + kMrtd + R"("],"rtmr2":[")" + std::string(96, 'B') +
      R"("]},"allowed_tcb_statuses":["UpToDate"],"allow_debug":false})");
  const PolicyValidation v = ValidatePolicy(p);
  EXPECT_TRUE(v.errors.empty()) << Errors(v);
  EXPECT_EQ(v.normalized.tdx().rtmr2(0), std::string(96, 'b'));  // lowercased
  EXPECT_EQ(v.normalized.max_evidence_age_seconds(), kDefaultMaxEvidenceAgeSeconds);
}

TEST(PolicyValidationTest, DefaultsAreMadeExplicit) {
  const PolicyValidation v = ValidatePolicy(FromJson(R"({"tee_types":["TDX"],"tdx":{"mrtd":[")" + kMrtd + R"("]}})"));
  ASSERT_TRUE(v.errors.empty()) << Errors(v);
  ASSERT_EQ(v.normalized.allowed_tcb_statuses_size(), 1);
  EXPECT_EQ(v.normalized.allowed_tcb_statuses(0), "UpToDate");
  EXPECT_EQ(v.normalized.tee_types(0), "tdx");
  EXPECT_FALSE(v.normalized.allow_debug());
}

TEST(PolicyValidationTest, JsonRejectsUnknownFieldsAndRoundTrips) {
  EXPECT_FALSE(PolicyFromJson(R"({"tee_types":["tdx"],"tdx":{"mrtdd":[]}})").ok());
  EXPECT_FALSE(PolicyFromJson(R"({"tee_type":["tdx"]})").ok());
  EXPECT_FALSE(PolicyFromJson("not json").ok());
  const v1::Policy p = FromJson(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")" + kMrtd + R"("]}})");
  EXPECT_EQ(FromJson(PolicyToJson(p)).SerializeAsString(), p.SerializeAsString());
  EXPECT_TRUE(absl::StrContains(PolicyToJson(p), "\"tee_types\""));
}

struct BadPolicy {
  const char* name;
  const char* json;
  const char* error_part;
};

class BadPolicyTest : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(BadPolicyTest, IsRefusedNamingTheField) {
  const PolicyValidation v = ValidatePolicy(FromJson(GetParam().json));
  ASSERT_FALSE(v.errors.empty());
  EXPECT_TRUE(absl::StrContains(Errors(v), GetParam().error_part)) << Errors(v);
}

#define MRTD "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""

INSTANTIATE_TEST_SUITE_P(
    Cases, BadPolicyTest,
    ::testing::Values(
        BadPolicy{"no_tee_types", R"({})", "tee_types: required"},
        BadPolicy{"unknown_tee", R"({"tee_types":["sgx"]})",
                  "tee_types[0]: \"sgx\" is not one of: tdx, sev-snp, nitro"},
        BadPolicy{"duplicate_tee", R"({"tee_types":["tdx","tdx"],"tdx":{"mrtd":[)" MRTD R"(]}})",
                  "tee_types[1]: \"tdx\" is listed twice"},
        BadPolicy{"no_measurement", R"({"tee_types":["tdx"]})",
                  "tee_types admits \"tdx\" but the role constrains none of its measurements, so "
                  "any tdx workload would match: set at least one of tdx.mrtd, tdx.rtmr0"},
        BadPolicy{"only_mrseam", R"({"tee_types":["tdx"],"tdx":{"mrseam":[)" MRTD R"(]}})",
                  "constrains none of its measurements"},
        BadPolicy{"nitro_unbound", R"({"tee_types":["nitro"]})", "set at least one of nitro.pcr0"},
        BadPolicy{"snp_unbound", R"({"tee_types":["sev-snp"]})",
                  "set at least one of sev_snp.measurement"},
        BadPolicy{"one_tee_unbound", R"({"tee_types":["tdx","nitro"],"tdx":{"mrtd":[)" MRTD R"(]}})",
                  "tee_types admits \"nitro\""},
        BadPolicy{"bad_hex", R"({"tee_types":["tdx"],"tdx":{"mrtd":["zz"]}})",
                  "tdx.mrtd[0]: not hex at position 0"},
        BadPolicy{"short_value", R"({"tee_types":["tdx"],"tdx":{"mrtd":[)" MRTD R"(,"abcd"]}})",
                  "tdx.mrtd[1]: expected 48 bytes (96 hex digits), got 2"},
        BadPolicy{"odd_hex", R"({"tee_types":["tdx"],"tdx":{"rtmr3":["abc"]}})",
                  "tdx.rtmr3[0]: odd number of hex digits"},
        BadPolicy{"section_not_admitted",
                  R"({"tee_types":["tdx"],"tdx":{"mrtd":[)" MRTD R"(]},"nitro":{"pcr0":[]}})",
                  "nitro: constraints given, but \"nitro\" is not in tee_types"},
        BadPolicy{"unknown_status",
                  R"({"tee_types":["tdx"],"tdx":{"mrtd":[)" MRTD R"(]},"allowed_tcb_statuses":["Fine"]})",
                  "allowed_tcb_statuses[0]: \"Fine\" is not an Intel TCB status"},
        BadPolicy{"revoked_status",
                  R"({"tee_types":["tdx"],"tdx":{"mrtd":[)" MRTD R"(]},"allowed_tcb_statuses":["Revoked"]})",
                  "Revoked evidence never verifies"},
        BadPolicy{"negative_age",
                  R"({"tee_types":["tdx"],"tdx":{"mrtd":[)" MRTD R"(]},"max_evidence_age_seconds":-1})",
                  "max_evidence_age_seconds: must not be negative"}),
    [](const auto& info) { return std::string(info.param.name); });

#undef MRTD

TEST(PolicyValidationTest, EveryProblemIsReportedAtOnce) {
  const PolicyValidation v = ValidatePolicy(FromJson(
      R"({"tee_types":["tdx","sgx"],"tdx":{"mrtd":["00"],"rtmr0":["xyz"]},"allowed_tcb_statuses":["Nope"]})"));
  EXPECT_GE(v.errors.size(), 4u) << Errors(v);
}

TEST(PolicyValidationTest, NormalizedPolicyValidatesAgainUnchanged) {
  // The plugin stores the normalized form and the sidecar validates it again at every login.
  const PolicyValidation first =
      ValidatePolicy(FromJson(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")" + kMrtd + R"("]}})"));
  ASSERT_TRUE(first.errors.empty()) << Errors(first);
  EXPECT_FALSE(first.normalized.has_sev_snp());
  EXPECT_FALSE(first.normalized.has_nitro());
  const PolicyValidation second = ValidatePolicy(first.normalized);
  EXPECT_TRUE(second.errors.empty()) << Errors(second);
  EXPECT_EQ(second.normalized.SerializeAsString(), first.normalized.SerializeAsString());
}

TEST(PolicyValidationTest, DuplicateValuesCollapse) {
  const PolicyValidation v = ValidatePolicy(FromJson(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")" +
                                                     kMrtd + R"(",")" + std::string(96, 'A') + R"("]}})"));
  ASSERT_TRUE(v.errors.empty()) << Errors(v);
  EXPECT_EQ(v.normalized.tdx().mrtd_size(), 1);
}

}  // namespace
}  // namespace teeverify::policy
