// Where the certificates of an SNP verification come from: the `certificate` argument (tee-verify
// --cert: one DER certificate, or PEM with the VCEK/VLEK first, optionally followed by the
// ASK/ASVK and the ARK, as Azure's THIM serves them) and the evidence's certificate table. Both
// may be present; a certificate given twice must be identical.
#ifndef TEE_VERIFIER_SNP_SNP_CERTIFICATES_H_
#define TEE_VERIFIER_SNP_SNP_CERTIFICATES_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/common/openssl_util.h"
#include "verifier/snp/extended_evidence.h"

namespace teeverify::snp {

struct SnpCertificates {
  X509Ptr vek;           // VCEK or VLEK, as the report's SIGNING_KEY says
  X509Ptr intermediate;  // ASK/ASVK, when given
  X509Ptr ark;           // ARK, when given (only compared with the trusted one)
};

// Collects the certificates for a report signed by the VLEK (`vlek`) or the VCEK. A missing
// VCEK/VLEK is COLLATERAL_MISSING; conflicting copies and unparsable certificates are
// CERT_CHAIN_INVALID.
absl::StatusOr<SnpCertificates> CollectCertificates(const SnpEvidence& evidence,
                                                    absl::string_view certificate, bool vlek);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_SNP_CERTIFICATES_H_
