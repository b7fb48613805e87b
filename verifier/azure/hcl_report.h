// The HCL report of an Azure confidential VM: what the paravisor (HCL) writes to the vTPM's NV
// index 0x01400001. Layout (all integers little-endian), as Azure's guest attestation tooling and
// trustee's az-*-vtpm verifiers read it:
//
//   0x000  attestation header, 32 bytes: signature "HCLA", version (1 or 2), report_size,
//          request_type (2), status (0), 3 reserved u32 (0); covered by no signature
//   0x020  hardware report slot, 1184 bytes: an SEV-SNP ATTESTATION_REPORT (1184 bytes) or a TDX
//          TDREPORT (1024 bytes, the rest of the slot zero)
//   0x4c0  IGVM request data: data_size, version (1), report_type (2 SNP, 4 TDX),
//          report_data_hash_type (1 SHA-256), variable_data_size, then the runtime data (JSON)
//
// The hardware report's REPORT_DATA[0:32] is SHA-256 of the runtime data; the runtime data
// carries the vTPM attestation key (JWK "HCLAkPub") and the VM configuration. Bytes after
// report_size up to the end of the NV index must be zero.
#ifndef TEE_VERIFIER_AZURE_HCL_REPORT_H_
#define TEE_VERIFIER_AZURE_HCL_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::azure {

inline constexpr uint32_t kHclSignature = 0x414c4348;  // "HCLA"
inline constexpr size_t kHclHeaderSize = 32;
inline constexpr size_t kHwReportSlotSize = 1184;
inline constexpr size_t kTdReportSize = 1024;
inline constexpr size_t kRequestDataHeaderSize = 20;
// The NV index is 2600 bytes on today's Azure CVMs; leave room, never unbounded.
inline constexpr size_t kMaxHclReportSize = 8192;

enum class HwReportType { kSnp, kTdx };

struct HclReport {
  uint32_t version = 0;
  uint32_t request_type = 0;
  HwReportType report_type = HwReportType::kSnp;
  std::string hw_report;     // SNP: 1184 bytes; TDX: the 1024-byte TDREPORT
  std::string runtime_data;  // the JSON bytes whose SHA-256 the hardware report binds
};

absl::StatusOr<HclReport> ParseHclReport(absl::string_view bytes);

// "snp", "tdx" (for errors).
absl::string_view HwReportTypeName(HwReportType type);

}  // namespace teeverify::azure

#endif  // TEE_VERIFIER_AZURE_HCL_REPORT_H_
