// The "azure" part of the claims of an Azure confidential VM (docs/claims.md): what the vTPM
// quote and the HCL runtime data attest, beside the "sev_snp" or "tdx" object of the hardware
// report (whose MEASUREMENT / MRTD measure Azure's paravisor, not the guest image).
#ifndef TEE_VERIFIER_AZURE_AZURE_CLAIMS_H_
#define TEE_VERIFIER_AZURE_AZURE_CLAIMS_H_

#include <cstdint>
#include <map>
#include <string>

#include "nlohmann/json_fwd.hpp"

namespace teeverify::azure {

struct AzureClaims {
  std::map<uint32_t, std::string> pcrs;  // SHA-256 bank, the quoted PCRs only, raw 32 bytes
  std::map<std::string, bool> vm_flags;  // vm-configuration booleans (secure-boot, ...)
  std::map<std::string, std::string> vm_strings;
  std::string vm_id;                 // vmUniqueId, empty when absent
  std::string user_data;             // raw bytes
  std::string hardware_report_data;  // the hardware report's REPORT_DATA (raw 64 bytes)
  uint32_t tpm_reset_count = 0;
  uint32_t tpm_restart_count = 0;
};

nlohmann::ordered_json AzureClaimsToJson(const AzureClaims& claims);

}  // namespace teeverify::azure

#endif  // TEE_VERIFIER_AZURE_AZURE_CLAIMS_H_
