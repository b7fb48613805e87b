// Vendor intermediate certificates parsed once per process (see known_intermediates.cc). Not
// trust anchors: a certificate found here is verified like any presented certificate.
#ifndef TEE_VERIFIER_ROOTS_KNOWN_INTERMEDIATES_H_
#define TEE_VERIFIER_ROOTS_KNOWN_INTERMEDIATES_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "verifier/common/openssl_util.h"

namespace teeverify {

// The pre-parsed certificate with exactly this DER, or null. Shared and immutable.
X509* FindKnownIntermediate(absl::string_view der);

// Whether `cert` is one of them (by identity: the pointer FindKnownIntermediate returns).
bool IsKnownIntermediate(const X509* cert);

// All of them, for tests.
std::vector<X509*> KnownIntermediates();

}  // namespace teeverify

#endif  // TEE_VERIFIER_ROOTS_KNOWN_INTERMEDIATES_H_
