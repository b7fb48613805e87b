// An AWS Nitro Enclaves attestation document as typed structs: a COSE_Sign1 (RFC 9052 §4.2)
// whose payload is the CBOR map that the Nitro Secure Module signs.
//
// Spec: AWS Nitro Enclaves User Guide, "Verifying the root of trust" (attestation document
// specification, syntactical validation) and aws-nitro-enclaves-nsm-api's attestation document
// CDDL; RFC 9052 (COSE_Sign1, Sig_structure); RFC 9053 §2.1 (ES384 = -35).
// Parsing lives in document_parser.h; nothing here verifies anything.
#ifndef TEE_VERIFIER_NITRO_DOCUMENT_H_
#define TEE_VERIFIER_NITRO_DOCUMENT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace teeverify::nitro {

inline constexpr uint64_t kCoseSign1Tag = 18;
inline constexpr int64_t kHeaderAlg = 1;
inline constexpr int64_t kAlgEs384 = -35;
inline constexpr size_t kEs384SignatureSize = 96;  // r || s, 48 bytes each, big-endian
inline constexpr absl::string_view kDigestSha384 = "SHA384";

// Limits of AWS's syntactical validation.
inline constexpr uint32_t kMaxPcrIndex = 31;
inline constexpr size_t kMaxPcrCount = 32;
inline constexpr size_t kMaxCertificateSize = 1024;  // certificate and each cabundle entry
inline constexpr size_t kMaxPublicKeySize = 1024;
inline constexpr size_t kMaxUserDataSize = 512;
inline constexpr size_t kMaxNonceSize = 512;
// Our own bounds where AWS states none (real documents: module_id ~40 bytes, 4 CA certificates).
inline constexpr size_t kMaxModuleIdSize = 256;
inline constexpr size_t kMaxCabundleSize = 16;
// The NSM answers in at most 12 KiB (NSM_RESPONSE_MAX_SIZE, 0x3000, of the Linux nsm driver and
// the SDKs); a document with every field at the limits above is about 22 KB. Anything larger only
// costs parsing (and, as base64, decoding) time.
inline constexpr size_t kMaxDocumentSize = 32 * 1024;
// 9999-12-31T23:59:59.999Z: larger timestamps cannot be a time.
inline constexpr uint64_t kMaxTimestampMs = 253402300799999;

inline bool IsValidPcrSize(size_t size) { return size == 32 || size == 48 || size == 64; }

// The payload map. Optional fields are absent when the map has no such key or its value is null.
struct AttestationPayload {
  std::string module_id;
  std::string digest;  // "SHA384"
  uint64_t timestamp_ms = 0;
  std::map<uint32_t, std::string> pcrs;  // index -> 32/48/64 bytes
  std::string certificate;               // DER, the leaf that signs the document
  std::vector<std::string> cabundle;     // DER, root first: cabundle[0] is the AWS root
  std::optional<std::string> public_key;
  std::optional<std::string> user_data;
  std::optional<std::string> nonce;
  // How the map was encoded: the newest documents use an indefinite-length map.
  bool indefinite_map = false;

  bool operator==(const AttestationPayload&) const = default;
};

struct AttestationDocument {
  bool tagged = false;           // COSE_Sign1 tag 18 present
  std::string protected_header;  // the signed bstr content: a map with alg ES384 only
  int64_t alg = 0;
  std::string payload_bytes;     // the signed bstr content: the payload map's encoding
  std::string signature;         // r || s
  AttestationPayload payload;

  bool operator==(const AttestationDocument&) const = default;
};

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_DOCUMENT_H_
