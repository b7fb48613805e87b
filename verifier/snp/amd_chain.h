// The AMD certificate chain of a report's signing key: VCEK -> ASK -> ARK, or VLEK -> ASVK -> ARK,
// all signed with RSASSA-PSS (SHA-384, MGF1 SHA-384, 48-byte salt), for one product.
// Spec: AMD VCEK Certificate and KDS Interface Specification (57230), "Certificate Chain".
//
// Trust comes from the ARK in TrustRoots alone. When that ARK is AMD's real ARK of the product
// (its SHA-256 is the pinned one), the ASK/ASVK is the compiled-in one and any ASK/ASVK carried
// with the evidence must be byte-identical to it. When it is another root (a test ARK loaded with
// TrustRoots::FromPem or tee-verify --roots), the ASK/ASVK must come with the evidence and is
// accepted only if that root signed it: so the test ASK of snp_test_tee.h is usable exactly when
// the test ARK is the trusted root.
#ifndef TEE_VERIFIER_SNP_AMD_CHAIN_H_
#define TEE_VERIFIER_SNP_AMD_CHAIN_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::snp {

struct AmdChainCertificates {
  X509* vek = nullptr;           // the VCEK or VLEK; required
  X509* intermediate = nullptr;  // ASK/ASVK carried with the evidence, or null
  X509* ark = nullptr;           // ARK carried with the evidence, or null (never trusted by itself)
};

// Verifies the chain of `certs.vek` for `product` at `now` and returns the window in which every
// certificate of the path (VCEK/VLEK, ASK/ASVK, ARK) is valid. Errors are CERT_CHAIN_INVALID
// (EXPIRED for a certificate outside its validity) naming the certificate and the check.
absl::StatusOr<ValidityWindow> VerifyAmdChain(const TrustRoots& roots, Product product, bool vlek,
                                              const AmdChainCertificates& certs, absl::Time now);

// The compiled-in ASK (or ASVK when `vlek`) of `product`, checked against its pinned SHA-256.
absl::StatusOr<X509Ptr> BuiltInIntermediate(Product product, bool vlek);

// Whether `cert` is AMD's ARK of `product` (by the pinned SHA-256 of its DER).
bool IsAmdArk(X509* cert, Product product);

// "ASK"/"ASVK", "VCEK"/"VLEK": how messages name the certificates.
absl::string_view IntermediateRole(bool vlek);
absl::string_view LeafRole(bool vlek);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_AMD_CHAIN_H_
