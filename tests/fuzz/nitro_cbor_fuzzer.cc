// libFuzzer target: the strict CBOR reader over libcbor (verifier/nitro/cbor_reader.h). Any input
// must parse or fail cleanly within the limits; what parses must be written back by CborWriter
// and read again as the same value, and the written form must be stable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "verifier/nitro/cbor_reader.h"
#include "verifier/nitro/cbor_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teeverify::nitro;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto item = ParseCbor(input, "fuzz");
  if (!item.ok()) return 0;
  CborWriter w;
  w.Item(*item);
  const std::string once = w.Take();
  auto again = ParseCbor(once, "fuzz");
  if (!again.ok() || !SameCborValue(*again, *item) || again->indefinite != item->indefinite) {
    abort();
  }
  CborWriter w2;
  w2.Item(*again);
  if (w2.bytes() != once) abort();
  return 0;
}
