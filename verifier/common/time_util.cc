#include "verifier/common/time_util.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"

namespace teeverify {

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text, absl::string_view field) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) {
    return MakeError(v1::REASON_BAD_REQUEST,
                     absl::StrCat(field, ": not an RFC 3339 time: \"", text, "\" (", err, ")"));
  }
  return t;
}

std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace teeverify
