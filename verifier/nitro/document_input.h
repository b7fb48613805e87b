// The forms in which a Nitro attestation document reaches us: the raw COSE_Sign1 bytes, or their
// base64 text (what the NSM SDKs and most HTTP APIs hand over). Base64 is recognised when the
// input consists only of the base64 alphabet and whitespace, which a raw COSE_Sign1 (first byte
// 0x84 or 0xd2) never does, and is then decoded strictly.
#ifndef TEE_VERIFIER_NITRO_DOCUMENT_INPUT_H_
#define TEE_VERIFIER_NITRO_DOCUMENT_INPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {

// The longest base64 text DocumentBytes decodes, checked before any decoding: the base64 of a
// kMaxDocumentSize document (4 characters per 3 bytes) with a line break (CRLF) every 64
// characters, as PEM-style encoders wrap it. Anything longer could only decode to a document the
// parser refuses.
inline constexpr size_t kMaxBase64DocumentChars = (kMaxDocumentSize + 2) / 3 * 4;
inline constexpr size_t kMaxBase64DocumentSize =
    kMaxBase64DocumentChars + (kMaxBase64DocumentChars / 64 + 1) * 2;

// Only A-Z a-z 0-9 + / = and whitespace, and at least one non-whitespace character.
bool LooksLikeBase64(absl::string_view text);

// RFC 4648 §4 base64: whitespace anywhere is ignored; otherwise the alphabet only, padded to a
// multiple of 4, '=' only at the end, and the unused bits before the padding zero (so that every
// document has exactly one text form). `what` names the input in errors.
absl::StatusOr<std::string> DecodeBase64Strict(absl::string_view text, absl::string_view what);

// The COSE_Sign1 bytes of `input`: base64-decoded when it looks like base64, else as given.
absl::StatusOr<std::string> DocumentBytes(absl::string_view input);

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_DOCUMENT_INPUT_H_
