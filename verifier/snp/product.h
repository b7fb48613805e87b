// Which AMD product (Milan, Genoa, Turin) produced a report, from the two places that say so: the
// report's CPUID fields (version >= 3) and the VCEK/VLEK's productName extension. The product
// selects the TCB_VERSION layout, the ARK and the ASK/ASVK.
// Spec: AMD SEV-SNP Firmware ABI (56860), ATTESTATION_REPORT CPUID_FAM_ID/CPUID_MOD_ID; AMD VCEK
// Certificate and KDS Interface Specification (57230), productName.
#ifndef TEE_VERIFIER_SNP_PRODUCT_H_
#define TEE_VERIFIER_SNP_PRODUCT_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::snp {

inline constexpr Product kAllProducts[] = {Product::kMilan, Product::kGenoa, Product::kTurin};

// Family 19h models 00h-0Fh: Milan; 10h-1Fh and A0h-AFh (Genoa, Bergamo, Siena, which share
// Genoa's keys): Genoa; family 1Ah models 00h-1Fh: Turin. Anything else is unknown.
std::optional<Product> ProductFromCpuid(uint8_t family, uint8_t model);

// The product line of a productName extension value: "Milan", "Milan-B0", "Genoa", "Turin-C1"...
// (the part before the first '-'); UNSUPPORTED_FORMAT for any other line.
absl::StatusOr<Product> ProductFromVekName(absl::string_view product_name);

// The trusted root (ARK) of `product`.
RootId ArkRootId(Product product);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_PRODUCT_H_
