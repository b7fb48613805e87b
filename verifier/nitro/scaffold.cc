// SCAFFOLD, replaced by the Nitro verifier (issue 5): refuses everything, so that nothing is
// accepted before the real verifier exists.
#include "verifier/nitro/nitro_claims.h"
#include "verifier/nitro/nitro_verifier.h"
#include "verifier/common/errors.h"

namespace teeverify {

NitroVerifier::NitroVerifier(std::shared_ptr<const TrustRoots> roots) : roots_(std::move(roots)) {}

absl::StatusOr<VerifiedClaims> NitroVerifier::Verify(absl::string_view, absl::Time) const {
  return Unsupported("nitro verification is not built yet");
}

absl::StatusOr<Claims> NitroVerifier::Inspect(absl::string_view, absl::Time) {
  return Unsupported("nitro inspection is not built yet");
}

bool LooksLikeNitroDocument(absl::string_view) { return false; }

namespace nitro {
nlohmann::ordered_json NitroClaimsToJson(const NitroClaims&) { return nlohmann::ordered_json::object(); }
}  // namespace nitro

}  // namespace teeverify
