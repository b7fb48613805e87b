// The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's TCB
// component SVNs, PCESVN, CPUSVN, PCE-ID and FMSPC, which select the TCB level.
// Spec: Intel SGX PCK Certificate and CRL Profile, "SGX Extensions".
#ifndef TEE_VERIFIER_TDX_PCK_EXTENSIONS_H_
#define TEE_VERIFIER_TDX_PCK_EXTENSIONS_H_

#include <openssl/x509.h>

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "verifier/common/byte_reader.h"

namespace teeverify::tdx {

struct PckExtensions {
  ByteArray<16> ppid = {};
  ByteArray<16> tcb_component_svns = {};  // TCB comp01..comp16 SVN
  uint16_t pce_svn = 0;
  ByteArray<16> cpu_svn = {};
  ByteArray<2> pce_id = {};
  ByteArray<6> fmspc = {};
  int sgx_type = 0;  // 0 Standard, 1 Scalable, 2 Scalable with integrity
};

// Reads the SGX extension of `cert`. PPID, TCB (all 16 components, PCESVN and CPUSVN), PCE-ID,
// FMSPC and SGX Type are required, as in Intel's QVL; each with its exact ASN.1 type and length.
absl::StatusOr<PckExtensions> ParsePckExtensions(X509* cert);

// The same from the DER value of the extension (an OCTET STRING's contents); used by fuzzers.
absl::StatusOr<PckExtensions> ParsePckExtensionValue(absl::string_view der);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_PCK_EXTENSIONS_H_
