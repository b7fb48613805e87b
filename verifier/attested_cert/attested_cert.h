// Attested TLS client certificates (docs/workloads.md, "Attested certificate format"): a
// short-lived, self-issued X.509 certificate whose key was generated inside the TEE and whose
// extension carries the TEE's evidence; the evidence's REPORT_DATA binds the certificate's
// SubjectPublicKeyInfo and notBefore (policy/nonce_binding.h). Modelled on Intel's RA-TLS (the
// quote in a non-critical extension of a self-signed certificate) and the IETF RATS attested-TLS
// work (evidence bound to the TLS key).
//
// Parse and verify are separate: ParseAttestedCertificate only reads the DER; VerifySelfIssued
// checks the certificate's own signature. The validity window, the role's maximum age and the
// binding are policy (policy_engine.cc); the evidence is verified like any other.
#ifndef TEE_VERIFIER_ATTESTED_CERT_ATTESTED_CERT_H_
#define TEE_VERIFIER_ATTESTED_CERT_ATTESTED_CERT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"

namespace teeverify::attested_cert {

// The evidence extension: under IANA's documentation enterprise arc (RFC 5612, 1.3.6.1.4.1.32473).
// Its value is the raw evidence bytes (TDX quote, SEV-SNP report with optional certificate table,
// Nitro attestation document), as RA-TLS carries its quote. Every arc fits 31 bits, which Go's
// TLS stack (the server's) requires of any OID in a certificate it parses.
inline constexpr absl::string_view kEvidenceOid = "1.3.6.1.4.1.32473.16.1";

// Larger than any evidence with its certificates; anything bigger is refused before parsing.
inline constexpr size_t kMaxCertificateSize = 64 * 1024;

struct AttestedCertificate {
  X509Ptr cert;
  std::string spki_der;  // the SubjectPublicKeyInfo, DER: what REPORT_DATA binds
  absl::Time not_before;
  absl::Time not_after;
  std::string evidence;  // the extension's value
};

// Reads one DER certificate (no trailing bytes) with exactly one evidence extension, which must be
// non-critical and non-empty. No signature or time check.
absl::StatusOr<AttestedCertificate> ParseAttestedCertificate(absl::string_view der);

// The certificate is self-issued (issuer == subject) and its signature verifies under its own
// public key: whoever made it held the key. The TLS handshake proved the client holds it now.
absl::Status VerifySelfIssued(const AttestedCertificate& cert);

}  // namespace teeverify::attested_cert

#endif  // TEE_VERIFIER_ATTESTED_CERT_ATTESTED_CERT_H_
