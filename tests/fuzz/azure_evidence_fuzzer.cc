// libFuzzer target: Azure vTPM evidence JSON end to end without a trust root: parse every part,
// run the collateral-free binding checks and inspection. Nothing may crash; inspection succeeds
// exactly when the evidence parses and its hardware report does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/time/time.h"
#include "verifier/azure/azure_evidence.h"
#include "verifier/azure/azure_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  teeverify::azure::LooksLikeAzureEvidence(input);
  auto evidence = teeverify::azure::ParseAzureEvidence(input);
  if (evidence.ok()) {
    (void)teeverify::AzureVerifier::CheckBindings(*evidence);
    if (!teeverify::DetectAzureTee(input).ok()) abort();
  }
  auto claims = teeverify::AzureVerifier::Inspect(input, absl::UnixEpoch());
  if (claims.ok() && !evidence.ok()) abort();
  return 0;
}
