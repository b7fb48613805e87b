#include "verifier/nitro/document_input.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The 6-bit value of a base64 alphabet character, or -1.
int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Base64 of the largest document we accept, with room for line breaks.
constexpr size_t kMaxBase64Size = 2 * kMaxDocumentSize;

}  // namespace

bool LooksLikeBase64(absl::string_view text) {
  bool any = false;
  for (char c : text) {
    if (IsSpace(c)) continue;
    if (Sextet(c) < 0 && c != '=') return false;
    any = true;
  }
  return any;
}

absl::StatusOr<std::string> DecodeBase64Strict(absl::string_view text, absl::string_view what) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (!IsSpace(c)) compact.push_back(c);
  }
  if (compact.empty() || compact.size() % 4 != 0) {
    return Malformed(absl::StrCat(what, ": base64 text of ", compact.size(),
                                  " characters is not a non-empty multiple of 4 (padding is "
                                  "required)"));
  }
  size_t padding = 0;
  while (padding < 2 && compact[compact.size() - 1 - padding] == '=') ++padding;
  std::string out;
  out.reserve(compact.size() / 4 * 3);
  uint32_t acc = 0;
  for (size_t i = 0; i < compact.size() - padding; ++i) {
    const int v = Sextet(compact[i]);
    if (v < 0) {
      return Malformed(absl::StrCat(what, ": character '", std::string(1, compact[i]),
                                    "' at base64 position ", i, " is not in the base64 alphabet"));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
    }
  }
  // The final quantum: 3 characters -> 2 bytes (2 unused bits), 2 characters -> 1 byte (4 bits).
  if (padding == 1) {
    if (acc & 0x3) return Malformed(absl::StrCat(what, ": base64 has non-zero padding bits"));
    out.push_back(static_cast<char>(acc >> 10));
    out.push_back(static_cast<char>(acc >> 2));
  } else if (padding == 2) {
    if (acc & 0xf) return Malformed(absl::StrCat(what, ": base64 has non-zero padding bits"));
    out.push_back(static_cast<char>(acc >> 4));
  }
  return out;
}

absl::StatusOr<std::string> DocumentBytes(absl::string_view input) {
  if (input.empty()) return Malformed("nitro document: empty");
  if (!LooksLikeBase64(input)) return std::string(input);
  if (input.size() > kMaxBase64Size) {
    return Malformed(absl::StrCat("nitro document: base64 text of ", input.size(),
                                  " bytes, more than the ", kMaxBase64Size, " accepted"));
  }
  return DecodeBase64Strict(input, "nitro document");
}

}  // namespace teeverify::nitro
