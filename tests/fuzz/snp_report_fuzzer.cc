// libFuzzer target: SEV-SNP report parser and extended evidence (report + certificate table).
// Any input must parse or fail cleanly; what parses must serialize to the same bytes and parse
// back to the same structure (parse -> serialize -> parse stability); inspection must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/report_parser.h"
#include "verifier/snp/snp_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  teeverify::snp::LooksLikeSnpReport(input);
  auto report = teeverify::snp::ParseReport(input);
  if (report.ok()) {
    // Every reserved byte is checked, so the serialization is exactly the input.
    if (teeverify::snp::SerializeReport(*report) != input) abort();
    if (report->signed_bytes != input.substr(0, teeverify::snp::kSignedSize)) abort();
    if (teeverify::snp::SignedBytes(*report) != report->signed_bytes) abort();
  }
  auto evidence = teeverify::snp::ParseEvidence(input);
  if (evidence.ok()) {
    const std::string once = teeverify::snp::SerializeEvidence(*evidence);
    auto again = teeverify::snp::ParseEvidence(once);
    if (!again.ok() || teeverify::snp::SerializeEvidence(*again) != once) abort();
    if (again->certificates != evidence->certificates) abort();
    if (again->report.signed_bytes != evidence->report.signed_bytes) abort();
  }
  auto claims = teeverify::SnpVerifier::Inspect(input, absl::UnixEpoch());
  if (claims.ok() != evidence.ok()) abort();
  return 0;
}
