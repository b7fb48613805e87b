// The binding between a login nonce and the evidence (docs/policy.md, "Nonce binding"):
//
//   report_data = SHA-512( "tee-auth report-data v1" || 0x00
//                          || u8(len(nonce)) || nonce
//                          || u8(len(key_hash)) || key_hash )
//
// where key_hash is SHA-256(client public key) or empty. TDX and SEV-SNP carry these 64 bytes in
// REPORT_DATA; a Nitro document carries them in its `nonce` field. Length prefixes keep the
// encoding unambiguous; the domain string keeps it from colliding with other uses of REPORT_DATA.
#ifndef TEE_VERIFIER_POLICY_NONCE_BINDING_H_
#define TEE_VERIFIER_POLICY_NONCE_BINDING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace teeverify::policy {

inline constexpr absl::string_view kReportDataDomain = "tee-auth report-data v1";
inline constexpr size_t kMaxNonceSize = 64;

// The 64 bytes the evidence must carry. Fails on an empty or oversized nonce or key.
absl::StatusOr<std::string> ExpectedReportData(absl::string_view nonce,
                                               absl::string_view client_public_key);

// The binding of an attested TLS client certificate (docs/workloads.md):
//
//   report_data = SHA-512( "tee-auth attested-cert v1" || 0x00
//                          || SHA-256(SubjectPublicKeyInfo DER) || u64be(notBefore, Unix seconds) )
//
// Fixed-length fields, so no length prefixes; its own domain string, so evidence made for a
// nonce login can never pass as a certificate's and the other way round.
inline constexpr absl::string_view kCertificateReportDataDomain = "tee-auth attested-cert v1";

std::string ExpectedCertificateReportData(absl::string_view spki_der, absl::Time not_before);

}  // namespace teeverify::policy

#endif  // TEE_VERIFIER_POLICY_NONCE_BINDING_H_
