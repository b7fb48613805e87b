// SEV-SNP verification of the real reports with their real VCEK/VLEKs under the built-in AMD roots.
// Expected values are written out from ../shared/vectors/MANIFEST.md; verification times lie
// inside the certificates' validity (the MANIFEST's pinned times where upstream pins one).
#include "verifier/snp/snp_verifier.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/amd_chain.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify {
namespace {

using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;

std::string ReportFile(absl::string_view name) {
  return ReadTestData(absl::StrCat("sevsnp/reports/", name));
}
std::string CertFile(absl::string_view name) {
  return ReadTestData(absl::StrCat("sevsnp/certs/", name));
}

// Oak's tests pin 2025-10-01T08:00:00Z; every certificate below is valid then.
constexpr char kOakTime[] = "2025-10-01T08:00:00Z";

struct Good {
  const char* name;
  const char* report;
  const char* cert;
  const char* at;
  const char* product;
  const char* signing_key;
  const char* measurement;
  int bl, tee, snp, ucode;  // REPORTED_TCB
  const char* valid_until;  // the VCEK/VLEK's notAfter (earlier than the ASK's and ARK's)
  bool debug;
};

const Good kGood[] = {
    {"go_sev_guest_milan_v2", "go-sev-guest_attestation.bin", "go-sev-guest_vcek.der",
     "2022-09-24T01:00:00Z", "Milan", "vcek",
     "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
     2, 0, 5, 68, "2029-09-24T00:55:28Z", true},
    {"virtee_milan_v2", "virtee-sev_report_milan.bin", "virtee-sev_vcek_milan.der", kOakTime,
     "Milan", "vcek",
     "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
     3, 0, 8, 115, "2030-04-03T19:23:43Z", false},
    {"trustee_milan_v2", "trustee_test-report.bin", "trustee_test-vcek.der", kOakTime, "Milan",
     "vcek",
     "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
     3, 0, 8, 115, "2030-01-24T17:58:26Z", false},
    {"trustee_aws_vlek_milan_v3", "trustee_test-vlek-report.bin", "trustee_test-vlek.der",
     kOakTime, "Milan", "vlek",
     "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
     4, 0, 24, 217, "2025-12-10T22:14:21Z", false},
    {"trustee_e2e_genoa_v3", "trustee_e2e-report.bin", "trustee_e2e-vcek.der", kOakTime, "Genoa",
     "vcek",
     "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e",
     10, 0, 23, 25, "2032-05-27T17:57:03Z", false},
    {"oak_genoa_v5", "oak_genoa_oc_report.bin", "oak_genoa_oc_vcek.der", kOakTime, "Genoa", "vcek",
     "c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc",
     10, 0, 25, 84, "2032-08-07T17:21:41Z", false},
    {"oak_milan_oc_v3", "oak_milan_oc_release_report.bin", "oak_milan_oc_release_vcek.der",
     kOakTime, "Milan", "vcek",
     "195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3",
     4, 0, 24, 219, "2032-01-15T21:21:54Z", false},
    {"oak_milan_rk_v3", "oak_milan_rk_release_report.bin", "oak_milan_rk_release_vcek.der",
     kOakTime, "Milan", "vcek",
     "195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3",
     4, 0, 24, 219, "2032-01-15T23:04:19Z", false},
    // Azure: the SNP report cut out of the HCL report (bytes 32..1215); THIM's VCEK+ASK+ARK PEM.
    {"azure_milan_v2", "azure_milan_hcl_snp_report.bin", "azure_milan_vcek_ask_ark.pem", kOakTime,
     "Milan", "vcek",
     "9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c22944eb386d17c315",
     3, 0, 8, 115, "2030-05-02T21:22:19Z", false},
    {"azure_genoa_v3", "azure_genoa_hcl_snp_report.bin", "azure_genoa_vcek.pem", kOakTime, "Genoa",
     "vcek",
     "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
     10, 0, 23, 84, "2032-01-24T02:21:48Z", false},
};

class SnpRealReportVerifyTest : public ::testing::TestWithParam<Good> {};

TEST_P(SnpRealReportVerifyTest, VerifiesWithManifestValues) {
  const Good& c = GetParam();
  SnpVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims =
      verifier.Verify(ReportFile(c.report), CertFile(c.cert), At(c.at));
  ASSERT_TRUE(claims.ok()) << claims.status();
  const Claims& got = claims->claims();
  EXPECT_EQ(got.tee, TeeKind::kSevSnp);
  EXPECT_EQ(got.tcb_status, "NotApplicable");
  EXPECT_TRUE(got.advisory_ids.empty());
  EXPECT_EQ(got.debug, c.debug);
  EXPECT_EQ(got.verified_at, At(c.at));
  EXPECT_EQ(FormatRfc3339(got.valid_until), c.valid_until);
  ASSERT_TRUE(got.sev_snp.has_value());
  const snp::SnpClaims& s = *got.sev_snp;
  EXPECT_EQ(snp::ProductName(s.product), c.product);
  EXPECT_EQ(s.vlek ? "vlek" : "vcek", std::string(c.signing_key));
  EXPECT_EQ(HexEncode(s.measurement), c.measurement);
  EXPECT_EQ(s.reported_tcb.boot_loader, c.bl);
  EXPECT_EQ(s.reported_tcb.tee, c.tee);
  EXPECT_EQ(s.reported_tcb.snp, c.snp);
  EXPECT_EQ(s.reported_tcb.microcode, c.ucode);
  EXPECT_FALSE(s.reported_tcb.fmc.has_value());
  EXPECT_EQ(got.report_data.size(), 64u);
}

INSTANTIATE_TEST_SUITE_P(SnpManifest, SnpRealReportVerifyTest, ::testing::ValuesIn(kGood),
                         [](const auto& info) { return std::string(info.param.name); });

struct Bad {
  const char* name;
  const char* report;
  const char* cert;  // a file under sevsnp/certs; see the test for "" and "-"
  const char* extra_pem;  // appended to the certificate (a chain under sevsnp/chains), or ""
  const char* at;
  Reason reason;
  const char* expected;
};

const Bad kBad[] = {
    // trustee's synthetic VCEKs: VCEK-shaped, not signed by AMD.
    {"invalid_vcek_legacy", "trustee_test-report.bin", "trustee_test-vcek-invalid-legacy.der", "",
     kOakTime, v1::REASON_CERT_CHAIN_INVALID,
     "sev-snp VCEK chain: certificate 'SEV-VCEK' (serial 00) signature does not verify under "
     "'SEV-Milan'"},
    {"invalid_vcek_new", "trustee_test-report.bin", "trustee_test-vcek-invalid-new.der", "",
     kOakTime, v1::REASON_CERT_CHAIN_INVALID,
     "sev-snp VCEK chain: certificate 'SEV-VCEK' (serial 00) signature does not verify under "
     "'SEV-Milan'"},
    // Another chip's VCEK at the very same TCB (bl 3, tee 0, snp 8, ucode 115).
    {"other_chips_vcek", "trustee_test-report.bin", "virtee-sev_vcek_milan.der", "", kOakTime,
     v1::REASON_PLATFORM_MISMATCH,
     "sev-snp: the VCEK's hwID d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7a"
     "f38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6 is not the report's CHIP_ID "
     "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadf"
     "b4426205a3b9e4fea82301135a170e477524e: the VCEK belongs to another chip"},
    // A Milan report (CPUID family 19h model 01h) against Genoa's chain, three ways.
    {"milan_report_genoa_vcek", "oak_milan_oc_release_report.bin", "oak_genoa_oc_vcek.der", "",
     kOakTime, v1::REASON_PLATFORM_MISMATCH,
     "sev-snp: the report comes from a Milan processor (CPUID family 0x19 model 0x1) but the VCEK "
     "is for Genoa (productName \"Genoa\")"},
    {"milan_vcek_genoa_ask_ark", "oak_milan_oc_release_report.bin", "", "ask_ark_genoa.pem",
     kOakTime, v1::REASON_CERT_CHAIN_INVALID,
     "sev-snp certificate chain: the ARK carried with the evidence, 'ARK-Genoa' (serial 020000), "
     "is not the trusted Milan root 'ARK-Milan'"},
    {"milan_v2_report_genoa_vcek", "trustee_test-report.bin", "trustee_e2e-vcek.der", "", kOakTime,
     v1::REASON_PLATFORM_MISMATCH, "sev-snp: the VCEK's hwID 371c55d6"},
    // The VLEK's one-year validity: 2024-12-10T22:14:21Z .. 2025-12-10T22:14:21Z.
    {"vlek_expired", "trustee_test-vlek-report.bin", "trustee_test-vlek.der", "",
     "2025-12-10T22:14:22Z", v1::REASON_EXPIRED,
     "sev-snp VLEK chain: certificate 'SEV-VLEK' (serial 00) expired at 2025-12-10T22:14:21Z "
     "(verification time 2025-12-10T22:14:22Z)"},
    {"vcek_not_yet_valid", "go-sev-guest_attestation.bin", "go-sev-guest_vcek.der", "",
     "2022-09-24T00:55:27Z", v1::REASON_EXPIRED,
     "sev-snp VCEK chain: certificate 'SEV-VCEK' (serial 00) is not valid before "
     "2022-09-24T00:55:28Z"},
    {"vlek_report_with_vcek", "trustee_test-vlek-report.bin", "trustee_test-vcek.der", "",
     kOakTime, v1::REASON_CERT_CHAIN_INVALID,
     "sev-snp: the report is signed by the VLEK but the certificate given for it is 'SEV-VCEK' "
     "(serial 00), not a 'SEV-VLEK'"},
    {"kds_chain_as_cert", "trustee_test-report.bin", "-", "ask_ark_milan.pem", kOakTime,
     v1::REASON_CERT_CHAIN_INVALID,
     "sev-snp: the report is signed by the VCEK but the certificate given for it is 'SEV-Milan'"},
    {"no_certificate", "trustee_test-report.bin", "", "", kOakTime, v1::REASON_COLLATERAL_MISSING,
     "sev-snp: the report is signed by the VCEK (SIGNING_KEY 0) and no VCEK certificate was given"},
    {"turin_vcek_for_milan_report", "oak_milan_oc_release_report.bin", "virtee-sev_vcek_turin.der",
     "", kOakTime, v1::REASON_PLATFORM_MISMATCH,
     "sev-snp: the report comes from a Milan processor (CPUID family 0x19 model 0x1) but the VCEK "
     "is for Turin"},
};

class SnpRealReportRejectTest : public ::testing::TestWithParam<Bad> {};

TEST_P(SnpRealReportRejectTest, RejectedNamingTheCheck) {
  const Bad& c = GetParam();
  // cert "": none (or, with a chain, Oak's Milan VCEK); "-": the chain alone.
  const std::string cert_name = c.cert;
  std::string cert = !cert_name.empty() && cert_name != "-" ? CertFile(cert_name) : "";
  if (*c.extra_pem) {
    if (cert_name.empty()) cert = CertFile("oak_milan_oc_release_vcek.der");
    std::string leaf_pem;
    if (!cert.empty()) {
      absl::StatusOr<X509Ptr> leaf = ParseCertificate(cert, "leaf");
      ASSERT_TRUE(leaf.ok());
      leaf_pem = ::teeverify::testing::CertificatePem(leaf->get());
    }
    cert = leaf_pem + ReadTestData(absl::StrCat("sevsnp/chains/", c.extra_pem));
  }
  SnpVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(ReportFile(c.report), cert, At(c.at));
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), c.reason) << claims.status();
  EXPECT_TRUE(absl::StrContains(claims.status().message(), c.expected)) << claims.status();
}

INSTANTIATE_TEST_SUITE_P(SnpManifest, SnpRealReportRejectTest, ::testing::ValuesIn(kBad),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SnpVerifierTest, Genoa5ClaimsInFull) {
  SnpVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(
      ReportFile("oak_genoa_oc_report.bin"), CertFile("oak_genoa_oc_vcek.der"), At(kOakTime));
  ASSERT_TRUE(claims.ok()) << claims.status();
  const nlohmann::ordered_json j = ClaimsToJson(*claims);
  EXPECT_EQ(j["tee"], "sev-snp");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["tcb_status"], "NotApplicable");
  EXPECT_EQ(j["debug"], false);
  EXPECT_EQ(j["valid_until"], "2032-08-07T17:21:41Z");
  EXPECT_EQ(j["report_data"],
            "8100555af0ad8e7525be6dffeed0af83e30bbacbf03b76e175e6894d1ed057ce" + std::string(64, '0'));
  const auto& s = j["sev_snp"];
  EXPECT_EQ(s["version"], 5);
  EXPECT_EQ(s["product"], "Genoa");
  EXPECT_EQ(s["signing_key"], "vcek");
  EXPECT_EQ(s["vmpl"], 0);
  EXPECT_EQ(s["policy"]["value"], "0x30000");
  EXPECT_EQ(s["policy"]["smt"], true);
  EXPECT_EQ(s["policy"]["debug"], false);
  EXPECT_EQ(s["policy"]["migrate_ma"], false);
  EXPECT_EQ(s["policy"]["single_socket"], false);
  EXPECT_EQ(s["guest_svn"], 0);
  EXPECT_EQ(s["report_id"], "e3439f6d05c064ee59d73088059246b9f7e6ae68e7eba9874e68a3f66e83aaa0");
  EXPECT_EQ(s["report_id_ma"], std::string(64, 'f'));
  EXPECT_EQ(s["chip_id"],
            "d2421d976f95ce0ba849b7cc5c789122f1e59c77a037272c137ae4d188bb102adbc7c53d0302bff82a432c94"
            "a305dec7a7a270ceb19a10f04a83316c6486968d");
  EXPECT_EQ(s["platform_info"]["value"], "0x25");
  EXPECT_EQ(s["platform_info"]["smt_enabled"], true);
  EXPECT_EQ(s["platform_info"]["ecc_enabled"], true);
  EXPECT_EQ(s["platform_info"]["alias_check_complete"], true);
  for (const char* tcb : {"current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"}) {
    EXPECT_EQ(s[tcb]["raw"], "0x541900000000000a") << tcb;
    EXPECT_EQ(s[tcb]["boot_loader"], 10) << tcb;
    EXPECT_EQ(s[tcb]["tee"], 0) << tcb;
    EXPECT_EQ(s[tcb]["snp"], 25) << tcb;
    EXPECT_EQ(s[tcb]["microcode"], 84) << tcb;
    EXPECT_FALSE(s[tcb].contains("fmc")) << tcb;
  }
  EXPECT_EQ(s["current_firmware"], "1.55.43");
  EXPECT_EQ(s["cpuid"]["family"], "0x19");
  EXPECT_EQ(s["cpuid"]["model"], "0x11");
  EXPECT_EQ(s["launch_mit_vector"], "0x1");
  EXPECT_EQ(s["current_mit_vector"], "0x1");
  for (const char* key : {"family_id", "image_id", "measurement", "host_data", "id_key_digest",
                          "author_key_digest"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
}

TEST(SnpVerifierTest, VlekClaimsNameTheCloud) {
  SnpVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(
      ReportFile("trustee_test-vlek-report.bin"), CertFile("trustee_test-vlek.der"), At(kOakTime));
  ASSERT_TRUE(claims.ok()) << claims.status();
  const snp::SnpClaims& s = *claims->claims().sev_snp;
  EXPECT_TRUE(s.vlek);
  EXPECT_EQ(s.vmpl, 1u);
  EXPECT_EQ(s.csp_id, "CN=cc-us-east-2.amazonaws.com");
  // MANIFEST: current_tcb ucode 220, reported 217, committed and launch 219.
  EXPECT_EQ(s.current_tcb.microcode, 220);
  EXPECT_EQ(s.committed_tcb.microcode, 219);
  EXPECT_EQ(s.launch_tcb.microcode, 219);
  EXPECT_TRUE(IsAllZero(s.chip_id));
}

TEST(SnpVerifierTest, TurinVcekChainsToTheBuiltInTurinArk) {
  // No Turin report exists among the vectors; the Turin VCEK's chain is checked on its own.
  absl::StatusOr<X509Ptr> vcek =
      ParseCertificate(CertFile("virtee-sev_vcek_turin.der"), "turin vcek");
  ASSERT_TRUE(vcek.ok());
  absl::StatusOr<ValidityWindow> window = snp::VerifyAmdChain(
      *BuiltInRoots(), snp::Product::kTurin, /*vlek=*/false, {vcek->get()}, At(kOakTime));
  ASSERT_TRUE(window.ok()) << window.status();
  EXPECT_EQ(FormatRfc3339(window->not_after), "2031-11-06T21:14:00Z");
  absl::StatusOr<ValidityWindow> as_milan = snp::VerifyAmdChain(
      *BuiltInRoots(), snp::Product::kMilan, /*vlek=*/false, {vcek->get()}, At(kOakTime));
  ASSERT_FALSE(as_milan.ok());
  EXPECT_EQ(ReasonOf(as_milan.status()), v1::REASON_CERT_CHAIN_INVALID);
}

TEST(SnpVerifierTest, InspectShowsWithoutVerifying) {
  absl::StatusOr<Claims> claims =
      SnpVerifier::Inspect(ReportFile("trustee_test-report.bin"), At(kOakTime));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->tcb_status, "");
  EXPECT_EQ(HexEncode(claims->sev_snp->measurement),
            "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f"
            "9050d3d38c");
  ASSERT_EQ(claims->warnings.size(), 1u);
  EXPECT_TRUE(absl::StrContains(claims->warnings[0], "the product is not known"));
  EXPECT_TRUE(LooksLikeSnpEvidence(ReportFile("trustee_test-report.bin")));
}

}  // namespace
}  // namespace teeverify
