// Normalized claims: one shape for every TEE (docs/claims.md). `Claims` is plain data; a
// `VerifiedClaims` can only be made by a verifier, so code that needs verified evidence (the
// policy engine) cannot be handed parsed-but-unverified data by mistake.
#ifndef TEE_VERIFIER_CLAIMS_CLAIMS_H_
#define TEE_VERIFIER_CLAIMS_CLAIMS_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "verifier/azure/azure_claims.h"
#include "verifier/nitro/nitro_claims.h"
#include "verifier/snp/snp_claims.h"
#include "verifier/tdx/tdx_claims.h"

namespace teeverify {

// The Azure kinds are vTPM evidence over an SEV-SNP report or a TDX quote (docs/azure.md).
enum class TeeKind { kTdx, kSevSnp, kNitro, kAzSnpVtpm, kAzTdxVtpm };

// "tdx", "sev-snp", "nitro", "az-snp-vtpm", "az-tdx-vtpm".
absl::string_view TeeKindName(TeeKind tee);
std::optional<TeeKind> ParseTeeKind(absl::string_view name);

inline constexpr absl::string_view kTcbStatusNotApplicable = "NotApplicable";

struct Claims {
  TeeKind tee = TeeKind::kTdx;
  absl::Time verified_at;  // the verification time used
  std::string tcb_status;  // Intel's status strings, or "NotApplicable"
  std::vector<std::string> advisory_ids;
  bool debug = false;
  std::string report_data;  // raw bytes (TDX/SNP REPORT_DATA, Nitro nonce)
  // The earliest expiry among the certificates and collateral the verification relied on.
  absl::Time valid_until = absl::InfiniteFuture();
  std::optional<tdx::TdxClaims> tdx;
  std::optional<snp::SnpClaims> sev_snp;
  std::optional<nitro::NitroClaims> nitro;
  std::optional<azure::AzureClaims> azure;  // az-snp-vtpm, az-tdx-vtpm (with sev_snp / tdx)
  // Problems an inspection found that verification would reject (tee-verify --inspect only).
  std::vector<std::string> warnings;
};

class TdxVerifier;
class SnpVerifier;
class NitroVerifier;
class AzureVerifier;

class VerifiedClaims {
 public:
  const Claims& claims() const { return claims_; }

 private:
  friend class TdxVerifier;
  friend class SnpVerifier;
  friend class NitroVerifier;
  friend class AzureVerifier;
  explicit VerifiedClaims(Claims claims) : claims_(std::move(claims)) {}

  Claims claims_;
};

// The claims JSON; `verified` says whether they come from a successful verification.
nlohmann::ordered_json ClaimsToJson(const Claims& claims, bool verified);
nlohmann::ordered_json ClaimsToJson(const VerifiedClaims& claims);

// The JSON of a rejected evidence: tee (when known), verified=false, verified_at, error, reason.
nlohmann::ordered_json RejectionToJson(std::optional<TeeKind> tee, absl::Time at,
                                       const absl::Status& error);

}  // namespace teeverify

#endif  // TEE_VERIFIER_CLAIMS_CLAIMS_H_
