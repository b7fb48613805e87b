// libFuzzer target: TDX quote parser. Any input must parse or fail cleanly; what parses must
// serialize and parse back to the same structure (parse -> serialize -> parse stability).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "verifier/tdx/quote_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  teeverify::tdx::LooksLikeTdxQuote(input);
  std::string problem;
  auto lenient = teeverify::tdx::ParseQuoteIgnoringTrailingBytes(input, &problem);
  auto quote = teeverify::tdx::ParseQuote(input);
  if (quote.ok() != (lenient.ok() && problem.empty())) abort();
  if (!quote.ok()) return 0;
  const std::string once = teeverify::tdx::SerializeQuote(*quote);
  if (input.substr(0, once.size()) != once) abort();  // the serialization is the input's prefix
  auto again = teeverify::tdx::ParseQuote(once);
  if (!again.ok() || teeverify::tdx::SerializeQuote(*again) != once) abort();
  if (again->signed_bytes != quote->signed_bytes) abort();
  return 0;
}
