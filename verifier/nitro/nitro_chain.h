// The certificate chain of a Nitro attestation document: the leaf ("certificate") is issued by
// the last cabundle entry, each cabundle entry by the one before it, and cabundle[0] is the AWS
// Nitro Enclaves Root-G1 itself, which must be the pinned root (AWS, "Verifying the root of
// trust": validate the chain from the root down, with the root certificate pinned).
#ifndef TEE_VERIFIER_NITRO_NITRO_CHAIN_H_
#define TEE_VERIFIER_NITRO_NITRO_CHAIN_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {

inline constexpr absl::string_view kChainWhat = "nitro document certificate chain";

struct VerifiedNitroChain {
  X509Ptr leaf;
  ValidityWindow leaf_window;
  ValidityWindow window;  // where every certificate of the chain is valid
};

// Verifies the chain of `payload` to `root` at `now`: DER certificates, cabundle[0] identical to
// `root`, each certificate issued and signed by its predecessor in the order above, every window
// containing `now` (the expired certificate is named), and OpenSSL's path validation.
absl::StatusOr<VerifiedNitroChain> VerifyNitroChain(const AttestationPayload& payload, X509* root,
                                                    absl::Time now);

// Parses "certificate" and the cabundle entries (leaf first, then cabundle from the end) without
// trusting them, for --inspect. Fails on the first certificate that does not parse.
absl::StatusOr<std::vector<X509Ptr>> ParseNitroCertificates(const AttestationPayload& payload);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_NITRO_CHAIN_H_
