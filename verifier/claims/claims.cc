#include "verifier/claims/claims.h"

#include <string>

#include "nlohmann/json.hpp"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"

namespace teeverify {

absl::string_view TeeKindName(TeeKind tee) {
  switch (tee) {
    case TeeKind::kTdx:
      return "tdx";
    case TeeKind::kSevSnp:
      return "sev-snp";
    case TeeKind::kNitro:
      return "nitro";
    case TeeKind::kAzSnpVtpm:
      return "az-snp-vtpm";
    case TeeKind::kAzTdxVtpm:
      return "az-tdx-vtpm";
  }
  return "";
}

std::optional<TeeKind> ParseTeeKind(absl::string_view name) {
  for (TeeKind tee : {TeeKind::kTdx, TeeKind::kSevSnp, TeeKind::kNitro, TeeKind::kAzSnpVtpm,
                      TeeKind::kAzTdxVtpm}) {
    if (TeeKindName(tee) == name) return tee;
  }
  return std::nullopt;
}

nlohmann::ordered_json ClaimsToJson(const Claims& c, bool verified) {
  nlohmann::ordered_json j;
  j["tee"] = std::string(TeeKindName(c.tee));
  j["verified"] = verified;
  j["verified_at"] = FormatRfc3339(c.verified_at);
  if (!c.tcb_status.empty()) j["tcb_status"] = c.tcb_status;
  j["advisory_ids"] = c.advisory_ids;
  j["debug"] = c.debug;
  j["report_data"] = HexEncode(c.report_data);
  if (verified && c.valid_until != absl::InfiniteFuture()) {
    j["valid_until"] = FormatRfc3339(c.valid_until);
  }
  if (c.tdx) j["tdx"] = tdx::TdxClaimsToJson(*c.tdx);
  if (c.sev_snp) j["sev_snp"] = snp::SnpClaimsToJson(*c.sev_snp);
  if (c.nitro) j["nitro"] = nitro::NitroClaimsToJson(*c.nitro);
  if (c.azure) j["azure"] = azure::AzureClaimsToJson(*c.azure);
  if (!c.warnings.empty()) j["warnings"] = c.warnings;
  return j;
}

nlohmann::ordered_json ClaimsToJson(const VerifiedClaims& claims) {
  return ClaimsToJson(claims.claims(), /*verified=*/true);
}

nlohmann::ordered_json RejectionToJson(std::optional<TeeKind> tee, absl::Time at,
                                       const absl::Status& error) {
  nlohmann::ordered_json j;
  if (tee) j["tee"] = std::string(TeeKindName(*tee));
  j["verified"] = false;
  j["verified_at"] = FormatRfc3339(at);
  j["error"] = std::string(error.message());
  j["reason"] = std::string(ReasonName(ReasonOf(error)));
  return j;
}

}  // namespace teeverify
