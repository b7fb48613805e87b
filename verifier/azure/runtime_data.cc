#include "verifier/azure/runtime_data.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/nitro/document_input.h"

namespace teeverify::azure {
namespace {

constexpr size_t kMinModulusBytes = 256;  // RSA-2048, what Azure's vTPM AK is
constexpr size_t kMaxModulusBytes = 512;
constexpr size_t kMaxExponentBytes = 8;

absl::StatusOr<std::string> KeyMember(const Json& key, absl::string_view name) {
  auto it = key.find(std::string(name));
  if (it == key.end() || !it->is_string()) {
    return Malformed(absl::StrCat("hcl runtime data: keys[HCLAkPub].", name,
                                  " is missing or not a string"));
  }
  return DecodeBase64Url(it->get<std::string>(), absl::StrCat("hcl runtime data: keys[HCLAkPub].", name));
}

absl::Status ReadAk(const Json& keys, RuntimeData* out) {
  if (!keys.is_array()) return Malformed("hcl runtime data: keys is not an array");
  const Json* ak = nullptr;
  for (const Json& key : keys) {
    if (!key.is_object()) return Malformed("hcl runtime data: keys has a non-object entry");
    auto kid = key.find("kid");
    if (kid == key.end() || !kid->is_string() || kid->get<std::string>() != kAkKeyId) continue;
    if (ak != nullptr) return Malformed("hcl runtime data: keys lists HCLAkPub twice");
    ak = &key;
  }
  if (ak == nullptr) return Malformed("hcl runtime data: keys has no HCLAkPub");
  auto kty = ak->find("kty");
  if (kty == ak->end() || !kty->is_string() || kty->get<std::string>() != "RSA") {
    return Unsupported("hcl runtime data: keys[HCLAkPub].kty is not \"RSA\"");
  }
  ASSIGN_OR_RETURN(out->ak_modulus, KeyMember(*ak, "n"));
  ASSIGN_OR_RETURN(out->ak_exponent, KeyMember(*ak, "e"));
  if (out->ak_modulus.size() < kMinModulusBytes || out->ak_modulus.size() > kMaxModulusBytes ||
      static_cast<uint8_t>(out->ak_modulus[0]) == 0) {
    return Unsupported(absl::StrCat("hcl runtime data: keys[HCLAkPub].n is ",
                                    out->ak_modulus.size(),
                                    " bytes (an RSA modulus of 2048 to 4096 bits expected)"));
  }
  if (out->ak_exponent.empty() || out->ak_exponent.size() > kMaxExponentBytes ||
      static_cast<uint8_t>(out->ak_exponent[0]) == 0) {
    return Malformed("hcl runtime data: keys[HCLAkPub].e is not a minimal exponent of 1 to 8 bytes");
  }
  return absl::OkStatus();
}

absl::Status ReadVmConfiguration(const Json& config, RuntimeData* out) {
  if (!config.is_object()) return Malformed("hcl runtime data: vm-configuration is not an object");
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (it->is_boolean()) {
      out->vm_flags[it.key()] = it->get<bool>();
    } else if (it->is_string()) {
      if (it.key() == "vmUniqueId") {
        out->vm_id = it->get<std::string>();
      } else {
        out->vm_strings[it.key()] = it->get<std::string>();
      }
    } else {
      return Unsupported(absl::StrCat("hcl runtime data: vm-configuration.", it.key(),
                                      " is neither a boolean nor a string"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DecodeBase64Url(absl::string_view text, absl::string_view what) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  // Unpadded (JWK) or padded (trustee's evidence JSON); the strict decoder checks the padding.
  if (standard.find('=') == std::string::npos) {
    if (standard.size() % 4 == 1) return Malformed(absl::StrCat(what, ": truncated base64url"));
    standard.append((4 - standard.size() % 4) % 4, '=');
  }
  return nitro::DecodeBase64Strict(standard, what);
}

absl::StatusOr<RuntimeData> ParseRuntimeData(absl::string_view json) {
  ASSIGN_OR_RETURN(const Json doc,
                   ParseJson(json, "hcl runtime data", v1::REASON_MALFORMED_EVIDENCE));
  if (!doc.is_object()) return Malformed("hcl runtime data: not a JSON object");
  RuntimeData out;
  auto keys = doc.find("keys");
  if (keys == doc.end()) return Malformed("hcl runtime data: keys is missing");
  RETURN_IF_ERROR(ReadAk(*keys, &out));
  auto config = doc.find("vm-configuration");
  if (config != doc.end()) RETURN_IF_ERROR(ReadVmConfiguration(*config, &out));
  auto user_data = doc.find("user-data");
  if (user_data != doc.end()) {
    if (!user_data->is_string()) return Malformed("hcl runtime data: user-data is not a string");
    ASSIGN_OR_RETURN(out.user_data,
                     HexDecode(user_data->get<std::string>(), "hcl runtime data: user-data"));
  }
  return out;
}

}  // namespace teeverify::azure
