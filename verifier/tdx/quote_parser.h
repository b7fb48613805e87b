// Parses TDX quote bytes into a Quote. Pure: no crypto, no time, no I/O. It only checks that the
// byte layout is correct and supported; verification is tdx_verifier.h's job.
#ifndef TEE_VERIFIER_TDX_QUOTE_PARSER_H_
#define TEE_VERIFIER_TDX_QUOTE_PARSER_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "verifier/tdx/quote.h"

namespace teeverify::tdx {

// Parses a v4 or v5 TDX quote of at most kMaxQuoteSize bytes. Lengths come from the structures
// and are bounds-checked; the
// certification data must be type 6 wrapping a type-5 PCK chain and must be consumed exactly.
// After the signature data only zero bytes may follow (quote generators pad to fixed sizes);
// any non-zero trailing byte is rejected, because it is unsigned data posing as evidence.
absl::StatusOr<Quote> ParseQuote(absl::string_view bytes);

// Parses the quote structure and ignores whatever follows the signature data, however it looks.
// For display only (tee-verify --inspect): `out_trailing_problem` describes trailing bytes that
// ParseQuote would reject, or is empty.
absl::StatusOr<Quote> ParseQuoteIgnoringTrailingBytes(absl::string_view bytes,
                                                      std::string* out_trailing_problem);

// The inverse of ParseQuote, without the zero padding. ParseQuote(SerializeQuote(q)) == q.
std::string SerializeQuote(const Quote& quote);

// The 384-byte SGX report body, as the quoting enclave signs it.
std::string SerializeSgxReportBody(const SgxReportBody& report);

// Whether `bytes` starts like a TDX quote (version 4/5, TEE type TDX); used for auto-detection.
bool LooksLikeTdxQuote(absl::string_view bytes);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_QUOTE_PARSER_H_
