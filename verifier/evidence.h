// The entry point shared by tee-verify and tee-verifierd: detect the evidence format and
// dispatch to the verifier of that TEE.
#ifndef TEE_VERIFIER_EVIDENCE_H_
#define TEE_VERIFIER_EVIDENCE_H_

#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/claims/claims.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/collateral.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify {

struct EvidenceRequest {
  absl::string_view evidence;
  std::optional<TeeKind> tee;  // nullopt: detect from the bytes
  absl::Time now;              // the verification time; always explicit
  std::optional<tdx::TdxCollateral> tdx_collateral;
};

// Recognizes the format from the first bytes; fails when no supported format matches.
absl::StatusOr<TeeKind> DetectTee(absl::string_view evidence);

class EvidenceVerifier {
 public:
  explicit EvidenceVerifier(std::shared_ptr<const TrustRoots> roots);

  absl::StatusOr<VerifiedClaims> Verify(const EvidenceRequest& request) const;

  // Parses without verifying (tee-verify --inspect).
  absl::StatusOr<Claims> Inspect(const EvidenceRequest& request) const;

  // The TEE a request is about: the requested one, or the detected one.
  static absl::StatusOr<TeeKind> ResolveTee(const EvidenceRequest& request);

 private:
  std::shared_ptr<const TrustRoots> roots_;
  TdxVerifier tdx_;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_EVIDENCE_H_
