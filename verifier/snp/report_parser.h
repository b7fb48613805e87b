// Parses SEV-SNP attestation report bytes into a Report. Pure: no crypto, no time, no I/O. It only
// checks that the byte layout is correct and supported; verification is snp_verifier.h's job.
#ifndef TEE_VERIFIER_SNP_REPORT_PARSER_H_
#define TEE_VERIFIER_SNP_REPORT_PARSER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/snp/report.h"

namespace teeverify::snp {

// Parses exactly one 1184-byte report of version 2, 3 or 5. Refuses any other size or version,
// a non-zero byte in any reserved range (including the unused high bytes of R and S), reserved
// SIGNING_KEY values or flag bits, a guest policy whose reserved bits are wrong, a VMPL above 3
// and a signature algorithm other than ECDSA P-384 with SHA-384.
absl::StatusOr<Report> ParseReport(absl::string_view bytes);

// The inverse of ParseReport: ParseReport(SerializeReport(r)) == r for every parsed r, and
// SerializeReport(ParseReport(b)) == b.
std::string SerializeReport(const Report& report);

// The signed part (0x000..0x29F) of SerializeReport(report); for generators that sign reports.
std::string SignedBytes(const Report& report);

// Whether `bytes` starts like an SNP report (for tee-verify --tee auto): long enough, a supported
// version, the ECDSA P-384 signature algorithm, a valid VMPL and zero reserved bytes at 0x4C.
bool LooksLikeSnpReport(absl::string_view bytes);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_REPORT_PARSER_H_
