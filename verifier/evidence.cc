#include "verifier/evidence.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/tdx/quote_parser.h"

namespace teeverify {
namespace {

absl::Status NotBuiltYet(TeeKind tee) {
  return Unsupported(absl::StrCat(TeeKindName(tee), " evidence is not supported by this build"));
}

}  // namespace

absl::StatusOr<TeeKind> DetectTee(absl::string_view evidence) {
  if (evidence.empty()) return MakeError(v1::REASON_BAD_REQUEST, "evidence is empty");
  if (tdx::LooksLikeTdxQuote(evidence)) return TeeKind::kTdx;
  return Unsupported(
      "evidence format not recognized (expected a TDX quote v4/v5); pass --tee to force one");
}

EvidenceVerifier::EvidenceVerifier(std::shared_ptr<const TrustRoots> roots)
    : roots_(std::move(roots)), tdx_(roots_) {}

absl::StatusOr<TeeKind> EvidenceVerifier::ResolveTee(const EvidenceRequest& request) {
  if (request.evidence.empty()) return MakeError(v1::REASON_BAD_REQUEST, "evidence is empty");
  if (request.tee) return *request.tee;
  return DetectTee(request.evidence);
}

absl::StatusOr<VerifiedClaims> EvidenceVerifier::Verify(const EvidenceRequest& request) const {
  ASSIGN_OR_RETURN(const TeeKind tee, ResolveTee(request));
  switch (tee) {
    case TeeKind::kTdx:
      if (!request.tdx_collateral) {
        return MakeError(v1::REASON_COLLATERAL_MISSING,
                         "tdx collateral is missing (tee-verify --collateral DIR)");
      }
      return tdx_.Verify(request.evidence, *request.tdx_collateral, request.now);
    default:
      return NotBuiltYet(tee);
  }
}

absl::StatusOr<Claims> EvidenceVerifier::Inspect(const EvidenceRequest& request) const {
  ASSIGN_OR_RETURN(const TeeKind tee, ResolveTee(request));
  switch (tee) {
    case TeeKind::kTdx:
      return TdxVerifier::Inspect(request.evidence, request.now);
    default:
      return NotBuiltYet(tee);
  }
}

}  // namespace teeverify
