// SEV-SNP verification of single mutations of real reports and of their certificate sources
// (Oak's Milan v3 report and VCEK under the built-in AMD roots): every byte flip, TCB reserved
// bits, certificates carried in the evidence, wrong ASKs and misconfigured roots.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify {
namespace {

using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;

constexpr char kOakTime[] = "2025-10-01T08:00:00Z";

std::string ReportFile(absl::string_view name) {
  return ReadTestData(absl::StrCat("sevsnp/reports/", name));
}
std::string CertFile(absl::string_view name) {
  return ReadTestData(absl::StrCat("sevsnp/certs/", name));
}

TEST(SnpMutationTest, EvidenceCarryingItsCertificates) {
  const std::string report = ReportFile("oak_milan_oc_release_report.bin");
  const std::string vcek = CertFile("oak_milan_oc_release_vcek.der");
  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParsePemCertificates(ReadTestData("sevsnp/chains/ask_ark_milan.pem"), "chain");
  ASSERT_TRUE(chain.ok());
  const std::string table = snp::SerializeCertTable(
      {{snp::kVcekGuid, vcek},
       {snp::kAskGuid, CertificateDer((*chain)[0].get())},
       {snp::kArkGuid, CertificateDer((*chain)[1].get())}});
  SnpVerifier verifier(BuiltInRoots());
  EXPECT_TRUE(verifier.Verify(report + table, "", At(kOakTime)).ok());
  // The same VCEK given twice is fine; a different one is a conflict.
  EXPECT_TRUE(verifier.Verify(report + table, vcek, At(kOakTime)).ok());
  absl::StatusOr<VerifiedClaims> conflict =
      verifier.Verify(report + table, CertFile("oak_milan_rk_release_vcek.der"), At(kOakTime));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().message(),
            "sev-snp: the VCEK given with --cert differs from the one in the evidence's "
            "certificate table");
  // A table with only the VLEK for a VCEK-signed report.
  const std::string vlek_table = snp::SerializeCertTable({{snp::kVlekGuid, vcek}});
  absl::StatusOr<VerifiedClaims> missing =
      verifier.Verify(report + vlek_table, "", At(kOakTime));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ReasonOf(missing.status()), v1::REASON_COLLATERAL_MISSING);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "the table carries a VLEK instead"));
}

TEST(SnpMutationTest, AskInTheTableMustBeAmdsPinnedAsk) {
  // The Genoa ASK in the table of a Milan report: refused before any chain building.
  absl::StatusOr<std::vector<X509Ptr>> genoa =
      ParsePemCertificates(ReadTestData("sevsnp/chains/ask_ark_genoa.pem"), "chain");
  ASSERT_TRUE(genoa.ok());
  const std::string table =
      snp::SerializeCertTable({{snp::kVcekGuid, CertFile("oak_milan_oc_release_vcek.der")},
                               {snp::kAskGuid, CertificateDer((*genoa)[0].get())}});
  SnpVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReportFile("oak_milan_oc_release_report.bin") + table, "", At(kOakTime));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "the ASK carried with the evidence, 'SEV-Genoa' (serial "))
      << claims.status();
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "is not AMD's SEV-Milan (pinned SHA-256 "
                                "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b)"))
      << claims.status();
}

TEST(SnpMutationTest, GenoaArkConfiguredAsMilanRootIsRefused) {
  absl::StatusOr<std::vector<X509Ptr>> genoa =
      ParsePemCertificates(ReadTestData("sevsnp/chains/ask_ark_genoa.pem"), "chain");
  ASSERT_TRUE(genoa.ok());
  auto roots = TrustRoots::FromPem(
      {{RootId::kAmdArkMilan, ::teeverify::testing::CertificatePem((*genoa)[1].get())}});
  ASSERT_TRUE(roots.ok());
  SnpVerifier verifier(*roots);
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReportFile("oak_milan_oc_release_report.bin"),
                      CertFile("oak_milan_oc_release_vcek.der"), At(kOakTime));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(),
            "sev-snp certificate chain: the root configured for Milan is AMD's ARK-Genoa, the ARK "
            "of Genoa");
}

TEST(SnpMutationTest, ReservedTcbBitsMustMatchTheVcek) {
  // Byte 0x182 is inside REPORTED_TCB's reserved bits 47:16 on Milan; the VCEK says zero.
  std::string report = ReportFile("oak_milan_oc_release_report.bin");
  report[0x182] = '\x01';
  SnpVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(report, CertFile("oak_milan_oc_release_vcek.der"), At(kOakTime));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_PLATFORM_MISMATCH);
  EXPECT_EQ(claims.status().message(),
            "sev-snp: REPORTED_TCB 0xdb18000000010004 sets reserved bits; the VCEK's TCB is "
            "0xdb18000000000004");
  // And a component: blSPL 4 in the VCEK, boot_loader 5 in the report (trustee flips byte 384).
  report = ReportFile("oak_milan_oc_release_report.bin");
  report[0x180] = '\x05';
  claims = verifier.Verify(report, CertFile("oak_milan_oc_release_vcek.der"), At(kOakTime));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(),
            "sev-snp: the VCEK's TCB is not the report's REPORTED_TCB 0xdb18000000000005 "
            "(blSPL/boot_loader 4 vs 5)");
}

TEST(SnpMutationTest, EveryByteFlipIsRejected) {
  const std::string good = ReportFile("oak_milan_oc_release_report.bin");
  const std::string vcek = CertFile("oak_milan_oc_release_vcek.der");
  SnpVerifier verifier(BuiltInRoots());
  ASSERT_TRUE(verifier.Verify(good, vcek, At(kOakTime)).ok());
  std::map<Reason, int> reasons;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string flipped = good;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    absl::StatusOr<VerifiedClaims> claims = verifier.Verify(flipped, vcek, At(kOakTime));
    ASSERT_FALSE(claims.ok()) << "byte " << i;
    ++reasons[ReasonOf(claims.status())];
    // Measurement, REPORT_DATA and the 48 used bytes of R and S are covered by the signature.
    const bool signed_data = (i >= 0x50 && i < 0xc0);
    const bool sig_value = (i >= 0x2a0 && i < 0x2a0 + 48) || (i >= 0x2e8 && i < 0x2e8 + 48);
    if (signed_data || sig_value) {
      EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_BAD_SIGNATURE) << "byte " << i;
    }
  }
  // Flips land as bad signatures, malformed layouts, and platform mismatches (CHIP_ID, TCB).
  EXPECT_GT(reasons[v1::REASON_BAD_SIGNATURE], 0);
  EXPECT_GT(reasons[v1::REASON_MALFORMED_EVIDENCE], 0);
  EXPECT_GT(reasons[v1::REASON_PLATFORM_MISMATCH], 0);
}

}  // namespace
}  // namespace teeverify
