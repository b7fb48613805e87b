// Encodes CBOR (RFC 8949) with libcbor's encoders: the inverse of cbor_reader.h, used to
// serialize attestation documents (round-trip tests, fuzzers), to build the COSE Sig_structure
// and by the test Nitro platform. Heads use the shortest form (§4.2.1 "preferred serialization").
#ifndef TEE_VERIFIER_NITRO_CBOR_WRITER_H_
#define TEE_VERIFIER_NITRO_CBOR_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "verifier/nitro/cbor_reader.h"

namespace teeverify::nitro {

class CborWriter {
 public:
  void Unsigned(uint64_t value);
  void Negative(uint64_t n);  // the value -1 - n
  void Int(int64_t value);
  void Bytes(absl::string_view bytes);
  void Text(absl::string_view text);
  void ArrayStart(uint64_t size);
  void MapStart(uint64_t size);
  void IndefiniteArrayStart();
  void IndefiniteMapStart();
  void Break();
  void Tag(uint64_t tag);
  void Null();
  // Bytes that are already CBOR.
  void Raw(absl::string_view cbor) { out_.append(cbor.data(), cbor.size()); }
  // An item as ParseCbor returned it; indefinite strings are written as one chunk.
  void Item(const CborItem& item);

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace teeverify::nitro

#endif  // TEE_VERIFIER_NITRO_CBOR_WRITER_H_
