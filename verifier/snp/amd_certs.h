// The compiled-in AMD ASK and ASVK of each product (amd_certs.cc) and their pinned SHA-256.
#ifndef TEE_VERIFIER_SNP_AMD_CERTS_H_
#define TEE_VERIFIER_SNP_AMD_CERTS_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::snp {

struct BuiltInAmdIntermediate {
  Product product;
  bool vlek;  // the ASVK (signs VLEKs) rather than the ASK (signs VCEKs)
  absl::string_view common_name;
  absl::string_view pem;
  absl::string_view sha256_of_der;  // lowercase hex
};

extern const BuiltInAmdIntermediate kBuiltInAmdIntermediates[];
extern const size_t kBuiltInAmdIntermediateCount;

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_AMD_CERTS_H_
