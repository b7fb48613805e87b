// libFuzzer target: TPM 2.0 structures of an Azure vTPM quote (TPMS_ATTEST and TPMT_SIGNATURE).
// Any input must parse or fail cleanly; what parses keeps to the limits the parser promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "verifier/azure/tpm_quote.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace teeverify::azure;
  auto quote = ParseTpmsAttest(input);
  if (quote.ok()) {
    if (quote->pcr_digest.size() != 32 || quote->extra_data.size() > kMaxExtraData) abort();
    if (quote->pcr_mask == 0 || quote->pcr_mask >= (1u << kPcrCount)) abort();
    if (PcrIndices(quote->pcr_mask).empty()) abort();
  }
  auto signature = ParseTpmtSignature(input);
  if (signature.ok() && signature->size() + 6 != input.size()) abort();
  return 0;
}
