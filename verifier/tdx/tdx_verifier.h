// Verifies a TDX quote end to end, as Intel's Quote Verification Library does: quote and QE
// report signatures, the QE binding, the PCK chain to the pinned Intel root, both CRLs, the
// signed TCB info and QE identity with their windows, and the TCB status; all at `now`.
#ifndef TEE_VERIFIER_TDX_TDX_VERIFIER_H_
#define TEE_VERIFIER_TDX_TDX_VERIFIER_H_

#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/claims/claims.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/collateral.h"
#include "verifier/tdx/quote.h"

namespace teeverify {

// Immutable and thread-safe.
class TdxVerifier {
 public:
  explicit TdxVerifier(std::shared_ptr<const TrustRoots> roots) : roots_(std::move(roots)) {}

  absl::StatusOr<VerifiedClaims> Verify(absl::string_view quote, const tdx::TdxCollateral& collateral,
                                        absl::Time now) const;

  // The same with collateral verified beforehand (e.g. once per platform by a server).
  absl::StatusOr<VerifiedClaims> Verify(absl::string_view quote,
                                        const tdx::VerifiedTdxCollateral& collateral,
                                        absl::Time now) const;

  // Parses the quote and reads its PCK certificate's FMSPC without verifying anything. The
  // claims are for display (tee-verify --inspect) and must never be trusted.
  static absl::StatusOr<Claims> Inspect(absl::string_view quote, absl::Time now);

 private:
  absl::StatusOr<VerifiedClaims> VerifyParsed(const tdx::Quote& quote,
                                              const tdx::VerifiedTdxCollateral& collateral,
                                              absl::Time now) const;

  std::shared_ptr<const TrustRoots> roots_;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_TDX_TDX_VERIFIER_H_
