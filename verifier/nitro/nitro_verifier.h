// Verifies an AWS Nitro Enclaves attestation document: a COSE_Sign1 (ES384) whose payload is a
// CBOR map, signed by a leaf certificate that chains through the document's cabundle to the pinned
// AWS Nitro Enclaves Root-G1, at an explicit time.
// Spec: AWS Nitro Enclaves "Verifying the root of trust" (attestation document); RFC 9052 (COSE).
#ifndef TEE_VERIFIER_NITRO_NITRO_VERIFIER_H_
#define TEE_VERIFIER_NITRO_NITRO_VERIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/claims/claims.h"
#include "verifier/nitro/document.h"
#include "verifier/nitro/nitro_caches.h"
#include "verifier/roots/trust_roots.h"

namespace teeverify {

// Immutable and thread-safe (the optional cache is internally synchronized).
class NitroVerifier {
 public:
  // With `caches`, a certificate chain (and its cabundle) verified once is reused while every
  // certificate of it is valid; the COSE signature and the document timestamp's place in the
  // leaf's validity are checked on every call.
  explicit NitroVerifier(std::shared_ptr<const TrustRoots> roots,
                         std::shared_ptr<NitroCaches> caches = nullptr);

  // `document` is the COSE_Sign1 bytes, or their base64 text.
  absl::StatusOr<VerifiedClaims> Verify(absl::string_view document, absl::Time now) const;

  // Parses without verifying (tee-verify --inspect); never to be trusted.
  static absl::StatusOr<Claims> Inspect(absl::string_view document, absl::Time now);

 private:
  // The document's chain to the pinned root, verified at `now` (or taken from the cache).
  absl::StatusOr<std::shared_ptr<const nitro::VerifiedNitroChain>> Chain(
      const nitro::AttestationPayload& payload, absl::Time now) const;

  std::shared_ptr<const TrustRoots> roots_;
  std::shared_ptr<NitroCaches> caches_;
};

// Whether `bytes` looks like a Nitro attestation document, raw or base64 (for --tee auto).
bool LooksLikeNitroDocument(absl::string_view bytes);

}  // namespace teeverify

#endif  // TEE_VERIFIER_NITRO_NITRO_VERIFIER_H_
