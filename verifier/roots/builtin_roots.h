// The compiled-in vendor roots and their pinned fingerprints (builtin_roots.cc).
#ifndef TEE_VERIFIER_ROOTS_BUILTIN_ROOTS_H_
#define TEE_VERIFIER_ROOTS_BUILTIN_ROOTS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "verifier/roots/trust_roots.h"

namespace teeverify {

struct BuiltInRoot {
  RootId id;
  absl::string_view pem;
  absl::string_view sha256_of_der;  // lowercase hex
};

extern const BuiltInRoot kBuiltInRoots[];
extern const size_t kBuiltInRootCount;

// A compiled-in certificate must be the one pinned: else INTERNAL "NAME: built-in KIND has
// SHA-256 <actual>, pinned <sha256_of_der>" (defined in trust_roots.cc).
absl::Status CheckBuiltInPin(X509* cert, absl::string_view sha256_of_der, absl::string_view name,
                             absl::string_view kind);

}  // namespace teeverify

#endif  // TEE_VERIFIER_ROOTS_BUILTIN_ROOTS_H_
