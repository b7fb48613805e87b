// The SEV-SNP part of the claims ("sev_snp" object of docs/sev-snp.md) and its JSON rendering.
// The field names and types are a contract with the sidecar's policy engine: extend, never rename.
#ifndef TEE_VERIFIER_SNP_SNP_CLAIMS_H_
#define TEE_VERIFIER_SNP_SNP_CLAIMS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"
#include "verifier/common/byte_reader.h"
#include "verifier/snp/report.h"

namespace teeverify::snp {

struct Report;

enum class Product { kMilan, kGenoa, kTurin };

// "Milan", "Genoa", "Turin" (the AMD KDS product line names).
absl::string_view ProductName(Product p);

// A 64-bit TCB_VERSION decoded per product (ABI spec 56860, "TCB_VERSION Structure"):
// Milan/Genoa: boot_loader [7:0], tee [15:8], reserved [47:16], snp [55:48], microcode [63:56];
// Turin: fmc [7:0], boot_loader [15:8], tee [23:16], snp [31:24], reserved [55:32],
// microcode [63:56].
struct TcbVersion {
  uint64_t raw = 0;
  std::optional<uint8_t> fmc;  // Turin only
  uint8_t boot_loader = 0, tee = 0, snp = 0, microcode = 0;
};

struct SnpClaims {
  uint32_t version = 0;
  Product product = Product::kMilan;
  bool vlek = false;  // signing key: VLEK (true) or VCEK (false)
  uint32_t vmpl = 0;
  uint64_t policy = 0;
  uint32_t guest_svn = 0;
  ByteArray<16> family_id{}, image_id{};
  ByteArray<48> measurement{};
  ByteArray<32> host_data{};
  ByteArray<48> id_key_digest{}, author_key_digest{};
  ByteArray<32> report_id{}, report_id_ma{};
  ByteArray<64> chip_id{};
  uint64_t platform_info = 0;
  TcbVersion current_tcb, reported_tcb, committed_tcb, launch_tcb;

  // Additions beyond the contract above.
  struct Cpuid {
    uint8_t family = 0, model = 0, stepping = 0;
  };
  std::optional<Cpuid> cpuid;  // report version >= 3
  bool author_key_en = false;  // the ID block's ID key was signed by an author key
  std::string current_firmware, committed_firmware;  // "major.minor.build"
  FirmwareVersion current_version, committed_version;  // the same, as numbers
  std::optional<uint64_t> launch_mit_vector, current_mit_vector;  // report version 5
  std::optional<std::string> csp_id;  // VLEK only: the cloud provider the VLEK was issued to
};

// Decodes `raw` with the layout of `product`.
TcbVersion DecodeTcb(uint64_t raw, Product product);

// The TCB_VERSION with `tcb`'s components in the layout of `product` (reserved bits zero).
uint64_t EncodeTcb(const TcbVersion& tcb, Product product);

// Every field of the report, decoded for `product`; csp_id is left unset.
SnpClaims SnpClaimsFromReport(const Report& report, Product product);

nlohmann::ordered_json SnpClaimsToJson(const SnpClaims& claims);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_SNP_CLAIMS_H_
