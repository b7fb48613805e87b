// The Nitro part of the claims ("nitro" object of docs/claims.md) and its JSON rendering.
#ifndef TEE_VERIFIER_NITRO_NITRO_CLAIMS_H_
#define TEE_VERIFIER_NITRO_NITRO_CLAIMS_H_

#include "nlohmann/json.hpp"

namespace teeverify::nitro {

// SCAFFOLD: the Nitro verifier (issue 5) defines the fields.
struct NitroClaims {};

nlohmann::ordered_json NitroClaimsToJson(const NitroClaims& claims);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_NITRO_CLAIMS_H_
