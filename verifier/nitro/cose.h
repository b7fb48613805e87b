// The COSE_Sign1 signature of a Nitro attestation document: ES384 (ECDSA P-384 with SHA-384,
// RFC 9053 §2.1) over the Sig_structure of RFC 9052 §4.4,
//   Sig_structure = ["Signature1", body_protected, external_aad, payload]
// with the protected header and payload exactly as carried in the document and an empty
// external_aad. The signature is r || s, 48 bytes each, big-endian (RFC 9053 §2.1).
#ifndef TEE_VERIFIER_NITRO_COSE_H_
#define TEE_VERIFIER_NITRO_COSE_H_

#include <openssl/evp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {

// The CBOR bytes that are signed.
std::string SigStructure(absl::string_view protected_header, absl::string_view payload);

// Verifies the document's signature with `key`, which must be an EC key on P-384 (the curve
// ES384 requires). `signer` names the key's certificate in errors.
absl::Status VerifyEs384(const AttestationDocument& document, EVP_PKEY* key,
                         absl::string_view signer);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_COSE_H_
