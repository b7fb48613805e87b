#include "verifier/nitro/cbor_writer.h"

#include <cbor.h>

namespace teeverify::nitro {
namespace {

// A head is at most 9 bytes: the initial byte and an 8-byte argument.
template <typename Encode>
void AppendHead(std::string& out, Encode encode) {
  unsigned char buffer[9];
  const size_t n = encode(buffer, sizeof(buffer));
  out.append(reinterpret_cast<const char*>(buffer), n);
}

}  // namespace

void CborWriter::Unsigned(uint64_t value) {
  AppendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_uint(value, b, n); });
}

void CborWriter::Negative(uint64_t n) {
  AppendHead(out_, [&](unsigned char* b, size_t size) { return cbor_encode_negint(n, b, size); });
}

void CborWriter::Int(int64_t value) {
  if (value >= 0) return Unsigned(static_cast<uint64_t>(value));
  Negative(static_cast<uint64_t>(-(value + 1)));
}

void CborWriter::Bytes(absl::string_view bytes) {
  AppendHead(out_, [&](unsigned char* b, size_t n) {
    return cbor_encode_bytestring_start(bytes.size(), b, n);
  });
  out_.append(bytes.data(), bytes.size());
}

void CborWriter::Text(absl::string_view text) {
  AppendHead(out_,
             [&](unsigned char* b, size_t n) { return cbor_encode_string_start(text.size(), b, n); });
  out_.append(text.data(), text.size());
}

void CborWriter::ArrayStart(uint64_t size) {
  AppendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_array_start(size, b, n); });
}

void CborWriter::MapStart(uint64_t size) {
  AppendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_map_start(size, b, n); });
}

void CborWriter::IndefiniteArrayStart() {
  AppendHead(out_, [](unsigned char* b, size_t n) { return cbor_encode_indef_array_start(b, n); });
}

void CborWriter::IndefiniteMapStart() {
  AppendHead(out_, [](unsigned char* b, size_t n) { return cbor_encode_indef_map_start(b, n); });
}

void CborWriter::Break() {
  AppendHead(out_, [](unsigned char* b, size_t n) { return cbor_encode_break(b, n); });
}

void CborWriter::Tag(uint64_t tag) {
  AppendHead(out_, [&](unsigned char* b, size_t n) { return cbor_encode_tag(tag, b, n); });
}

void CborWriter::Null() {
  AppendHead(out_, [](unsigned char* b, size_t n) { return cbor_encode_null(b, n); });
}

void CborWriter::Item(const CborItem& item) {
  switch (item.type) {
    case CborType::kUnsigned:
      return Unsigned(item.value);
    case CborType::kNegative:
      return Negative(item.value);
    case CborType::kBytes:
    case CborType::kText:
      if (item.indefinite) {
        AppendHead(out_, [&](unsigned char* b, size_t n) {
          return item.type == CborType::kBytes ? cbor_encode_indef_bytestring_start(b, n)
                                               : cbor_encode_indef_string_start(b, n);
        });
      }
      item.type == CborType::kBytes ? Bytes(item.bytes) : Text(item.bytes);
      if (item.indefinite) Break();
      return;
    case CborType::kArray:
    case CborType::kMap: {
      const bool map = item.type == CborType::kMap;
      if (item.indefinite) {
        map ? IndefiniteMapStart() : IndefiniteArrayStart();
      } else {
        map ? MapStart(item.map_size()) : ArrayStart(item.items.size());
      }
      for (const CborItem& child : item.items) Item(child);
      if (item.indefinite) Break();
      return;
    }
    case CborType::kTag:
      Tag(item.value);
      if (!item.items.empty()) Item(item.items[0]);
      return;
    case CborType::kFalse:
    case CborType::kTrue:
      AppendHead(out_, [&](unsigned char* b, size_t n) {
        return cbor_encode_bool(item.type == CborType::kTrue, b, n);
      });
      return;
    case CborType::kNull:
      return Null();
  }
}

}  // namespace teeverify::nitro
