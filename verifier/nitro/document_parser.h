// Parses an AWS Nitro attestation document (COSE_Sign1 bytes) into an AttestationDocument. Pure:
// no crypto, no time, no I/O. It only checks that the structure is well-formed, strict CBOR and
// within AWS's syntactical limits; verification is nitro_verifier.h's job.
#ifndef TEE_VERIFIER_NITRO_DOCUMENT_PARSER_H_
#define TEE_VERIFIER_NITRO_DOCUMENT_PARSER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {

// Parses a COSE_Sign1, tagged (18) or not: [protected, unprotected, payload, signature].
//   - protected: a map holding only alg, which must be ES384 (-35);
//   - unprotected: an empty map (AWS sends none; unsigned parameters are not accepted);
//   - payload: a byte string holding the payload map (ParsePayload);
//   - signature: 96 bytes.
// Anything else, including trailing bytes and documents over kMaxDocumentSize, is rejected.
absl::StatusOr<AttestationDocument> ParseDocument(absl::string_view cose);

// Parses the payload map: every field typed and bounded as AWS specifies, unknown fields and
// duplicate keys rejected, definite- or indefinite-length encoding.
absl::StatusOr<AttestationPayload> ParsePayload(absl::string_view payload);

// The payload map in AWS's field order (module_id, digest, timestamp, pcrs, certificate,
// cabundle, public_key, user_data, nonce), absent optional fields as null, with the map's
// definite/indefinite form as recorded. ParsePayload(SerializePayload(p)) == p.
std::string SerializePayload(const AttestationPayload& payload);

// The COSE_Sign1 from the signed byte strings of `document` (its payload_bytes, not a
// re-encoding of its payload). ParseDocument(SerializeDocument(d)) == d.
std::string SerializeDocument(const AttestationDocument& document);

// Whether `raw` starts like a COSE_Sign1: an optional tag 18, an array of 4, a byte string.
bool LooksLikeCoseSign1(absl::string_view raw);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_DOCUMENT_PARSER_H_
