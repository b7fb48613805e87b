// Report parser on the real reports (values from ../shared/vectors/MANIFEST.md, written out) and
// on single mutations of them: sizes, versions, every reserved range, flag and policy bits.
#include "verifier/snp/report_parser.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/snp/extended_evidence.h"

namespace teeverify::snp {
namespace {

using ::teeverify::testing::ReadTestData;

std::string Report(absl::string_view name) {
  return ReadTestData(absl::StrCat("sevsnp/reports/", name));
}

struct RealReport {
  const char* file;
  uint32_t version;
  uint32_t guest_svn;
  uint64_t policy;
  uint32_t vmpl;
  uint64_t platform_info;
  uint32_t signer_info;
  const char* cpuid;  // "fam model step" hex, or "" for version 2
  const char* measurement;
  uint64_t reported_tcb;
  const char* firmware;  // current major.minor.build
};

// MANIFEST.md, AMD SEV-SNP sections and "Optional / other evidence" (Azure).
const RealReport kReal[] = {
    {"go-sev-guest_attestation.bin", 2, 0, 0xb0000, 0, 0x1, 0x0, "",
     "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
     0x4405000000000002, "1.49.3"},
    {"virtee-sev_report_milan.bin", 2, 0, 0x30000, 0, 0x1, 0x0, "",
     "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
     0x7308000000000003, "1.52.4"},
    {"trustee_test-report.bin", 2, 4, 0x3001f, 0, 0x1, 0x0, "",
     "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
     0x7308000000000003, "1.52.4"},
    {"trustee_test-vlek-report.bin", 3, 0, 0x30000, 1, 0x27, 0x4, "190101",
     "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
     0xd918000000000004, "1.55.29"},
    {"trustee_e2e-report.bin", 3, 0, 0x30000, 0, 0x25, 0x0, "19a002",
     "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e",
     0x191700000000000a, "1.55.40"},
    {"oak_genoa_oc_report.bin", 5, 0, 0x30000, 0, 0x25, 0x0, "191101",
     "c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc",
     0x541900000000000a, "1.55.43"},
    {"oak_milan_oc_release_report.bin", 3, 0, 0x30000, 0, 0x25, 0x0, "190101",
     "195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3",
     0xdb18000000000004, "1.55.29"},
    {"oak_milan_rk_release_report.bin", 3, 0, 0x30000, 0, 0x25, 0x0, "190101",
     "195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3",
     0xdb18000000000004, "1.55.29"},
    {"azure_milan_hcl_snp_report.bin", 2, 5, 0x3001f, 0, 0x1, 0x0, "",
     "9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c22944eb386d17c315",
     0x7308000000000003, "1.52.4"},
    {"azure_genoa_hcl_snp_report.bin", 3, 65547, 0x3001f, 0, 0x24, 0x0, "191101",
     "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
     0x541700000000000a, "1.55.40"},
};

class SnpRealReportTest : public ::testing::TestWithParam<RealReport> {};

TEST_P(SnpRealReportTest, ParsesWithManifestValuesAndRoundTrips) {
  const RealReport& c = GetParam();
  const std::string bytes = Report(c.file);
  ASSERT_EQ(bytes.size(), 1184u);
  absl::StatusOr<snp::Report> r = ParseReport(bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, c.version);
  EXPECT_EQ(r->guest_svn, c.guest_svn);
  EXPECT_EQ(r->policy, c.policy);
  EXPECT_EQ(r->vmpl, c.vmpl);
  EXPECT_EQ(r->platform_info, c.platform_info);
  EXPECT_EQ(r->signer_info, c.signer_info);
  EXPECT_EQ(r->signature_algo, 1u);
  EXPECT_EQ(HexEncode(r->measurement), c.measurement);
  EXPECT_EQ(r->reported_tcb, c.reported_tcb);
  EXPECT_EQ(absl::StrCat(r->current.major, ".", r->current.minor, ".", r->current.build),
            c.firmware);
  const std::string cpuid =
      r->has_cpuid() ? HexEncode(std::string{static_cast<char>(r->cpuid_fam_id),
                                             static_cast<char>(r->cpuid_mod_id),
                                             static_cast<char>(r->cpuid_step)})
                     : "";
  EXPECT_EQ(cpuid, c.cpuid);
  EXPECT_EQ(r->signed_bytes, bytes.substr(0, 0x2a0));
  EXPECT_EQ(SerializeReport(*r), bytes);
  EXPECT_TRUE(LooksLikeSnpReport(bytes));
}

INSTANTIATE_TEST_SUITE_P(SnpManifest, SnpRealReportTest, ::testing::ValuesIn(kReal),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(SnpReportParserTest, Version5MitigationVectors) {
  absl::StatusOr<snp::Report> r = ParseReport(Report("oak_genoa_oc_report.bin"));
  ASSERT_TRUE(r.ok()) << r.status();
  // MANIFEST: launch_mit_vector=0x1 current_mit_vector=0x1.
  EXPECT_EQ(r->launch_mit_vector, 1u);
  EXPECT_EQ(r->current_mit_vector, 1u);
  EXPECT_EQ(HexEncode(r->chip_id),
            "d2421d976f95ce0ba849b7cc5c789122f1e59c77a037272c137ae4d188bb102adbc7c53d0302bff82a432c94"
            "a305dec7a7a270ceb19a10f04a83316c6486968d");
}

TEST(SnpReportParserTest, WrongSizesAreNamed) {
  const std::string good = Report("oak_milan_oc_release_report.bin");
  for (size_t size : {size_t{0}, size_t{100}, size_t{1183}}) {
    absl::StatusOr<snp::Report> r = ParseReport(good.substr(0, size));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(ReasonOf(r.status()), v1::REASON_MALFORMED_EVIDENCE);
    EXPECT_EQ(r.status().message(),
              absl::StrCat("sev-snp report: ", size, " bytes, but a report is exactly 1184 bytes"));
  }
  absl::StatusOr<snp::Report> r = ParseReport(good + '\0');
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "sev-snp report: 1185 bytes, but a report is exactly 1184 bytes (trailing bytes)");
}

TEST(SnpReportParserTest, UnknownVersionsAreRefused) {
  std::string bytes = Report("oak_milan_oc_release_report.bin");
  for (uint8_t version : {0, 1, 4, 6, 0xff}) {
    bytes[0] = static_cast<char>(version);
    absl::StatusOr<snp::Report> r = ParseReport(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(ReasonOf(r.status()), v1::REASON_UNSUPPORTED_FORMAT);
    EXPECT_EQ(r.status().message(), absl::StrCat("sev-snp report: version ", version,
                                                 " is not supported (supported: 2, 3, 5)"));
  }
}

struct ReservedCase {
  const char* report;
  size_t offset;
  const char* named;
};

// One byte in each reserved range of each layout (first and last byte of each range).
const ReservedCase kReserved[] = {
    {"oak_milan_oc_release_report.bin", 0x04c, "reserved after signer_info (bytes 0x04c..0x04f)"},
    {"oak_milan_oc_release_report.bin", 0x04f, "reserved after signer_info"},
    {"oak_milan_oc_release_report.bin", 0x18b, "reserved after cpuid_step (bytes 0x18b..0x19f)"},
    {"oak_milan_oc_release_report.bin", 0x19f, "reserved after cpuid_step"},
    {"trustee_test-report.bin", 0x188, "reserved after reported_tcb (version 2) (bytes 0x188..0x19f)"},
    {"trustee_test-report.bin", 0x18a, "reserved after reported_tcb (version 2)"},
    {"oak_milan_oc_release_report.bin", 0x1eb, "reserved after current_major (bytes 0x1eb..0x1eb)"},
    {"oak_milan_oc_release_report.bin", 0x1ef, "reserved after committed_major"},
    {"oak_milan_oc_release_report.bin", 0x1f8, "reserved after launch_tcb (bytes 0x1f8..0x29f)"},
    {"oak_milan_oc_release_report.bin", 0x29f, "reserved after launch_tcb"},
    {"oak_genoa_oc_report.bin", 0x208, "reserved after current_mit_vector (bytes 0x208..0x29f)"},
    {"oak_genoa_oc_report.bin", 0x29f, "reserved after current_mit_vector"},
    {"oak_genoa_oc_report.bin", 0x2a0 + 48, "signature.r zero extension (bytes 0x2d0..0x2e7)"},
    {"oak_genoa_oc_report.bin", 0x2a0 + 71, "signature.r zero extension"},
    {"oak_genoa_oc_report.bin", 0x2a0 + 72 + 48, "signature.s zero extension (bytes 0x318..0x32f)"},
    {"oak_genoa_oc_report.bin", 0x330, "reserved after the signature (bytes 0x330..0x49f)"},
    {"oak_genoa_oc_report.bin", 0x49f, "reserved after the signature"},
};

class SnpReservedTest : public ::testing::TestWithParam<ReservedCase> {};

TEST_P(SnpReservedTest, NonZeroReservedByteIsNamed) {
  std::string bytes = Report(GetParam().report);
  ASSERT_EQ(bytes[GetParam().offset], '\0');
  bytes[GetParam().offset] = '\x01';
  absl::StatusOr<snp::Report> r = ParseReport(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ReasonOf(r.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_TRUE(absl::StrContains(r.status().message(), GetParam().named)) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "must be zero")) << r.status();
}

INSTANTIATE_TEST_SUITE_P(SnpEveryRange, SnpReservedTest, ::testing::ValuesIn(kReserved));

// A field is edited in place (little-endian) and must be refused with `expected` in the message.
struct FieldCase {
  const char* name;
  size_t offset;
  uint32_t value;  // written little-endian over 4 bytes
  Reason reason;
  const char* expected;
};

const FieldCase kFields[] = {
    {"policy_bit17_clear", 0x08, 0x10000, v1::REASON_MALFORMED_EVIDENCE,
     "policy 0x10000 has reserved bit 17 clear"},
    {"policy_reserved_bit32", 0x0c, 0x1, v1::REASON_MALFORMED_EVIDENCE,
     "policy 0x100030000 sets reserved bits 63:26"},
    {"vmpl_4", 0x30, 4, v1::REASON_MALFORMED_EVIDENCE, "vmpl 4 is not 0..3"},
    {"signature_algo_2", 0x34, 2, v1::REASON_UNSUPPORTED_FORMAT,
     "signature_algo 2 is not supported"},
    {"signer_info_bit5", 0x48, 0x20, v1::REASON_MALFORMED_EVIDENCE,
     "bits 31:5 of the word at 0x048 (0x20) are reserved"},
    {"signing_key_2", 0x48, 2 << 2, v1::REASON_MALFORMED_EVIDENCE,
     "signing_key 2 is reserved (0 VCEK, 1 VLEK, 7 none)"},
};

class SnpFieldTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(SnpFieldTest, InvalidValueIsRefused) {
  const FieldCase& c = GetParam();
  std::string bytes = Report("oak_milan_oc_release_report.bin");
  for (int i = 0; i < 4; ++i) bytes[c.offset + i] = static_cast<char>(c.value >> (8 * i));
  absl::StatusOr<snp::Report> r = ParseReport(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ReasonOf(r.status()), c.reason);
  EXPECT_TRUE(absl::StrContains(r.status().message(), c.expected)) << r.status();
}

INSTANTIATE_TEST_SUITE_P(SnpHeader, SnpFieldTest, ::testing::ValuesIn(kFields),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SnpReportParserTest, UnsignedReportsParse) {
  // SIGNING_KEY 7 is a valid layout (the verifier refuses it, not the parser).
  std::string bytes = Report("oak_milan_oc_release_report.bin");
  bytes[0x48] = static_cast<char>(7 << 2);
  absl::StatusOr<snp::Report> r = ParseReport(bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->signing_key(), SigningKey::kNone);
  EXPECT_EQ(SerializeReport(*r), bytes);
}

TEST(SnpReportParserTest, Detection) {
  EXPECT_TRUE(LooksLikeSnpReport(Report("trustee_test-vlek-report.bin")));
  EXPECT_FALSE(LooksLikeSnpReport(Report("trustee_test-vlek-report.bin").substr(0, 1183)));
  EXPECT_FALSE(LooksLikeSnpReport(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin")));
  std::string hcl = "HCLA" + std::string(28, '\0') + Report("azure_milan_hcl_snp_report.bin");
  EXPECT_FALSE(LooksLikeSnpReport(hcl));
  EXPECT_FALSE(LooksLikeSnpReport(std::string(2000, '\0')));
}

TEST(SnpReportParserTest, AzureHclReportIsExplained) {
  // The SNP report inside an Azure HCL report starts at byte 32 (MANIFEST, Optional / other).
  std::string hcl = "HCLA" + std::string(28, '\0') + Report("azure_milan_hcl_snp_report.bin");
  absl::StatusOr<SnpEvidence> e = ParseEvidence(hcl);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(absl::StrContains(e.status().message(), "Azure HCL report")) << e.status();
}

}  // namespace
}  // namespace teeverify::snp
