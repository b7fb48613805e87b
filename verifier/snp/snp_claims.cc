#include "verifier/snp/snp_claims.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/common/hex.h"
#include "verifier/snp/report.h"

namespace teeverify::snp {
namespace {

using nlohmann::ordered_json;

uint8_t ByteAt(uint64_t raw, int index) { return static_cast<uint8_t>(raw >> (8 * index)); }

// Integers that are bit fields are shown as hex strings ("0x30000"), so that JSON readers with
// 53-bit numbers cannot round them.
std::string HexValue(uint64_t v) { return absl::StrCat("0x", absl::Hex(v)); }

ordered_json TcbToJson(const TcbVersion& t) {
  ordered_json j;
  j["raw"] = HexValue(t.raw);
  if (t.fmc) j["fmc"] = *t.fmc;
  j["boot_loader"] = t.boot_loader;
  j["tee"] = t.tee;
  j["snp"] = t.snp;
  j["microcode"] = t.microcode;
  return j;
}

// ABI spec 56860, "Guest Policy Structure".
ordered_json PolicyToJson(uint64_t policy) {
  auto bit = [policy](int b) { return static_cast<bool>((policy >> b) & 1); };
  ordered_json j;
  j["value"] = HexValue(policy);
  j["abi_major"] = static_cast<int>((policy >> 8) & 0xff);
  j["abi_minor"] = static_cast<int>(policy & 0xff);
  j["smt"] = bit(kPolicySmtBit);
  j["migrate_ma"] = bit(kPolicyMigrateMaBit);
  j["debug"] = bit(kPolicyDebugBit);
  j["single_socket"] = bit(kPolicySingleSocketBit);
  j["cxl_allow"] = bit(kPolicyCxlAllowBit);
  j["mem_aes_256_xts"] = bit(kPolicyMemAes256XtsBit);
  j["rapl_dis"] = bit(kPolicyRaplDisBit);
  j["ciphertext_hiding_dram"] = bit(kPolicyCiphertextHidingDramBit);
  j["page_swap_disable"] = bit(kPolicyPageSwapDisableBit);
  return j;
}

// ABI spec 56860, "PLATFORM_INFO Field".
ordered_json PlatformInfoToJson(uint64_t info) {
  auto bit = [info](int b) { return static_cast<bool>((info >> b) & 1); };
  ordered_json j;
  j["value"] = HexValue(info);
  j["smt_enabled"] = bit(kPlatformSmtEnBit);
  j["tsme_enabled"] = bit(kPlatformTsmeEnBit);
  j["ecc_enabled"] = bit(kPlatformEccEnBit);
  j["rapl_disabled"] = bit(kPlatformRaplDisBit);
  j["ciphertext_hiding_dram_enabled"] = bit(kPlatformCiphertextHidingDramEnBit);
  j["alias_check_complete"] = bit(kPlatformAliasCheckCompleteBit);
  j["tio_enabled"] = bit(kPlatformTioEnBit);
  return j;
}

std::string Firmware(const FirmwareVersion& v) {
  return absl::StrCat(v.major, ".", v.minor, ".", v.build);
}

}  // namespace

absl::string_view ProductName(Product p) {
  switch (p) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
  }
  return "";
}

TcbVersion DecodeTcb(uint64_t raw, Product product) {
  TcbVersion t;
  t.raw = raw;
  if (product == Product::kTurin) {
    t.fmc = ByteAt(raw, 0);
    t.boot_loader = ByteAt(raw, 1);
    t.tee = ByteAt(raw, 2);
    t.snp = ByteAt(raw, 3);
  } else {
    t.boot_loader = ByteAt(raw, 0);
    t.tee = ByteAt(raw, 1);
    t.snp = ByteAt(raw, 6);
  }
  t.microcode = ByteAt(raw, 7);
  return t;
}

uint64_t EncodeTcb(const TcbVersion& t, Product product) {
  const uint64_t ucode = uint64_t{t.microcode} << 56;
  if (product == Product::kTurin) {
    return uint64_t{t.fmc.value_or(0)} | uint64_t{t.boot_loader} << 8 | uint64_t{t.tee} << 16 |
           uint64_t{t.snp} << 24 | ucode;
  }
  return uint64_t{t.boot_loader} | uint64_t{t.tee} << 8 | uint64_t{t.snp} << 48 | ucode;
}

SnpClaims SnpClaimsFromReport(const Report& r, Product product) {
  SnpClaims c;
  c.version = r.version;
  c.product = product;
  c.vlek = r.signing_key() == SigningKey::kVlek;
  c.vmpl = r.vmpl;
  c.policy = r.policy;
  c.guest_svn = r.guest_svn;
  c.family_id = r.family_id;
  c.image_id = r.image_id;
  c.measurement = r.measurement;
  c.host_data = r.host_data;
  c.id_key_digest = r.id_key_digest;
  c.author_key_digest = r.author_key_digest;
  c.report_id = r.report_id;
  c.report_id_ma = r.report_id_ma;
  c.chip_id = r.chip_id;
  c.platform_info = r.platform_info;
  c.current_tcb = DecodeTcb(r.current_tcb, product);
  c.reported_tcb = DecodeTcb(r.reported_tcb, product);
  c.committed_tcb = DecodeTcb(r.committed_tcb, product);
  c.launch_tcb = DecodeTcb(r.launch_tcb, product);
  if (r.has_cpuid()) c.cpuid = SnpClaims::Cpuid{r.cpuid_fam_id, r.cpuid_mod_id, r.cpuid_step};
  c.author_key_en = r.author_key_en();
  c.current_firmware = Firmware(r.current);
  c.committed_firmware = Firmware(r.committed);
  c.current_version = r.current;
  c.committed_version = r.committed;
  if (r.has_mitigation_vectors()) {
    c.launch_mit_vector = r.launch_mit_vector;
    c.current_mit_vector = r.current_mit_vector;
  }
  return c;
}

nlohmann::ordered_json SnpClaimsToJson(const SnpClaims& c) {
  ordered_json j;
  j["version"] = c.version;
  j["product"] = std::string(ProductName(c.product));
  j["signing_key"] = c.vlek ? "vlek" : "vcek";
  j["vmpl"] = c.vmpl;
  j["policy"] = PolicyToJson(c.policy);
  j["guest_svn"] = c.guest_svn;
  j["family_id"] = HexEncode(c.family_id);
  j["image_id"] = HexEncode(c.image_id);
  j["measurement"] = HexEncode(c.measurement);
  j["host_data"] = HexEncode(c.host_data);
  j["id_key_digest"] = HexEncode(c.id_key_digest);
  j["author_key_digest"] = HexEncode(c.author_key_digest);
  j["author_key_en"] = c.author_key_en;
  j["report_id"] = HexEncode(c.report_id);
  j["report_id_ma"] = HexEncode(c.report_id_ma);
  j["chip_id"] = HexEncode(c.chip_id);
  j["platform_info"] = PlatformInfoToJson(c.platform_info);
  j["current_tcb"] = TcbToJson(c.current_tcb);
  j["reported_tcb"] = TcbToJson(c.reported_tcb);
  j["committed_tcb"] = TcbToJson(c.committed_tcb);
  j["launch_tcb"] = TcbToJson(c.launch_tcb);
  j["current_firmware"] = c.current_firmware;
  j["committed_firmware"] = c.committed_firmware;
  if (c.cpuid) {
    j["cpuid"] = {{"family", HexValue(c.cpuid->family)},
                  {"model", HexValue(c.cpuid->model)},
                  {"stepping", HexValue(c.cpuid->stepping)}};
  }
  if (c.launch_mit_vector) j["launch_mit_vector"] = HexValue(*c.launch_mit_vector);
  if (c.current_mit_vector) j["current_mit_vector"] = HexValue(*c.current_mit_vector);
  if (c.csp_id) j["csp_id"] = *c.csp_id;
  return j;
}

}  // namespace teeverify::snp
