// File access for the CLI and the sidecar. Kept out of the verifier core, which does no I/O.
#ifndef TEE_VERIFIER_IO_FILES_H_
#define TEE_VERIFIER_IO_FILES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/collateral.h"

namespace teeverify {

// Reads a whole file; refuses files larger than `max_bytes`.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path, size_t max_bytes = 16 << 20);

// Loads the seven TDX collateral items from a directory (names in tdx/collateral.h). A missing
// file is an error naming it; PEM CRLs are accepted under the .der names too. The optional early
// TCB info (kTcbInfoEarlyFile) is read when present.
absl::StatusOr<tdx::TdxCollateral> LoadTdxCollateralDir(const std::string& dir);

// Loads test roots from a directory (file names from RootFileName); at least one must exist.
absl::StatusOr<std::shared_ptr<const TrustRoots>> LoadRootsDir(const std::string& dir);

}  // namespace teeverify

#endif  // TEE_VERIFIER_IO_FILES_H_
