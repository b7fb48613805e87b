// The evidence of an Azure confidential VM as it travels (docs/azure.md): a JSON object, the shape
// trustee's az-snp-vtpm / az-tdx-vtpm attesters produce (versions 1 and 2), which tee-login
// produces too:
//
//   {"version": 1,
//    "tpm_quote": {"message": "<hex TPMS_ATTEST>",
//                  "signature": "<hex: raw RSA signature, or a TPMT_SIGNATURE>",
//                  "pcrs": ["<hex SHA-256 PCR 0>", ..., "<hex PCR 23>"]},
//    "hcl_report": "<base64url HCL report (NV 0x01400001)>",
//    "vcek": "<base64url DER VCEK>"          SEV-SNP; optional (else given with the request)
//    "td_quote": "<base64url TDX quote>"}    TDX; required
#ifndef TEE_VERIFIER_AZURE_AZURE_EVIDENCE_H_
#define TEE_VERIFIER_AZURE_AZURE_EVIDENCE_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/azure/hcl_report.h"
#include "verifier/azure/runtime_data.h"
#include "verifier/azure/tpm_quote.h"

namespace teeverify::azure {

inline constexpr size_t kMaxEvidenceJsonSize = 64 * 1024;

struct AzureEvidence {
  uint32_t version = 0;
  std::string tpm_message;       // the TPMS_ATTEST bytes the AK signed
  TpmQuote tpm_quote;            // parsed tpm_message
  std::string tpm_signature;     // the RSA signature bytes (unwrapped from a TPMT_SIGNATURE)
  std::array<std::string, kPcrCount> pcrs;  // SHA-256 bank, 32 bytes each
  HclReport hcl;
  RuntimeData runtime;
  std::string vcek;      // DER, may be empty
  std::string td_quote;  // TDX only
};

// Parses every part; verifies nothing.
absl::StatusOr<AzureEvidence> ParseAzureEvidence(absl::string_view json);

// A JSON object that names "hcl_report" (for tee-verify --tee auto).
bool LooksLikeAzureEvidence(absl::string_view bytes);

}  // namespace teeverify::azure

#endif  // TEE_VERIFIER_AZURE_AZURE_EVIDENCE_H_
