// Parsing and describing X.509 certificates and CRLs. Parsing only: no trust decisions here
// (those are in chain.h).
#ifndef TEE_VERIFIER_CRYPTO_X509_UTIL_H_
#define TEE_VERIFIER_CRYPTO_X509_UTIL_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/openssl_util.h"

namespace teeverify {

// How much freedom a PEM bundle has. Either way the base64 must be canonical and nothing but the
// certificate blocks may appear (no explanatory text).
enum class PemForm {
  // Files: whitespace and NUL padding around the blocks and whitespace inside them.
  kLenient,
  // Evidence (a TDX quote's PCK chain) and Intel PCS issuer chains: RFC 7468 strict form, "\n" line breaks, 64-character
  // lines, blocks back to back, and after the last only "\n" and NUL terminators (Intel's quotes
  // NUL-terminate the chain). Every byte is meaningful, so a flipped one never still verifies.
  kStrict,
};

// Parses every certificate of a PEM bundle, in order. Fails on an empty bundle.
absl::StatusOr<std::vector<X509Ptr>> ParsePemCertificates(absl::string_view pem,
                                                          absl::string_view what);

// The DER of every certificate of a PEM bundle, without parsing them.
absl::StatusOr<std::vector<std::string>> PemCertificatesToDer(absl::string_view pem,
                                                              absl::string_view what,
                                                              PemForm form = PemForm::kLenient);

// Parses exactly one DER certificate; trailing bytes are rejected. `ctx` (null: OpenSSL's
// default) is the library context the certificate belongs to (see leaf_certificate.h).
absl::StatusOr<X509Ptr> ParseDerCertificate(absl::string_view der, absl::string_view what,
                                            OSSL_LIB_CTX* ctx = nullptr);

// Parses one certificate given as DER or PEM. Trailing bytes after the DER are rejected.
absl::StatusOr<X509Ptr> ParseCertificate(absl::string_view der_or_pem, absl::string_view what);

// Parses one CRL given as DER or PEM.
absl::StatusOr<X509CrlPtr> ParseCrl(absl::string_view der_or_pem, absl::string_view what);

// An OID in dotted form ("1.2.840.113741.1.13.1"), never by name; empty if it cannot be printed.
std::string OidText(const ASN1_OBJECT* obj);

// The part of `oid` under the arc `arc` ("1" or "2.17" for "ARC.1", "ARC.2.17"), or empty when
// `oid` is not strictly under it.
absl::string_view OidSuffix(absl::string_view oid, absl::string_view arc);

// DER encoding of a certificate.
std::string CertificateDer(X509* cert);
ByteArray<32> CertificateFingerprint(X509* cert);

std::string SubjectCommonName(X509* cert);
std::string SerialHex(X509* cert);

// "'Intel SGX PCK Certificate' (serial 4f1c...)": how errors name a certificate.
std::string DescribeCertificate(X509* cert);

struct ValidityWindow {
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfiniteFuture();

  bool Contains(absl::Time t) const { return not_before <= t && t <= not_after; }
  // Narrows this window to its intersection with `other`.
  void Intersect(const ValidityWindow& other);
};

absl::StatusOr<ValidityWindow> CertificateValidity(X509* cert);

}  // namespace teeverify

#endif  // TEE_VERIFIER_CRYPTO_X509_UTIL_H_
