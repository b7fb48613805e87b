// The policy engine on Azure vTPM claims (the real az-snp-vtpm vector, recorded so unbound):
// PCR pins, VM configuration flags, the underlying SEV-SNP fields, and role validation.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/evidence.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"

namespace teeverify::policy {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::ReadTestData;

constexpr char kAt[] = "2025-10-01T08:00:00Z";
constexpr char kPcr4[] = "eee70c86ea856a27719a2127d6090f02e100e2947c16a0d6a355f7294382992f";
constexpr char kPcr7[] = "3b20e022416fdf61d72e4da32b4354781be3de0608116976d28ffdad8c341d2a";
constexpr char kPcr11[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kMeasurement[] =
    "6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9"
    "401e";

PolicyValidation Validate(const std::string& json) {
  absl::StatusOr<v1::Policy> p = PolicyFromJson(json);
  EXPECT_TRUE(p.ok()) << p.status();
  return ValidatePolicy(p.ok() ? *p : v1::Policy());
}

v1::Policy Valid(const std::string& json) {
  PolicyValidation v = Validate(json);
  EXPECT_TRUE(v.errors.empty()) << v.errors.front();
  return v.normalized;
}

VerifiedClaims RealSnpClaims() {
  const std::string evidence = ReadTestData("azure/az-snp-vtpm-evidence-v1.json");
  EvidenceVerifier verifier(BuiltInRoots());
  EvidenceRequest request;
  request.evidence = evidence;
  request.now = At(kAt);
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(request);
  EXPECT_TRUE(claims.ok()) << claims.status();
  return *std::move(claims);
}

std::string Role(absl::string_view azure, absl::string_view extra = "") {
  return absl::StrCat(R"({"tee_types":["az-snp-vtpm"],"allow_unbound_evidence":true,"azure":{)",
                      azure, "}", extra, "}");
}

TEST(PolicyEngineAzureTest, PinnedPcrsConfigurationAndReportFieldsAllow) {
  const v1::Policy p = Valid(Role(
      absl::StrCat(R"("pcr4":[")", kPcr4, R"("],"pcr7":[")", kPcr7, R"("],"pcr11":[")", kPcr11,
                   R"("],"secure_boot":true,"tpm_enabled":true)"),
      absl::StrCat(R"(,"sev_snp":{"measurement":[")", kMeasurement, R"("],"min_guest_svn":10})")));
  const Decision d = Evaluate(RealSnpClaims(), p, {}, At(kAt));
  EXPECT_TRUE(d.allow) << (d.mismatches.empty() ? "" : d.mismatches.front().field);
  EXPECT_EQ(d.metadata.at("tee"), "az-snp-vtpm");
  EXPECT_EQ(d.metadata.at("azure.pcr4"), kPcr4);
  EXPECT_EQ(d.metadata.at("sev_snp.measurement"), kMeasurement);
  EXPECT_TRUE(absl::StartsWith(d.workload_identity, "az-snp-vtpm:"));
}

TEST(PolicyEngineAzureTest, EveryUnmetConstraintIsReported) {
  const std::string wrong(64, '1');
  const v1::Policy p = Valid(Role(
      absl::StrCat(R"("pcr4":[")", wrong, R"("],"pcr7":[")", kPcr7,
                   R"("],"console_enabled":false,"tpm_persisted":true)"),
      R"(,"sev_snp":{"min_guest_svn":11})"));
  const Decision d = Evaluate(RealSnpClaims(), p, {}, At(kAt));
  EXPECT_FALSE(d.allow);
  std::vector<std::string> fields;
  for (const Mismatch& m : d.mismatches) fields.push_back(m.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"azure.pcr4", "sev_snp.guest_svn",
                                              "azure.vm_configuration.console-enabled",
                                              "azure.vm_configuration.tpm-persisted"}));
  EXPECT_EQ(d.mismatches[0].actual, kPcr4);
  EXPECT_EQ(d.mismatches[3].actual, "absent");
}

TEST(PolicyEngineAzureTest, TheNonceBindsTheQuotesExtraData) {
  const v1::Policy p = Valid(absl::StrCat(R"({"tee_types":["az-snp-vtpm"],"azure":{"pcr4":[")",
                                          kPcr4, R"("]}})"));
  const Decision d = Evaluate(RealSnpClaims(), p, {"challenge", ""}, At(kAt));
  EXPECT_FALSE(d.allow);  // "challenge" itself, not the binding of the nonce "challenge"
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "report_data");
}

TEST(PolicyEngineAzureTest, ValidationRequiresAnImageAnchorPcr) {
  PolicyValidation v = Validate(absl::StrCat(
      R"({"tee_types":["az-snp-vtpm"],"azure":{"pcr7":[")", kPcr7,
      R"("]},"sev_snp":{"measurement":[")", kMeasurement, R"("]}})"));
  ASSERT_EQ(v.errors.size(), 1u);
  EXPECT_TRUE(absl::StrContains(v.errors[0], "azure.pcr4, or azure.pcr8, or azure.pcr9, or azure.pcr11"))
      << v.errors[0];
}

TEST(PolicyEngineAzureTest, SectionsFollowTheAdmittedTees) {
  // sev_snp constrains az-snp-vtpm's report; tdx is not used by az-snp-vtpm.
  PolicyValidation v = Validate(absl::StrCat(
      R"({"tee_types":["az-snp-vtpm"],"azure":{"pcr4":[")", kPcr4,
      R"("]},"tdx":{"mrtd":[")", std::string(96, '0'), R"("]}})"));
  ASSERT_EQ(v.errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(v.errors[0], "tdx: constraints given")) << v.errors[0];
  v = Validate(absl::StrCat(R"({"tee_types":["sev-snp"],"sev_snp":{"measurement":[")",
                            kMeasurement, R"("]},"azure":{"pcr4":[")", kPcr4, R"("]}})"));
  ASSERT_EQ(v.errors.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(v.errors[0], "azure: constraints given")) << v.errors[0];
  v = Validate(absl::StrCat(R"({"tee_types":["az-snp-vtpm"],"azure":{"pcr4":["zz"]}})"));
  ASSERT_FALSE(v.errors.empty());
  EXPECT_TRUE(absl::StrContains(v.errors[0], "azure.pcr4")) << v.errors[0];
}

}  // namespace
}  // namespace teeverify::policy
