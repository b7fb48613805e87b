// libFuzzer target: the SGX extension of PCK certificates (DER via OpenSSL's ASN.1 decoder) and
// the PEM certificate-chain splitter used for embedded PCK chains.
#include <cstddef>
#include <cstdint>

#include "verifier/crypto/x509_util.h"
#include "verifier/tdx/pck_extensions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  (void)teeverify::tdx::ParsePckExtensionValue(input);
  (void)teeverify::ParsePemCertificates(input, "fuzz");
  (void)teeverify::ParseCertificate(input, "fuzz");
  (void)teeverify::ParseCrl(input, "fuzz");
  return 0;
}
