// Template part of hex.h.
#ifndef TEE_VERIFIER_COMMON_HEX_INL_H_
#define TEE_VERIFIER_COMMON_HEX_INL_H_

#include <cstring>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"

namespace teeverify {

template <size_t N>
absl::StatusOr<ByteArray<N>> HexDecodeArray(absl::string_view hex, absl::string_view field) {
  absl::StatusOr<std::string> raw = HexDecode(hex, field);
  if (!raw.ok()) return raw.status();
  if (raw->size() != N) {
    return MakeError(v1::REASON_MALFORMED_EVIDENCE,
                     absl::StrCat(field, ": expected ", N, " bytes (", 2 * N,
                                  " hex digits), got ", raw->size()));
  }
  ByteArray<N> out;
  std::memcpy(out.data(), raw->data(), N);
  return out;
}

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_HEX_INL_H_
