#include "verifier/common/byte_reader.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"

namespace teeverify {

absl::Status ByteReader::ShortRead(size_t n, absl::string_view field) const {
  return Malformed(absl::StrCat(what_, ": ", field, " needs ", n, " bytes at offset ", offset_,
                                ", ", remaining(), " remain"));
}

absl::StatusOr<absl::string_view> ByteReader::Bytes(size_t n, absl::string_view field) {
  if (n > remaining()) return ShortRead(n, field);
  absl::string_view out = data_.substr(offset_, n);
  offset_ += n;
  return out;
}

absl::StatusOr<uint8_t> ByteReader::U8(absl::string_view field) {
  if (remaining() < 1) return ShortRead(1, field);
  return static_cast<uint8_t>(data_[offset_++]);
}

absl::StatusOr<uint16_t> ByteReader::U16(absl::string_view field) {
  if (remaining() < 2) return ShortRead(2, field);
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + offset_);
  offset_ += 2;
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

absl::StatusOr<uint32_t> ByteReader::U32(absl::string_view field) {
  if (remaining() < 4) return ShortRead(4, field);
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + offset_);
  offset_ += 4;
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

absl::StatusOr<uint64_t> ByteReader::U64(absl::string_view field) {
  if (remaining() < 8) return ShortRead(8, field);
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + offset_);
  offset_ += 8;
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void ByteWriter::U16(uint16_t v) {
  U8(v & 0xff);
  U8(v >> 8);
}

void ByteWriter::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) U8((v >> (8 * i)) & 0xff);
}

void ByteWriter::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) U8((v >> (8 * i)) & 0xff);
}

}  // namespace teeverify
