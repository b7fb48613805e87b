// The CBOR messages of the AWS Nitro Secure Module API for attestation, as the serde derives of
// aws-nitro-enclaves-nsm-api (src/api/mod.rs) encode them: enums externally tagged, Option<ByteBuf>
// as a byte string or null.
//
//   request:  {"Attestation": {"user_data": bstr / null, "nonce": bstr / null,
//                              "public_key": bstr / null}}
//   response: {"Attestation": {"document": bstr}}   (a COSE_Sign1 attestation document)
//          or {"Error": "InvalidArgument" / "InputTooLarge" / "InvalidOperation" / ...}
//
// Field limits are those of an attestation document (AWS attestation_process.md 3.2.2.2):
// user_data and nonce 0..512 bytes, public_key 1..1024 bytes.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_NSM_PROTOCOL_H_
#define TEE_VERIFIER_TESTING_TESTGEN_NSM_PROTOCOL_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::testgen {

struct NsmAttestationRequest {
  std::optional<std::string> user_data, nonce, public_key;
};

// Parses a request. Errors carry their NSM error code (NsmErrorCode): InvalidArgument for
// anything that is not one CBOR item of the request's shape (a missing field counts as null, as
// serde reads it; an unknown field is refused), InputTooLarge for a field over its limit,
// InvalidOperation for a well-formed request other than Attestation (DescribeNSM, GetRandom...).
absl::StatusOr<NsmAttestationRequest> ParseNsmRequest(absl::string_view cbor);

// "InvalidArgument", "InputTooLarge" or "InvalidOperation" for an error of ParseNsmRequest;
// "InternalError" for anything else.
absl::string_view NsmErrorCode(const absl::Status& status);

std::string EncodeNsmRequest(const NsmAttestationRequest& request);
std::string EncodeNsmAttestationResponse(absl::string_view document);
std::string EncodeNsmErrorResponse(absl::string_view code);

// A response: the document, or the error code (ErrorCode's variant name).
struct NsmResponse {
  std::optional<std::string> document;
  std::string error;
};
absl::StatusOr<NsmResponse> ParseNsmResponse(absl::string_view cbor);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_NSM_PROTOCOL_H_
