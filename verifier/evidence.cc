#include "verifier/evidence.h"

#include "absl/strings/str_cat.h"
#include "verifier/azure/azure_verifier.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/tdx/quote_parser.h"

namespace teeverify {
absl::StatusOr<TeeKind> DetectTee(absl::string_view evidence) {
  if (evidence.empty()) return MakeError(v1::REASON_BAD_REQUEST, "evidence is empty");
  if (tdx::LooksLikeTdxQuote(evidence)) return TeeKind::kTdx;
  if (LooksLikeSnpEvidence(evidence)) return TeeKind::kSevSnp;
  if (LooksLikeNitroDocument(evidence)) return TeeKind::kNitro;
  if (azure::LooksLikeAzureEvidence(evidence)) return DetectAzureTee(evidence);
  return Unsupported(
      "evidence format not recognized (expected a TDX quote, an SEV-SNP report, a Nitro "
      "attestation document or Azure vTPM evidence); name the TEE type to force one");
}

VerificationCaches VerificationCaches::WithCapacity(size_t capacity) {
  return {std::make_shared<TdxCaches>(capacity), std::make_shared<SnpCaches>(capacity),
          std::make_shared<NitroCaches>(capacity)};
}

EvidenceVerifier::EvidenceVerifier(std::shared_ptr<const TrustRoots> roots,
                                   VerificationCaches caches)
    : roots_(std::move(roots)),
      tdx_(roots_, std::move(caches.tdx)),
      snp_(roots_, std::move(caches.snp)),
      nitro_(roots_, std::move(caches.nitro)) {}

absl::StatusOr<TeeKind> EvidenceVerifier::ResolveTee(const EvidenceRequest& request) {
  if (request.evidence.empty()) return MakeError(v1::REASON_BAD_REQUEST, "evidence is empty");
  if (request.tee) return *request.tee;
  return DetectTee(request.evidence);
}

absl::StatusOr<VerifiedClaims> EvidenceVerifier::VerifyClaims(const EvidenceRequest& request,
                                                              TeeKind tee) const {
  switch (tee) {
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm:
      return AzureVerifier::Verify(
          request.evidence, tee, request.certificate,
          [&](TeeKind hardware, absl::string_view evidence,
              absl::string_view certificate) -> absl::StatusOr<VerifiedClaims> {
            EvidenceRequest inner = request;
            inner.evidence = evidence;
            inner.certificate = certificate;
            inner.expected_report_data.reset();
            // What needs no collateral first, so missing collateral is the only fault left.
            if (hardware == TeeKind::kTdx) {
              RETURN_IF_ERROR(tdx_.VerifySignatures(evidence, request.now));
            }
            return VerifyClaims(inner, hardware);
          });
    case TeeKind::kTdx:
      if (request.tdx_collateral) {
        return tdx_.Verify(request.evidence, *request.tdx_collateral, request.now);
      }
      if (request.tdx_collateral_provider != nullptr) {
        return tdx_.Verify(request.evidence, *request.tdx_collateral_provider, request.now);
      }
      return MakeError(v1::REASON_COLLATERAL_MISSING,
                       "tdx collateral is missing (tee-verify --collateral DIR)");
    case TeeKind::kSevSnp:
      return snp_.Verify(request.evidence, request.certificate, request.now,
                         request.snp_collateral_provider);
    case TeeKind::kNitro:
      return nitro_.Verify(request.evidence, request.now);
  }
  return MakeError(v1::REASON_INTERNAL, "unknown TEE");
}

absl::StatusOr<VerifiedClaims> EvidenceVerifier::Verify(const EvidenceRequest& request) const {
  ASSIGN_OR_RETURN(const TeeKind tee, ResolveTee(request));
  ASSIGN_OR_RETURN(VerifiedClaims claims, VerifyClaims(request, tee));
  if (request.expected_report_data &&
      claims.claims().report_data != *request.expected_report_data) {
    return MakeError(v1::REASON_NONCE_MISMATCH,
                     absl::StrCat(TeeKindName(tee), " evidence: report_data ",
                                  HexEncode(claims.claims().report_data),
                                  " is not the expected ",
                                  HexEncode(*request.expected_report_data)));
  }
  return claims;
}

absl::StatusOr<Claims> EvidenceVerifier::Inspect(const EvidenceRequest& request) const {
  ASSIGN_OR_RETURN(const TeeKind tee, ResolveTee(request));
  switch (tee) {
    case TeeKind::kTdx:
      return TdxVerifier::Inspect(request.evidence, request.now);
    case TeeKind::kSevSnp:
      return SnpVerifier::Inspect(request.evidence, request.now);
    case TeeKind::kNitro:
      return NitroVerifier::Inspect(request.evidence, request.now);
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm:
      return AzureVerifier::Inspect(request.evidence, request.now);
  }
  return MakeError(v1::REASON_INTERNAL, "unknown TEE");
}

}  // namespace teeverify
