// What SEV-SNP verification takes from outside the evidence when the evidence does not carry it:
// the VCEK of the report's chip and TCB (AMD KDS serves it by hwID and reported TCB), the
// product's ASK/ASVK + ARK (KDS cert_chain) and the product's CRL (KDS crl, issued by the ARK,
// revoking ASKs/ASVKs). The core defines the provider interface and the checks every fetched item
// must pass before it is used or cached; fetching and caching live in verifier/collateral/.
// Spec: AMD VCEK Certificate and KDS Interface Specification (57230), "KDS Interface",
// "Certificate Revocation List".
#ifndef TEE_VERIFIER_SNP_SNP_COLLATERAL_H_
#define TEE_VERIFIER_SNP_SNP_COLLATERAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/snp/report.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::snp {

// The product whose VCEK signed a report that carries no certificate: the CPUID fields
// (version >= 3), else Milan (version 2 reports come from firmware that predates Genoa's and
// Turin's, and KDS needs a product to answer).
absl::StatusOr<Product> ProductForFetch(const Report& report);

// A product's CRL from KDS, verified: issued and signed by the trusted ARK of `product`, current.
struct VerifiedAmdCrl {
  Product product = Product::kMilan;
  bool vlek = false;  // the VLEK CRL (revokes ASVKs) rather than the VCEK one (ASKs)
  X509CrlPtr crl;
  ValidityWindow window;  // thisUpdate .. nextUpdate
};

// Verifies a CRL fetched for `product` (DER or PEM) at `now`.
absl::StatusOr<std::shared_ptr<const VerifiedAmdCrl>> VerifyAmdCrl(const TrustRoots& roots,
                                                                   Product product, bool vlek,
                                                                   absl::string_view crl,
                                                                   absl::Time now);

// REVOKED naming the certificate when `crl` lists `intermediate` (the ASK/ASVK) or `vek` (a
// VCEK/VLEK under the ARK's CRL can only be listed by serial, which AMD sets to 0 for all of
// them, so only the ASK/ASVK is looked up; see docs/collateral.md).
absl::Status CheckAmdRevocation(const VerifiedAmdCrl& crl, X509* intermediate);

// Verifies a KDS cert_chain (PEM: ASK/ASVK then ARK) for `product` at `now`: the ARK must be the
// trusted root, the ASK/ASVK must be issued by it (AMD's pinned one under AMD's ARK). Returns
// the ASK/ASVK.
absl::StatusOr<X509Ptr> VerifyAmdCertChain(const TrustRoots& roots, Product product, bool vlek,
                                           absl::string_view pem, absl::Time now);

// Verifies a VCEK fetched for `report` (DER) at `now`: its chain through `ask` to the trusted ARK
// of `product`, and that it is this chip's at this TCB. Returns the window of the whole path.
absl::StatusOr<ValidityWindow> VerifyFetchedVcek(const TrustRoots& roots, const Report& report,
                                                 Product product, X509* vcek, X509* ask,
                                                 absl::Time now);

}  // namespace teeverify::snp

namespace teeverify {

// Where SnpVerifier finds what the evidence does not carry (tee-verifierd: the live KDS cache).
// Implementations return only items that passed the checks above.
class SnpCollateralProvider {
 public:
  virtual ~SnpCollateralProvider() = default;
  // The VCEK of the report's chip at its REPORTED_TCB, followed by the ASK it chains through:
  // PEM, as SnpVerifier's `certificate` bundle.
  virtual absl::StatusOr<std::string> VcekFor(const snp::Report& report, snp::Product product,
                                              absl::Time now) const = 0;
  // The product's CRL valid at `now`; null when none is held and the provider's policy lets
  // verification go on without one (docs/collateral.md, "AMD CRLs").
  virtual absl::StatusOr<std::shared_ptr<const snp::VerifiedAmdCrl>> CrlFor(
      snp::Product product, bool vlek, absl::Time now) const = 0;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_SNP_SNP_COLLATERAL_H_
