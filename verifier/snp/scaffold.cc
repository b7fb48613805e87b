// SCAFFOLD, replaced by the Snp verifier (issue 4): refuses everything, so that nothing is
// accepted before the real verifier exists.
#include "verifier/snp/snp_claims.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/common/errors.h"

namespace teeverify {

SnpVerifier::SnpVerifier(std::shared_ptr<const TrustRoots> roots) : roots_(std::move(roots)) {}

absl::StatusOr<VerifiedClaims> SnpVerifier::Verify(absl::string_view, absl::string_view, absl::Time) const {
  return Unsupported("snp verification is not built yet");
}

absl::StatusOr<Claims> SnpVerifier::Inspect(absl::string_view, absl::Time) {
  return Unsupported("snp inspection is not built yet");
}

bool LooksLikeSnpEvidence(absl::string_view) { return false; }

namespace snp {
nlohmann::ordered_json SnpClaimsToJson(const SnpClaims&) { return nlohmann::ordered_json::object(); }
}  // namespace snp

}  // namespace teeverify
