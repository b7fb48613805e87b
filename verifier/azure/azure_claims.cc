#include "verifier/azure/azure_claims.h"

#include "nlohmann/json.hpp"
#include "verifier/common/hex.h"

namespace teeverify::azure {

nlohmann::ordered_json AzureClaimsToJson(const AzureClaims& c) {
  nlohmann::ordered_json j;
  nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
  for (const auto& [index, value] : c.pcrs) pcrs[std::to_string(index)] = HexEncode(value);
  j["pcrs"] = pcrs;
  nlohmann::ordered_json config = nlohmann::ordered_json::object();
  for (const auto& [name, value] : c.vm_flags) config[name] = value;
  for (const auto& [name, value] : c.vm_strings) config[name] = value;
  j["vm_configuration"] = config;
  if (!c.vm_id.empty()) j["vm_id"] = c.vm_id;
  j["user_data"] = HexEncode(c.user_data);
  j["hardware_report_data"] = HexEncode(c.hardware_report_data);
  j["tpm_reset_count"] = c.tpm_reset_count;
  j["tpm_restart_count"] = c.tpm_restart_count;
  return j;
}

}  // namespace teeverify::azure
