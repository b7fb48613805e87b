// The vendor roots that evidence must chain to. Built-in roots are compiled in and checked
// against their pinned SHA-256 fingerprints when loaded; test roots replace them only when a
// caller asks for it explicitly (tee-verify --roots, tee-verifierd --test-roots).
#ifndef TEE_VERIFIER_ROOTS_TRUST_ROOTS_H_
#define TEE_VERIFIER_ROOTS_TRUST_ROOTS_H_

#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "verifier/common/openssl_util.h"

namespace teeverify {

enum class RootId {
  kIntelSgxRootCa,
  kAmdArkMilan,
  kAmdArkGenoa,
  kAmdArkTurin,
  kAwsNitroEnclavesRootG1,
};

// Every RootId, for loops over roots.
inline constexpr RootId kAllRootIds[] = {RootId::kIntelSgxRootCa, RootId::kAmdArkMilan,
                                         RootId::kAmdArkGenoa, RootId::kAmdArkTurin,
                                         RootId::kAwsNitroEnclavesRootG1};

// File name of a root inside a --roots directory ("intel_sgx_root_ca.pem").
absl::string_view RootFileName(RootId id);
// Human name for messages ("Intel SGX Root CA").
absl::string_view RootDisplayName(RootId id);

class TrustRoots {
 public:
  // The built-in vendor roots; fails only if a compiled-in root does not match its pin.
  static absl::StatusOr<std::shared_ptr<const TrustRoots>> BuiltIn();

  // Roots from PEM text (one self-signed certificate each), for tests with test CAs.
  static absl::StatusOr<std::shared_ptr<const TrustRoots>> FromPem(
      const std::map<RootId, std::string>& pem_by_id);

  // The root for `id`; an error naming the root when this set has none.
  absl::StatusOr<X509*> Get(RootId id) const;

  // True for the compiled-in vendor roots, false for test roots.
  bool built_in() const { return built_in_; }

 private:
  TrustRoots() = default;

  std::map<RootId, X509Ptr> roots_;
  bool built_in_ = false;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_ROOTS_TRUST_ROOTS_H_
