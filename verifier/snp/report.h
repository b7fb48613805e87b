// Byte layout of the AMD SEV-SNP attestation report, versions 2, 3 and 5, as a typed struct.
//
// Spec: AMD SEV Secure Nested Paging Firmware ABI Specification (56860), Table "ATTESTATION_REPORT
// Structure" (1184 bytes; the signature at 0x2A0 covers bytes 0x000..0x29F) and "ECDSA P-384 with
// SHA-384 Signature" (R and S, 72 bytes each, little-endian, zero-extended from 48 bytes). Version 3
// adds CPUID_FAM_ID/CPUID_MOD_ID/CPUID_STEP at 0x188; version 5 adds LAUNCH_MIT_VECTOR and
// CURRENT_MIT_VECTOR at 0x1F8. Parsing lives in report_parser.h; nothing here verifies anything.
#ifndef TEE_VERIFIER_SNP_REPORT_H_
#define TEE_VERIFIER_SNP_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "verifier/common/byte_reader.h"

namespace teeverify::snp {

inline constexpr uint32_t kReportVersion2 = 2;
inline constexpr uint32_t kReportVersion3 = 3;
inline constexpr uint32_t kReportVersion5 = 5;

inline constexpr size_t kReportSize = 0x4A0;     // 1184
inline constexpr size_t kSignedSize = 0x2A0;     // bytes 0x000..0x29F are signed
inline constexpr size_t kSignatureSize = kReportSize - kSignedSize;  // 512
inline constexpr size_t kSignatureComponentSize = 72;  // R and S as stored
inline constexpr size_t kP384ScalarSize = 48;          // of which the low 48 bytes are used
inline constexpr size_t kSignatureReservedSize = kSignatureSize - 2 * kSignatureComponentSize;

// SIGNATURE_ALGO: the only algorithm the ABI defines for reports.
inline constexpr uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;
inline constexpr uint32_t kMaxVmpl = 3;

// Bits of the 32-bit word at 0x48.
inline constexpr uint32_t kAuthorKeyEnBit = 1u << 0;
inline constexpr uint32_t kMaskChipKeyBit = 1u << 1;
inline constexpr int kSigningKeyShift = 2;  // bits 4:2
inline constexpr uint32_t kSignerInfoReservedMask = ~0x1fu;  // bits 31:5 must be zero

enum class SigningKey : uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };

// Guest policy (ABI spec, "Guest Policy Structure"): bit 17 is reserved and must be one, bits
// 63:26 are reserved and must be zero in the spec revision implemented here.
inline constexpr int kPolicySmtBit = 16;
inline constexpr int kPolicyReservedOneBit = 17;
inline constexpr int kPolicyMigrateMaBit = 18;
inline constexpr int kPolicyDebugBit = 19;
inline constexpr int kPolicySingleSocketBit = 20;
inline constexpr int kPolicyCxlAllowBit = 21;
inline constexpr int kPolicyMemAes256XtsBit = 22;
inline constexpr int kPolicyRaplDisBit = 23;
inline constexpr int kPolicyCiphertextHidingDramBit = 24;
inline constexpr int kPolicyPageSwapDisableBit = 25;
inline constexpr uint64_t kPolicyReservedZeroMask = ~((uint64_t{1} << 26) - 1);

// PLATFORM_INFO bits. Bits the spec has not defined yet are kept in the raw value, not refused:
// they describe the host, firmware sets them, and new revisions keep adding them.
inline constexpr int kPlatformSmtEnBit = 0;
inline constexpr int kPlatformTsmeEnBit = 1;
inline constexpr int kPlatformEccEnBit = 2;
inline constexpr int kPlatformRaplDisBit = 3;
inline constexpr int kPlatformCiphertextHidingDramEnBit = 4;
inline constexpr int kPlatformAliasCheckCompleteBit = 5;
inline constexpr int kPlatformTioEnBit = 7;

struct FirmwareVersion {
  uint8_t build = 0;
  uint8_t minor = 0;
  uint8_t major = 0;
};

// The report as the firmware lays it out; every reserved range is checked to be zero by the
// parser and written as zeros by the serializer, so Serialize(Parse(b)) == b.
struct Report {
  uint32_t version = 0;            // 0x000
  uint32_t guest_svn = 0;          // 0x004
  uint64_t policy = 0;             // 0x008
  ByteArray<16> family_id = {};    // 0x010
  ByteArray<16> image_id = {};     // 0x020
  uint32_t vmpl = 0;               // 0x030
  uint32_t signature_algo = 0;     // 0x034
  uint64_t current_tcb = 0;        // 0x038, TCB_VERSION (layout depends on the product)
  uint64_t platform_info = 0;      // 0x040
  uint32_t signer_info = 0;        // 0x048: AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY
                                   // 0x04C: 4 reserved bytes
  ByteArray<64> report_data = {};  // 0x050
  ByteArray<48> measurement = {};  // 0x090
  ByteArray<32> host_data = {};    // 0x0C0
  ByteArray<48> id_key_digest = {};      // 0x0E0
  ByteArray<48> author_key_digest = {};  // 0x110
  ByteArray<32> report_id = {};          // 0x140
  ByteArray<32> report_id_ma = {};       // 0x160
  uint64_t reported_tcb = 0;             // 0x180
  // 0x188: version >= 3 only (reserved, zero, in version 2); 0x18B..0x19F reserved.
  uint8_t cpuid_fam_id = 0;
  uint8_t cpuid_mod_id = 0;
  uint8_t cpuid_step = 0;
  ByteArray<64> chip_id = {};      // 0x1A0 (Turin: 8 bytes, then zeros)
  uint64_t committed_tcb = 0;      // 0x1E0
  FirmwareVersion current;         // 0x1E8 build, minor, major, 1 reserved byte
  FirmwareVersion committed;       // 0x1EC build, minor, major, 1 reserved byte
  uint64_t launch_tcb = 0;         // 0x1F0
  // 0x1F8: version 5 only (reserved, zero, before); then reserved up to 0x29F.
  uint64_t launch_mit_vector = 0;
  uint64_t current_mit_vector = 0;
  // 0x2A0: ECDSA P-384 signature, little-endian; only the low 48 bytes of each 72-byte component
  // are significant, the rest and the 368 bytes after S are reserved.
  ByteArray<kP384ScalarSize> signature_r = {};
  ByteArray<kP384ScalarSize> signature_s = {};

  std::string signed_bytes;  // bytes 0x000..0x29F, what the VCEK/VLEK signs

  bool has_cpuid() const { return version >= kReportVersion3; }
  bool has_mitigation_vectors() const { return version >= kReportVersion5; }
  SigningKey signing_key() const {
    return static_cast<SigningKey>((signer_info >> kSigningKeyShift) & 7);
  }
  bool author_key_en() const { return signer_info & kAuthorKeyEnBit; }
  bool mask_chip_key() const { return signer_info & kMaskChipKeyBit; }
  bool policy_bit(int bit) const { return (policy >> bit) & 1; }
  bool platform_bit(int bit) const { return (platform_info >> bit) & 1; }
};

static_assert(4 + 4 + 8 + 16 + 16 + 4 + 4 + 8 + 8 + 4 + 4 == 0x50);
static_assert(0x50 + 64 + 48 + 32 + 48 + 48 + 32 + 32 == 0x180);
static_assert(0x180 + 8 + 24 + 64 + 8 + 4 + 4 + 8 == 0x1F8);
static_assert(0x1F8 + 8 + 8 + 152 == kSignedSize);
static_assert(kSignedSize + 2 * kSignatureComponentSize + kSignatureReservedSize == kReportSize);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_REPORT_H_
