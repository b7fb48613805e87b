#include "verifier/azure/hcl_report.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"

namespace teeverify::azure {
namespace {

constexpr uint32_t kRequestTypeAkCert = 2;  // what the HCL report in NV 0x01400001 carries
constexpr uint32_t kRequestDataVersion = 1;
constexpr uint32_t kReportTypeSnp = 2;
constexpr uint32_t kReportTypeTdx = 4;
constexpr uint32_t kHashTypeSha256 = 1;

bool AllZero(absl::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace

absl::string_view HwReportTypeName(HwReportType type) {
  return type == HwReportType::kSnp ? "snp" : "tdx";
}

absl::StatusOr<HclReport> ParseHclReport(absl::string_view bytes) {
  if (bytes.size() > kMaxHclReportSize) {
    return Malformed(absl::StrCat("hcl report: ", bytes.size(), " bytes, at most ",
                                  kMaxHclReportSize, " expected"));
  }
  ByteReader r(bytes, "hcl report");
  HclReport out;
  ASSIGN_OR_RETURN(const uint32_t signature, r.U32("signature"));
  if (signature != kHclSignature) {
    return Malformed(absl::StrCat("hcl report: signature 0x", absl::Hex(signature),
                                  " is not \"HCLA\""));
  }
  ASSIGN_OR_RETURN(out.version, r.U32("version"));
  if (out.version != 1 && out.version != 2) {
    return Unsupported(absl::StrCat("hcl report: version ", out.version, " (1 or 2 supported)"));
  }
  ASSIGN_OR_RETURN(const uint32_t report_size, r.U32("report_size"));
  // The header is not covered by any signature: only values real evidence has are accepted.
  ASSIGN_OR_RETURN(out.request_type, r.U32("request_type"));
  if (out.request_type != kRequestTypeAkCert) {
    return Unsupported(absl::StrCat("hcl report: request_type ", out.request_type, " (2 supported)"));
  }
  ASSIGN_OR_RETURN(const uint32_t status, r.U32("status"));
  if (status != 0) return Malformed(absl::StrCat("hcl report: status ", status, " is not 0"));
  ASSIGN_OR_RETURN(absl::string_view reserved, r.Bytes(12, "reserved"));
  if (!AllZero(reserved)) return Malformed("hcl report: reserved header bytes are not zero");
  ASSIGN_OR_RETURN(absl::string_view hw, r.Bytes(kHwReportSlotSize, "hardware report"));

  ASSIGN_OR_RETURN(const uint32_t data_size, r.U32("request_data.data_size"));
  ASSIGN_OR_RETURN(const uint32_t data_version, r.U32("request_data.version"));
  if (data_version != kRequestDataVersion) {
    return Unsupported(absl::StrCat("hcl report: request_data.version ", data_version,
                                    " (1 supported)"));
  }
  ASSIGN_OR_RETURN(const uint32_t report_type, r.U32("request_data.report_type"));
  ASSIGN_OR_RETURN(const uint32_t hash_type, r.U32("request_data.report_data_hash_type"));
  ASSIGN_OR_RETURN(const uint32_t variable_size, r.U32("request_data.variable_data_size"));
  if (report_type == kReportTypeSnp) {
    out.report_type = HwReportType::kSnp;
    out.hw_report = std::string(hw);
  } else if (report_type == kReportTypeTdx) {
    out.report_type = HwReportType::kTdx;
    if (!AllZero(hw.substr(kTdReportSize))) {
      return Malformed("hcl report: bytes after the 1024-byte TDREPORT are not zero");
    }
    out.hw_report = std::string(hw.substr(0, kTdReportSize));
  } else {
    return Unsupported(absl::StrCat("hcl report: request_data.report_type ", report_type,
                                    " (2 SEV-SNP or 4 TDX supported)"));
  }
  if (hash_type != kHashTypeSha256) {
    return Unsupported(absl::StrCat("hcl report: request_data.report_data_hash_type ",
                                    hash_type, " (1 SHA-256 supported)"));
  }
  // The sizes must agree with each other and with the bytes present; compared in 64 bits.
  if (static_cast<uint64_t>(data_size) != kRequestDataHeaderSize + uint64_t{variable_size}) {
    return Malformed(absl::StrCat("hcl report: request_data.data_size ", data_size,
                                  " is not 20 + variable_data_size ", variable_size));
  }
  if (static_cast<uint64_t>(report_size) !=
      kHclHeaderSize + kHwReportSlotSize + uint64_t{data_size}) {
    return Malformed(absl::StrCat("hcl report: report_size ", report_size,
                                  " is not 1216 + request_data.data_size ", data_size));
  }
  ASSIGN_OR_RETURN(out.runtime_data, r.OwnedBytes(variable_size, "runtime data"));
  if (out.runtime_data.empty()) return Malformed("hcl report: runtime data is empty");
  if (!AllZero(r.rest())) {
    return Malformed(absl::StrCat("hcl report: ", r.remaining(),
                                  " bytes after report_size are not all zero"));
  }
  return out;
}

}  // namespace teeverify::azure
