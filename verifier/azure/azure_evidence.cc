#include "verifier/azure/azure_evidence.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/common/status_macros.h"

namespace teeverify::azure {
namespace {

absl::StatusOr<std::string> StringMember(const Json& obj, absl::string_view path,
                                         absl::string_view key, bool required) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) {
    if (!required) return std::string();
    return Malformed(absl::StrCat("azure evidence: ", path, key, " is missing"));
  }
  if (!it->is_string()) {
    return Malformed(absl::StrCat("azure evidence: ", path, key, " is not a string"));
  }
  return it->get<std::string>();
}

// The signature as trustee sends it (the raw RSA signature, as long as the AK's modulus) or as
// TPM2_Quote returns it (a TPMT_SIGNATURE).
absl::StatusOr<std::string> SignatureBytes(absl::string_view bytes, size_t modulus_size) {
  if (bytes.size() == modulus_size) return std::string(bytes);
  return ParseTpmtSignature(bytes);
}

absl::Status ReadTpmQuote(const Json& quote, AzureEvidence* out) {
  if (!quote.is_object()) return Malformed("azure evidence: tpm_quote is not an object");
  ASSIGN_OR_RETURN(const std::string message, StringMember(quote, "tpm_quote.", "message", true));
  ASSIGN_OR_RETURN(out->tpm_message, HexDecode(message, "azure evidence: tpm_quote.message"));
  ASSIGN_OR_RETURN(out->tpm_quote, ParseTpmsAttest(out->tpm_message));
  ASSIGN_OR_RETURN(const std::string sig, StringMember(quote, "tpm_quote.", "signature", true));
  ASSIGN_OR_RETURN(const std::string sig_bytes,
                   HexDecode(sig, "azure evidence: tpm_quote.signature"));
  ASSIGN_OR_RETURN(out->tpm_signature, SignatureBytes(sig_bytes, out->runtime.ak_modulus.size()));
  auto pcrs = quote.find("pcrs");
  if (pcrs == quote.end() || !pcrs->is_array() || pcrs->size() != kPcrCount) {
    return Malformed("azure evidence: tpm_quote.pcrs must be an array of 24 SHA-256 PCR values");
  }
  for (size_t i = 0; i < kPcrCount; ++i) {
    const Json& pcr = (*pcrs)[i];
    const std::string field = absl::StrCat("azure evidence: tpm_quote.pcrs[", i, "]");
    if (!pcr.is_string()) return Malformed(absl::StrCat(field, " is not a string"));
    ASSIGN_OR_RETURN(out->pcrs[i], HexDecode(pcr.get<std::string>(), field));
    if (out->pcrs[i].size() != 32) return Malformed(absl::StrCat(field, " is not 32 bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Base64Member(const Json& doc, absl::string_view key, bool required) {
  ASSIGN_OR_RETURN(const std::string text, StringMember(doc, "", key, required));
  if (text.empty()) {
    if (required) return Malformed(absl::StrCat("azure evidence: ", key, " is empty"));
    return std::string();
  }
  return DecodeBase64Url(text, absl::StrCat("azure evidence: ", key));
}

}  // namespace

bool LooksLikeAzureEvidence(absl::string_view bytes) {
  const absl::string_view text = absl::StripLeadingAsciiWhitespace(bytes);
  return absl::StartsWith(text, "{") && absl::StrContains(text, "\"hcl_report\"");
}

absl::StatusOr<AzureEvidence> ParseAzureEvidence(absl::string_view json) {
  if (json.size() > kMaxEvidenceJsonSize) {
    return Malformed(absl::StrCat("azure evidence: ", json.size(), " bytes, at most ",
                                  kMaxEvidenceJsonSize, " expected"));
  }
  ASSIGN_OR_RETURN(const Json doc, ParseJson(json, "azure evidence", v1::REASON_MALFORMED_EVIDENCE));
  if (!doc.is_object()) return Malformed("azure evidence: not a JSON object");
  AzureEvidence out;
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_unsigned() ||
      (version->get<uint64_t>() != 1 && version->get<uint64_t>() != 2)) {
    return Unsupported("azure evidence: version must be 1 or 2");
  }
  out.version = static_cast<uint32_t>(version->get<uint64_t>());
  ASSIGN_OR_RETURN(const std::string hcl, Base64Member(doc, "hcl_report", true));
  ASSIGN_OR_RETURN(out.hcl, ParseHclReport(hcl));
  ASSIGN_OR_RETURN(out.runtime, ParseRuntimeData(out.hcl.runtime_data));
  auto quote = doc.find("tpm_quote");
  if (quote == doc.end()) return Malformed("azure evidence: tpm_quote is missing");
  RETURN_IF_ERROR(ReadTpmQuote(*quote, &out));
  ASSIGN_OR_RETURN(out.vcek, Base64Member(doc, "vcek", false));
  const bool tdx = out.hcl.report_type == HwReportType::kTdx;
  ASSIGN_OR_RETURN(out.td_quote, Base64Member(doc, "td_quote", tdx));
  if (!tdx && !out.td_quote.empty()) {
    return Malformed("azure evidence: td_quote given with an SEV-SNP HCL report");
  }
  if (tdx && !out.vcek.empty()) return Malformed("azure evidence: vcek given with a TDX HCL report");
  return out;
}

}  // namespace teeverify::azure
