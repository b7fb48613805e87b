// TDX verification against the test TEE (test CAs shaped like Intel's), for what no real vector
// covers: revocations, each collateral item outside its window, wrong roots, edited quotes.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/time_util.h"
#include "verifier/io/files.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::TdxTestOptions;
using ::teeverify::testing::TdxTestTee;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

struct Fixture {
  std::unique_ptr<TdxTestTee> tee;
  std::string quote;
  tdx::TdxCollateral collateral;
  std::unique_ptr<TdxVerifier> verifier;
};

Fixture Make(const TdxTestOptions& options = {}) {
  Fixture f;
  auto tee = TdxTestTee::Create(options);
  EXPECT_TRUE(tee.ok()) << tee.status();
  f.tee = *std::move(tee);
  auto quote = f.tee->MakeQuote(f.tee->DefaultReport());
  EXPECT_TRUE(quote.ok()) << quote.status();
  f.quote = *quote;
  auto collateral = f.tee->MakeCollateral();
  EXPECT_TRUE(collateral.ok()) << collateral.status();
  f.collateral = *collateral;
  auto roots = TrustRoots::FromPem({{RootId::kIntelSgxRootCa, f.tee->RootPem()}});
  EXPECT_TRUE(roots.ok()) << roots.status();
  f.verifier = std::make_unique<TdxVerifier>(*roots);
  return f;
}

TEST(TdxSyntheticTest, TestQuoteVerifiesUnderTestRootsOnly) {
  Fixture f = Make();
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->claims().tcb_status, "UpToDate");
  EXPECT_EQ(claims->claims().tdx->body.mr_td, f.tee->DefaultReport().mr_td);

  // With the built-in roots, neither the test collateral nor the test PCK chain verifies.
  TdxVerifier production(*TrustRoots::BuiltIn());
  absl::StatusOr<VerifiedClaims> refused = production.Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "root_ca_crl.der: issued by a different CA than 'Intel SGX Root CA' (serial "
            "22650cd65a9d3489f383b49552bf501b392706ac)");
  absl::StatusOr<tdx::TdxCollateral> intel = LoadTdxCollateralDir(
      ::teeverify::testing::TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  ASSERT_TRUE(intel.ok());
  refused = production.Verify(f.quote, *intel, At("2025-07-19T10:00:34Z"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ReasonOf(refused.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                "root 'Test SGX Root CA' (serial 01) is not the pinned 'Intel SGX "
                                "Root CA'"))
      << refused.status();
}

TEST(TdxSyntheticTest, Version5WithTdx15Body) {
  Fixture f = Make();
  tdx::TdReport report = f.tee->DefaultReport();
  report.is_tdx15 = true;
  report.tee_tcb_svn2 = report.tee_tcb_svn;
  report.mr_service_td.fill(0x5d);
  absl::StatusOr<std::string> quote = f.tee->MakeQuote(report, tdx::kQuoteVersion5);
  ASSERT_TRUE(quote.ok());
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(*quote, f.collateral, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->claims().tdx->header.version, 5);
  EXPECT_EQ(claims->claims().tdx->body.mr_service_td, report.mr_service_td);
}

TEST(TdxSyntheticTest, RevokedPckCertificate) {
  TdxTestOptions options;
  options.revoke_pck = true;
  Fixture f = Make(options);
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_REVOKED);
  EXPECT_EQ(claims.status().message(),
            "certificate 'Test SGX PCK Certificate' (serial 04) is revoked by pck_crl.der");
}

TEST(TdxSyntheticTest, RevokedPckCa) {
  TdxTestOptions options;
  options.revoke_pck_ca = true;
  Fixture f = Make(options);
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_REVOKED);
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "certificate 'Test SGX PCK Platform CA' (serial 02) is revoked by "
                                "root_ca_crl.der"))
      << claims.status();
}

// Each collateral item alone expires at kNow - 1s, or is issued at kNow + 1s.
struct WindowCase {
  const char* name;
  ValidityWindow TdxTestOptions::*item;
  const char* named;
};

class CollateralWindowTest : public ::testing::TestWithParam<WindowCase> {};

TEST_P(CollateralWindowTest, ExpiredItemIsNamed) {
  TdxTestOptions options;
  (options.*GetParam().item).not_after = kNow - absl::Seconds(1);
  Fixture f = Make(options);
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StartsWith(claims.status().message(), GetParam().named)) << claims.status();
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "expired at 2025-12-31T23:59:59Z"));
  // One second earlier, the same collateral verifies.
  EXPECT_TRUE(f.verifier->Verify(f.quote, f.collateral, kNow - absl::Seconds(1)).ok());
}

TEST_P(CollateralWindowTest, NotYetValidItemIsNamed) {
  TdxTestOptions options;
  (options.*GetParam().item).not_before = kNow + absl::Seconds(1);
  Fixture f = Make(options);
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StartsWith(claims.status().message(), GetParam().named)) << claims.status();
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "is not valid before 2026-01-01T00:00:01Z"));
}

INSTANTIATE_TEST_SUITE_P(
    Items, CollateralWindowTest,
    ::testing::Values(WindowCase{"tcb_info", &TdxTestOptions::tcb_info, "tcb_info_response.json"},
                      WindowCase{"qe_identity", &TdxTestOptions::qe_identity,
                                 "qe_identity_response.json"},
                      WindowCase{"pck_crl", &TdxTestOptions::pck_crl, "pck_crl.der"},
                      WindowCase{"root_ca_crl", &TdxTestOptions::root_ca_crl, "root_ca_crl.der"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(TdxSyntheticTest, ExpiredCertificatesAreNamed) {
  TdxTestOptions options;
  options.certificates.not_after = kNow - absl::Seconds(1);
  options.tcb_info.not_before = options.qe_identity.not_before = options.pck_crl.not_before =
      options.root_ca_crl.not_before = kNow - absl::Hours(24 * 30);
  Fixture f = Make(options);
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "certificate 'Test SGX"))
      << claims.status();
}

TEST(TdxSyntheticTest, OutOfDatePlatformVerifiesWithItsStatusAndAdvisories) {
  TdxTestOptions options;
  Fixture f = Make(options);
  tdx::TdReport report = f.tee->DefaultReport();
  report.tee_tcb_svn[2] = 2;  // reaches only the OutOfDate level of the test TCB info
  absl::StatusOr<std::string> quote = f.tee->MakeQuote(report);
  ASSERT_TRUE(quote.ok());
  // The OutOfDate level also needs a lower SGX TCB: only byte 2 differs, so both levels match
  // the SGX part and the TDX part picks the second.
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(*quote, f.collateral, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->claims().tcb_status, "OutOfDate");
  EXPECT_EQ(claims->claims().advisory_ids,
            std::vector<std::string>({"INTEL-SA-TEST-0001", "INTEL-SA-TEST-0002"}));
}

TEST(TdxSyntheticTest, DebugTdIsReported) {
  Fixture f = Make();
  tdx::TdReport report = f.tee->DefaultReport();
  report.td_attributes[0] |= 1;
  absl::StatusOr<VerifiedClaims> claims =
      f.verifier->Verify(*f.tee->MakeQuote(report), f.collateral, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_TRUE(claims->claims().debug);
}

TEST(TdxSyntheticTest, QeReportThatDoesNotBindTheAttestationKey) {
  Fixture f = Make();
  absl::StatusOr<tdx::Quote> q = f.tee->MakeQuoteStruct(f.tee->DefaultReport());
  ASSERT_TRUE(q.ok());
  q->certification.qe_auth_data = std::string(32, '\x43');  // QE report still hashes 0x42s
  absl::StatusOr<VerifiedClaims> claims =
      f.verifier->Verify(tdx::SerializeQuote(*q), f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_BAD_SIGNATURE);
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "does not bind the attestation key"));
}

TEST(TdxSyntheticTest, TcbInfoOfAnotherPlatform) {
  Fixture f = Make();
  std::string body = f.tee->TcbInfoBody();
  body.replace(body.find("\"fmspc\":\"00906ed50000\""), 22, "\"fmspc\":\"50906ed50000\"");
  absl::StatusOr<std::string> other = f.tee->SignTcbInfo(body);
  ASSERT_TRUE(other.ok());
  f.collateral.tcb_info_response = *other;
  absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(f.quote, f.collateral, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_PLATFORM_MISMATCH);
  EXPECT_EQ(claims.status().message(),
            "PCK certificate FMSPC 00906ed50000 does not match tcb_info_response.json FMSPC "
            "50906ed50000");
}

// Every byte of the quote flipped, one at a time: nothing verifies, except flips that leave the
// decoded PCK certificates unchanged (unused bits of the PEM's base64 padding).
TEST(TdxSyntheticTest, EveryByteFlipIsRejected) {
  Fixture f = Make();
  absl::StatusOr<tdx::Quote> original = tdx::ParseQuote(f.quote);
  ASSERT_TRUE(original.ok());
  auto roots = TrustRoots::FromPem({{RootId::kIntelSgxRootCa, f.tee->RootPem()}});
  ASSERT_TRUE(roots.ok());
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> collateral =
      tdx::VerifyTdxCollateral(f.collateral, *(*roots)->Get(RootId::kIntelSgxRootCa), kNow);
  ASSERT_TRUE(collateral.ok()) << collateral.status();
  size_t accepted_same_certs = 0;
  for (size_t i = 0; i < f.quote.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string mutated = f.quote;
      mutated[i] = static_cast<char>(mutated[i] ^ mask);
      absl::StatusOr<VerifiedClaims> claims = f.verifier->Verify(mutated, **collateral, kNow);
      if (!claims.ok()) continue;
      // Accepted: only possible if the flip is in the PEM text and changes no certificate.
      absl::StatusOr<tdx::Quote> parsed = tdx::ParseQuote(mutated);
      ASSERT_TRUE(parsed.ok());
      ASSERT_NE(parsed->certification.pck_chain_pem, original->certification.pck_chain_pem)
          << "flip at " << i << " accepted outside the PEM chain";
      auto a = ParsePemCertificates(parsed->certification.pck_chain_pem, "a");
      auto b = ParsePemCertificates(original->certification.pck_chain_pem, "b");
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size());
      for (size_t k = 0; k < a->size(); ++k) {
        ASSERT_EQ(X509_cmp((*a)[k].get(), (*b)[k].get()), 0) << "flip at " << i;
      }
      ++accepted_same_certs;
    }
  }
  EXPECT_LT(accepted_same_certs, 16u);
}

}  // namespace
}  // namespace teeverify
