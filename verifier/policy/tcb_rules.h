// A role's TCB status rules for TDX, including TCB recovery (docs/tcb-recovery.md): the allowed
// statuses, a grace window for platforms a recovery made OutOfDate, a minimum
// tcbEvaluationDataNumber, a maximum collateral age, and advisories refused outright.
#ifndef TEE_VERIFIER_POLICY_TCB_RULES_H_
#define TEE_VERIFIER_POLICY_TCB_RULES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "teeverify/v1/verifier.pb.h"
#include "verifier/claims/claims.h"
#include "verifier/policy/tee_rules.h"

namespace teeverify::policy {

// Checks and normalizes the TCB recovery fields (advisory IDs uppercased, de-duplicated).
void ValidateTcbRecoveryFields(v1::Policy* policy, std::vector<std::string>* errors);

// Adds every unmet TCB constraint to `mismatches`; a login admitted only thanks to the grace
// window gets tcb_grace_deadline (and tcb_out_of_date_since) in `metadata`.
void CheckTcb(const Claims& claims, const v1::Policy& policy, absl::Time now,
              std::vector<Mismatch>* mismatches, std::map<std::string, std::string>* metadata);

}  // namespace teeverify::policy

#endif  // TEE_VERIFIER_POLICY_TCB_RULES_H_
