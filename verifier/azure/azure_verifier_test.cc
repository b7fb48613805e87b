// Azure confidential VM evidence (trustee's az-snp-vtpm / az-tdx-vtpm vectors, tests/data/azure,
// PROVENANCE.md there) verified through EvidenceVerifier with --tee auto detection and the
// built-in vendor roots. Expected values are written out from the vectors (the MANIFEST pins no
// time for them; 2025-10-01T08:00:00Z lies inside every certificate's validity).
#include "verifier/azure/azure_verifier.h"

#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/azure/azure_evidence.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"
#include "verifier/evidence.h"
#include "verifier/testing/snp_test_tee.h"

namespace teeverify {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::ReadTestData;

constexpr char kAt[] = "2025-10-01T08:00:00Z";
constexpr char kZero32[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kOnes32[] = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

// PCRs 0-23 (SHA-256 bank) of the az-snp-vtpm evidence-v1.json quote.
const char* const kSnpV1Pcrs[24] = {
    "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced",
    "7d81f145b4e06122a02048a39c4eb5832c3e4dd1d13abef1d802f5ad8d4f26e5",
    "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
    "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
    "eee70c86ea856a27719a2127d6090f02e100e2947c16a0d6a355f7294382992f",
    "8f45749bf76ed2929377ba7c0c49df91a51ebefa4c261e6ea18676650171cb8c",
    "560c94915ec0d8a2e8144ac18b44ac6e6a6695e6144fe27355bd50fc4b5ed8f4",
    "3b20e022416fdf61d72e4da32b4354781be3de0608116976d28ffdad8c341d2a",
    kZero32,
    "539953cab86d2b3d2fee41dd7e2e698730a5fcf2ce5fe3b9bd9a4efce5e0e4d1",
    "2a4cb11d5a73f560b9fb42faa2da165562c9499051fddc79979e6da8d33b7f22",
    kZero32,
    "f1a142c53586e7e2223ec74e5f4d1a4942956b1fd9ac78fafcdf85117aa345da",
    kZero32,
    "306f9d8b94f17d93dc6e7cf8f5c79d652eb4c6c4d13de2dddc24af416e13ecaf",
    kZero32, kZero32, kOnes32, kOnes32, kOnes32, kOnes32, kOnes32, kOnes32, kZero32,
};

std::string Evidence(absl::string_view name) {
  return ReadTestData(absl::StrCat("azure/", name));
}

absl::StatusOr<VerifiedClaims> VerifyAt(const std::string& evidence, absl::string_view at,
                                        std::optional<std::string> expected = std::nullopt,
                                        const TdxCollateralProvider* provider = nullptr) {
  EvidenceVerifier verifier(BuiltInRoots());
  EvidenceRequest request;
  request.evidence = evidence;
  request.now = At(at);
  request.expected_report_data = std::move(expected);
  request.tdx_collateral_provider = provider;
  return verifier.Verify(request);
}

TEST(AzureVerifier, DetectsBothKindsFromTheHclReport) {
  EXPECT_EQ(*DetectTee(Evidence("az-snp-vtpm-evidence-v1.json")), TeeKind::kAzSnpVtpm);
  EXPECT_EQ(*DetectTee(Evidence("az-snp-vtpm-evidence-v2.json")), TeeKind::kAzSnpVtpm);
  EXPECT_EQ(*DetectTee(Evidence("az-tdx-vtpm-evidence-v1.json")), TeeKind::kAzTdxVtpm);
}

TEST(AzureVerifier, RealSnpEvidenceVerifiesWithItsPcrsAndReport) {
  absl::StatusOr<VerifiedClaims> verified =
      VerifyAt(Evidence("az-snp-vtpm-evidence-v1.json"), kAt, std::string("challenge"));
  ASSERT_TRUE(verified.ok()) << verified.status();
  const Claims& c = verified->claims();
  EXPECT_EQ(c.tee, TeeKind::kAzSnpVtpm);
  EXPECT_EQ(c.report_data, "challenge");  // the TPM quote's extraData (trustee's test nonce)
  EXPECT_EQ(c.tcb_status, kTcbStatusNotApplicable);
  EXPECT_FALSE(c.debug);
  EXPECT_EQ(FormatRfc3339(c.valid_until), "2032-01-28T16:26:55Z");  // the VCEK's notAfter
  ASSERT_TRUE(c.sev_snp.has_value());
  // The paravisor's launch measurement, not the guest image's.
  EXPECT_EQ(HexEncode(c.sev_snp->measurement),
            "6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959"
            "f4aeb2f9401e");
  EXPECT_EQ(c.sev_snp->guest_svn, 10u);
  EXPECT_EQ(c.sev_snp->vmpl, 0u);
  ASSERT_TRUE(c.azure.has_value());
  EXPECT_EQ(HexEncode(c.azure->hardware_report_data),
            absl::StrCat("af2910341dd8108360e485f1b72494255190b9cdd5ccb44b73b883037cf99f21",
                         kZero32));
  ASSERT_EQ(c.azure->pcrs.size(), 24u);
  for (uint32_t i = 0; i < 24; ++i) {
    EXPECT_EQ(HexEncode(c.azure->pcrs.at(i)), kSnpV1Pcrs[i]) << "PCR " << i;
  }
  EXPECT_EQ(c.azure->vm_id, "26F8BC30-774E-4290-8E7A-535F3B672AEE");
  const std::map<std::string, bool> flags = {
      {"console-enabled", true}, {"secure-boot", true}, {"tpm-enabled", true}};
  EXPECT_EQ(c.azure->vm_flags, flags);
  EXPECT_EQ(c.azure->user_data, std::string(64, '\0'));

  const nlohmann::ordered_json j = ClaimsToJson(*verified);
  EXPECT_EQ(j["tee"], "az-snp-vtpm");
  EXPECT_EQ(j["azure"]["pcrs"]["7"], kSnpV1Pcrs[7]);
  EXPECT_EQ(j["azure"]["vm_configuration"]["secure-boot"], true);
  EXPECT_EQ(j["sev_snp"]["measurement"], HexEncode(c.sev_snp->measurement));
}

TEST(AzureVerifier, RealSnpEvidenceVersion2Verifies) {
  absl::StatusOr<VerifiedClaims> verified = VerifyAt(Evidence("az-snp-vtpm-evidence-v2.json"), kAt);
  ASSERT_TRUE(verified.ok()) << verified.status();
  const Claims& c = verified->claims();
  EXPECT_EQ(HexEncode(c.report_data),
            "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd"
            "0fd9f5f819ef");
  EXPECT_EQ(HexEncode(c.sev_snp->measurement),
            "5b0ce64ad1c1f6375dbda5f760b98526ca1bcf91b8195091afc28e7b024251d68fe32e05af34048d6607"
            "678cd23283ff");
  EXPECT_EQ(c.azure->vm_id, "7DF7B373-B947-4AAA-96E5-C358F2A03D20");
}

TEST(AzureVerifier, TheNonceIsTheQuotesExtraData) {
  absl::StatusOr<VerifiedClaims> verified =
      VerifyAt(Evidence("az-snp-vtpm-evidence-v1.json"), kAt, std::string("challengf"));
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_NONCE_MISMATCH) << verified.status();
}

TEST(AzureVerifier, SnpEvidenceBeforeItsVcekIsValidIsRefused) {
  absl::StatusOr<VerifiedClaims> verified =
      VerifyAt(Evidence("az-snp-vtpm-evidence-v1.json"), "2024-06-01T00:00:00Z");
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_EXPIRED) << verified.status();
  EXPECT_TRUE(absl::StrContains(verified.status().message(), "az-snp-vtpm hardware report"));
}

TEST(AzureVerifier, ARequestedKindMustMatchTheHclReport) {
  const std::string evidence = Evidence("az-tdx-vtpm-evidence-v1.json");
  EvidenceVerifier verifier(BuiltInRoots());
  EvidenceRequest request;
  request.evidence = evidence;
  request.tee = TeeKind::kAzSnpVtpm;
  request.now = At(kAt);
  absl::StatusOr<VerifiedClaims> verified = verifier.Verify(request);
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_UNSUPPORTED_FORMAT) << verified.status();
  EXPECT_TRUE(absl::StrContains(verified.status().message(), "not az-snp-vtpm"));
}

// Test roots (tee-verifierd --test-roots) apply to az-snp-vtpm as they do to sev-snp. The real
// vector's TPM quote, signature, PCRs and runtime data bind each other and not the hardware
// report's signer, so its HCL report's SEV-SNP report is replaced by one the test TEE signs with
// the same REPORT_DATA (SHA-256 of the runtime data), and its vcek by the test VCEK.
class AzureSnpUnderTestRoots : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::SnpTestTee>> tee = testing::SnpTestTee::Create();
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    nlohmann::json j = nlohmann::json::parse(Evidence("az-snp-vtpm-evidence-v1.json"));
    absl::StatusOr<std::string> hcl =
        azure::DecodeBase64Url(j["hcl_report"].get<std::string>(), "hcl_report");
    ASSERT_TRUE(hcl.ok()) << hcl.status();
    snp::Report report = tee_->DefaultReport();
    std::memcpy(report.report_data.data(), hcl->data() + azure::kHclHeaderSize + 0x50, 64);
    absl::StatusOr<std::string> signed_report = tee_->MakeReport(report);
    ASSERT_TRUE(signed_report.ok()) << signed_report.status();
    hcl->replace(azure::kHclHeaderSize, azure::kHwReportSlotSize, *signed_report);
    j["hcl_report"] = absl::WebSafeBase64Escape(*hcl);
    j["vcek"] = absl::WebSafeBase64Escape(tee_->VekDer());
    evidence_ = j.dump();
    report_ = *signed_report;
  }

  // Verifies `evidence` (`tee`) with `certificate` under the test TEE's roots.
  absl::StatusOr<VerifiedClaims> Verify(const std::string& evidence, TeeKind tee,
                                        absl::string_view certificate) const {
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = tee_->Roots();
    EXPECT_TRUE(roots.ok()) << roots.status();
    EvidenceVerifier verifier(*roots);
    EvidenceRequest request;
    request.evidence = evidence;
    request.tee = tee;
    request.certificate = certificate;
    request.now = At("2026-06-01T00:00:00Z");  // inside the test VCEK's validity
    return verifier.Verify(request);
  }

  std::unique_ptr<testing::SnpTestTee> tee_;
  std::string evidence_;  // az-snp-vtpm over the test TEE's report
  std::string report_;    // that report
};

TEST_F(AzureSnpUnderTestRoots, TheAskAndArkThimServesCompleteTheChain) {
  absl::StatusOr<VerifiedClaims> verified =
      Verify(evidence_, TeeKind::kAzSnpVtpm, tee_->CertificateBundlePem());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->claims().tee, TeeKind::kAzSnpVtpm);
  EXPECT_EQ(verified->claims().report_data, "challenge");
  EXPECT_EQ(HexEncode(verified->claims().sev_snp->measurement),
            HexEncode(tee_->DefaultReport().measurement));
}

TEST_F(AzureSnpUnderTestRoots, WithoutTheAskItIsRefusedAsSevSnpIs) {
  absl::StatusOr<VerifiedClaims> azure = Verify(evidence_, TeeKind::kAzSnpVtpm, "");
  absl::StatusOr<VerifiedClaims> plain = Verify(report_, TeeKind::kSevSnp, tee_->VekDer());
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(ReasonOf(azure.status()), ReasonOf(plain.status())) << azure.status();
  EXPECT_TRUE(absl::StrContains(azure.status().message(), "no ASK")) << azure.status();
  EXPECT_TRUE(absl::StrContains(azure.status().message(), "az-snp-vtpm hardware report"));
}

TEST_F(AzureSnpUnderTestRoots, AnotherVcekGivenWithTheRequestIsRefused) {
  testing::SnpTestOptions other_chip;
  other_chip.chip = 1;
  absl::StatusOr<std::unique_ptr<testing::SnpTestTee>> other = testing::SnpTestTee::Create(other_chip);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<VerifiedClaims> verified =
      Verify(evidence_, TeeKind::kAzSnpVtpm, (*other)->CertificateBundlePem());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_CERT_CHAIN_INVALID) << verified.status();
  EXPECT_TRUE(absl::StrContains(verified.status().message(), "VCEK given with --cert differs"))
      << verified.status();
}

// Records the FMSPC a verification asks collateral for, and has none (as a sidecar without the
// bundle answers).
class NoCollateral : public TdxCollateralProvider {
 public:
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, absl::Time) const override {
    asked = HexEncode(fmspc);
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     absl::StrCat("no TDX collateral for FMSPC ", asked));
  }
  mutable std::string asked;
};

// No TCB info / QE identity / CRLs are recorded for FMSPC 00806f050000: everything that needs no
// collateral (HCL parse, runtime data binding, TD quote body = TDREPORT, AK signature, PCR digest,
// PCK chain to the Intel root, QE report and quote signatures) passes, and the one missing item
// is named.
TEST(AzureVerifier, RealTdxEvidenceVerifiesUpToTheMissingCollateral) {
  const std::string evidence = Evidence("az-tdx-vtpm-evidence-v1.json");
  NoCollateral provider;
  absl::StatusOr<VerifiedClaims> verified =
      VerifyAt(evidence, kAt, std::string("challenge"), &provider);
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_COLLATERAL_MISSING) << verified.status();
  EXPECT_EQ(provider.asked, "00806f050000");
  EXPECT_TRUE(absl::StrContains(verified.status().message(), "00806f050000"));

  absl::StatusOr<azure::AzureEvidence> parsed = azure::ParseAzureEvidence(evidence);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(AzureVerifier::CheckBindings(*parsed).ok());

  absl::StatusOr<Claims> inspected = AzureVerifier::Inspect(evidence, At(kAt));
  ASSERT_TRUE(inspected.ok()) << inspected.status();
  EXPECT_TRUE(inspected->warnings.empty());
  EXPECT_EQ(inspected->tee, TeeKind::kAzTdxVtpm);
  EXPECT_EQ(inspected->report_data, "challenge");
  EXPECT_EQ(HexEncode(inspected->tdx->body.mr_td),
            "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d1546"
            "9dc8c1ba7ab7b");
  EXPECT_EQ(HexEncode(inspected->azure->pcrs.at(7)),
            "4d98d960d39753d97c718812eb4baa6c4bae9eca0365d6100393bf227d91f894");
  EXPECT_EQ(inspected->azure->vm_id, "6332533D-5649-4D02-8AA7-8F64B7C3EE21");
  EXPECT_EQ(inspected->azure->vm_flags.at("tpm-persisted"), false);
  EXPECT_EQ(inspected->azure->vm_strings.at("root-cert-thumbprint"),
            "6nZZnYaJc4KqUZ_yvA-mucFdYNouvlPnITnNMXsHl-0");
}

}  // namespace
}  // namespace teeverify
