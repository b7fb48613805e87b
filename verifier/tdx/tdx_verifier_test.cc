#include "verifier/tdx/tdx_verifier.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/io/files.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify {
namespace {

using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::TestTdxCollateral;
using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::TestDataPath;

// Expected outcomes from ../shared/vectors/MANIFEST.md, written out by hand.
struct RealCase {
  const char* name;
  const char* quote;
  const char* collateral;
  const char* at;
  Reason reason;  // REASON_UNSPECIFIED: verifies
  const char* expected;  // tcb_status when verified, else a part of the error
  const char* mrtd;
  bool debug;
};

const RealCase kRealCases[] = {
    {"dcap_qvl_uptodate", "dcap-qvl_tdx_quote.bin", "dcap-qvl-2025-06", "2025-07-19T10:00:34Z",
     v1::REASON_UNSPECIFIED, "UpToDate",
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     false},
    {"go_tdx_guest_v5_uptodate", "go-tdx-guest_quote_v5_sample.bin", "dcap-qvl-2026-02",
     "2026-03-20T10:41:14Z", v1::REASON_UNSPECIFIED, "UpToDate",
     "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876",
     false},
    {"trustee_debug_td_uptodate", "trustee_tdx_quote_4_debug.bin", "go-tdx-guest-2023-06",
     "2023-07-01T01:00:00Z", v1::REASON_UNSPECIFIED, "UpToDate",
     "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
     true},
    // MANIFEST caveat 5: TCB levels do not match these platforms; upstream tests inject levels.
    {"dcap_qvl_outdated_v5", "dcap-qvl_tdx_quote_outdated_v5.bin", "dcap-qvl-2026-02",
     "2026-03-20T10:41:14Z", v1::REASON_TCB_LEVEL_NOT_SUPPORTED,
     "TCB level not supported: PCK SGX TCB components [3,3,2,2,4,1,0,3,0,0,0,0,0,0,0,0]", "", false},
    {"oasis_out_of_date", "oasis_quote_v4_tdx_ecdsa_p256_out_of_date.bin", "go-tdx-guest-2023-06",
     "2023-06-18T12:36:16Z", v1::REASON_TCB_LEVEL_NOT_SUPPORTED, "TCB level not supported", "",
     false},
    {"go_tdx_guest_spr_e4_trailing", "go-tdx-guest_tdx_prod_quote_SPR_E4.bin",
     "go-tdx-guest-2023-06", "2023-07-01T01:00:00Z", v1::REASON_MALFORMED_EVIDENCE,
     "39 bytes follow the signature data", "", false},
    // Collateral of another platform.
    {"azure_with_other_fmspc", "trustee_azure_td-quote.bin", "dcap-qvl-2025-06",
     "2025-07-19T10:00:34Z", v1::REASON_PLATFORM_MISMATCH,
     "PCK certificate FMSPC 00806f050000 does not match tcb_info_response.json FMSPC b0c06f000000",
     "", false},
    // Named expiry, one second after each item's nextUpdate.
    {"pck_crl_expired", "dcap-qvl_tdx_quote.bin", "dcap-qvl-2025-06", "2025-07-19T10:00:36Z",
     v1::REASON_EXPIRED, "pck_crl.der expired at 2025-07-19T10:00:35Z", "", false},
    {"tcb_info_expired", "dcap-qvl_tdx_quote.bin", "dcap-qvl-2025-06", "2025-07-19T10:16:04Z",
     v1::REASON_EXPIRED, "tcb_info_response.json (issueDate..nextUpdate) expired at 2025-07-19T10:16:03Z",
     "", false},
    {"qe_identity_expired", "trustee_tdx_quote_4_debug.bin", "go-tdx-guest-2023-06",
     "2023-07-08T07:25:00Z", v1::REASON_EXPIRED,
     "qe_identity_response.json (issueDate..nextUpdate) expired at 2023-07-08T07:24:59Z", "", false},
    {"tcb_info_not_yet_issued", "dcap-qvl_tdx_quote.bin", "dcap-qvl-2025-06", "2025-06-19T10:16:02Z",
     v1::REASON_EXPIRED,
     "tcb_info_response.json (issueDate..nextUpdate) is not valid before 2025-06-19T10:16:03Z", "",
     false},
};

class RealVectorTest : public ::testing::TestWithParam<RealCase> {};

TEST_P(RealVectorTest, GivesTheManifestOutcome) {
  const RealCase& c = GetParam();
  TdxVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReadTestData(absl::StrCat("tdx/quotes/", c.quote)),
                      TestTdxCollateral(c.collateral), At(c.at));
  if (c.reason != v1::REASON_UNSPECIFIED) {
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(ReasonOf(claims.status()), c.reason) << claims.status();
    EXPECT_TRUE(absl::StrContains(claims.status().message(), c.expected)) << claims.status();
    return;
  }
  ASSERT_TRUE(claims.ok()) << claims.status();
  const Claims& got = claims->claims();
  EXPECT_EQ(got.tee, TeeKind::kTdx);
  EXPECT_EQ(got.tcb_status, c.expected);
  EXPECT_EQ(got.debug, c.debug);
  EXPECT_EQ(got.verified_at, At(c.at));
  ASSERT_TRUE(got.tdx.has_value());
  EXPECT_EQ(HexEncode(got.tdx->body.mr_td), c.mrtd);
  EXPECT_EQ(got.report_data, std::string(AsView(got.tdx->body.report_data)));
  ASSERT_TRUE(got.tdx->tcb.has_value());
  EXPECT_LE(At(c.at), got.valid_until);
}

INSTANTIATE_TEST_SUITE_P(Manifest, RealVectorTest, ::testing::ValuesIn(kRealCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(TdxVerifierTest, DcapQvlClaimsInFull) {
  TdxVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"),
                      TestTdxCollateral("dcap-qvl-2025-06"), At("2025-07-19T10:00:34Z"));
  ASSERT_TRUE(claims.ok()) << claims.status();
  const nlohmann::ordered_json j = ClaimsToJson(*claims);
  EXPECT_EQ(j["tee"], "tdx");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["verified_at"], "2025-07-19T10:00:34Z");
  EXPECT_EQ(j["tcb_status"], "UpToDate");
  EXPECT_EQ(j["advisory_ids"].size(), 0u);
  EXPECT_EQ(j["debug"], false);
  // The earliest expiry: the PCK CRL's nextUpdate.
  EXPECT_EQ(j["valid_until"], "2025-07-19T10:00:35Z");
  EXPECT_EQ(j["report_data"],
            "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52"
            "493d6e44aed55d51ec39b7e518fadb92c2b523f20");
  const auto& t = j["tdx"];
  EXPECT_EQ(t["quote_version"], 4);
  EXPECT_EQ(t["rtmr0"],
            "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0");
  EXPECT_EQ(t["rtmr1"],
            "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378");
  EXPECT_EQ(t["rtmr3"], std::string(96, '0'));
  EXPECT_EQ(t["mrseam"],
            "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1");
  EXPECT_EQ(t["tee_tcb_svn"], "06010300000000000000000000000000");
  EXPECT_EQ(t["xfam"], "e702060000000000");
  EXPECT_EQ(t["fmspc"], "b0c06f000000");
  EXPECT_EQ(t["td_attributes_flags"]["sept_ve_disable"], true);
  EXPECT_EQ(t["td_attributes_flags"]["debug"], false);
  EXPECT_EQ(t["tdx_module_tcb_status"], "UpToDate");
  EXPECT_EQ(t["qe_tcb_status"], "UpToDate");
  EXPECT_EQ(t["tcb_date"], "2024-03-13T00:00:00Z");
  EXPECT_EQ(t["tcb_evaluation_data_number"], 17);
}

TEST(TdxVerifierTest, PckCertificateBeforeItsNotBeforeIsNamed) {
  absl::StatusOr<tdx::Quote> quote =
      tdx::ParseQuote(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"));
  ASSERT_TRUE(quote.ok());
  const std::shared_ptr<const TrustRoots> roots = BuiltInRoots();
  X509* root = *roots->Get(RootId::kIntelSgxRootCa);
  // The PCK certificate is valid from 2025-02-06T23:25:51Z.
  auto chain = tdx::VerifyPckChain(quote->certification.pck_chain_pem, root,
                                   At("2025-02-06T23:25:50Z"));
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(ReasonOf(chain.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StrContains(chain.status().message(),
                                "certificate 'Intel SGX PCK Certificate' (serial "))
      << chain.status();
  EXPECT_TRUE(absl::StrContains(chain.status().message(), "is not valid before 2025-02-06T23:25:51Z"));
  EXPECT_TRUE(tdx::VerifyPckChain(quote->certification.pck_chain_pem, root,
                                  At("2025-02-06T23:25:51Z"))
                  .ok());
}

TEST(TdxVerifierTest, ExpiredTcbSigningCertificateIsNamed) {
  // 2026 TCB info chained with the 2018 TCB Signing certificate, which expired on 2025-05-21:
  // Intel renewed it with the same key, and only the renewed one is valid in 2026.
  tdx::TdxCollateral c = TestTdxCollateral("dcap-qvl-2026-02");
  c.tcb_info_issuer_chain = ReadTestData("tdx/extra/oasis_tcb_signing_chain_2018.pem");
  TdxVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(
      ReadTestData("tdx/quotes/go-tdx-guest_quote_v5_sample.bin"), c, At("2026-03-20T10:41:14Z"));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "tcb_info_issuer_chain.pem: certificate 'Intel SGX TCB Signing'"))
      << claims.status();
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "expired at 2025-05-21T10:50:10Z"));
}

TEST(TdxVerifierTest, MissingCollateralItemIsNamed) {
  const char* kItems[] = {"tcb_info_response.json",     "qe_identity_response.json",
                          "pck_crl.der",                "root_ca_crl.der",
                          "tcb_info_issuer_chain.pem",  "qe_identity_issuer_chain.pem",
                          "pck_crl_issuer_chain.pem"};
  TdxVerifier verifier(BuiltInRoots());
  const std::string quote = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  // The names are written out here, not taken from kTdxCollateralItems, so that the table is
  // checked too: its member and file name must agree with these.
  ASSERT_EQ(std::size(kItems), std::size(tdx::kTdxCollateralItems));
  for (size_t i = 0; i < std::size(kItems); ++i) {
    tdx::TdxCollateral c = TestTdxCollateral("dcap-qvl-2025-06");
    (c.*tdx::kTdxCollateralItems[i].bytes).clear();
    absl::StatusOr<VerifiedClaims> claims = verifier.Verify(quote, c, At("2025-07-19T10:00:34Z"));
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_COLLATERAL_MISSING);
    EXPECT_EQ(claims.status().message(), absl::StrCat("tdx collateral: ", kItems[i], " is missing"));
  }
}

TEST(TdxVerifierTest, CollateralOfTheWrongKindIsRefused) {
  TdxVerifier verifier(BuiltInRoots());
  const std::string quote = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  tdx::TdxCollateral swapped = TestTdxCollateral("dcap-qvl-2025-06");
  std::swap(swapped.pck_crl, swapped.root_ca_crl);
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(quote, swapped, At("2025-07-19T10:00:34Z"));
  ASSERT_FALSE(claims.ok());
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "root_ca_crl.der: issued by a different CA"))
      << claims.status();

  tdx::TdxCollateral tampered = TestTdxCollateral("dcap-qvl-2025-06");
  tampered.tcb_info_response.replace(tampered.tcb_info_response.find("\"UpToDate\""), 10,
                                     "\"OutOfDate\"");
  claims = verifier.Verify(quote, tampered, At("2025-07-19T10:00:34Z"));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_BAD_SIGNATURE);
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "tcb_info_response.json: tcbInfo signature by 'Intel SGX TCB Signing'"))
      << claims.status();
}

TEST(TdxVerifierTest, TestRootsDoNotAcceptRealQuotes) {
  // Under a root that is not Intel's (the test TEE's), neither Intel's collateral nor the real
  // PCK chain verifies.
  auto tee = teeverify::testing::TdxTestTee::Create();
  ASSERT_TRUE(tee.ok());
  auto test_roots = TrustRoots::FromPem({{RootId::kIntelSgxRootCa, (*tee)->RootPem()}});
  ASSERT_TRUE(test_roots.ok());
  TdxVerifier verifier(*test_roots);
  const std::string quote = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(quote, TestTdxCollateral("dcap-qvl-2025-06"), At("2025-07-19T10:00:34Z"));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(),
            "root_ca_crl.der: issued by a different CA than 'Test SGX Root CA' (serial 01)");

  absl::StatusOr<tdx::TdxCollateral> test_collateral = (*tee)->MakeCollateral();
  ASSERT_TRUE(test_collateral.ok());
  claims = verifier.Verify(quote, *test_collateral, At("2025-07-19T10:00:34Z"));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "tdx quote pck chain: root 'Intel SGX Root CA' (serial "
                                "22650cd65a9d3489f383b49552bf501b392706ac) is not the pinned "
                                "'Test SGX Root CA'"))
      << claims.status();
}

}  // namespace
}  // namespace teeverify
