// Attested TLS client certificates: parse (one mutation per case), the self-issued check, the
// binding (a value computed independently) and the role's decision on test-TEE TDX evidence.
#include "verifier/attested_cert/attested_cert.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/policy/nonce_binding.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_tee.h"
#include "verifier/testing/test_keys.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::attested_cert {
namespace {

using ::teeverify::testing::CertSpec;
using ::teeverify::testing::LoadPrivateKey;
using ::teeverify::testing::MakeCertificate;

TEST(CertificateBindingTest, IsTheDocumentedHash) {
  // SHA-512("tee-auth attested-cert v1" || 0x00 || SHA-256("spki") || u64be(1767225600)),
  // computed with Python's hashlib.
  EXPECT_EQ(HexEncode(policy::ExpectedCertificateReportData("spki", absl::FromUnixSeconds(1767225600))),
            "4cb0c9a0e1c6ef04d72b14c982c148782de1370a2e8c9f26d7b2ceedf6a805c4fef5b71a739c16e8697b5f48"
            "a47f820a46eeabdd36f152c9da2c61bfdb0f99b5");
}

class AttestedCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *LoadPrivateKey(::teeverify::testing::kPckKeyPem);
    other_key_ = *LoadPrivateKey(::teeverify::testing::kAttestationKeyPem);
    auto tee = ::teeverify::testing::TdxTestTee::Create();
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    auto roots = TrustRoots::FromPem({{RootId::kIntelSgxRootCa, tee_->RootPem()}});
    ASSERT_TRUE(roots.ok());
    verifier_ = std::make_unique<TdxVerifier>(*roots);
    collateral_ = *tee_->MakeCollateral();
    const auto& report = tee_->DefaultReport();
    role_ = Role(R"({"tee_types":["tdx"],"tdx":{"mrtd":[")" + HexEncode(report.mr_td) +
                 R"("],"rtmr1":[")" + HexEncode(report.rtmr[1]) + R"("],"rtmr2":[")" +
                 HexEncode(report.rtmr[2]) + R"("]},"max_certificate_age_seconds":300})");
  }

  static v1::Policy Role(const std::string& json) {
    absl::StatusOr<v1::Policy> p = policy::PolicyFromJson(json);
    EXPECT_TRUE(p.ok()) << p.status();
    policy::PolicyValidation v = policy::ValidatePolicy(*p);
    EXPECT_TRUE(v.errors.empty()) << v.errors.front();
    return v.normalized;
  }

  static std::string Spki(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key, &der);
    std::string out(reinterpret_cast<const char*>(der), len);
    OPENSSL_free(der);
    return out;
  }

  // A TDX quote whose REPORT_DATA is `report_data`.
  std::string Quote(const std::string& report_data) {
    tdx::TdReport report = tee_->DefaultReport();
    std::copy(report_data.begin(), report_data.end(), report.report_data.begin());
    return *tee_->MakeQuote(report);
  }

  // A certificate for key_ made at kMinted, valid 10 minutes (longer than the role's maximum age
  // of 5, so that age and expiry can be told apart), carrying `evidence` (by default a
  // quote binding the certificate's own key and notBefore).
  std::string Certificate(std::optional<std::string> evidence = std::nullopt, bool twice = false,
                          EVP_PKEY* bound_key = nullptr) {
    CertSpec spec;
    spec.common_name = "tee-auth attested workload";
    spec.not_before = kMinted;
    spec.not_after = kMinted + absl::Minutes(10);
    const std::string ev = evidence.value_or(
        Quote(policy::ExpectedCertificateReportData(Spki(bound_key ? bound_key : key_.get()), kMinted)));
    spec.extensions.push_back({std::string(kEvidenceOid), ev});
    if (twice) spec.extensions.push_back({std::string(kEvidenceOid), ev});
    absl::StatusOr<X509Ptr> cert = MakeCertificate(spec, key_.get(), nullptr, key_.get());
    EXPECT_TRUE(cert.ok()) << cert.status();
    return CertificateDer(cert->get());
  }

  // Parse, verify the self-signature and the evidence, then decide, as the sidecar does.
  policy::Decision Decide(const std::string& der, absl::Time now) {
    absl::StatusOr<AttestedCertificate> cert = ParseAttestedCertificate(der);
    EXPECT_TRUE(cert.ok()) << cert.status();
    EXPECT_TRUE(VerifySelfIssued(*cert).ok());
    absl::StatusOr<VerifiedClaims> claims = verifier_->Verify(cert->evidence, collateral_, now);
    EXPECT_TRUE(claims.ok()) << claims.status();
    const policy::CertificateBinding binding{cert->spki_der, cert->not_before, cert->not_after};
    return policy::Evaluate(*claims, role_, {"", "", "mcp", &binding}, now);
  }

  static std::vector<std::string> Fields(const policy::Decision& d) {
    std::vector<std::string> out;
    for (const auto& m : d.mismatches) out.push_back(m.field);
    return out;
  }

  const absl::Time kMinted = absl::FromUnixSeconds(1767225600);
  EvpPkeyPtr key_, other_key_;
  std::unique_ptr<::teeverify::testing::TdxTestTee> tee_;
  std::unique_ptr<TdxVerifier> verifier_;
  tdx::TdxCollateral collateral_;
  v1::Policy role_;
};

TEST_F(AttestedCertTest, ParsesTheBoundFields) {
  const std::string der = Certificate(std::string("evidence bytes"));
  absl::StatusOr<AttestedCertificate> cert = ParseAttestedCertificate(der);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->spki_der, Spki(key_.get()));
  EXPECT_EQ(cert->not_before, kMinted);
  EXPECT_EQ(cert->not_after, kMinted + absl::Minutes(10));
  EXPECT_EQ(cert->evidence, "evidence bytes");
  EXPECT_TRUE(VerifySelfIssued(*cert).ok());
}

TEST_F(AttestedCertTest, MalformedCertificatesAreRefusedNamingWhy) {
  const std::string good = Certificate(std::string("evidence"));
  CertSpec plain;
  plain.common_name = "no evidence";
  plain.not_before = kMinted;
  plain.not_after = kMinted + absl::Minutes(5);
  const std::string without = CertificateDer(MakeCertificate(plain, key_.get(), nullptr, key_.get())->get());
  const struct {
    const char* name;
    std::string der;
    const char* message;
  } cases[] = {
      {"empty", "", "empty"},
      {"not DER", "not a certificate", "attested certificate"},
      {"trailing bytes", good + "x", "attested certificate"},
      {"truncated", good.substr(0, good.size() - 1), "attested certificate"},
      {"no evidence extension", without, "no evidence extension"},
      {"two evidence extensions", Certificate(std::string("evidence"), /*twice=*/true), "more than one"},
      {"oversized", std::string(kMaxCertificateSize + 1, '\x30'), "more than"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<AttestedCertificate> cert = ParseAttestedCertificate(c.der);
    ASSERT_FALSE(cert.ok()) << c.name;
    EXPECT_EQ(ReasonOf(cert.status()), v1::REASON_MALFORMED_EVIDENCE) << c.name;
    EXPECT_NE(cert.status().message().find(c.message), absl::string_view::npos)
        << c.name << ": " << cert.status();
  }
}

TEST_F(AttestedCertTest, SignatureByAnotherKeyIsRefused) {
  CertSpec issuer_spec;
  issuer_spec.common_name = "tee-auth attested workload";  // same name: looks self-issued
  issuer_spec.not_before = kMinted;
  issuer_spec.not_after = kMinted + absl::Minutes(5);
  X509Ptr issuer = *MakeCertificate(issuer_spec, other_key_.get(), nullptr, other_key_.get());
  CertSpec spec = issuer_spec;
  spec.extensions.push_back({std::string(kEvidenceOid), "evidence"});
  X509Ptr forged = *MakeCertificate(spec, key_.get(), issuer.get(), other_key_.get());
  absl::StatusOr<AttestedCertificate> cert = ParseAttestedCertificate(CertificateDer(forged.get()));
  ASSERT_TRUE(cert.ok()) << cert.status();
  absl::Status s = VerifySelfIssued(*cert);
  EXPECT_EQ(ReasonOf(s), v1::REASON_BAD_SIGNATURE) << s;

  issuer_spec.common_name = "some CA";
  issuer = *MakeCertificate(issuer_spec, other_key_.get(), nullptr, other_key_.get());
  forged = *MakeCertificate(spec, key_.get(), issuer.get(), other_key_.get());
  cert = ParseAttestedCertificate(CertificateDer(forged.get()));
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(ReasonOf(VerifySelfIssued(*cert)), v1::REASON_CERT_CHAIN_INVALID);
}

TEST_F(AttestedCertTest, FreshBoundCertificateIsAllowed) {
  const policy::Decision d = Decide(Certificate(), kMinted + absl::Seconds(30));
  EXPECT_TRUE(d.allow) << (d.mismatches.empty() ? "" : d.mismatches[0].field);
  EXPECT_EQ(d.metadata.at("nonce_binding"), "attested certificate");
  EXPECT_EQ(d.certificate_spki_sha256, HexEncode(Sha256(Spki(key_.get()))));
}

TEST_F(AttestedCertTest, EveryMismatchIsReported) {
  const struct {
    const char* name;
    std::string der;
    absl::Time now;
    std::vector<std::string> fields;
  } cases[] = {
      {"evidence binds another key", Certificate(std::nullopt, false, other_key_.get()),
       kMinted + absl::Seconds(30), {"report_data"}},
      {"evidence made for a nonce login",
       Certificate(Quote(*policy::ExpectedReportData(std::string(32, 'n'), Spki(key_.get())))),
       kMinted + absl::Seconds(30), {"report_data"}},
      {"expired", Certificate(), kMinted + absl::Minutes(10), {"certificate_not_after", "certificate_age"}},
      {"older than the role allows", Certificate(), kMinted + absl::Seconds(301), {"certificate_age"}},
      {"not yet valid", Certificate(), kMinted - absl::Seconds(61), {"certificate_not_before"}},
  };
  for (const auto& c : cases) {
    // The test TEE's collateral is valid around kMinted; the quote verifies at each time.
    const policy::Decision d = Decide(c.der, c.now);
    EXPECT_FALSE(d.allow) << c.name;
    EXPECT_EQ(Fields(d), c.fields) << c.name;
  }
  // Within the allowed clock skew, a notBefore ahead of the verifier's clock is accepted.
  EXPECT_TRUE(Decide(Certificate(), kMinted - absl::Seconds(60)).allow);
}

TEST(CertificateAgePolicyTest, DefaultAndBoundsAreValidated) {
  v1::Policy p = *policy::PolicyFromJson(
      R"({"tee_types":["nitro"],"nitro":{"pcr0":[")" + std::string(96, 'a') + R"("]}})");
  EXPECT_EQ(policy::ValidatePolicy(p).normalized.max_certificate_age_seconds(),
            policy::kDefaultMaxCertificateAgeSeconds);
  p.set_max_certificate_age_seconds(policy::kMaxMaxCertificateAgeSeconds + 1);
  ASSERT_EQ(policy::ValidatePolicy(p).errors.size(), 1u);
  EXPECT_NE(policy::ValidatePolicy(p).errors[0].find("max_certificate_age_seconds"), std::string::npos);
  p.set_max_certificate_age_seconds(-1);
  EXPECT_EQ(policy::ValidatePolicy(p).errors.size(), 1u);
}

}  // namespace
}  // namespace teeverify::attested_cert
