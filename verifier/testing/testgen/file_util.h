// File helpers for tee-testgen. Every file the tool hands to another process is written with
// WriteFileAtomically, so a reader polling for it sees nothing or the whole file, never a part.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_FILE_UTIL_H_
#define TEE_VERIFIER_TESTING_TESTGEN_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::testgen {

// Writes `bytes` to a temporary file next to `path` (".NAME.tmp-PID"), then rename(2)s it over
// `path`. NotFound when the directory is gone (a client removed it meanwhile); the temporary file
// never outlives the call.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

// The whole file; NotFound when it does not exist, OutOfRange when it exceeds `max_bytes`.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

// DIR/NAME.
std::string Join(const std::string& dir, absl::string_view name);

// mkdir -p.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_FILE_UTIL_H_
