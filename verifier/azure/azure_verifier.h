// Verifies the evidence of an Azure confidential VM (az-snp-vtpm, az-tdx-vtpm; docs/azure.md).
// The guest runs under Azure's paravisor (HCL), so the hardware report cannot carry the login
// nonce; the chain of trust is instead:
//
//   hardware report (SNP: VCEK -> ASK -> ARK; TDX: the TD quote by full DCAP, whose body must
//   equal the TDREPORT in the HCL report)
//     REPORT_DATA[0:32] = SHA-256(HCL runtime data), REPORT_DATA[32:64] zero
//   runtime data: the vTPM attestation key (HCLAkPub)
//   AK: RSASSA-PKCS1-v1_5 / SHA-256 signature over the TPMS_ATTEST quote
//   quote: extraData = the login's nonce binding (the claims' report_data),
//          pcrDigest = SHA-256 of the supplied PCR values of its selection.
//
// The TDREPORT's bytes that no TD quote carries (REPORTMACSTRUCT but REPORTDATA, reserved bytes,
// the SERVTD hash) cannot be authenticated off the platform; they are ignored and the claims come
// from the quote. The checks that need no collateral run first, so that evidence whose hardware collateral is
// missing still reports every other fault.
#ifndef TEE_VERIFIER_AZURE_AZURE_VERIFIER_H_
#define TEE_VERIFIER_AZURE_AZURE_VERIFIER_H_

#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/azure/azure_evidence.h"
#include "verifier/claims/claims.h"

namespace teeverify {

class AzureVerifier {
 public:
  // Verifies the hardware part with the TEE's own verifier: an SEV-SNP report with its VCEK
  // (DER or PEM), or a TDX quote (certificate empty).
  using HardwareVerify = absl::FunctionRef<absl::StatusOr<VerifiedClaims>(
      TeeKind hardware, absl::string_view evidence, absl::string_view certificate)>;

  // `tee`: the requested TEE (kAzSnpVtpm or kAzTdxVtpm), or nullopt to take it from the HCL
  // report. `certificate`: for SEV-SNP, what sev-snp's `certificate` is (the VCEK, optionally
  // followed by the ASK and ARK, as THIM serves them); it joins the VCEK the evidence carries.
  static absl::StatusOr<VerifiedClaims> Verify(absl::string_view evidence,
                                               std::optional<TeeKind> tee,
                                               absl::string_view certificate,
                                               HardwareVerify hardware);

  // The checks between the parts that need no collateral: hardware REPORT_DATA binds the runtime
  // data, the TD quote's body equals the TDREPORT (TDX), the AK signed the quote, the PCR values
  // hash to the quoted digest.
  static absl::Status CheckBindings(const azure::AzureEvidence& evidence);

  // Parses without verifying (tee-verify --inspect); never to be trusted.
  static absl::StatusOr<Claims> Inspect(absl::string_view evidence, absl::Time now);
};

// az-snp-vtpm or az-tdx-vtpm, from the HCL report's type.
absl::StatusOr<TeeKind> DetectAzureTee(absl::string_view evidence);

}  // namespace teeverify

#endif  // TEE_VERIFIER_AZURE_AZURE_VERIFIER_H_
