#include "verifier/tdx/tcb_info.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"

namespace teeverify::tdx {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;

TcbInfo ParseRealTcbInfo(const std::string& path) {
  absl::StatusOr<SignedCollateral> signed_body =
      ParseSignedCollateral(ReadTestData(path), "tcbInfo", path);
  EXPECT_TRUE(signed_body.ok()) << signed_body.status();
  absl::StatusOr<TcbInfo> info = ParseTcbInfo(signed_body->body, path);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? *info : TcbInfo{};
}

TEST(TcbInfoTest, ParsesDcapQvl2025) {
  const TcbInfo info = ParseRealTcbInfo("tdx/collateral/dcap-qvl-2025-06/tcb_info_response.json");
  EXPECT_EQ(info.id, "TDX");
  EXPECT_EQ(info.version, 3u);
  EXPECT_EQ(HexEncode(info.fmspc), "b0c06f000000");
  EXPECT_EQ(info.issue_date, At("2025-06-19T10:16:03Z"));
  EXPECT_EQ(info.next_update, At("2025-07-19T10:16:03Z"));
  EXPECT_EQ(info.tcb_evaluation_data_number, 17u);
  ASSERT_EQ(info.tdx_module_identities.size(), 2u);
  EXPECT_EQ(info.tdx_module_identities[0].id, "TDX_03");
  const TdxModuleIdentity& tdx01 = info.tdx_module_identities[1];
  EXPECT_EQ(tdx01.id, "TDX_01");
  ASSERT_EQ(tdx01.tcb_levels.size(), 2u);
  EXPECT_EQ(tdx01.tcb_levels[0].isv_svn, 4);  // highest first
  EXPECT_EQ(tdx01.tcb_levels[1].status, TcbStatus::kOutOfDate);
  ASSERT_EQ(info.tcb_levels.size(), 2u);
  EXPECT_EQ(info.tcb_levels[0].status, TcbStatus::kUpToDate);
  EXPECT_EQ(info.tcb_levels[0].pce_svn, 11);
  EXPECT_EQ(info.tcb_levels[1].pce_svn, 5);
  EXPECT_EQ(info.tcb_levels[1].advisory_ids.size(), 14u);
  EXPECT_EQ(info.tcb_levels[1].advisory_ids.front(), "INTEL-SA-00106");
}

TEST(TcbInfoTest, ResponseOverTheSizeBoundIsRefusedUnread) {
  const std::string real = ReadTestData("tdx/collateral/dcap-qvl-2025-06/tcb_info_response.json");
  const std::string over = real + std::string(kMaxCollateralJsonSize + 1 - real.size(), ' ');
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(over, "tcbInfo", "tcb.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(ReasonOf(s.status()), v1::REASON_COLLATERAL_INVALID);
  EXPECT_EQ(s.status().message(), "tcb.json: 65537 bytes, more than the 65536 accepted");
}

// Thousands of top-level members are sorted for the duplicate check, not compared pairwise; the
// duplicate is still named, wherever it is.
// Nesting is bounded (kMaxJsonDepth) before nlohmann builds anything: a PCS response nests 7
// deep, and 64 KiB of nested arrays cost ten times a real response grown to that size.
TEST(TcbInfoTest, DeepNestingIsRefusedBeforeParsing) {
  const std::string body = absl::StrCat(R"({"id":"TDX","tcbLevels":)", std::string(30000, '['),
                                        std::string(30000, ']'), "}");
  absl::StatusOr<TcbInfo> info = ParseTcbInfo(body, "tcb_info.json");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(ReasonOf(info.status()), v1::REASON_COLLATERAL_INVALID);
  EXPECT_EQ(info.status().message(),
            "tcb_info.json: tcbLevels: nesting deeper than the 16 levels of arrays and objects "
            "accepted (at byte 39)");
}

TEST(TcbInfoTest, DuplicateAmongManyTopLevelMembersIsNamed) {
  std::string doc = R"({"tcbInfo":{},)";
  for (int i = 0; i < 5000; ++i) absl::StrAppend(&doc, "\"m", i, "\":0,");
  doc += R"("m17":1})";
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(doc, "tcbInfo", "tcb.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "tcb.json: top-level member \"m17\" appears more than once");
}

TEST(TcbInfoTest, LevelsAreSortedHighestFirstWhateverTheDocumentOrder) {
  const TcbInfo info = ParseRealTcbInfo("tdx/collateral/dcap-qvl-2026-02/tcb_info_response.json");
  ASSERT_EQ(info.tcb_levels.size(), 3u);
  EXPECT_EQ(info.tcb_levels[0].status, TcbStatus::kUpToDate);
  EXPECT_EQ(info.tcb_levels[0].sgx_svns[0], 3);
  EXPECT_EQ(info.tcb_levels[1].pce_svn, 13);
  EXPECT_EQ(info.tcb_levels[2].pce_svn, 5);
}

TEST(TcbInfoTest, SignedBodyIsTheExactDocumentBytes) {
  const std::string response =
      ReadTestData("tdx/collateral/dcap-qvl-2025-06/tcb_info_response.json");
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(response, "tcbInfo", "t");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s->body, "{\"id\":\"TDX\",\"version\":3,"));
  EXPECT_NE(response.find(s->body), std::string::npos);
  EXPECT_EQ(response.find(s->body), std::string("{\"tcbInfo\":").size());
}

TEST(TcbInfoTest, ParsesTdQeIdentity) {
  const std::string path = "tdx/collateral/go-tdx-guest-2023-06/qe_identity_response.json";
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(ReadTestData(path), "enclaveIdentity", path);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<EnclaveIdentity> id = ParseEnclaveIdentity(s->body, path);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->id, "TD_QE");
  EXPECT_EQ(HexEncode(id->mr_signer),
            "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  EXPECT_EQ(id->isv_prod_id, 2);
  EXPECT_EQ(HexEncode(id->attributes_mask), "fbffffffffffffff0000000000000000");
  ASSERT_EQ(id->tcb_levels.size(), 1u);
  EXPECT_EQ(id->tcb_levels[0].isv_svn, 4);
  EXPECT_EQ(id->next_update, At("2023-07-08T07:24:59Z"));
}

// Edits of a real TCB info body, each of which must be refused with a message naming the field.
struct BadTcbInfo {
  const char* name;
  const char* from;
  const char* to;
  const char* message_part;
};

class BadTcbInfoTest : public ::testing::TestWithParam<BadTcbInfo> {};

TEST_P(BadTcbInfoTest, IsRefused) {
  const BadTcbInfo& c = GetParam();
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(
      ReadTestData("tdx/collateral/dcap-qvl-2025-06/tcb_info_response.json"), "tcbInfo", "t");
  ASSERT_TRUE(s.ok());
  const std::string body = absl::StrReplaceAll(s->body, {{c.from, c.to}});
  ASSERT_NE(body, s->body) << "the edit did not apply";
  absl::StatusOr<TcbInfo> info = ParseTcbInfo(body, "tcb_info_response.json");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(ReasonOf(info.status()), v1::REASON_COLLATERAL_INVALID);
  EXPECT_TRUE(absl::StrContains(info.status().message(), c.message_part)) << info.status();
}

INSTANTIATE_TEST_SUITE_P(
    Edits, BadTcbInfoTest,
    ::testing::Values(
        BadTcbInfo{"sgx_id", "\"id\":\"TDX\"", "\"id\":\"SGX\"", "is not TDX TCB info"},
        BadTcbInfo{"version2", "\"version\":3", "\"version\":2", "version 2 is not TDX"},
        BadTcbInfo{"tcb_type", "\"tcbType\":0", "\"tcbType\":1", "tcbType: value 1"},
        BadTcbInfo{"fmspc_short", "\"fmspc\":\"B0C06F000000\"", "\"fmspc\":\"B0C06F\"",
                   "tcbInfo.fmspc: expected 6 bytes"},
        BadTcbInfo{"fmspc_not_hex", "\"fmspc\":\"B0C06F000000\"", "\"fmspc\":\"B0C06F00000G\"",
                   "tcbInfo.fmspc: not hex"},
        BadTcbInfo{"issue_date", "\"issueDate\":\"2025-06-19T10:16:03Z\"",
                   "\"issueDate\":\"June 19\"", "issueDate: not an RFC 3339 time"},
        BadTcbInfo{"unknown_status", "\"tcbStatus\":\"OutOfDate\"}]}", "\"tcbStatus\":\"Fine\"}]}",
                   "unknown status \"Fine\""},
        BadTcbInfo{"pcesvn_type", "\"pcesvn\":11", "\"pcesvn\":\"11\"",
                   "tcbLevels[0].tcb.pcesvn: expected a non-negative integer"},
        BadTcbInfo{"fifteen_components", "{\"svn\":0},{\"svn\":0}],\"pcesvn\":11",
                   "{\"svn\":0}],\"pcesvn\":11", "expected 16 components, found 15"},
        BadTcbInfo{"svn_too_big", "\"svn\":5,\"category\":\"OS/VMM\",\"type\":\"SEAMLDR ACM\"",
                   "\"svn\":256", "svn: value 256 exceeds 255"},
        BadTcbInfo{"no_tdx_module", "\"tdxModule\":", "\"tdxModuleX\":", "tcbInfo.tdxModule: missing"},
        BadTcbInfo{"module_status", "\"tcbStatus\":\"UpToDate\"}]},{\"id\":\"TDX_01\"",
                   "\"tcbStatus\":\"SWHardeningNeeded\"}]},{\"id\":\"TDX_01\"",
                   "is not valid for a TDX module"},
        BadTcbInfo{"duplicate_module_svn", "{\"tcb\":{\"isvsvn\":2}", "{\"tcb\":{\"isvsvn\":4}",
                   "duplicate isvsvn 4"},
        BadTcbInfo{"duplicate_levels", "\"pcesvn\":5,", "\"pcesvn\":11,",
                   "contains a duplicated TCB level"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(TcbInfoTest, SignedCollateralNeedsBodyAndSignatureOnly) {
  EXPECT_FALSE(ParseSignedCollateral(R"({"tcbInfo":{}})", "tcbInfo", "t").ok());
  EXPECT_FALSE(
      ParseSignedCollateral(R"({"tcbInfo":{},"signature":"00"})", "tcbInfo", "t").ok());
  const std::string sig(128, 'a');
  EXPECT_TRUE(ParseSignedCollateral("{\"tcbInfo\":{},\"signature\":\"" + sig + "\"}", "tcbInfo",
                                    "t")
                  .ok());
  absl::StatusOr<SignedCollateral> extra = ParseSignedCollateral(
      "{\"tcbInfo\":{},\"signature\":\"" + sig + "\",\"x\":1}", "tcbInfo", "t");
  ASSERT_FALSE(extra.ok());
  EXPECT_TRUE(absl::StrContains(extra.status().message(), "expected exactly the members"));
}

TEST(TcbInfoTest, EnvelopeHasOneSpelling) {
  const std::string sig(128, 'a');
  const std::string compact = "{\"tcbInfo\":{\"a\": 1},\"signature\":\"" + sig + "\"}";
  EXPECT_TRUE(ParseSignedCollateral(compact, "tcbInfo", "t").ok());
  EXPECT_TRUE(ParseSignedCollateral(compact + "\n", "tcbInfo", "t").ok());
  for (const std::string& other :
       {"{ \"tcbInfo\":{\"a\": 1},\"signature\":\"" + sig + "\"}",
        "{\"tcbInfo\":{\"a\": 1},\n\"signature\":\"" + sig + "\"}",
        "{\"tcb\\u0049nfo\":{\"a\": 1},\"signature\":\"" + sig + "\"}", compact + "\n\n",
        compact + " "}) {
    absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(other, "tcbInfo", "t");
    ASSERT_FALSE(s.ok()) << other;
  }
}

TEST(TcbInfoTest, SignatureHasOneSpelling) {
  // The signature is outside the signed body; uppercase hex would be a second spelling.
  const std::string sig = std::string(127, 'a') + "A";
  absl::StatusOr<SignedCollateral> upper = ParseSignedCollateral(
      "{\"tcbInfo\":{},\"signature\":\"" + sig + "\"}", "tcbInfo", "t");
  ASSERT_FALSE(upper.ok());
  EXPECT_EQ(upper.status().message(), "t: signature: expected lowercase hex");
}

TEST(TcbInfoTest, EnclaveIdentityMustBeTdQeVersion2) {
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(
      ReadTestData("tdx/collateral/dcap-qvl-2025-06/qe_identity_response.json"), "enclaveIdentity",
      "q");
  ASSERT_TRUE(s.ok());
  absl::StatusOr<EnclaveIdentity> qe =
      ParseEnclaveIdentity(absl::StrReplaceAll(s->body, {{"\"TD_QE\"", "\"QE\""}}), "q");
  ASSERT_FALSE(qe.ok());
  EXPECT_TRUE(absl::StrContains(qe.status().message(), "is not the TDX quoting enclave"));
  EXPECT_FALSE(ParseEnclaveIdentity(absl::StrReplaceAll(s->body, {{"\"tcbLevels\":[{", "\"tcbLevels\":[], \"x\":[{"}}), "q").ok());
}

}  // namespace
}  // namespace teeverify::tdx
