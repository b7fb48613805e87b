// The policy engine on TDX claims: the real dcap-qvl quote (recorded, so unbound) and test-TEE
// quotes that bind a fresh nonce.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/common/hex.h"
#include "verifier/policy/nonce_binding.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_fixture.h"

namespace teeverify::policy {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::TestTdxCollateral;

constexpr char kMrtd[] =
    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";
constexpr char kRtmr1[] =
    "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378";
constexpr char kRtmr2[] =
    "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132";
const std::string kOther(96, '0');

v1::Policy Valid(const std::string& json) {
  absl::StatusOr<v1::Policy> p = PolicyFromJson(json);
  EXPECT_TRUE(p.ok()) << p.status();
  PolicyValidation v = ValidatePolicy(*p);
  EXPECT_TRUE(v.errors.empty()) << v.errors.front();
  return v.normalized;
}

VerifiedClaims RealDcapClaims() {
  TdxVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"),
                      TestTdxCollateral("dcap-qvl-2025-06"), At("2025-07-19T10:00:34Z"));
  EXPECT_TRUE(claims.ok()) << claims.status();
  return *std::move(claims);
}

TEST(PolicyEngineTdxTest, RecordedQuoteMatchingItsMeasurementsIsAllowedWhenUnboundIsAllowed) {
  const v1::Policy p = Valid(absl::StrCat(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")", kMrtd,
                                          R"("],"rtmr1":[")", kRtmr1, R"("],"rtmr2":[")", kRtmr2,
                                          R"("]},"allow_unbound_evidence":true})"));
  const Decision d = Evaluate(RealDcapClaims(), p, {}, At("2025-07-19T10:00:34Z"));
  EXPECT_TRUE(d.allow);
  EXPECT_TRUE(d.mismatches.empty());
  // SHA-256 of the identity text (docs/policy.md, "Workload identity"), computed outside this code:
  // no role name, the anchor tdx:SHA-256(MRTD||RTMR0||RTMR1||RTMR2) = tdx:345469a4...cd65, not
  // debug, and the three constrained claims.
  EXPECT_EQ(d.workload_identity,
            "tdx:7482ef3993833b27719c2a67e7f7865c596a190ac227aa158201553e4ece353e");
  EXPECT_EQ(RulesOf(TeeKind::kTdx).workload_identity(RealDcapClaims().claims()),
            "tdx:345469a462dafe286b728237091da824ce7508ebf14b390a47b1766c9c22cd65");
  EXPECT_EQ(d.metadata.at("tdx.mrtd"), kMrtd);
  EXPECT_EQ(d.metadata.at("tdx.rtmr2"), kRtmr2);
  EXPECT_EQ(d.metadata.at("tee"), "tdx");
  EXPECT_EQ(d.metadata.at("tcb_status"), "UpToDate");
  EXPECT_EQ(d.metadata.count("tdx.rtmr0"), 0u);  // only what the role constrained
}

TEST(PolicyEngineTdxTest, EveryMismatchIsListed) {
  const v1::Policy p = Valid(absl::StrCat(
      R"({"tee_types":["tdx"],"tdx":{"mrtd":[")", kOther, R"("],"rtmr2":[")", kRtmr2,
      R"("],"rtmr1":[")", kOther, R"("]},"allowed_tcb_statuses":["OutOfDate"]})"));
  const Decision d = Evaluate(RealDcapClaims(), p, {}, At("2025-07-19T10:00:34Z"));
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 4u);
  EXPECT_EQ(d.mismatches[0].field, "tcb_status");
  EXPECT_EQ(d.mismatches[0].expected, std::vector<std::string>({"OutOfDate"}));
  EXPECT_EQ(d.mismatches[0].actual, "UpToDate");
  EXPECT_EQ(d.mismatches[1].field, "tdx.mrtd");
  EXPECT_EQ(d.mismatches[1].expected, std::vector<std::string>({kOther}));
  EXPECT_EQ(d.mismatches[1].actual, kMrtd);
  EXPECT_EQ(d.mismatches[2].field, "tdx.rtmr1");
  EXPECT_EQ(d.mismatches[3].field, "nonce");  // the role requires binding; none was supplied
  EXPECT_EQ(d.mismatches[3].actual, "none supplied");
}

TEST(PolicyEngineTdxTest, OtherTeeTypeIsASingleMismatch) {
  const v1::Policy p = Valid(R"({"tee_types":["nitro"],"nitro":{"pcr0":[")" + std::string(96, 'c') + R"("]}})");
  const Decision d = Evaluate(RealDcapClaims(), p, {}, At("2025-07-19T10:00:34Z"));
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tee");
  EXPECT_EQ(d.mismatches[0].expected, std::vector<std::string>({"nitro"}));
  EXPECT_EQ(d.mismatches[0].actual, "tdx");
}

class NonceBoundTdxTest : public ::teeverify::testing::TdxTestTeeTest {
 protected:
  VerifiedClaims Claims(absl::string_view report_data, bool debug = false,
                        absl::string_view td_attributes = "") {
    tdx::TdReport report = tee_->DefaultReport();
    std::copy(report_data.begin(), report_data.end(), report.report_data.begin());
    if (debug) report.td_attributes[0] |= 1;
    if (!td_attributes.empty()) {
      report.td_attributes = *HexDecodeArray<8>(td_attributes, "td_attributes");
    }
    absl::StatusOr<VerifiedClaims> claims =
        verifier_->Verify(*tee_->MakeQuote(report), collateral_, kNow);
    EXPECT_TRUE(claims.ok()) << claims.status();
    return *std::move(claims);
  }

  // Pins the image (MRTD, RTMR1, RTMR2), with `extra` members in the tdx section.
  v1::Policy Role(const std::string& extra = "") {
    const tdx::TdReport r = tee_->DefaultReport();
    return Valid(absl::StrCat(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")", mrtd_, R"("],"rtmr1":[")",
                              HexEncode(r.rtmr[1]), R"("],"rtmr2":[")", HexEncode(r.rtmr[2]), R"("])",
                              extra.empty() ? "" : ",", extra, "}}"));
  }

  const absl::Time kNow = absl::FromUnixSeconds(1767225600);
  const std::string nonce_ = std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                                         "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f", 32);
};

TEST_F(NonceBoundTdxTest, BindingIsTheDocumentedHash) {
  // SHA-512("tee-auth report-data v1" || 0x00 || 0x20 || nonce || 0x00), computed independently.
  EXPECT_EQ(HexEncode(*ExpectedReportData(nonce_, "")),
            "19141857387c7dbffc197207a17aa3b419376a7c6bf63c717d5c1d5cb9ff5697d4e55f91abc2eabacf779"
            "4c667ce8b2599cd34adc29c156b4755f2456174436c");
  EXPECT_EQ(HexEncode(*ExpectedReportData(nonce_, "client-key")),
            "888524d38d8e771423547e3900a1eefc1e361ef0b2013f243a1508091998f5fef167955ccfe89a0cd0f3d9"
            "84c5a607e4597a51cd660fe69a600d22b6ea4cf1e3");
  EXPECT_FALSE(ExpectedReportData("", "").ok());
  EXPECT_FALSE(ExpectedReportData(std::string(65, 'n'), "").ok());
}

TEST_F(NonceBoundTdxTest, RightNonceAllows) {
  const Decision d = Evaluate(Claims(*ExpectedReportData(nonce_, "")), Role(), {nonce_, ""}, kNow);
  EXPECT_TRUE(d.allow) << (d.mismatches.empty() ? "" : d.mismatches[0].field);
  EXPECT_EQ(d.metadata.at("nonce_binding"), "bound");
  EXPECT_TRUE(d.client_public_key_sha256.empty());
}

TEST_F(NonceBoundTdxTest, WrongNonceIsDenied) {
  std::string other = nonce_;
  other[0] = '\x7f';
  const Decision d = Evaluate(Claims(*ExpectedReportData(other, "")), Role(), {nonce_, ""}, kNow);
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "report_data");
  EXPECT_EQ(d.mismatches[0].expected[0], HexEncode(*ExpectedReportData(nonce_, "")));
}

TEST_F(NonceBoundTdxTest, NoNonceIsDenied) {
  const Decision d = Evaluate(Claims(*ExpectedReportData(nonce_, "")), Role(), {"", ""}, kNow);
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "nonce");
}

TEST_F(NonceBoundTdxTest, ClientKeyIsBoundWithTheNonce) {
  const VerifiedClaims claims = Claims(*ExpectedReportData(nonce_, "client-key"));
  Decision d = Evaluate(claims, Role(), {nonce_, "client-key"}, kNow);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.client_public_key_sha256,
            "8eb943e7040b69a94bf39562088223755bff4c2e7c5fc257f1e08f870fe01d35");
  d = Evaluate(claims, Role(), {nonce_, "another-key"}, kNow);
  EXPECT_FALSE(d.allow);
  d = Evaluate(claims, Role(), {nonce_, ""}, kNow);
  EXPECT_FALSE(d.allow);
}

TEST_F(NonceBoundTdxTest, DebugTdIsDeniedUnlessAllowed) {
  const VerifiedClaims claims = Claims(*ExpectedReportData(nonce_, ""), /*debug=*/true);
  Decision d = Evaluate(claims, Role(), {nonce_, ""}, kNow);
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "debug");
  v1::Policy lenient = Role();
  lenient.set_allow_debug(true);
  EXPECT_TRUE(Evaluate(claims, lenient, {nonce_, ""}, kNow).allow);
}

// Every TDX value field, table-driven: a role pinning the field to another value is denied
// naming that field; pinning it to the evidence's value is allowed.
class TdxFieldTest : public NonceBoundTdxTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(TdxFieldTest, ConstrainsItsClaim) {
  const std::string field = GetParam();
  const VerifiedClaims claims = Claims(*ExpectedReportData(nonce_, ""));
  const nlohmann::ordered_json tdx = ClaimsToJson(claims)["tdx"];
  const std::string actual = tdx[field];
  std::string wrong = actual;
  wrong[0] = wrong[0] == 'f' ? 'e' : 'f';
  // Each field alone: the role opts out of the image anchor (its own tests are elsewhere).
  const std::string base =
      R"({"tee_types":["tdx"],"allow_weak_image_anchor":true,"tdx":{"mrtd":[")" + mrtd_ + R"("],")" +
      field;
  Decision d = Evaluate(claims, Valid(base + R"(":[")" + wrong + R"("]}})"), {nonce_, ""}, kNow);
  ASSERT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tdx." + field);
  EXPECT_EQ(d.mismatches[0].actual, actual);
  d = Evaluate(claims, Valid(base + R"(":[")" + wrong + R"(",")" + actual + R"("]}})"), {nonce_, ""}, kNow);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.metadata.at("tdx." + field), actual);
}

// The issue's reproduction: a TD the host started with SEPT_VE_DISABLE=0 and PERFMON=1 passed a
// role that pinned its image.
TEST_F(NonceBoundTdxTest, HostWeakenedAttributesAreRefusedByDefault) {
  const VerifiedClaims claims =
      Claims(*ExpectedReportData(nonce_, ""), false, "0000000000000080");
  Decision d = Evaluate(claims, Role(), {nonce_, ""}, kNow);
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tdx.attributes");
  EXPECT_EQ(d.mismatches[0].actual,
            "0000000000000080 (sept_ve_disable=0, migratable=0, perfmon=1)");
  EXPECT_EQ(d.mismatches[0].expected[0],
            "0000001000000000 (sept_ve_disable=1, migratable=0, perfmon=0) under mask "
            "0000003000000080 (default; set tdx.attributes and tdx.attributes_mask to change it)");
  // A role that allows PERFMON says so with its own pair (SEPT_VE_DISABLE still off here).
  EXPECT_FALSE(Evaluate(claims, Role(R"("attributes":"0000001000000000","attributes_mask":"0000003000000000")"),
                        {nonce_, ""}, kNow)
                   .allow);
  EXPECT_TRUE(Evaluate(claims, Role(R"("attributes":"0000000000000000","attributes_mask":"0000003000000000")"),
                       {nonce_, ""}, kNow)
                  .allow);
}

TEST_F(NonceBoundTdxTest, MigratableIsRefusedByDefault) {
  const VerifiedClaims claims =
      Claims(*ExpectedReportData(nonce_, ""), false, "0000003000000000");
  Decision d = Evaluate(claims, Role(), {nonce_, ""}, kNow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].actual, "0000003000000000 (sept_ve_disable=1, migratable=1, perfmon=0)");
}

TEST_F(NonceBoundTdxTest, XfamAndTeeTcbSvnAreConstrainable) {
  const VerifiedClaims claims = Claims(*ExpectedReportData(nonce_, ""));
  const nlohmann::ordered_json tdx = ClaimsToJson(claims)["tdx"];
  const std::string xfam = tdx["xfam"], svn = tdx["tee_tcb_svn"];
  EXPECT_TRUE(Evaluate(claims, Role(absl::StrCat(R"("xfam":")", xfam, R"(","xfam_mask":"ffffffffffffffff")")),
                       {nonce_, ""}, kNow)
                  .allow);
  // MPX (XFAM bits 3-4) required: the test TD does not have it.
  Decision d = Evaluate(claims, Role(R"("xfam":"1800000000000000","xfam_mask":"1800000000000000")"),
                        {nonce_, ""}, kNow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tdx.xfam");
  EXPECT_EQ(d.mismatches[0].actual, xfam);
  EXPECT_TRUE(Evaluate(claims, Role(absl::StrCat(R"("min_tee_tcb_svn":")", svn, "\"")), {nonce_, ""}, kNow)
                  .allow);
  d = Evaluate(claims, Role(R"("min_tee_tcb_svn":"ff000000000000000000000000000000")"), {nonce_, ""}, kNow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tdx.tee_tcb_svn");
  EXPECT_EQ(d.mismatches[0].actual, svn);
}

TEST_F(NonceBoundTdxTest, MrServiceTdIsAbsentFromATdx10Body) {
  const VerifiedClaims claims = Claims(*ExpectedReportData(nonce_, ""));
  ASSERT_FALSE(claims.claims().tdx->body.is_tdx15);
  const Decision d = Evaluate(claims, Role(absl::StrCat(R"("mrservicetd":[")", std::string(96, '0'), R"("])")),
                              {nonce_, ""}, kNow);
  ASSERT_EQ(d.mismatches.size(), 1u);
  EXPECT_EQ(d.mismatches[0].field, "tdx.mrservicetd");
  EXPECT_EQ(d.mismatches[0].actual, "absent");
}

TEST_F(NonceBoundTdxTest, WeakImageAnchorIsOnTheToken) {
  const VerifiedClaims claims = Claims(*ExpectedReportData(nonce_, ""));
  EXPECT_EQ(Evaluate(claims, Role(), {nonce_, ""}, kNow).metadata.count("weak_image_anchor"), 0u);
  const v1::Policy weak =
      Valid(R"({"tee_types":["tdx"],"allow_weak_image_anchor":true,"tdx":{"mrtd":[")" + mrtd_ + R"("]}})");
  const Decision d = Evaluate(claims, weak, {nonce_, ""}, kNow);
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.metadata.at("weak_image_anchor"), "allowed by role (DANGEROUS: image not pinned)");
  v1::Policy pinned = Role();
  pinned.set_allow_weak_image_anchor(true);
  EXPECT_EQ(Evaluate(claims, pinned, {nonce_, ""}, kNow).metadata.at("weak_image_anchor"),
            "allowed by role (image pinned)");
}

INSTANTIATE_TEST_SUITE_P(Fields, TdxFieldTest,
                         ::testing::Values("rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid",
                                           "mrowner", "mrownerconfig", "mrseam"));

}  // namespace
}  // namespace teeverify::policy
