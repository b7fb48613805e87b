// SEV-SNP verification against the test platform (test ARK/ASK/ASVK/VCEK/VLEK shaped like AMD's),
// for what no real vector covers: Turin reports, Genoa and Turin VLEKs, chosen report fields,
// expiry of each certificate, wrong roots, unsigned reports, other chips.
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"
#include "verifier/snp/report_parser.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/testing/snp_test_tee.h"

namespace teeverify {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::SnpTableContents;
using ::teeverify::testing::SnpTestOptions;
using ::teeverify::testing::SnpTestTee;
using snp::Product;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

std::unique_ptr<SnpTestTee> Tee(const SnpTestOptions& options = {}) {
  auto tee = SnpTestTee::Create(options);
  EXPECT_TRUE(tee.ok()) << tee.status();
  return tee.ok() ? *std::move(tee) : nullptr;
}

absl::StatusOr<VerifiedClaims> VerifyUnderTestRoots(const SnpTestTee& tee,
                                                    absl::string_view evidence,
                                                    absl::string_view cert = "",
                                                    absl::Time now = kNow) {
  auto roots = tee.Roots();
  if (!roots.ok()) return roots.status();
  return SnpVerifier(*roots).Verify(evidence, cert, now);
}

struct Platform {
  const char* name;
  Product product;
  bool vlek;
  uint32_t version;  // of DefaultReport
};

const Platform kPlatforms[] = {
    {"milan_vcek", Product::kMilan, false, 3}, {"milan_vlek", Product::kMilan, true, 3},
    {"genoa_vcek", Product::kGenoa, false, 3}, {"genoa_vlek", Product::kGenoa, true, 3},
    {"turin_vcek", Product::kTurin, false, 5}, {"turin_vlek", Product::kTurin, true, 5},
};

class SnpPlatformTest : public ::testing::TestWithParam<Platform> {};

TEST_P(SnpPlatformTest, ChosenFieldsVerifyUnderTheTestArkOnly) {
  const Platform& p = GetParam();
  SnpTestOptions options;
  options.product = p.product;
  options.vlek = p.vlek;
  std::unique_ptr<SnpTestTee> tee = Tee(options);
  snp::Report report = tee->DefaultReport();
  EXPECT_EQ(report.version, p.version);
  for (size_t i = 0; i < 64; ++i) report.report_data[i] = static_cast<uint8_t>(i);
  report.measurement.fill(0x4d);
  report.host_data.fill(0x48);
  report.family_id.fill(0xfa);
  report.image_id.fill(0x1a);
  report.policy = 0x1b0000;  // SMT, DEBUG, SINGLE_SOCKET
  report.vmpl = 2;
  report.guest_svn = 7;
  absl::StatusOr<std::string> evidence = tee->MakeEvidence(report);
  ASSERT_TRUE(evidence.ok()) << evidence.status();

  absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
  ASSERT_TRUE(claims.ok()) << claims.status();
  const Claims& c = claims->claims();
  EXPECT_EQ(c.report_data, std::string(AsView(report.report_data)));
  EXPECT_TRUE(c.debug);
  EXPECT_EQ(c.tcb_status, "NotApplicable");
  EXPECT_EQ(FormatRfc3339(c.valid_until), "2031-01-01T00:00:00Z");  // the VCEK/VLEK's notAfter
  const snp::SnpClaims& s = *c.sev_snp;
  EXPECT_EQ(s.product, p.product);
  EXPECT_EQ(s.vlek, p.vlek);
  EXPECT_EQ(s.version, p.version);
  EXPECT_EQ(s.vmpl, 2u);
  EXPECT_EQ(s.guest_svn, 7u);
  EXPECT_EQ(s.policy, 0x1b0000u);
  std::string measurement;
  for (int i = 0; i < 48; ++i) measurement += "4d";
  EXPECT_EQ(HexEncode(s.measurement), measurement);
  EXPECT_EQ(s.host_data, report.host_data);
  EXPECT_EQ(s.family_id, report.family_id);
  EXPECT_EQ(s.image_id, report.image_id);
  EXPECT_EQ(s.csp_id.has_value(), p.vlek);

  // The built-in AMD roots refuse it: the test ASK/ASVK is not AMD's.
  absl::StatusOr<VerifiedClaims> refused =
      SnpVerifier(*TrustRoots::BuiltIn()).Verify(*evidence, "", kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ReasonOf(refused.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "carried with the evidence"))
      << refused.status();
}

INSTANTIATE_TEST_SUITE_P(SnpEachProductAndKey, SnpPlatformTest, ::testing::ValuesIn(kPlatforms),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SnpSyntheticTest, TurinLayout) {
  SnpTestOptions options;
  options.product = Product::kTurin;
  snp::TcbVersion tcb;
  tcb.fmc = 0x11, tcb.boot_loader = 0x22, tcb.tee = 0x33, tcb.snp = 0x44, tcb.microcode = 0x55;
  options.tcb = tcb;
  std::unique_ptr<SnpTestTee> tee = Tee(options);
  snp::Report report = tee->DefaultReport();
  // Turin TCB_VERSION: FMC [7:0], BL [15:8], TEE [23:16], SNP [31:24], UCODE [63:56].
  EXPECT_EQ(report.reported_tcb, 0x5500000044332211u);
  report.current_tcb = 0x5600000044332211u;
  absl::StatusOr<std::string> evidence = tee->MakeEvidence(report);
  ASSERT_TRUE(evidence.ok());
  absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
  ASSERT_TRUE(claims.ok()) << claims.status();
  const nlohmann::ordered_json j = ClaimsToJson(*claims);
  const auto& s = j["sev_snp"];
  EXPECT_EQ(s["product"], "Turin");
  EXPECT_EQ(s["reported_tcb"]["raw"], "0x5500000044332211");
  EXPECT_EQ(s["reported_tcb"]["fmc"], 0x11);
  EXPECT_EQ(s["reported_tcb"]["boot_loader"], 0x22);
  EXPECT_EQ(s["reported_tcb"]["tee"], 0x33);
  EXPECT_EQ(s["reported_tcb"]["snp"], 0x44);
  EXPECT_EQ(s["reported_tcb"]["microcode"], 0x55);
  EXPECT_EQ(s["current_tcb"]["microcode"], 0x56);
  // Turin's CHIP_ID: 8 bytes, then 56 zeros; the VCEK's hwID is those 8 bytes.
  EXPECT_EQ(s["chip_id"].get<std::string>().substr(16), std::string(112, '0'));
  EXPECT_EQ(s["cpuid"]["family"], "0x1a");

  // A Turin CHIP_ID with a non-zero byte after the 8-byte ID is not this VCEK's chip.
  snp::Report odd = tee->DefaultReport();
  odd.chip_id[8] = 1;
  evidence = tee->MakeEvidence(odd);
  ASSERT_TRUE(evidence.ok());
  claims = VerifyUnderTestRoots(*tee, *evidence);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_PLATFORM_MISMATCH);
}

TEST(SnpSyntheticTest, ReportVersions2And5OnMilan) {
  std::unique_ptr<SnpTestTee> tee = Tee();
  for (uint32_t version : {snp::kReportVersion2, snp::kReportVersion5}) {
    snp::Report report = tee->DefaultReport();
    report.version = version;
    report.launch_mit_vector = report.current_mit_vector = version == 5 ? 3 : 0;
    if (version == 2) report.cpuid_fam_id = report.cpuid_mod_id = report.cpuid_step = 0;
    absl::StatusOr<std::string> evidence = tee->MakeEvidence(report);
    ASSERT_TRUE(evidence.ok());
    absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
    ASSERT_TRUE(claims.ok()) << version << ": " << claims.status();
    EXPECT_EQ(claims->claims().sev_snp->version, version);
    EXPECT_EQ(claims->claims().sev_snp->cpuid.has_value(), version == 5);
    EXPECT_EQ(claims->claims().sev_snp->current_mit_vector.has_value(), version == 5);
  }
}

TEST(SnpSyntheticTest, CertificateBundleInsteadOfTable) {
  std::unique_ptr<SnpTestTee> tee = Tee();
  absl::StatusOr<std::string> report = tee->MakeReport(tee->DefaultReport());
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 1184u);
  EXPECT_TRUE(VerifyUnderTestRoots(*tee, *report, tee->CertificateBundlePem()).ok());
  // The VCEK alone is not enough under a test ARK: the test ASK must come with it.
  absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *report, tee->VekDer());
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(),
            "sev-snp certificate chain: no ASK: the trusted Milan root 'ARK-Milan' is not AMD's "
            "ARK, so the ASK must come with the evidence (certificate table or --cert)");
}

TEST(SnpSyntheticTest, ExpiredCertificatesAreNamed) {
  SnpTestOptions vek;
  vek.vek = {absl::FromUnixSeconds(1704067200), kNow - absl::Seconds(1)};
  SnpTestOptions ask;
  ask.intermediate = {absl::FromUnixSeconds(1577836800), kNow - absl::Seconds(1)};
  SnpTestOptions ark;
  ark.vlek = true;
  ark.ark = {kNow + absl::Seconds(1), absl::FromUnixSeconds(2524608000)};
  const std::pair<const SnpTestOptions*, const char*> kCases[] = {
      {&vek, "sev-snp VCEK chain: certificate 'SEV-VCEK' (serial 00) expired at "
             "2025-12-31T23:59:59Z (verification time 2026-01-01T00:00:00Z)"},
      {&ask, "sev-snp VCEK chain: certificate 'SEV-Milan' (serial 02) expired at "
             "2025-12-31T23:59:59Z"},
      {&ark, "sev-snp VLEK chain: certificate 'ARK-Milan' (serial 01) is not valid before "
             "2026-01-01T00:00:01Z"},
  };
  for (const auto& [options, expected] : kCases) {
    std::unique_ptr<SnpTestTee> tee = Tee(*options);
    absl::StatusOr<std::string> evidence = tee->MakeEvidence(tee->DefaultReport());
    ASSERT_TRUE(evidence.ok());
    absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_EXPIRED);
    EXPECT_TRUE(absl::StrContains(claims.status().message(), expected)) << claims.status();
  }
}

TEST(SnpSyntheticTest, WrongArkIsRefused) {
  std::unique_ptr<SnpTestTee> milan = Tee();
  absl::StatusOr<std::string> evidence = milan->MakeEvidence(milan->DefaultReport());
  ASSERT_TRUE(evidence.ok());
  // Another test hierarchy's ARK in the Milan slot: the test ASK does not chain to it.
  SnpTestOptions genoa_options;
  genoa_options.product = Product::kGenoa;
  std::unique_ptr<SnpTestTee> genoa = Tee(genoa_options);
  auto roots = TrustRoots::FromPem({{RootId::kAmdArkMilan, genoa->ArkPem()}});
  ASSERT_TRUE(roots.ok());
  absl::StatusOr<VerifiedClaims> claims = SnpVerifier(*roots).Verify(*evidence, "", kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(claims.status().message(),
                                "sev-snp VCEK chain: certificate 'SEV-Milan' (serial 02) does not "
                                "chain to the pinned root 'ARK-Genoa'"))
      << claims.status();
  // No Milan root at all.
  auto genoa_only = genoa->Roots();
  ASSERT_TRUE(genoa_only.ok());
  claims = SnpVerifier(*genoa_only).Verify(*evidence, "", kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(), "no trusted root configured for AMD ARK-Milan");
}

TEST(SnpSyntheticTest, AnotherChipsVcek) {
  SnpTestOptions chip1;
  chip1.chip = 1;
  std::unique_ptr<SnpTestTee> tee0 = Tee(), tee1 = Tee(chip1);
  SnpTableContents ask_only;
  ask_only.vek = false;
  absl::StatusOr<std::string> evidence = tee0->MakeEvidence(tee0->DefaultReport(), ask_only);
  ASSERT_TRUE(evidence.ok());
  EXPECT_TRUE(VerifyUnderTestRoots(*tee0, *evidence, tee0->VekPem()).ok());
  absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee0, *evidence, tee1->VekPem());
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_PLATFORM_MISMATCH);
  EXPECT_TRUE(absl::StrContains(claims.status().message(), "the VCEK belongs to another chip"));
}

TEST(SnpSyntheticTest, VcekOfAnotherTcb) {
  std::unique_ptr<SnpTestTee> tee = Tee();
  snp::Report report = tee->DefaultReport();
  report.reported_tcb += uint64_t{1} << 56;  // microcode 220, the VCEK is for 219
  absl::StatusOr<std::string> evidence = tee->MakeEvidence(report);
  ASSERT_TRUE(evidence.ok());
  absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(),
            "sev-snp: the VCEK's TCB is not the report's REPORTED_TCB 0xdc18000000000104 "
            "(ucodeSPL/microcode 219 vs 220)");
}

TEST(SnpSyntheticTest, UnsignedReportsAreRefused) {
  std::unique_ptr<SnpTestTee> tee = Tee();
  snp::Report none = tee->DefaultReport();
  none.signer_info = 7 << snp::kSigningKeyShift;
  snp::Report masked = tee->DefaultReport();
  masked.signer_info |= snp::kMaskChipKeyBit;
  for (const snp::Report& r : {none, masked}) {
    absl::StatusOr<std::string> evidence = tee->MakeEvidence(r);
    ASSERT_TRUE(evidence.ok());
    absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(ReasonOf(claims.status()), v1::REASON_UNSUPPORTED_FORMAT);
    EXPECT_TRUE(absl::StrContains(claims.status().message(), "not sign")) << claims.status();
  }
}

TEST(SnpSyntheticTest, CertificateShapeIsChecked) {
  SnpTestOptions pkcs1;
  pkcs1.vek_signed_with_pss = false;
  std::unique_ptr<SnpTestTee> tee = Tee(pkcs1);
  absl::StatusOr<std::string> evidence = tee->MakeEvidence(tee->DefaultReport());
  ASSERT_TRUE(evidence.ok());
  absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().message(),
            "sev-snp certificate chain: VCEK 'SEV-VCEK' (serial 00) is not signed with RSASSA-PSS "
            "SHA-384 (MGF1 SHA-384, salt 48)");

  SnpTestOptions wrapped;
  wrapped.der_wrapped_hw_id = true;
  tee = Tee(wrapped);
  evidence = tee->MakeEvidence(tee->DefaultReport());
  ASSERT_TRUE(evidence.ok());
  EXPECT_TRUE(VerifyUnderTestRoots(*tee, *evidence).ok());
}

TEST(SnpSyntheticTest, CpuidMustMatchTheCertificate) {
  std::unique_ptr<SnpTestTee> tee = Tee();
  snp::Report genoa_cpu = tee->DefaultReport();
  genoa_cpu.cpuid_mod_id = 0x11;
  snp::Report unknown_cpu = tee->DefaultReport();
  unknown_cpu.cpuid_fam_id = 0x17;
  const std::pair<snp::Report, const char*> kCases[] = {
      {genoa_cpu, "sev-snp: the report comes from a Genoa processor (CPUID family 0x19 model "
                  "0x11) but the VCEK is for Milan (productName \"Milan-B0\")"},
      {unknown_cpu, "sev-snp report: CPUID family 0x17 model 0x1 is not a Milan, Genoa or Turin "
                    "processor"},
  };
  for (const auto& [report, expected] : kCases) {
    absl::StatusOr<std::string> evidence = tee->MakeEvidence(report);
    ASSERT_TRUE(evidence.ok());
    absl::StatusOr<VerifiedClaims> claims = VerifyUnderTestRoots(*tee, *evidence);
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(claims.status().message(), expected);
  }
}

// Checked-in evidence for the CLI tests (tests/data/sevsnp/synthetic), made by this generator.
TEST(SnpSyntheticTest, CheckedInSyntheticEvidenceVerifies) {
  const std::pair<const char*, const char*> kFiles[] = {
      {"milan_vcek_extended.bin", "amd_ark_milan.pem"},
      {"turin_vlek_extended.bin", "amd_ark_turin.pem"},
  };
  for (const auto& [evidence, ark] : kFiles) {
    const Product product = absl::StartsWith(evidence, "turin") ? Product::kTurin : Product::kMilan;
    auto roots = TrustRoots::FromPem(
        {{product == Product::kTurin ? RootId::kAmdArkTurin : RootId::kAmdArkMilan,
          ReadTestData(absl::StrCat("sevsnp/synthetic/roots/", ark))}});
    ASSERT_TRUE(roots.ok()) << roots.status();
    absl::StatusOr<VerifiedClaims> claims = SnpVerifier(*roots).Verify(
        ReadTestData(absl::StrCat("sevsnp/synthetic/", evidence)), "", kNow);
    ASSERT_TRUE(claims.ok()) << evidence << ": " << claims.status();
    EXPECT_EQ(claims->claims().sev_snp->product, product);
  }
}

// Regenerates tests/data/sevsnp/synthetic; run with --gtest_also_run_disabled_tests.
TEST(SnpSyntheticTest, DISABLED_RegenerateSyntheticFiles) {
  const std::string dir = ::teeverify::testing::TestDataPath("sevsnp/synthetic");
  auto write = [](const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  };
  std::unique_ptr<SnpTestTee> milan = Tee();
  snp::Report report = milan->DefaultReport();
  report.report_data.fill(0x42);
  write(dir + "/milan_vcek_extended.bin", *milan->MakeEvidence(report));
  write(dir + "/roots/amd_ark_milan.pem", milan->ArkPem());
  SnpTestOptions turin_options;
  turin_options.product = Product::kTurin;
  turin_options.vlek = true;
  std::unique_ptr<SnpTestTee> turin = Tee(turin_options);
  write(dir + "/turin_vlek_extended.bin", *turin->MakeEvidence(turin->DefaultReport()));
  write(dir + "/roots/amd_ark_turin.pem", turin->ArkPem());
}

}  // namespace
}  // namespace teeverify
