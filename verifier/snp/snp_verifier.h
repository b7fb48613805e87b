// Verifies an AMD SEV-SNP attestation report: the ECDSA P-384 signature by the VCEK or VLEK, the
// VCEK -> ASK -> ARK (VLEK -> ASVK -> ARK) chain to the pinned AMD root of the report's product,
// and the report/certificate cross-checks (chip ID, reported TCB), all at an explicit time.
// Spec: AMD SEV Secure Nested Paging Firmware ABI Specification (56860), "ATTESTATION_REPORT";
// AMD Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification (57230).
#ifndef TEE_VERIFIER_SNP_SNP_VERIFIER_H_
#define TEE_VERIFIER_SNP_SNP_VERIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/claims/claims.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/snp_caches.h"
#include "verifier/snp/snp_collateral.h"

namespace teeverify {

// Immutable and thread-safe (the optional cache is internally synchronized).
class SnpVerifier {
 public:
  // With `caches`, a VCEK/VLEK chain verified once is reused while every certificate of it is
  // valid; the report's cross-checks with the certificate and its signature run on every call.
  explicit SnpVerifier(std::shared_ptr<const TrustRoots> roots,
                       std::shared_ptr<SnpCaches> caches = nullptr);

  // `evidence` is a raw attestation report, or a report that carries its own certificates (see
  // docs/sev-snp.md). `certificate` is the VCEK or VLEK (DER or PEM); it may be empty when the
  // evidence carries it. With a `provider`, a VCEK neither given nor carried is asked of it, and
  // the ASK/ASVK is checked against the product's CRL it holds.
  absl::StatusOr<VerifiedClaims> Verify(absl::string_view evidence,
                                        absl::string_view certificate, absl::Time now,
                                        const SnpCollateralProvider* provider = nullptr) const;

  // Parses without verifying (tee-verify --inspect); never to be trusted.
  static absl::StatusOr<Claims> Inspect(absl::string_view evidence, absl::Time now);

 private:
  // The signing key's certificate, verified up to the trusted ARK (or taken from the cache).
  absl::StatusOr<std::shared_ptr<const snp::VerifiedVek>> VerifiedCertificate(
      const snp::SnpEvidence& evidence, absl::string_view certificate, bool vlek,
      absl::Time now) const;

  std::shared_ptr<const TrustRoots> roots_;
  std::shared_ptr<SnpCaches> caches_;
};

// Whether `bytes` looks like SNP evidence (for tee-verify --tee auto).
bool LooksLikeSnpEvidence(absl::string_view bytes);

}  // namespace teeverify

#endif  // TEE_VERIFIER_SNP_SNP_VERIFIER_H_
