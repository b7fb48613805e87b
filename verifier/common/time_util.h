// RFC 3339 times for claims, collateral dates and the CLI's --at flag.
#ifndef TEE_VERIFIER_COMMON_TIME_UTIL_H_
#define TEE_VERIFIER_COMMON_TIME_UTIL_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace teeverify {

// Parses "2025-07-19T10:00:34Z" (fractions and numeric offsets accepted). `field` names the value.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text, absl::string_view field);

// Formats as "2025-07-19T10:00:34Z" (UTC, whole seconds; fractions are dropped).
std::string FormatRfc3339(absl::Time t);

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_TIME_UTIL_H_
