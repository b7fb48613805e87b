// The certificate chain of a Nitro attestation document: the leaf ("certificate") is issued by
// the last cabundle entry, each cabundle entry by the one before it, and cabundle[0] is the AWS
// Nitro Enclaves Root-G1 itself, which must be the pinned root (AWS, "Verifying the root of
// trust": validate the chain from the root down, with the root certificate pinned).
#ifndef TEE_VERIFIER_NITRO_NITRO_CHAIN_H_
#define TEE_VERIFIER_NITRO_NITRO_CHAIN_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {

inline constexpr absl::string_view kChainWhat = "nitro document certificate chain";

// The cabundle of a document whose chain verified, kept by NitroCaches: documents of other
// enclaves on the same parent instance carry the same cabundle and another leaf.
struct VerifiedNitroBundle {
  std::vector<X509Ptr> certificates;  // cabundle[0] (the pinned root itself) .. cabundle[n-1]
  ValidityWindow window;              // where every one of them is valid
};

struct VerifiedNitroChain {
  X509Ptr leaf;         // its key is not decoded (leaf_certificate.h): use leaf_key
  EvpPkeyPtr leaf_key;  // the P-384 key that signs the document
  ValidityWindow leaf_window;
  ValidityWindow window;  // where every certificate of the chain is valid
  // The cabundle, when its links verified along the documented order (always, for AWS's chains)
  // and may be reused with another leaf; null otherwise.
  std::shared_ptr<const VerifiedNitroBundle> bundle;
};

// Verifies the chain of `payload` to `root` at `now`: DER certificates, cabundle[0] identical to
// `root`, each certificate issued by its predecessor in the order above (names, key identifiers,
// key usage), every window containing `now` (the expired certificate is named), path validation
// (CA flags, path lengths) and every signature of the path, each verified once.
//
// `verified_bundle`, when given, is this payload's cabundle from an earlier verification with the
// same root (same bytes): its links are not verified again; every window and the leaf's link are.
absl::StatusOr<VerifiedNitroChain> VerifyNitroChain(
    const AttestationPayload& payload, X509* root, absl::Time now,
    std::shared_ptr<const VerifiedNitroBundle> verified_bundle = nullptr);

// Parses "certificate" and the cabundle entries (leaf first, then cabundle from the end) without
// trusting them, for --inspect. Fails on the first certificate that does not parse.
absl::StatusOr<std::vector<X509Ptr>> ParseNitroCertificates(const AttestationPayload& payload);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_NITRO_CHAIN_H_
