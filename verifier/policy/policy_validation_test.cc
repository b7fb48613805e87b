#include "verifier/policy/policy_validation.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace teeverify::policy {
namespace {

const std::string kMrtd(96, 'a');
// MRTD, RTMR1 and RTMR2: the TDX image anchor, without which a role is refused.
const std::string kTdxAnchor = R"("mrtd":[")" + kMrtd + R"("],"rtmr1":[")" + std::string(96, 'c') +
                               R"("],"rtmr2":[")" + std::string(96, 'd') + R"("])";

v1::Policy FromJson(const std::string& json) {
  absl::StatusOr<v1::Policy> p = PolicyFromJson(json);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : v1::Policy();
}

std::string Errors(const PolicyValidation& v) { return absl::StrJoin(v.errors, "\n"); }

TEST(PolicyValidationTest, TheIssueExampleIsValid) {
  const v1::Policy p = FromJson(
      R"({"tee_types":["tdx"],"tdx":{"mrtd":[")" + kMrtd + R"("],"rtmr1":[")" + std::string(96, 'c') +
      R"("],"rtmr2":[")" + std::string(96, 'B') +
      R"("]},"allowed_tcb_statuses":["UpToDate"],"allow_debug":false})");
  const PolicyValidation v = ValidatePolicy(p);
  EXPECT_TRUE(v.errors.empty()) << Errors(v);
  EXPECT_EQ(v.normalized.tdx().rtmr2(0), std::string(96, 'b'));  // lowercased
  EXPECT_EQ(v.normalized.max_evidence_age_seconds(), kDefaultMaxEvidenceAgeSeconds);
}

TEST(PolicyValidationTest, DefaultsAreMadeExplicit) {
  const PolicyValidation v = ValidatePolicy(FromJson(R"({"tee_types":["TDX"],"tdx":{)" + kTdxAnchor + "}}"));
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
  const v1::Policy p = FromJson(R"({"tee_types":["tdx"],"tdx":{)" + kTdxAnchor + "}}");
  EXPECT_EQ(FromJson(PolicyToJson(p)).SerializeAsString(), p.SerializeAsString());
  EXPECT_TRUE(absl::StrContains(PolicyToJson(p), "\"tee_types\""));
}

// `tee-verify --policy FILE` is bounded like a role file: deep nesting is refused by a linear scan
// before protobuf's recursive parser sees it, and so is a file over the size bound.
TEST(PolicyValidationTest, JsonDeepNestingAndOversizeAreRefusedUnparsed) {
  const std::string deep = absl::StrCat(R"({"tee_types":["tdx"],"tdx":{"mrtd":)",
                                        std::string(20000, '['), std::string(20000, ']'), "}}");
  ASSERT_LE(deep.size(), kMaxPolicyJsonSize);
  absl::StatusOr<v1::Policy> p = PolicyFromJson(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "policy JSON: tdx: nesting deeper than the 4 levels of arrays and objects accepted "
            "(at byte 37)");

  const std::string json = R"({"tee_types":["tdx"],"tdx":{)" + kTdxAnchor + "}}";
  ASSERT_TRUE(PolicyFromJson(json + std::string(kMaxPolicyJsonSize - json.size(), ' ')).ok());
  p = PolicyFromJson(json + std::string(kMaxPolicyJsonSize + 1 - json.size(), ' '));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "policy JSON: 65537 bytes, more than the 65536 accepted");
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
                  "tee_types admits \"tdx\" but the role does not pin its image, so a host could "
                  "run another workload under it: set tdx.mrtd + tdx.rtmr1 + tdx.rtmr2"},
        BadPolicy{"only_mrseam", R"({"tee_types":["tdx"],"tdx":{"mrseam":[)" MRTD R"(]}})",
                  "does not pin its image"},
        BadPolicy{"nitro_unbound", R"({"tee_types":["nitro"]})",
                  "set nitro.pcr0, or nitro.pcr1 + nitro.pcr2, or nitro.pcr8"},
        BadPolicy{"snp_unbound", R"({"tee_types":["sev-snp"]})",
                  "set sev_snp.measurement, or sev_snp.id_key_digest, or sev_snp.author_key_digest"},
        BadPolicy{"weak_anchor_still_needs_a_workload_field",
                  R"({"tee_types":["tdx"],"allow_weak_image_anchor":true,"tdx":{"mrseam":[)" MRTD R"(]}})",
                  "constrains none of its measurements"},
        BadPolicy{"attributes_without_mask",
                  R"({"tee_types":["tdx"],"tdx":{"attributes":"0000001000000000"}})",
                  "tdx.attributes_mask: required with tdx.attributes (a value/mask pair)"},
        BadPolicy{"xfam_mask_without_value", R"({"tee_types":["tdx"],"tdx":{"xfam_mask":"ff"}})",
                  "tdx.xfam: required with tdx.xfam_mask"},
        BadPolicy{"short_attributes",
                  R"({"tee_types":["tdx"],"tdx":{"attributes":"10","attributes_mask":"10"}})",
                  "tdx.attributes: expected 8 bytes (16 hex digits), got 1"},
        BadPolicy{"bad_tee_tcb_svn", R"({"tee_types":["tdx"],"tdx":{"min_tee_tcb_svn":"xx"}})",
                  "tdx.min_tee_tcb_svn: not hex"},
        BadPolicy{"bad_firmware", R"({"tee_types":["sev-snp"],"sev_snp":{"min_firmware":"1.x"}})",
                  "sev_snp.min_firmware: \"1.x\" is not \"major.minor\""},
        BadPolicy{"firmware_too_big",
                  R"({"tee_types":["sev-snp"],"sev_snp":{"min_firmware":"1.256"}})",
                  "sev_snp.min_firmware"},
        BadPolicy{"abi_minor_alone", R"({"tee_types":["sev-snp"],"sev_snp":{"min_abi_minor":1}})",
                  "sev_snp.min_abi_minor: set without sev_snp.min_abi_major"},
        BadPolicy{"abi_major_too_big", R"({"tee_types":["sev-snp"],"sev_snp":{"min_abi_major":256}})",
                  "sev_snp.min_abi_major: 256 exceeds 255"},
        BadPolicy{"committed_tcb_too_big",
                  R"({"tee_types":["sev-snp"],"sev_snp":{"min_committed_tcb":{"snp":300}}})",
                  "sev_snp.min_committed_tcb.snp: 300 exceeds 255"},
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

// The issue's list of roles that pinned something, but not the image (each was accepted before),
// and the anchors that do pin it. A 48-byte value is written as one repeated hex digit pair.
std::string Value(char c, int bytes = 48) { return std::string(2 * bytes, c); }

struct AnchorCase {
  const char* name;
  std::string tee;
  std::string section;  // the members of the TEE's section
  bool pins;
};

class ImageAnchorTest : public ::testing::TestWithParam<AnchorCase> {};

std::string AnchorRole(const AnchorCase& c, bool weak) {
  const std::string key = c.tee == "sev-snp" ? "sev_snp" : c.tee;
  return absl::StrCat(R"({"tee_types":[")", c.tee, R"("],")", key, R"(":{)", c.section, "}",
                      weak ? R"(,"allow_weak_image_anchor":true)" : "", "}");
}

TEST_P(ImageAnchorTest, OnlyAnImageAnchorPinsTheWorkload) {
  const AnchorCase& c = GetParam();
  const PolicyValidation v = ValidatePolicy(FromJson(AnchorRole(c, false)));
  if (c.pins) {
    EXPECT_TRUE(v.errors.empty()) << Errors(v);
  } else {
    ASSERT_EQ(v.errors.size(), 1u) << Errors(v);
    EXPECT_TRUE(absl::StrContains(v.errors[0], "does not pin its image")) << v.errors[0];
    // The explicit, dangerous opt-out admits it.
    const PolicyValidation weak = ValidatePolicy(FromJson(AnchorRole(c, true)));
    EXPECT_TRUE(weak.errors.empty()) << Errors(weak);
  }
}

#define V(c) "[\"" + Value(c) + "\"]"
#define V16(c) "[\"" + Value(c, 16) + "\"]"
#define V32(c) "[\"" + Value(c, 32) + "\"]"

INSTANTIATE_TEST_SUITE_P(
    Cases, ImageAnchorTest,
    ::testing::Values(
        AnchorCase{"snp_host_data_only", "sev-snp", R"("host_data":)" V32('1'), false},
        AnchorCase{"snp_family_and_image_id", "sev-snp",
                   R"("family_id":)" V16('1') R"(,"image_id":)" V16('2'), false},
        AnchorCase{"snp_zero_id_key_digest", "sev-snp", R"("id_key_digest":)" V('0'), false},
        AnchorCase{"snp_zero_author_key_digest", "sev-snp", R"("author_key_digest":)" V('0'),
                   false},
        AnchorCase{"snp_measurement", "sev-snp", R"("measurement":)" V('1'), true},
        AnchorCase{"snp_id_key_digest", "sev-snp",
                   R"("id_key_digest":)" V('1') R"(,"family_id":)" V16('2'), true},
        AnchorCase{"snp_author_key_digest", "sev-snp", R"("author_key_digest":)" V('1'), true},
        AnchorCase{"tdx_mrconfigid_only", "tdx", R"("mrconfigid":)" V('1'), false},
        AnchorCase{"tdx_mrowner_only", "tdx",
                   R"("mrowner":)" V('1') R"(,"mrownerconfig":)" V('2'), false},
        AnchorCase{"tdx_rtmrs_without_mrtd", "tdx",
                   R"("rtmr0":)" V('1') R"(,"rtmr1":)" V('2') R"(,"rtmr2":)" V('3'), false},
        AnchorCase{"tdx_mrtd_alone", "tdx", R"("mrtd":)" V('1'), false},
        AnchorCase{"tdx_mrtd_rtmr3", "tdx", R"("mrtd":)" V('1') R"(,"rtmr3":)" V('2'), false},
        AnchorCase{"tdx_mrtd_rtmr1_rtmr2", "tdx",
                   R"("mrtd":)" V('1') R"(,"rtmr1":)" V('2') R"(,"rtmr2":)" V('3'), true},
        AnchorCase{"nitro_pcr3_pcr4", "nitro", R"("pcr3":)" V('1') R"(,"pcr4":)" V('2'), false},
        AnchorCase{"nitro_pcr1_alone", "nitro", R"("pcr1":)" V('1'), false},
        AnchorCase{"nitro_zero_pcr8", "nitro", R"("pcr8":)" V('0'), false},
        AnchorCase{"nitro_pcr0", "nitro", R"("pcr0":)" V('1'), true},
        AnchorCase{"nitro_pcr1_pcr2", "nitro", R"("pcr1":)" V('1') R"(,"pcr2":)" V('2'), true},
        AnchorCase{"nitro_pcr8", "nitro", R"("pcr8":)" V('1'), true}),
    [](const auto& info) { return std::string(info.param.name); });

#undef V
#undef V16
#undef V32

TEST(PolicyValidationTest, NewConstraintsAreNormalized) {
  const PolicyValidation v = ValidatePolicy(FromJson(
      R"({"tee_types":["tdx"],"tdx":{)" + kTdxAnchor +
      R"(,"attributes":"0000001000000080","attributes_mask":"FFFFFFFF000000FF",)"
      R"("min_tee_tcb_svn":"0A010000000000000000000000000000"}})"));
  ASSERT_TRUE(v.errors.empty()) << Errors(v);
  EXPECT_EQ(v.normalized.tdx().attributes_mask(), "ffffffff000000ff");
  EXPECT_EQ(v.normalized.tdx().min_tee_tcb_svn(), "0a010000000000000000000000000000");
  EXPECT_FALSE(v.normalized.tdx().has_xfam());
}

TEST(PolicyValidationTest, EveryProblemIsReportedAtOnce) {
  const PolicyValidation v = ValidatePolicy(FromJson(
      R"({"tee_types":["tdx","sgx"],"tdx":{"mrtd":["00"],"rtmr0":["xyz"]},"allowed_tcb_statuses":["Nope"]})"));
  EXPECT_GE(v.errors.size(), 4u) << Errors(v);
}

TEST(PolicyValidationTest, NormalizedPolicyValidatesAgainUnchanged) {
  // The plugin stores the normalized form and the sidecar validates it again at every login.
  const PolicyValidation first =
      ValidatePolicy(FromJson(R"({"tee_types":["tdx"],"tdx":{)" + kTdxAnchor + "}}"));
  ASSERT_TRUE(first.errors.empty()) << Errors(first);
  EXPECT_FALSE(first.normalized.has_sev_snp());
  EXPECT_FALSE(first.normalized.has_nitro());
  const PolicyValidation second = ValidatePolicy(first.normalized);
  EXPECT_TRUE(second.errors.empty()) << Errors(second);
  EXPECT_EQ(second.normalized.SerializeAsString(), first.normalized.SerializeAsString());
}

TEST(PolicyValidationTest, DuplicateValuesCollapse) {
  const PolicyValidation v = ValidatePolicy(FromJson(R"({"tee_types":["tdx"],"tdx":{)" + kTdxAnchor +
                                                     R"(,"mrconfigid":[")" + kMrtd + R"(",")" +
                                                     std::string(96, 'A') + R"("]}})"));
  ASSERT_TRUE(v.errors.empty()) << Errors(v);
  EXPECT_EQ(v.normalized.tdx().mrconfigid_size(), 1);
}

}  // namespace
}  // namespace teeverify::policy
