// libFuzzer target: attested TLS client certificates (parse -> re-encode -> parse stability, and
// the self-issued check on whatever parses).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "verifier/attested_cert/attested_cert.h"
#include "verifier/crypto/x509_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto cert = teeverify::attested_cert::ParseAttestedCertificate(input);
  if (!cert.ok()) return 0;
  (void)teeverify::attested_cert::VerifySelfIssued(*cert);
  auto again = teeverify::attested_cert::ParseAttestedCertificate(
      teeverify::CertificateDer(cert->cert.get()));
  if (!again.ok() || again->spki_der != cert->spki_der || again->evidence != cert->evidence ||
      again->not_before != cert->not_before || again->not_after != cert->not_after) {
    abort();
  }
  return 0;
}
