// What a server keeps between Nitro verifications: certificate chains that verified to the AWS
// root, by their DER bytes. The cabundle (root, regional, zonal and instance CAs) is the same for
// every document of an instance's enclaves for hours to days; the leaf is issued by the NSM for
// a few hours and often per document (the real vectors' leaves predate their documents by 3 s to
// 26 min). A document whose whole chain was seen costs one ECDSA P-384 verification (its COSE
// signature); one with a new leaf under a known cabundle, two (the leaf's link and the COSE
// signature). The COSE signature and the timestamp-within-the-leaf check run on every call.
// Spec: AWS Nitro Enclaves User Guide, "Verifying the root of trust".
#ifndef TEE_VERIFIER_NITRO_NITRO_CACHES_H_
#define TEE_VERIFIER_NITRO_NITRO_CACHES_H_

#include <string>

#include "verifier/common/expiring_cache.h"
#include "verifier/nitro/document.h"
#include "verifier/nitro/nitro_chain.h"

namespace teeverify::nitro {

// The cabundle's DER bytes, length-prefixed, in order.
std::string BundleCacheKey(const AttestationPayload& payload);

// The leaf's DER bytes followed by BundleCacheKey.
std::string ChainCacheKey(const AttestationPayload& payload);

}  // namespace teeverify::nitro

namespace teeverify {

// Injected into NitroVerifier (optional). One cache per set of trust roots: an entry records that
// a chain verified under the root of the verifier that stored it.
struct NitroCaches {
  explicit NitroCaches(size_t capacity) : chains(capacity), bundles(capacity) {}
  ExpiringCache<nitro::VerifiedNitroChain> chains;    // by ChainCacheKey
  ExpiringCache<nitro::VerifiedNitroBundle> bundles;  // by BundleCacheKey
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_NITRO_NITRO_CACHES_H_
