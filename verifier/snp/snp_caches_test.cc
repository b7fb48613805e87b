// SnpCaches: a cached VCEK/VLEK chain is used only inside its window and only for the same
// certificate bytes; the report's cross-checks and signature still run on every call, so a
// verifier with caches accepts and refuses exactly what one without accepts and refuses. Real
// reports and certificates (tests/data/sevsnp) under the built-in AMD roots; expected values from
// ../shared/vectors/MANIFEST.md.
#include "nlohmann/json.hpp"
#include "verifier/snp/snp_caches.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/time_util.h"
#include "verifier/snp/snp_verifier.h"

namespace teeverify {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ExpectSameOutcome;
using ::teeverify::testing::ReadTestData;

constexpr char kOakTime[] = "2025-10-01T08:00:00Z";

std::string Report(absl::string_view name) {
  return ReadTestData(absl::StrCat("sevsnp/reports/", name));
}
std::string Cert(absl::string_view name) { return ReadTestData(absl::StrCat("sevsnp/certs/", name)); }

class SnpCachesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
    ASSERT_TRUE(roots.ok()) << roots.status();
    roots_ = *roots;
    caches_ = std::make_shared<SnpCaches>(16);
    warm_ = std::make_unique<SnpVerifier>(roots_, caches_);
    cold_ = std::make_unique<SnpVerifier>(roots_);
  }

  // Verifies with the cached verifier and checks that the cacheless one gives the same answer.
  absl::StatusOr<VerifiedClaims> Verify(absl::string_view report, absl::string_view cert,
                                        absl::string_view at) {
    absl::StatusOr<VerifiedClaims> warm = warm_->Verify(Report(report), Cert(cert), At(at));
    absl::StatusOr<VerifiedClaims> cold = cold_->Verify(Report(report), Cert(cert), At(at));
    ExpectSameOutcome(warm.status(), cold.status());
    if (warm.ok() && cold.ok()) {
      EXPECT_EQ(ClaimsToJson(*warm), ClaimsToJson(*cold));
    }
    return warm;
  }

  std::shared_ptr<const TrustRoots> roots_;
  std::shared_ptr<SnpCaches> caches_;
  std::unique_ptr<SnpVerifier> warm_, cold_;
};

// The AWS VLEK is valid 2024-12-10T22:14:21Z .. 2025-12-10T22:14:21Z (MANIFEST).
TEST_F(SnpCachesTest, CachedChainIsNotUsedOutsideItsWindow) {
  const char* report = "trustee_test-vlek-report.bin";
  const char* vlek = "trustee_test-vlek.der";
  ASSERT_TRUE(Verify(report, vlek, kOakTime).ok());
  EXPECT_EQ(caches_->veks.size(), 1u);

  absl::StatusOr<VerifiedClaims> last_second = Verify(report, vlek, "2025-12-10T22:14:21Z");
  ASSERT_TRUE(last_second.ok()) << last_second.status();
  EXPECT_EQ(FormatRfc3339(last_second->claims().valid_until), "2025-12-10T22:14:21Z");

  absl::StatusOr<VerifiedClaims> after = Verify(report, vlek, "2025-12-10T22:14:22Z");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(ReasonOf(after.status()), v1::REASON_EXPIRED);
  EXPECT_EQ(after.status().message(),
            "sev-snp VLEK chain: certificate 'SEV-VLEK' (serial 00) expired at "
            "2025-12-10T22:14:21Z (verification time 2025-12-10T22:14:22Z)");

  absl::StatusOr<VerifiedClaims> before = Verify(report, vlek, "2024-12-10T22:14:20Z");
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(ReasonOf(before.status()), v1::REASON_EXPIRED);
  EXPECT_EQ(caches_->veks.size(), 1u);  // failures are not cached
}

TEST_F(SnpCachesTest, ADifferentVcekMisses) {
  ASSERT_TRUE(Verify("virtee-sev_report_milan.bin", "virtee-sev_vcek_milan.der", kOakTime).ok());
  ASSERT_TRUE(Verify("trustee_test-report.bin", "trustee_test-vcek.der", kOakTime).ok());
  EXPECT_EQ(caches_->veks.size(), 2u);

  // A VCEK-shaped certificate not signed by AMD, for the same report: its own chain is checked.
  absl::StatusOr<VerifiedClaims> forged =
      Verify("trustee_test-report.bin", "trustee_test-vcek-invalid-legacy.der", kOakTime);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(ReasonOf(forged.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StartsWith(forged.status().message(),
                               "sev-snp VCEK chain: certificate 'SEV-VCEK' (serial 00) signature "
                               "does not verify under 'SEV-Milan'"))
      << forged.status();
  EXPECT_EQ(caches_->veks.size(), 2u);
}

TEST_F(SnpCachesTest, SameCertificateBytesForAVlekSignedReportMiss) {
  // The VCEK cached for a VCEK-signed report says nothing about a VLEK-signed one.
  ASSERT_TRUE(Verify("trustee_test-report.bin", "trustee_test-vcek.der", kOakTime).ok());
  absl::StatusOr<VerifiedClaims> vlek_report =
      Verify("trustee_test-vlek-report.bin", "trustee_test-vcek.der", kOakTime);
  ASSERT_FALSE(vlek_report.ok());
  EXPECT_EQ(ReasonOf(vlek_report.status()), v1::REASON_CERT_CHAIN_INVALID);
}

// Cross-checks with a cached chain: the certificate verified before (for its own report), then
// a report it does not belong to.
struct CrossCheck {
  const char* name;
  const char* prime_report;  // verified first with `cert`, which caches its chain
  const char* report;
  const char* cert;
  Reason reason;
  const char* message;
};

const CrossCheck kCrossChecks[] = {
    {"other_chips_vcek", "virtee-sev_report_milan.bin", "trustee_test-report.bin",
     "virtee-sev_vcek_milan.der", v1::REASON_PLATFORM_MISMATCH,
     "sev-snp: the VCEK's hwID d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7a"
     "f38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6 is not the report's CHIP_ID "
     "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadf"
     "b4426205a3b9e4fea82301135a170e477524e: the VCEK belongs to another chip"},
    {"milan_report_genoa_vcek", "oak_genoa_oc_report.bin", "oak_milan_oc_release_report.bin",
     "oak_genoa_oc_vcek.der", v1::REASON_PLATFORM_MISMATCH,
     "sev-snp: the report comes from a Milan processor (CPUID family 0x19 model 0x1) but the VCEK "
     "is for Genoa (productName \"Genoa\")"},
    {"milan_v2_report_genoa_vcek", "trustee_e2e-report.bin", "trustee_test-report.bin",
     "trustee_e2e-vcek.der", v1::REASON_PLATFORM_MISMATCH, "sev-snp: the VCEK's hwID 371c55d6"},
    // Same chip, other TCB: the Oak Milan "rk" and "oc" VCEKs have the same TCB but different
    // chips, so this is refused by the chip ID too.
    {"oak_rk_vcek_for_oc_report", "oak_milan_rk_release_report.bin",
     "oak_milan_oc_release_report.bin", "oak_milan_rk_release_vcek.der",
     v1::REASON_PLATFORM_MISMATCH, "sev-snp: the VCEK's hwID "},
};

class SnpCachedCrossCheckTest : public SnpCachesTest,
                                public ::testing::WithParamInterface<CrossCheck> {};

TEST_P(SnpCachedCrossCheckTest, StillRuns) {
  const CrossCheck& c = GetParam();
  ASSERT_TRUE(Verify(c.prime_report, c.cert, kOakTime).ok());
  ASSERT_EQ(caches_->veks.size(), 1u);
  absl::StatusOr<VerifiedClaims> claims = Verify(c.report, c.cert, kOakTime);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(ReasonOf(claims.status()), c.reason) << claims.status();
  EXPECT_TRUE(absl::StartsWith(claims.status().message(), c.message)) << claims.status();
  EXPECT_EQ(caches_->veks.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Real, SnpCachedCrossCheckTest, ::testing::ValuesIn(kCrossChecks),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(SnpCachesTest, ReportSignatureStillRuns) {
  ASSERT_TRUE(Verify("oak_genoa_oc_report.bin", "oak_genoa_oc_vcek.der", kOakTime).ok());
  std::string report = Report("oak_genoa_oc_report.bin");
  report[0x50] ^= 0x01;  // REPORT_DATA, inside the signed bytes
  absl::StatusOr<VerifiedClaims> warm =
      warm_->Verify(report, Cert("oak_genoa_oc_vcek.der"), At(kOakTime));
  ASSERT_FALSE(warm.ok());
  EXPECT_EQ(ReasonOf(warm.status()), v1::REASON_BAD_SIGNATURE);
  ExpectSameOutcome(warm.status(),
                    cold_->Verify(report, Cert("oak_genoa_oc_vcek.der"), At(kOakTime)).status());
}

TEST_F(SnpCachesTest, ThreadsShareOneCache) {
  // One verifier and cache for all threads, as in the sidecar; two platforms interleaved.
  const std::string milan = Report("oak_milan_oc_release_report.bin");
  const std::string milan_vcek = Cert("oak_milan_oc_release_vcek.der");
  const std::string genoa = Report("oak_genoa_oc_report.bin");
  const std::string genoa_vcek = Cert("oak_genoa_oc_vcek.der");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const bool use_milan = (t + i) % 2 == 0;
        absl::StatusOr<VerifiedClaims> claims =
            warm_->Verify(use_milan ? milan : genoa, use_milan ? milan_vcek : genoa_vcek,
                          At(kOakTime));
        if (!claims.ok() || snp::ProductName(claims->claims().sev_snp->product) !=
                                (use_milan ? "Milan" : "Genoa")) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(caches_->veks.size(), 2u);
}

TEST_F(SnpCachesTest, KeyTellsTheSourcesApart) {
  snp::SnpEvidence bare;
  const std::string der = Cert("trustee_test-vcek.der");
  snp::SnpEvidence table;
  table.has_table = true;
  table.certificates.push_back({snp::kVcekGuid, der});
  // The same bytes as --cert and in the table, and for a VCEK or a VLEK, are different inputs.
  EXPECT_NE(snp::VekCacheKey(bare, der, false), snp::VekCacheKey(table, "", false));
  EXPECT_NE(snp::VekCacheKey(bare, der, false), snp::VekCacheKey(bare, der, true));
  EXPECT_EQ(snp::VekCacheKey(bare, der, false), snp::VekCacheKey(bare, der, false));
  EXPECT_NE(snp::VekCacheKey(bare, der, false),
            snp::VekCacheKey(bare, der.substr(0, der.size() - 1), false));
}

}  // namespace
}  // namespace teeverify
