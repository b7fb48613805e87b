// Lowercase hex for claims and messages; strict decoding for collateral and role values.
#ifndef TEE_VERIFIER_COMMON_HEX_H_
#define TEE_VERIFIER_COMMON_HEX_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "verifier/common/byte_reader.h"

namespace teeverify {

std::string HexEncode(absl::string_view bytes);

template <size_t N>
std::string HexEncode(const ByteArray<N>& bytes) {
  return HexEncode(AsView(bytes));
}

// Decodes hex of either case. Fails on odd length or a non-hex character; `field` names the value.
absl::StatusOr<std::string> HexDecode(absl::string_view hex, absl::string_view field);

// Decodes hex that must encode exactly N bytes.
template <size_t N>
absl::StatusOr<ByteArray<N>> HexDecodeArray(absl::string_view hex, absl::string_view field);

}  // namespace teeverify

#include "verifier/common/hex_inl.h"

#endif  // TEE_VERIFIER_COMMON_HEX_H_
