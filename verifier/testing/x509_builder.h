// TEST-ONLY construction of certificates, CRLs and ECDSA signatures with OpenSSL, for the test
// TEE generators. Nothing in the verifier links this.
#ifndef TEE_VERIFIER_TESTING_X509_BUILDER_H_
#define TEE_VERIFIER_TESTING_X509_BUILDER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"

namespace teeverify::testing {

absl::StatusOr<EvpPkeyPtr> LoadPrivateKey(absl::string_view pem);
std::string PrivateKeyPem(EVP_PKEY* key);

struct CertSpec {
  std::string common_name;
  long serial = 1;
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;
  // Extra non-critical extensions: dotted OID and the DER of the extension value.
  std::vector<std::pair<std::string, std::string>> extensions;
  // subjectAltName entries, e.g. "DNS:localhost", "IP:127.0.0.1" (TLS test certificates).
  std::string subject_alt_names;
  // Signature: digest, and RSASSA-PSS (salt length = digest length, as AMD signs) for RSA issuers.
  const EVP_MD* digest = EVP_sha256();
  bool rsa_pss = false;
};

// A spec with its name, serial, window and CA flag (and extensions); the rest keep their defaults.
CertSpec Spec(std::string common_name, long serial, absl::Time not_before, absl::Time not_after,
              bool is_ca, std::vector<std::pair<std::string, std::string>> extensions = {});

// Signs a certificate for `subject_key` with `issuer_key`; a null `issuer` makes it self-signed.
absl::StatusOr<X509Ptr> MakeCertificate(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                        EVP_PKEY* issuer_key);

// A pre-made certificate (a test option), which must hold `key`, or it could not stand for the
// certificate that key issues from: else an error "WHAT does not hold KEY_NAME".
absl::StatusOr<X509Ptr> PremadeCertificate(absl::string_view pem, EVP_PKEY* key,
                                           absl::string_view what, absl::string_view key_name);

struct CrlSpec {
  absl::Time this_update;
  absl::Time next_update;
  std::vector<X509*> revoked;
  const EVP_MD* digest = EVP_sha256();
  bool rsa_pss = false;
};

absl::StatusOr<X509CrlPtr> MakeCrl(const CrlSpec& spec, X509* issuer, EVP_PKEY* issuer_key);

std::string CertificatePem(X509* cert);
std::string CrlDer(X509_CRL* crl);

// ECDSA over SHA-x(message) as raw big-endian r||s of `half` bytes each.
absl::StatusOr<std::string> SignEcdsaRaw(EVP_PKEY* key, const EVP_MD* md,
                                         absl::string_view message, size_t half);

// The X||Y coordinates of an EC public key (big-endian, 2 * `half` bytes).
absl::StatusOr<std::string> PublicKeyXY(EVP_PKEY* key, size_t half);

// Minimal DER encoding helpers for building extension values.
std::string DerTlv(uint8_t tag, absl::string_view content);
std::string DerOid(absl::string_view dotted);
std::string DerSmallInteger(uint8_t tag, uint32_t value);  // tag 0x02 INTEGER or 0x0a ENUMERATED

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_X509_BUILDER_H_
