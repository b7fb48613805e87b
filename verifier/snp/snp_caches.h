// What a server keeps between SEV-SNP verifications of the same platform: the VCEK or VLEK
// verified up to the AMD root (VCEK -> ASK -> ARK, VLEK -> ASVK -> ARK), keyed by the exact
// certificate bytes the verification was given. A VCEK is issued per chip and TCB and stays valid
// for years, so every later report of that chip costs one ECDSA P-384 verification. The report
// cross-checks (CPUID product, CHIP_ID, REPORTED_TCB) and the report signature are never cached.
// Spec: AMD VCEK Certificate and KDS Interface Specification (57230), "Certificate Chain".
#ifndef TEE_VERIFIER_SNP_SNP_CACHES_H_
#define TEE_VERIFIER_SNP_SNP_CACHES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "verifier/common/expiring_cache.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/snp_claims.h"
#include "verifier/snp/vcek_extensions.h"

namespace teeverify::snp {

// A VCEK/VLEK whose chain to the trusted ARK of `product` verified. Immutable once built; the
// certificate is shared read-only between threads.
struct VerifiedVek {
  X509Ptr certificate;       // the VCEK or VLEK
  X509Ptr intermediate;      // the ASK/ASVK it chains through
  VekExtensions extensions;  // read from `certificate`
  Product product;           // from its productName
  ValidityWindow window;     // where every certificate of the path is valid
};

// The certificates a verification was given, byte for byte and by where they came from (the
// --cert argument and the table's leaf, ASK/ASVK and ARK entries), and which key signed the
// report. Two verifications with the same key meet the same chain checks with the same outcome.
std::string VekCacheKey(const SnpEvidence& evidence, absl::string_view certificate, bool vlek);

}  // namespace teeverify::snp

namespace teeverify {

// Injected into SnpVerifier (optional). One cache per set of trust roots: an entry records that a
// chain verified under the roots of the verifier that stored it.
struct SnpCaches {
  explicit SnpCaches(size_t capacity) : veks(capacity) {}
  ExpiringCache<snp::VerifiedVek> veks;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_SNP_SNP_CACHES_H_
