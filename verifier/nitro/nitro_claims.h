// The Nitro part of the claims ("nitro" object of docs/claims.md and docs/nitro.md) and its JSON
// rendering. The sidecar's policy engine is written against these names: extend, do not rename.
#ifndef TEE_VERIFIER_NITRO_NITRO_CLAIMS_H_
#define TEE_VERIFIER_NITRO_NITRO_CLAIMS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "nlohmann/json_fwd.hpp"
#include "verifier/common/byte_reader.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {

struct NitroClaims {
  std::string module_id;
  std::string digest;                     // "SHA384"
  uint64_t timestamp_ms = 0;
  std::map<uint32_t, std::string> pcrs;   // index -> raw bytes
  std::optional<std::string> nonce;       // raw bytes; absent when the document has none
  std::optional<std::string> user_data;
  std::optional<std::string> public_key;
  ByteArray<32> certificate_fingerprint{};  // SHA-256 of the leaf certificate's DER
};

NitroClaims NitroClaimsFromPayload(const AttestationPayload& payload);

// A debug-mode enclave (nitro-cli run-enclave --debug-mode) reports PCR0, PCR1 and PCR2 as all
// zeros: its memory can be read from the parent instance, so nothing in it is confidential.
bool IsDebugEnclave(const std::map<uint32_t, std::string>& pcrs);

// {"module_id", "digest", "timestamp_ms", "timestamp" (RFC 3339, milliseconds), "pcrs" {"0": hex,
// ...}, "nonce", "user_data", "public_key" (hex, absent when absent), "certificate_fingerprint"}.
nlohmann::ordered_json NitroClaimsToJson(const NitroClaims& claims);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_NITRO_CLAIMS_H_
