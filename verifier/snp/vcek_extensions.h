// The AMD extensions of a VCEK or VLEK certificate (arc 1.3.6.1.4.1.3704.1): the product, the TCB
// the key was derived for, the chip it belongs to (VCEK) or the cloud provider it was issued to
// (VLEK). Parsing only; the verifier compares them with the report.
// Spec: AMD Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification
// (57230), "VCEK Certificate Extensions" and "VLEK Certificate Extensions".
#ifndef TEE_VERIFIER_SNP_VCEK_EXTENSIONS_H_
#define TEE_VERIFIER_SNP_VCEK_EXTENSIONS_H_

#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace teeverify::snp {

inline constexpr absl::string_view kAmdExtensionArc = "1.3.6.1.4.1.3704.1";
inline constexpr size_t kHwIdSizeMilanGenoa = 64;
inline constexpr size_t kHwIdSizeTurin = 8;

struct VekExtensions {
  std::optional<int64_t> struct_version;  // .1 (0 on Milan/Genoa, 1 on Turin)
  std::string product_name;               // .2, e.g. "Milan-B0", "Genoa", "Turin"
  uint8_t bl_spl = 0;                     // .3.1
  uint8_t tee_spl = 0;                    // .3.2
  uint8_t snp_spl = 0;                    // .3.3
  std::array<std::optional<uint8_t>, 4> spl_4_to_7;  // .3.4 .. .3.7
  uint8_t ucode_spl = 0;                  // .3.8
  std::optional<uint8_t> fmc_spl;         // .3.9 (Turin)
  std::optional<std::string> hw_id;       // .4 (VCEK): 64 bytes, or 8 on Turin
  std::optional<std::string> csp_id;      // .5 (VLEK)
};

// Reads the extensions under 1.3.6.1.4.1.3704.1 of `cert`. productName and blSPL, teeSPL, snpSPL,
// ucodeSPL are required; a duplicated extension is refused; unknown ones under the arc are ignored.
// Errors are CERT_CHAIN_INVALID naming the extension.
absl::StatusOr<VekExtensions> ParseVekExtensions(X509* cert);

// The same from (dotted OID, extnValue contents) pairs; what ParseVekExtensions uses and the
// fuzzer drives. Pairs whose OID is outside the arc are ignored.
absl::StatusOr<VekExtensions> ParseVekExtensionValues(
    absl::Span<const std::pair<std::string, std::string>> oid_values);

// One SPL: a DER INTEGER in 0..255 (AMD writes 02 01 xx, or 02 02 00 xx from 0x80).
absl::StatusOr<uint8_t> ParseSplValue(absl::string_view der, absl::string_view name);

// productName / cspId: a DER IA5String of printable characters.
absl::StatusOr<std::string> ParseIa5Value(absl::string_view der, absl::string_view name);

// hwID: AMD's KDS writes the raw chip ID bytes (64, or 8 on Turin) as the extension value, not a
// DER OCTET STRING; a DER-wrapped OCTET STRING of those sizes is accepted too (KDS announced that
// fix in 2023). The lengths 8, 10, 64 and 66 make the two forms unambiguous.
absl::StatusOr<std::string> ParseHwIdValue(absl::string_view value);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_VCEK_EXTENSIONS_H_
