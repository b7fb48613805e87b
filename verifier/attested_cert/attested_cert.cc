// Parse and verify of attested TLS client certificates (attested_cert.h). The DER decoding is
// OpenSSL's; this file reads the fields REPORT_DATA binds and the evidence extension.
#include "verifier/attested_cert/attested_cert.h"

#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify::attested_cert {

absl::StatusOr<AttestedCertificate> ParseAttestedCertificate(absl::string_view der) {
  if (der.empty()) return Malformed("attested certificate: empty");
  if (der.size() > kMaxCertificateSize) {
    return Malformed(absl::StrCat("attested certificate: ", der.size(), " bytes, more than ",
                                  kMaxCertificateSize));
  }
  absl::StatusOr<X509Ptr> cert = ParseDerCertificate(der, "attested certificate");
  if (!cert.ok()) return Malformed(cert.status().message());
  AttestedCertificate out;
  out.cert = *std::move(cert);
  X509* x = out.cert.get();

  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  if (spki_len <= 0) {
    ClearOpenSslErrors();
    return Malformed("attested certificate: subjectPublicKeyInfo does not encode");
  }
  out.spki_der.assign(reinterpret_cast<const char*>(spki), spki_len);
  OPENSSL_free(spki);

  if (!Asn1TimeToAbsl(X509_get0_notBefore(x), &out.not_before) ||
      !Asn1TimeToAbsl(X509_get0_notAfter(x), &out.not_after)) {
    return Malformed("attested certificate: unreadable notBefore or notAfter");
  }
  if (out.not_after <= out.not_before) {
    return Malformed("attested certificate: notAfter is not after notBefore");
  }

  // Exactly one evidence extension: a second one would leave open which evidence was meant.
  int index = -1;
  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    // auto: OpenSSL 4.0 returns the extension const, 3.0 does not and wants it non-const.
    auto* ext = X509_get_ext(x, i);
    if (OidText(X509_EXTENSION_get_object(ext)) != kEvidenceOid) continue;
    if (index >= 0) return Malformed("attested certificate: more than one evidence extension");
    index = i;
  }
  if (index < 0) {
    return Malformed(absl::StrCat("attested certificate: no evidence extension (", kEvidenceOid,
                                  "): not an attested certificate"));
  }
  auto* ext = X509_get_ext(x, index);
  if (X509_EXTENSION_get_critical(ext)) {
    return Malformed("attested certificate: the evidence extension must not be critical");
  }
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  if (data == nullptr || ASN1_STRING_length(data) == 0) {
    return Malformed("attested certificate: the evidence extension is empty");
  }
  out.evidence.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      ASN1_STRING_length(data));
  return out;
}

absl::Status VerifySelfIssued(const AttestedCertificate& cert) {
  X509* x = cert.cert.get();
  if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) != 0) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     "attested certificate: not self-issued (issuer differs from subject)");
  }
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (key == nullptr) {
    ClearOpenSslErrors();
    return Malformed("attested certificate: unsupported public key");
  }
  if (X509_verify(x, key) != 1) {
    ClearOpenSslErrors();
    return MakeError(v1::REASON_BAD_SIGNATURE,
                     "attested certificate: its signature does not verify under its own key");
  }
  return absl::OkStatus();
}

}  // namespace teeverify::attested_cert
