#include "verifier/nitro/document_input.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/nitro/document.h"

namespace teeverify::nitro {
namespace {

// What each byte is in base64 text: its 6-bit value, kPad ('='), kSpace, or kOther.
constexpr uint8_t kPad = 64, kSpace = 65, kOther = 255;

struct Base64Table {
  uint8_t v[256];
  constexpr Base64Table() : v() {
    for (int c = 0; c < 256; ++c) v[c] = kOther;
    for (int i = 0; i < 26; ++i) {
      v['A' + i] = static_cast<uint8_t>(i);
      v['a' + i] = static_cast<uint8_t>(26 + i);
    }
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(52 + i);
    v[static_cast<int>('+')] = 62;
    v[static_cast<int>('/')] = 63;
    v[static_cast<int>('=')] = kPad;
    for (char c : {' ', '\t', '\r', '\n'}) v[static_cast<int>(c)] = kSpace;
  }
};
constexpr Base64Table kBase64;

uint8_t Class(char c) { return kBase64.v[static_cast<uint8_t>(c)]; }

// Base64 text read in one pass: its bytes, or the error that names why it is not strict base64,
// or (with raw_if_other) not_base64 when it is no base64 text at all.
struct Base64Read {
  bool not_base64 = false;
  absl::StatusOr<std::string> bytes;
};

// Four characters are decoded at a time while no whitespace or '=' interrupts them, one at a time
// otherwise. The first character that is not a sextet ends the decoding; the rest is only
// counted, which is all the strict checks need, in their order: the count of characters other
// than whitespace (a multiple of 4), no character outside the alphabet before the padding (so the
// first non-sextet must be the first of at most two final '='), zero padding bits. With
// `raw_if_other`, a character neither base64 nor whitespace (or nothing but whitespace) makes the
// text not base64 at all, known at that character.
Base64Read ReadBase64(absl::string_view text, absl::string_view what, bool raw_if_other) {
  Base64Read r;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size && kBase64.v[p[i]] == kSpace) ++i;
  if (raw_if_other && (i == size || kBase64.v[p[i]] == kOther)) {  // a raw document, say
    r.not_base64 = true;
    return r;
  }
  std::string out(size / 4 * 3 + 3, '\0');
  char* w = out.data();
  uint32_t acc = 0;
  int k = 0;  // sextets in acc
  while (i < size) {
    if (k == 0 && i + 4 <= size) {
      const uint32_t a = kBase64.v[p[i]], b = kBase64.v[p[i + 1]], c = kBase64.v[p[i + 2]],
                     d = kBase64.v[p[i + 3]];
      if (((a | b | c | d) & 0xc0) == 0) {  // four sextets
        const uint32_t q = a << 18 | b << 12 | c << 6 | d;
        w[0] = static_cast<char>(q >> 16);
        w[1] = static_cast<char>(q >> 8);
        w[2] = static_cast<char>(q);
        w += 3;
        i += 4;
        continue;
      }
    }
    const uint8_t v = kBase64.v[p[i]];
    if (v == kSpace) {
      ++i;
      continue;
    }
    if (v >= kPad) break;
    acc = (acc << 6) | v;
    ++i;
    if (++k == 4) {
      w[0] = static_cast<char>(acc >> 16);
      w[1] = static_cast<char>(acc >> 8);
      w[2] = static_cast<char>(acc);
      w += 3;
      k = 0;
      acc = 0;
    }
  }
  // Stopped at the end or at the first non-sextet, `first`, at position m.
  const size_t m = static_cast<size_t>(w - out.data()) / 3 * 4 + static_cast<size_t>(k);
  const char first = i < size ? text[i] : '\0';
  size_t n = m, pad_run = 0;
  for (; i < size; ++i) {
    const uint8_t v = kBase64.v[p[i]];
    if (v == kSpace) continue;
    if (v == kOther && raw_if_other) {
      r.not_base64 = true;
      return r;
    }
    pad_run = v == kPad ? pad_run + 1 : 0;
    ++n;
  }
  if (n == 0 || n % 4 != 0) {
    r.not_base64 = n == 0 && raw_if_other;
    r.bytes = Malformed(absl::StrCat(what, ": base64 text of ", n,
                                     " characters is not a non-empty multiple of 4 (padding is "
                                     "required)"));
    return r;
  }
  const size_t padding = std::min<size_t>(pad_run, 2);
  if (m < n - padding) {
    r.bytes = Malformed(absl::StrCat(what, ": character '", std::string(1, first),
                                     "' at base64 position ", m, " is not in the base64 alphabet"));
    return r;
  }
  // Only the padding follows the sextets: 3 sextets -> 2 bytes (2 unused bits), 2 -> 1 (4 bits).
  if ((padding == 1 && (acc & 0x3)) || (padding == 2 && (acc & 0xf))) {
    r.bytes = Malformed(absl::StrCat(what, ": base64 has non-zero padding bits"));
    return r;
  }
  if (padding == 1) {
    w[0] = static_cast<char>(acc >> 10);
    w[1] = static_cast<char>(acc >> 2);
    w += 2;
  } else if (padding == 2) {
    w[0] = static_cast<char>(acc >> 4);
    w += 1;
  }
  out.resize(static_cast<size_t>(w - out.data()));
  r.bytes = std::move(out);
  return r;
}

}  // namespace

bool LooksLikeBase64(absl::string_view text) {
  bool any = false;
  for (char c : text) {
    const uint8_t v = Class(c);
    if (v == kSpace) continue;
    if (v == kOther) return false;
    any = true;
  }
  return any;
}

absl::StatusOr<std::string> DecodeBase64Strict(absl::string_view text, absl::string_view what) {
  return ReadBase64(text, what, /*raw_if_other=*/false).bytes;
}

absl::StatusOr<std::string> DocumentBytes(absl::string_view input) {
  if (input.empty()) return Malformed("nitro document: empty");
  // Too long for either form: refused before anything is decoded or copied. The first bytes tell
  // the forms apart; no more is read.
  if (input.size() > kMaxBase64DocumentSize) {
    if (!LooksLikeBase64(input.substr(0, 4))) {
      return Malformed(absl::StrCat("nitro document: ", input.size(), " bytes, more than the ",
                                    kMaxDocumentSize, " accepted"));
    }
    return Malformed(absl::StrCat("nitro document: base64 text of ", input.size(),
                                  " bytes, more than the ", kMaxBase64DocumentSize,
                                  " accepted (the base64 of a ", kMaxDocumentSize,
                                  "-byte document with line breaks)"));
  }
  // One pass: base64 text is decoded (or its error named); raw bytes are known by their first
  // character outside the alphabet.
  Base64Read read = ReadBase64(input, "nitro document", /*raw_if_other=*/true);
  if (read.not_base64) return std::string(input);
  return std::move(read.bytes);
}

}  // namespace teeverify::nitro
