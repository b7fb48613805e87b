// The fixed certificates of tee-testgen: each is the certificate its generator would make (same
// subject, validity and key), and a generator refuses a pre-made certificate for another key.
#include "verifier/testing/testgen/fixed_certificates.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "verifier/common/time_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/testing/nitro_test_tee.h"
#include "verifier/testing/snp_test_tee.h"
#include "verifier/testing/tdx_test_tee.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testgen {
namespace {

struct Expected {
  const char* pem;
  const char* common_name;
  const char* not_before;
  const char* not_after;
};

TEST(FixedCertificatesTest, NamesAndValidity) {
  const Expected cases[] = {
      {kFixedTdxRootPem, "Test SGX Root CA", "2020-01-01T00:00:00Z", "2050-01-01T00:00:00Z"},
      {kFixedTdxPckCaPem, "Test SGX PCK Platform CA", "2020-01-01T00:00:00Z", "2050-01-01T00:00:00Z"},
      {kFixedArkMilanPem, "ARK-Milan", "2020-01-01T00:00:00Z", "2050-01-01T00:00:00Z"},
      {kFixedArkGenoaPem, "ARK-Genoa", "2020-01-01T00:00:00Z", "2050-01-01T00:00:00Z"},
      {kFixedArkTurinPem, "ARK-Turin", "2020-01-01T00:00:00Z", "2050-01-01T00:00:00Z"},
      {kFixedNitroRootPem, "test.nitro-enclaves", "2023-05-02T12:00:00Z", "2054-04-24T12:00:00Z"},
  };
  for (const Expected& e : cases) {
    absl::StatusOr<X509Ptr> cert = ParseCertificate(e.pem, e.common_name);
    ASSERT_TRUE(cert.ok()) << cert.status();
    EXPECT_EQ(SubjectCommonName(cert->get()), e.common_name);
    absl::StatusOr<ValidityWindow> window = CertificateValidity(cert->get());
    ASSERT_TRUE(window.ok()) << window.status();
    EXPECT_EQ(FormatRfc3339(window->not_before), e.not_before) << e.common_name;
    EXPECT_EQ(FormatRfc3339(window->not_after), e.not_after) << e.common_name;
  }
}

TEST(FixedCertificatesTest, GeneratorsUseThemAsGiven) {
  testing::TdxTestOptions tdx_options;
  tdx_options.root_pem = kFixedTdxRootPem;
  tdx_options.pck_ca_pem = kFixedTdxPckCaPem;
  auto tdx = testing::TdxTestTee::Create(tdx_options);
  ASSERT_TRUE(tdx.ok()) << tdx.status();
  EXPECT_EQ((*tdx)->RootPem(), kFixedTdxRootPem);
  EXPECT_EQ(testing::CertificatePem((*tdx)->pck_ca_certificate()), kFixedTdxPckCaPem);

  for (snp::Product product : {snp::Product::kMilan, snp::Product::kGenoa, snp::Product::kTurin}) {
    testing::SnpTestOptions snp_options;
    snp_options.product = product;
    snp_options.ark_pem = FixedArkPem(product);
    auto snp = testing::SnpTestTee::Create(snp_options);
    ASSERT_TRUE(snp.ok()) << snp.status();
    EXPECT_EQ((*snp)->ArkPem(), FixedArkPem(product));
  }

  testing::NitroTestOptions nitro_options;
  nitro_options.root_pem = kFixedNitroRootPem;
  auto nitro = testing::NitroTestTee::Create(nitro_options);
  ASSERT_TRUE(nitro.ok()) << nitro.status();
  EXPECT_EQ((*nitro)->RootPem(), kFixedNitroRootPem);
}

TEST(FixedCertificatesTest, CertificateForAnotherKeyIsRefused) {
  testing::TdxTestOptions tdx_options;
  tdx_options.pck_ca_pem = kFixedTdxRootPem;
  auto tdx = testing::TdxTestTee::Create(tdx_options);
  ASSERT_FALSE(tdx.ok());
  EXPECT_TRUE(absl::StrContains(tdx.status().message(), "pck_ca_pem does not hold the test key"))
      << tdx.status();

  testing::SnpTestOptions snp_options;
  snp_options.product = snp::Product::kMilan;
  snp_options.ark_pem = kFixedArkGenoaPem;
  auto snp = testing::SnpTestTee::Create(snp_options);
  ASSERT_FALSE(snp.ok());
  EXPECT_TRUE(absl::StrContains(snp.status().message(),
                                "ark_pem does not hold the test ARK key of Milan"))
      << snp.status();

  testing::NitroTestOptions nitro_options;
  nitro_options.root_pem = kFixedTdxRootPem;
  auto nitro = testing::NitroTestTee::Create(nitro_options);
  ASSERT_FALSE(nitro.ok());
  EXPECT_TRUE(absl::StrContains(nitro.status().message(),
                                "root_pem does not hold the test Nitro root key"))
      << nitro.status();
}

}  // namespace
}  // namespace teeverify::testgen
