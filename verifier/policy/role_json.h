// A Vault role as an admin writes it (`vault write auth/tee/role/NAME @role.json`), read as a
// policy, so that `tee-verify --role role.json` dry-runs exactly the file that will be written.
// The role's policy fields are the Policy message's fields flattened with "_" ("tdx.mrtd" is
// "tdx_mrtd", "sev_snp.min_reported_tcb.tee" is "sev_snp_min_reported_tcb_tee"), the rule the
// plugin derives its role fields by (plugin_shim/role_policy.go).
#ifndef TEE_VERIFIER_POLICY_ROLE_JSON_H_
#define TEE_VERIFIER_POLICY_ROLE_JSON_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "teeverify/v1/verifier.pb.h"

namespace teeverify::policy {

// The largest role JSON accepted: room for about 600 allowed measurements (a real role lists a
// handful), checked before the JSON is parsed.
inline constexpr size_t kMaxRoleJsonSize = 64 * 1024;
// A role is flat: an object of scalars and lists of scalars (depth 2). One level more is read so
// that a nested object ({"tdx":{"mrtd":[...]}}) is reported as the unknown field it is; anything
// deeper is refused before the JSON is parsed, so 64 KiB of nested arrays costs no more than a
// role of that size.
inline constexpr int kMaxRoleJsonDepth = 3;

// The policy of a role JSON object. Token settings (`token_*`) are the plugin's and skipped; any
// other unknown field is an error naming it. Lists are JSON arrays or comma-separated strings,
// booleans and numbers may be given as strings, as Vault accepts them.
absl::StatusOr<v1::Policy> PolicyFromRoleJson(absl::string_view json);

}  // namespace teeverify::policy

#endif  // TEE_VERIFIER_POLICY_ROLE_JSON_H_
