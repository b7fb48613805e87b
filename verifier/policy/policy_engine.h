// Evaluates a role's policy against verified claims: allow only when every constraint holds, and
// when not, report every unmet constraint (field, allowed values, actual value), not just the
// first. A deny is a normal answer, not an error.
#ifndef TEE_VERIFIER_POLICY_POLICY_ENGINE_H_
#define TEE_VERIFIER_POLICY_POLICY_ENGINE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "teeverify/v1/verifier.pb.h"
#include "verifier/claims/claims.h"
#include "verifier/policy/tee_rules.h"

namespace teeverify::policy {

// An attested TLS client certificate's fields that REPORT_DATA binds and its validity window
// (attested_cert/attested_cert.h).
struct CertificateBinding {
  absl::string_view spki_der;
  absl::Time not_before;
  absl::Time not_after;
};

// What the login presented besides the evidence: the server nonce and an optional client key
// bound with it (nonce_binding.h), and the role it logs in to (part of the workload identity).
struct LoginBinding {
  absl::string_view nonce;
  absl::string_view client_public_key;
  absl::string_view role = {};  // a default, so that {nonce, key} still reads as before
  // Instead of the nonce and key: an attested certificate whose fields REPORT_DATA binds.
  const CertificateBinding* certificate = nullptr;
};

// How far a certificate's notBefore may lie ahead of the verifier's clock (the TEE's clock and
// the sidecar's are not the same clock).
inline constexpr absl::Duration kMaxCertificateClockSkew = absl::Seconds(60);

struct Decision {
  bool allow = false;
  std::vector<Mismatch> mismatches;
  // "<tee>:<hex SHA-256>" over the role, the image anchor, the debug flag and every value the role
  // constrained (WorkloadIdentity).
  std::string workload_identity;
  // The claims the role constrained and a few facts about the login, for token metadata.
  std::map<std::string, std::string> metadata;
  std::string client_public_key_sha256;  // hex, when a key was bound
  std::string certificate_spki_sha256;   // hex, for attested certificate logins
};

// `policy` must be the normalized form from ValidatePolicy; `now` is the verification time.
Decision Evaluate(const VerifiedClaims& claims, const v1::Policy& policy,
                  const LoginBinding& binding, absl::Time now);

// The mismatches as the CLI prints them and the sidecar logs them:
// [{"field", "expected": [...], "actual"}, ...].
nlohmann::ordered_json MismatchesToJson(const std::vector<Mismatch>& mismatches);

// The identity of the workload as `role` sees it, for the Vault entity alias (docs/policy.md,
// "Workload identity"): two logins share it only when they log in to the same role, have the same
// image anchor (TeeRules::workload_identity) and debug flag, and agree on every claim the role
// constrains. So whatever a role tells apart gets distinct entities, and roles never share one.
std::string WorkloadIdentity(const Claims& claims, const v1::Policy& policy, absl::string_view role);

namespace internal {
// The same over plain claims, for tests of the rules themselves.
Decision EvaluateClaims(const Claims& claims, const v1::Policy& policy,
                        const LoginBinding& binding, absl::Time now);
}  // namespace internal

}  // namespace teeverify::policy

#endif  // TEE_VERIFIER_POLICY_POLICY_ENGINE_H_
