// Intel's TCB status vocabulary and the rules QVL uses to combine statuses.
// Spec: Intel PCS API v4 "TCB Info" (tcbStatus values); QVL TcbLevelCheck.cpp convergence.
#ifndef TEE_VERIFIER_TDX_TCB_STATUS_H_
#define TEE_VERIFIER_TDX_TCB_STATUS_H_

#include <optional>
#include "absl/strings/string_view.h"

namespace teeverify::tdx {

enum class TcbStatus {
  kUpToDate,
  kSWHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSWHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
};

// "UpToDate", "SWHardeningNeeded", ... exactly as Intel spells them.
absl::string_view TcbStatusName(TcbStatus status);
std::optional<TcbStatus> ParseTcbStatus(absl::string_view name);

// Combines the platform status with the status of a component that is either current, out of
// date or revoked (the TDX module, the quoting enclave), as QVL's convergence tables do:
// an out-of-date component turns a current platform OutOfDate and a platform that needs
// configuration OutOfDateConfigurationNeeded; a revoked component revokes the whole.
TcbStatus Converge(TcbStatus platform, TcbStatus component);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_TCB_STATUS_H_
