#include "verifier/snp/vcek_extensions.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <optional>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify::snp {
namespace {

constexpr absl::string_view kWhat = "sev-snp certificate extension";

using IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER, ASN1_INTEGER_free>>;
using Ia5Ptr = std::unique_ptr<ASN1_IA5STRING, OpenSslDeleter<ASN1_IA5STRING, ASN1_IA5STRING_free>>;

absl::Status Invalid(absl::string_view name, absl::string_view problem) {
  return MakeError(v1::REASON_CERT_CHAIN_INVALID, absl::StrCat(kWhat, " ", name, ": ", problem));
}

// `der` as exactly one DER INTEGER that fits in 64 bits; nullopt otherwise.
std::optional<int64_t> DerInteger(absl::string_view der) {
  const unsigned char* p = Uchar(der);
  IntegerPtr value(d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(der.size())));
  int64_t v = 0;
  if (!value || p != Uchar(der) + der.size() || ASN1_INTEGER_get_int64(&v, value.get()) != 1) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  return v;
}

}  // namespace

absl::StatusOr<uint8_t> ParseSplValue(absl::string_view der, absl::string_view name) {
  const std::optional<int64_t> v = DerInteger(der);
  if (!v || *v < 0 || *v > 255) {
    return Invalid(name, absl::StrCat("is not a DER INTEGER in 0..255 (", HexEncode(der), ")"));
  }
  return static_cast<uint8_t>(*v);
}

absl::StatusOr<std::string> ParseIa5Value(absl::string_view der, absl::string_view name) {
  const unsigned char* p = Uchar(der);
  Ia5Ptr value(d2i_ASN1_IA5STRING(nullptr, &p, static_cast<long>(der.size())));
  if (!value || p != Uchar(der) + der.size()) {
    ClearOpenSslErrors();
    return Invalid(name, absl::StrCat("is not a DER IA5String (", HexEncode(der), ")"));
  }
  std::string out(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value.get())),
                  ASN1_STRING_length(value.get()));
  if (out.empty() || !std::all_of(out.begin(), out.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return Invalid(name, "is empty or not printable");
  }
  return out;
}

absl::StatusOr<std::string> ParseHwIdValue(absl::string_view value) {
  if (value.size() == kHwIdSizeMilanGenoa || value.size() == kHwIdSizeTurin) {
    return std::string(value);
  }
  const size_t n = value.size() - 2;
  if ((value.size() == kHwIdSizeMilanGenoa + 2 || value.size() == kHwIdSizeTurin + 2) &&
      value[0] == 0x04 && static_cast<uint8_t>(value[1]) == n) {
    return std::string(value.substr(2));
  }
  return Invalid("hwID", absl::StrCat("has ", value.size(),
                                      " bytes; expected 64 (Milan, Genoa) or 8 (Turin) raw bytes, "
                                      "or a DER OCTET STRING of those"));
}

absl::StatusOr<VekExtensions> ParseVekExtensionValues(
    absl::Span<const std::pair<std::string, std::string>> oid_values) {
  VekExtensions out;
  std::vector<std::string> seen;
  for (const auto& [oid, value] : oid_values) {
    const absl::string_view suffix = OidSuffix(oid, kAmdExtensionArc);
    if (suffix.empty()) continue;
    if (std::find(seen.begin(), seen.end(), suffix) != seen.end()) {
      return Invalid(oid, "appears more than once");
    }
    seen.emplace_back(suffix);
    if (suffix == "1") {
      const std::optional<int64_t> version = DerInteger(value);
      if (!version) return Invalid("structVersion", "is not a DER INTEGER");
      out.struct_version = *version;
    } else if (suffix == "2") {
      ASSIGN_OR_RETURN(out.product_name, ParseIa5Value(value, "productName"));
    } else if (suffix == "3.1") {
      ASSIGN_OR_RETURN(out.bl_spl, ParseSplValue(value, "blSPL"));
    } else if (suffix == "3.2") {
      ASSIGN_OR_RETURN(out.tee_spl, ParseSplValue(value, "teeSPL"));
    } else if (suffix == "3.3") {
      ASSIGN_OR_RETURN(out.snp_spl, ParseSplValue(value, "snpSPL"));
    } else if (suffix == "3.4" || suffix == "3.5" || suffix == "3.6" || suffix == "3.7") {
      const int index = suffix.back() - '4';
      ASSIGN_OR_RETURN(out.spl_4_to_7[index],
                       ParseSplValue(value, absl::StrCat("spl_", index + 4)));
    } else if (suffix == "3.8") {
      ASSIGN_OR_RETURN(out.ucode_spl, ParseSplValue(value, "ucodeSPL"));
    } else if (suffix == "3.9") {
      ASSIGN_OR_RETURN(out.fmc_spl, ParseSplValue(value, "fmcSPL"));
    } else if (suffix == "4") {
      ASSIGN_OR_RETURN(out.hw_id, ParseHwIdValue(value));
    } else if (suffix == "5") {
      ASSIGN_OR_RETURN(out.csp_id, ParseIa5Value(value, "cspId"));
    }
  }
  const std::pair<absl::string_view, absl::string_view> kRequired[] = {
      {"2", "productName"}, {"3.1", "blSPL"}, {"3.2", "teeSPL"}, {"3.3", "snpSPL"},
      {"3.8", "ucodeSPL"}};
  for (const auto& [suffix, name] : kRequired) {
    if (std::find(seen.begin(), seen.end(), suffix) == seen.end()) {
      return Invalid(name, absl::StrCat("(", kAmdExtensionArc, ".", suffix, ") is missing"));
    }
  }
  return out;
}

absl::StatusOr<VekExtensions> ParseVekExtensions(X509* cert) {
  std::vector<std::pair<std::string, std::string>> values;
  const int count = X509_get_ext_count(cert);
  for (int i = 0; i < count; ++i) {
    // auto: OpenSSL 4.0 returns the extension const, 3.0 does not and wants it non-const below.
    auto* ext = X509_get_ext(cert, i);
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    values.emplace_back(OidText(X509_EXTENSION_get_object(ext)),
                        std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                                    ASN1_STRING_length(data)));
  }
  return ParseVekExtensionValues(values);
}

}  // namespace teeverify::snp
