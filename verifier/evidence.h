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
#include "verifier/nitro/nitro_verifier.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify {

struct EvidenceRequest {
  absl::string_view evidence;
  std::optional<TeeKind> tee;  // nullopt: detect from the bytes
  absl::Time now;              // the verification time; always explicit
  // TDX: collateral given with the request, else looked up by the platform's FMSPC.
  std::optional<tdx::TdxCollateral> tdx_collateral;
  const TdxCollateralProvider* tdx_collateral_provider = nullptr;
  // SEV-SNP: the VCEK or VLEK (DER or PEM), when the evidence does not carry it.
  absl::string_view certificate;
  // SEV-SNP: the VCEK when neither `certificate` nor the evidence has it, and the AMD CRLs.
  const SnpCollateralProvider* snp_collateral_provider = nullptr;
  // When set, the verified report_data claim must equal these bytes exactly (REASON_NONCE_MISMATCH).
  std::optional<std::string> expected_report_data;
};

// Recognizes the format from the first bytes; fails when no supported format matches.
absl::StatusOr<TeeKind> DetectTee(absl::string_view evidence);

// What a server keeps between verifications, per TEE (each optional: null caches nothing). Every
// entry is a verified object valid only inside its own window; the per-evidence signatures and
// cross-checks run on every call. See TdxVerifier, SnpVerifier and NitroVerifier.
struct VerificationCaches {
  std::shared_ptr<TdxCaches> tdx;
  std::shared_ptr<SnpCaches> snp;
  std::shared_ptr<NitroCaches> nitro;

  // All three, each bounded to `capacity` entries per kind.
  static VerificationCaches WithCapacity(size_t capacity);
};

class EvidenceVerifier {
 public:
  // `caches` are optional (servers pass them; the CLI verifies once and passes none).
  explicit EvidenceVerifier(std::shared_ptr<const TrustRoots> roots,
                            VerificationCaches caches = {});

  const TrustRoots& roots() const { return *roots_; }

  absl::StatusOr<VerifiedClaims> Verify(const EvidenceRequest& request) const;

  // Parses without verifying (tee-verify --inspect).
  absl::StatusOr<Claims> Inspect(const EvidenceRequest& request) const;

  // The TEE a request is about: the requested one, or the detected one.
  static absl::StatusOr<TeeKind> ResolveTee(const EvidenceRequest& request);

 private:
  absl::StatusOr<VerifiedClaims> VerifyClaims(const EvidenceRequest& request, TeeKind tee) const;

  std::shared_ptr<const TrustRoots> roots_;
  TdxVerifier tdx_;
  SnpVerifier snp_;
  NitroVerifier nitro_;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_EVIDENCE_H_
