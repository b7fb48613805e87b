// The SEV-SNP part of the claims ("sev_snp" object of docs/claims.md) and its JSON rendering.
#ifndef TEE_VERIFIER_SNP_SNP_CLAIMS_H_
#define TEE_VERIFIER_SNP_SNP_CLAIMS_H_

#include "nlohmann/json.hpp"

namespace teeverify::snp {

// SCAFFOLD: the SEV-SNP verifier (issue 4) defines the fields.
struct SnpClaims {};

nlohmann::ordered_json SnpClaimsToJson(const SnpClaims& claims);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_SNP_CLAIMS_H_
