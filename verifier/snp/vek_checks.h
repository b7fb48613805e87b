// The report <-> VCEK/VLEK cross-checks: the certificate is this chip's (hwID == CHIP_ID) and was
// issued for this TCB (its SPL extensions == REPORTED_TCB). Shared by SnpVerifier and by the
// check of a VCEK fetched from AMD KDS before it is cached (snp_collateral.h).
// Spec: AMD VCEK Certificate and KDS Interface Specification (57230), "VCEK Extensions".
#ifndef TEE_VERIFIER_SNP_VEK_CHECKS_H_
#define TEE_VERIFIER_SNP_VEK_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "verifier/snp/report.h"
#include "verifier/snp/snp_claims.h"
#include "verifier/snp/vcek_extensions.h"

namespace teeverify::snp {

// PLATFORM_MISMATCH unless the VCEK's hwID is the report's CHIP_ID (Turin: the first 8 bytes,
// the other 56 zero).
absl::Status CheckChipId(const Report& report, const VekExtensions& ext, Product product);

// PLATFORM_MISMATCH unless the certificate's SPLs are the report's REPORTED_TCB (`leaf` names it).
absl::Status CheckTcb(const Report& report, const VekExtensions& ext, Product product,
                      absl::string_view leaf);

// The hwID a VCEK of this report's chip carries: CHIP_ID, or its first 8 bytes on Turin.
std::string HwIdOf(const Report& report, Product product);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_VEK_CHECKS_H_
