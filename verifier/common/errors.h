// Verification errors: canonical absl codes (one meaning each, see STYLE.md) plus a stable
// teeverify.v1.Reason carried as a status payload, so the sidecar and the CLI can report a
// machine-readable reason next to the message that names the field.
#ifndef TEE_VERIFIER_COMMON_ERRORS_H_
#define TEE_VERIFIER_COMMON_ERRORS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "teeverify/v1/verifier.pb.h"

namespace teeverify {

using Reason = ::teeverify::v1::Reason;

// Builds a status with the canonical code that belongs to `reason` and attaches the reason.
absl::Status MakeError(Reason reason, absl::string_view message);

// The reason attached to `status`, or a reason derived from its code when none is attached.
Reason ReasonOf(const absl::Status& status);

// Stable upper-case name of a reason without the REASON_ prefix, e.g. "BAD_SIGNATURE".
absl::string_view ReasonName(Reason reason);

// Prefixes the message of a non-OK status with `context` ("tdx quote: ..."), keeping code and
// reason. Returns OK unchanged.
absl::Status WithContext(const absl::Status& status, absl::string_view context);

// Shorthands for the most common reasons.
inline absl::Status Malformed(absl::string_view message) {
  return MakeError(v1::REASON_MALFORMED_EVIDENCE, message);
}
inline absl::Status Unsupported(absl::string_view message) {
  return MakeError(v1::REASON_UNSUPPORTED_FORMAT, message);
}

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_ERRORS_H_
