// A strict reader of CBOR (RFC 8949) on top of libcbor's streaming decoder, for the AWS Nitro
// attestation document. libcbor decodes the item heads; this file owns every allocation and
// every decision about what is acceptable:
//   - exactly one data item, no trailing bytes;
//   - definite and indefinite lengths (indefinite strings may only contain definite chunks of
//     their own major type, RFC 8949 §3.2.3);
//   - declared lengths are checked against the bytes that remain before anything is reserved;
//   - nesting depth and the number of items are bounded;
//   - duplicate map keys are rejected (§5.6: a document with duplicate keys is not valid);
//   - text strings must be valid UTF-8; floats, undefined and unassigned simple values are
//     refused (nothing in a Nitro document uses them).
// libcbor 0.8 rejects the one-byte tag heads 0xc6..0xd4 (tags 6..20) as "unassigned", which
// would refuse every tagged COSE_Sign1 (tag 18, 0xd2); the reader decodes those heads itself.
#ifndef TEE_VERIFIER_NITRO_CBOR_READER_H_
#define TEE_VERIFIER_NITRO_CBOR_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::nitro {

enum class CborType { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kTag, kFalse, kTrue, kNull };

// "unsigned integer", "byte string", ...: how errors name a type.
absl::string_view CborTypeName(CborType type);

struct CborItem {
  CborType type = CborType::kNull;
  // kUnsigned: the value; kNegative: n for the value -1 - n; kTag: the tag number.
  uint64_t value = 0;
  // kBytes, kText: the content (the chunks of an indefinite-length string, joined).
  std::string bytes;
  // kArray: the elements; kMap: key0, value0, key1, value1, ...; kTag: the tagged item.
  std::vector<CborItem> items;
  // Encoded with indefinite length (strings, arrays, maps).
  bool indefinite = false;

  size_t map_size() const { return items.size() / 2; }
  const CborItem& map_key(size_t i) const { return items[2 * i]; }
  const CborItem& map_value(size_t i) const { return items[2 * i + 1]; }
};

// "an unsigned integer", "a map": a type with its article, as errors name it.
std::string CborTypeWithArticle(CborType type);

// A map key or COSE header label as errors show it: "text" quoted, integers in decimal, other
// types by name ("(a map)").
std::string DescribeCborKey(const CborItem& key);

// Whether two items denote the same CBOR value, however they were encoded (length encoding and
// definite/indefinite form do not matter); the equality used to find duplicate map keys.
bool SameCborValue(const CborItem& a, const CborItem& b);

struct CborLimits {
  size_t max_depth = 8;     // nested arrays, maps, tags and indefinite strings
  size_t max_items = 4096;  // data items of any kind, string chunks included
};

// Parses `bytes` as exactly one CBOR data item. `what` names the input in errors
// ("nitro document payload: ... at offset 12"). Errors are REASON_MALFORMED_EVIDENCE.
absl::StatusOr<CborItem> ParseCbor(absl::string_view bytes, absl::string_view what,
                                   const CborLimits& limits = {});

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_CBOR_READER_H_
