#include "verifier/nitro/nitro_claims.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"

namespace teeverify::nitro {

NitroClaims NitroClaimsFromPayload(const AttestationPayload& p) {
  NitroClaims c;
  c.module_id = p.module_id;
  c.digest = p.digest;
  c.timestamp_ms = p.timestamp_ms;
  c.pcrs = p.pcrs;
  c.nonce = p.nonce;
  c.user_data = p.user_data;
  c.public_key = p.public_key;
  c.certificate_fingerprint = Sha256(p.certificate);
  return c;
}

bool IsDebugEnclave(const std::map<uint32_t, std::string>& pcrs) {
  for (uint32_t index : {0u, 1u, 2u}) {
    auto it = pcrs.find(index);
    if (it == pcrs.end()) return false;
    if (!std::all_of(it->second.begin(), it->second.end(), [](char b) { return b == 0; })) {
      return false;
    }
  }
  return true;
}

nlohmann::ordered_json NitroClaimsToJson(const NitroClaims& c) {
  nlohmann::ordered_json j;
  j["module_id"] = c.module_id;
  j["digest"] = c.digest;
  j["timestamp_ms"] = c.timestamp_ms;
  // The document counts milliseconds; keep them (RFC 3339 allows fractional seconds).
  j["timestamp"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                    absl::FromUnixMillis(static_cast<int64_t>(c.timestamp_ms)),
                                    absl::UTCTimeZone());
  nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
  for (const auto& [index, value] : c.pcrs) pcrs[absl::StrCat(index)] = HexEncode(value);
  j["pcrs"] = pcrs;
  if (c.nonce) j["nonce"] = HexEncode(*c.nonce);
  if (c.user_data) j["user_data"] = HexEncode(*c.user_data);
  if (c.public_key) j["public_key"] = HexEncode(*c.public_key);
  j["certificate_fingerprint"] = HexEncode(c.certificate_fingerprint);
  return j;
}

}  // namespace teeverify::nitro
