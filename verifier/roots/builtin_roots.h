// The compiled-in vendor roots and their pinned fingerprints (builtin_roots.cc).
#ifndef TEE_VERIFIER_ROOTS_BUILTIN_ROOTS_H_
#define TEE_VERIFIER_ROOTS_BUILTIN_ROOTS_H_

#include <cstddef>

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

}  // namespace teeverify

#endif  // TEE_VERIFIER_ROOTS_BUILTIN_ROOTS_H_
