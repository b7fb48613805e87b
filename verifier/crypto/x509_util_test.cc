// PEM reading: the lenient form for files, the strict form for evidence, canonical base64 in both.
#include "verifier/crypto/x509_util.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/crypto/leaf_certificate.h"
#include "verifier/roots/trust_roots.h"

namespace teeverify {
namespace {

using ::teeverify::testing::ReadTestData;

// Intel's PCK CRL issuer chain (PCK Platform CA, root): RFC 7468 strict form, as in quotes.
std::string StrictChain() {
  return ReadTestData("tdx/collateral/dcap-qvl-2025-06/pck_crl_issuer_chain.pem");
}

size_t CountStrict(const std::string& pem) {
  absl::StatusOr<std::vector<std::string>> ders =
      PemCertificatesToDer(pem, "chain", PemForm::kStrict);
  return ders.ok() ? ders->size() : 0;
}

std::string StrictError(const std::string& pem) {
  absl::StatusOr<std::vector<std::string>> ders =
      PemCertificatesToDer(pem, "chain", PemForm::kStrict);
  EXPECT_FALSE(ders.ok());
  EXPECT_EQ(ReasonOf(ders.status()), v1::REASON_CERT_CHAIN_INVALID);
  return std::string(ders.status().message());
}

TEST(PemTest, StrictFormAcceptsIntelsChainWithAndWithoutNulTerminator) {
  const std::string pem = StrictChain();
  EXPECT_EQ(CountStrict(pem), 2u);
  EXPECT_EQ(CountStrict(pem + std::string(3, '\0')), 2u);
  EXPECT_EQ(CountStrict(pem.substr(0, pem.size() - 1)), 2u);  // no final line break
}

TEST(PemTest, StrictFormRefusesOtherSpellingsOfTheSameCertificates) {
  const std::string pem = StrictChain();
  const size_t line = pem.find('\n', 30) + 1;  // start of the second base64 line
  struct Case {
    const char* name;
    std::string pem;
    const char* error;
  };
  const Case cases[] = {
      {"space in base64", pem.substr(0, line + 10) + " " + pem.substr(line + 10), "strict PEM"},
      {"short line", pem.substr(0, line + 10) + "\n" + pem.substr(line + 10), "strict PEM"},
      {"CRLF", absl::StrReplaceAll(pem, {{"\n", "\r\n"}}), "strict PEM"},
      {"blank line between blocks",
       absl::StrReplaceAll(pem, {{"-----\n-----BEGIN", "-----\n\n-----BEGIN"}}),
       "unexpected bytes before certificate 2"},
      {"NUL right after END", pem.substr(0, pem.size() - 1) + std::string(1, '\0'),
       "unexpected bytes after certificate 2"},
      {"space after END", pem + " ", "unexpected bytes after certificate 2"},
      {"two line breaks at the end", pem + "\n", "unexpected bytes after certificate 2"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(absl::StrContains(StrictError(c.pem), c.error)) << c.name;
  }
  // Files keep the lenient form: whitespace anywhere around and inside the blocks.
  EXPECT_TRUE(PemCertificatesToDer(cases[0].pem, "f").ok());
  EXPECT_TRUE(PemCertificatesToDer(cases[2].pem, "f").ok());
  EXPECT_TRUE(PemCertificatesToDer(cases[3].pem, "f").ok());
}

TEST(PemTest, BothFormsRefuseNonCanonicalBase64) {
  // A certificate whose base64 ends "...=" with one pad character: the last data character
  // carries two pad bits that must be zero. Setting one of them spells the same DER.
  const std::string pem = StrictChain();
  const size_t end = pem.find("=\n-----END");
  ASSERT_NE(end, std::string::npos);
  std::string altered = pem;
  const char last = altered[end - 1];
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const size_t value = alphabet.find(last);
  ASSERT_NE(value, std::string::npos);
  altered[end - 1] = alphabet[value ^ 0x1];  // a pad bit
  for (PemForm form : {PemForm::kLenient, PemForm::kStrict}) {
    absl::StatusOr<std::vector<std::string>> ders = PemCertificatesToDer(altered, "chain", form);
    ASSERT_FALSE(ders.ok());
    EXPECT_TRUE(absl::StrContains(ders.status().message(), "is not canonical base64"))
        << ders.status();
  }
}

// A leaf parsed without its key decoded (leaf_certificate.h) is the same certificate, and the key
// built from its point is the key OpenSSL's decoder yields.
TEST(LeafCertificateTest, KeyBuiltFromThePointIsTheDecodedKey) {
  auto roots = *TrustRoots::BuiltIn();
  X509* intel = *roots->Get(RootId::kIntelSgxRootCa);
  absl::StatusOr<X509Ptr> leaf = ParseLeafCertificate(CertificateDer(intel), "intel root");
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(X509_get0_pubkey(leaf->get()), nullptr);
  EXPECT_EQ(X509_cmp(leaf->get(), intel), 0);
  EXPECT_EQ(DescribeCertificate(leaf->get()), DescribeCertificate(intel));
  absl::StatusOr<EvpPkeyPtr> key = LeafEcKey(leaf->get(), Curve::kP256, "intel root");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), X509_get0_pubkey(intel)), 1);
  absl::StatusOr<EvpPkeyPtr> wrong_curve = LeafEcKey(leaf->get(), Curve::kP384, "intel root");
  ASSERT_FALSE(wrong_curve.ok());
  EXPECT_TRUE(absl::StrContains(wrong_curve.status().message(), "is not an EC P-384 key"));
  EXPECT_FALSE(ParseLeafCertificate(CertificateDer(intel) + "x", "intel root").ok());
}

}  // namespace
}  // namespace teeverify
