// Checks a role's policy when it is written, so that a malformed role never reaches a login:
// every value hex of the field's exact length, known TEE types, products, signing keys and TCB
// statuses, and at least one workload-binding measurement for each TEE the role allows.
#ifndef TEE_VERIFIER_POLICY_POLICY_VALIDATION_H_
#define TEE_VERIFIER_POLICY_POLICY_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "teeverify/v1/verifier.pb.h"

namespace teeverify::policy {

inline constexpr int64_t kDefaultMaxEvidenceAgeSeconds = 300;
// Attested TLS client certificates: default and ceiling of max_certificate_age_seconds. A
// certificate is a freshness proof; one older than a day proves little.
inline constexpr int64_t kDefaultMaxCertificateAgeSeconds = 600;
inline constexpr int64_t kMaxMaxCertificateAgeSeconds = 86400;

struct PolicyValidation {
  std::vector<std::string> errors;  // every problem, each naming its field; empty when valid
  v1::Policy normalized;            // lowercase hex, canonical names, defaults explicit
};

PolicyValidation ValidatePolicy(const v1::Policy& policy);

// The JSON form of a policy (field names as in the claims schema; unknown fields are errors), as
// `tee-verify --policy` reads it. Bounded like a role file (role_json.h) before protobuf parses it:
// at most kMaxPolicyJsonSize bytes, and nesting at most kMaxPolicyJsonDepth. A policy nests 3 deep
// ({"sev_snp":{"min_reported_tcb":{...}}}, {"tdx":{"mrtd":[...]}}); one level more is left to
// protobuf's own checks.
inline constexpr size_t kMaxPolicyJsonSize = 64 * 1024;
inline constexpr int kMaxPolicyJsonDepth = 4;
absl::StatusOr<v1::Policy> PolicyFromJson(absl::string_view json);
std::string PolicyToJson(const v1::Policy& policy);

}  // namespace teeverify::policy

#endif  // TEE_VERIFIER_POLICY_POLICY_VALIDATION_H_
