// tee-testgen profiles: every field reaches the report it names, and every malformed profile is
// refused with the path of the offending value.
#include "verifier/testing/testgen/profile.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "verifier/common/hex.h"

namespace teeverify::testgen {
namespace {

std::string Repeat(absl::string_view byte_hex, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(byte_hex.data(), byte_hex.size());
  return out;
}

TEST(ProfileTest, EveryFieldReachesItsReport) {
  const std::string json = R"({
    "tdx": {"mrtd": ")" + Repeat("01", 48) + R"(", "rtmr0": ")" + Repeat("02", 48) +
                           R"(", "rtmr3": ")" + Repeat("05", 48) + R"(",
            "mrconfigid": ")" + Repeat("06", 48) + R"(", "td_attributes": "0100000010000000"},
    "sev_snp": {"product": "Turin", "signing_key": "vlek", "measurement": ")" + Repeat("07", 48) +
                           R"(", "host_data": ")" + Repeat("08", 32) + R"(",
                "family_id": ")" + Repeat("09", 16) + R"(", "policy": "0xb0000", "guest_svn": 7,
                "vmpl": 2},
    "nitro": {"pcr0": ")" + Repeat("0a", 48) + R"(", "pcr8": ")" + Repeat("0b", 48) + R"(",
              "module_id": "i-test-enc1"}})";
  absl::StatusOr<Profile> p = ParseProfile(json, "p.json");
  ASSERT_TRUE(p.ok()) << p.status();

  tdx::TdReport tdx;
  tdx.rtmr[1].fill(0xee);
  ApplyProfile(p->tdx, &tdx);
  EXPECT_EQ(HexEncode(tdx.mr_td), Repeat("01", 48));
  EXPECT_EQ(HexEncode(tdx.rtmr[0]), Repeat("02", 48));
  EXPECT_EQ(HexEncode(tdx.rtmr[1]), Repeat("ee", 48));  // not in the profile: unchanged
  EXPECT_EQ(HexEncode(tdx.rtmr[3]), Repeat("05", 48));
  EXPECT_EQ(HexEncode(tdx.mr_config_id), Repeat("06", 48));
  EXPECT_EQ(HexEncode(tdx.td_attributes), "0100000010000000");

  const testing::SnpTestOptions options = SnpOptions(p->sev_snp);
  EXPECT_EQ(options.product, snp::Product::kTurin);
  EXPECT_TRUE(options.vlek);
  snp::Report snp;
  ApplyProfile(p->sev_snp, &snp);
  EXPECT_EQ(HexEncode(snp.measurement), Repeat("07", 48));
  EXPECT_EQ(HexEncode(snp.host_data), Repeat("08", 32));
  EXPECT_EQ(HexEncode(snp.family_id), Repeat("09", 16));
  EXPECT_EQ(snp.policy, 0xb0000u);
  EXPECT_EQ(snp.guest_svn, 7u);
  EXPECT_EQ(snp.vmpl, 2u);

  testing::NitroDocumentSpec spec;
  spec.module_id = "before";
  spec.pcrs[1] = std::string(48, '\x11');
  ApplyProfile(p->nitro, &spec);
  EXPECT_EQ(spec.module_id, "i-test-enc1");
  EXPECT_EQ(HexEncode(spec.pcrs[0]), Repeat("0a", 48));
  EXPECT_EQ(HexEncode(spec.pcrs[1]), Repeat("11", 48));
  EXPECT_EQ(HexEncode(spec.pcrs[8]), Repeat("0b", 48));
}

TEST(ProfileTest, PolicyMayBeANumber) {
  absl::StatusOr<Profile> p = ParseProfile(R"({"sev_snp": {"policy": 196608}})", "p.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->sev_snp.policy, 0x30000u);
}

TEST(ProfileTest, EmptyProfileChangesNothing) {
  absl::StatusOr<Profile> p = ParseProfile("{}", "p.json");
  ASSERT_TRUE(p.ok()) << p.status();
  snp::Report snp;
  snp.measurement.fill(0x3e);
  ApplyProfile(p->sev_snp, &snp);
  EXPECT_EQ(HexEncode(snp.measurement), Repeat("3e", 48));
  EXPECT_FALSE(SnpOptions(p->sev_snp).vlek);
}

struct BadProfile {
  const char* name;
  const char* json;
  const char* message;
};

class BadProfileTest : public ::testing::TestWithParam<BadProfile> {};

TEST_P(BadProfileTest, IsRefusedNamingTheValue) {
  absl::StatusOr<Profile> p = ParseProfile(GetParam().json, "p.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(p.status().message(), GetParam().message)) << p.status();
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, BadProfileTest,
    ::testing::Values(
        BadProfile{"not_json", "{",
                   "p.json"},
        BadProfile{"not_object", "[]",
                   "p.json: expected a JSON object"},
        BadProfile{"unknown_section", R"({"sgx": {}})",
                   "p.json: sgx: unknown section"},
        BadProfile{"section_not_object", R"({"tdx": 1})",
                   "p.json: tdx: expected an object"},
        BadProfile{"unknown_field", R"({"tdx": {"mrtd2": "00"}})",
                   "p.json: tdx.mrtd2: unknown field"},
        BadProfile{"short_hex", R"({"tdx": {"mrtd": "0011"}})",
                   "expected 48 bytes (96 hex digits), got 2"},
        BadProfile{"hex_not_string", R"({"nitro": {"pcr0": 5}})",
                   "p.json: nitro.pcr0: expected 96 hex digits"},
        BadProfile{"pcr16", R"({"nitro": {"pcr16": "00"}})",
                   "p.json: nitro.pcr16: unknown field"},
        BadProfile{"empty_module_id", R"({"nitro": {"module_id": ""}})",
                   "nitro.module_id: expected a non-empty string"},
        BadProfile{"product", R"({"sev_snp": {"product": "Rome"}})",
                   "sev_snp.product: expected \"Milan\""},
        BadProfile{"signing_key", R"({"sev_snp": {"signing_key": "ark"}})",
                   "sev_snp.signing_key"},
        BadProfile{"vmpl", R"({"sev_snp": {"vmpl": 4}})",
                   "sev_snp.vmpl: expected an integer from 0 to 3"},
        BadProfile{"guest_svn_negative", R"({"sev_snp": {"guest_svn": -1}})",
                   "sev_snp.guest_svn"},
        BadProfile{"policy_without_0x", R"({"sev_snp": {"policy": "30000"}})",
                   "sev_snp.policy"},
        BadProfile{"policy_too_long", R"({"sev_snp": {"policy": "0x10000000000000000"}})",
                   "sev_snp.policy"}),
    [](const ::testing::TestParamInfo<BadProfile>& info) { return info.param.name; });

}  // namespace
}  // namespace teeverify::testgen
