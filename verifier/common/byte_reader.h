// A bounds-checked little-endian cursor over evidence bytes, in the spirit of BoringSSL's CBS:
// every read names the field it reads, so a short buffer yields "tdx quote: qe_auth_data needs 32
// bytes at offset 1010, 4 remain" rather than a crash or a generic error.
#ifndef TEE_VERIFIER_COMMON_BYTE_READER_H_
#define TEE_VERIFIER_COMMON_BYTE_READER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teeverify {

template <size_t N>
using ByteArray = std::array<uint8_t, N>;

class ByteReader {
 public:
  // `what` names the structure in errors ("tdx quote", "sev-snp report").
  ByteReader(absl::string_view data, absl::string_view what) : data_(data), what_(what) {}

  absl::StatusOr<uint8_t> U8(absl::string_view field);
  absl::StatusOr<uint16_t> U16(absl::string_view field);
  absl::StatusOr<uint32_t> U32(absl::string_view field);
  absl::StatusOr<uint64_t> U64(absl::string_view field);
  absl::StatusOr<absl::string_view> Bytes(size_t n, absl::string_view field);
  // Like Bytes, but copies them out (for structs that outlive the input buffer).
  absl::StatusOr<std::string> OwnedBytes(size_t n, absl::string_view field) {
    absl::StatusOr<absl::string_view> raw = Bytes(n, field);
    if (!raw.ok()) return raw.status();
    return std::string(*raw);
  }

  template <size_t N>
  absl::Status Array(absl::string_view field, ByteArray<N>* out) {
    absl::StatusOr<absl::string_view> raw = Bytes(N, field);
    if (!raw.ok()) return raw.status();
    std::memcpy(out->data(), raw->data(), N);
    return absl::OkStatus();
  }

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  absl::string_view rest() const { return data_.substr(offset_); }

 private:
  absl::Status ShortRead(size_t n, absl::string_view field) const;

  absl::string_view data_;
  absl::string_view what_;
  size_t offset_ = 0;
};

// Appends little-endian integers and raw bytes; the inverse of ByteReader, used by serializers.
class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Bytes(absl::string_view b) { out_.append(b.data(), b.size()); }
  template <size_t N>
  void Array(const ByteArray<N>& a) {
    out_.append(reinterpret_cast<const char*>(a.data()), N);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Views a fixed byte array as string bytes, for hashing and comparisons.
template <size_t N>
absl::string_view AsView(const ByteArray<N>& a) {
  return absl::string_view(reinterpret_cast<const char*>(a.data()), N);
}

template <size_t N>
bool IsAllZero(const ByteArray<N>& a) {
  for (uint8_t b : a) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_BYTE_READER_H_
