// The HCL runtime data: the JSON whose SHA-256 the hardware report binds. It carries the vTPM's
// keys as a JWK set (the attestation key "HCLAkPub", RSA, signs TPM quotes), the VM configuration
// Azure launched the VM with, and 64 bytes of guest-provided user data:
//
//   {"keys":[{"kid":"HCLAkPub","kty":"RSA","e":"AQAB","n":"..."}, ...],
//    "vm-configuration":{"secure-boot":true,"tpm-enabled":true,"console-enabled":true,
//                        "vmUniqueId":"...", ...},
//    "user-data":"<hex>"}
//
// Members this verifier does not use are ignored: the whole text is authenticated by its hash,
// so ignoring one cannot make unauthenticated data count.
#ifndef TEE_VERIFIER_AZURE_RUNTIME_DATA_H_
#define TEE_VERIFIER_AZURE_RUNTIME_DATA_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::azure {

inline constexpr absl::string_view kAkKeyId = "HCLAkPub";

struct RuntimeData {
  // The attestation key's RSA modulus and public exponent, big-endian bytes.
  std::string ak_modulus;
  std::string ak_exponent;
  // vm-configuration: its boolean members (secure-boot, tpm-enabled, ...) and string members
  // other than vmUniqueId (e.g. root-cert-thumbprint).
  std::map<std::string, bool> vm_flags;
  std::map<std::string, std::string> vm_strings;
  std::string vm_id;      // vm-configuration.vmUniqueId, empty when absent
  std::string user_data;  // raw bytes of "user-data", empty when absent
};

absl::StatusOr<RuntimeData> ParseRuntimeData(absl::string_view json);

// RFC 4648 §5 base64url (the §4 alphabet too), padded or not; strict otherwise.
absl::StatusOr<std::string> DecodeBase64Url(absl::string_view text, absl::string_view what);

}  // namespace teeverify::azure

#endif  // TEE_VERIFIER_AZURE_RUNTIME_DATA_H_
