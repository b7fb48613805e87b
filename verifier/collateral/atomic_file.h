// Crash-safe file replacement for the collateral cache and tee-collateral: write a temporary
// file in the same directory, fsync it, rename it over the target, fsync the directory.
#ifndef TEE_VERIFIER_COLLATERAL_ATOMIC_FILE_H_
#define TEE_VERIFIER_COLLATERAL_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace teeverify::collateral {

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_ATOMIC_FILE_H_
