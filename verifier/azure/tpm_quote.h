// TPM 2.0 quote structures (TPM 2.0 Library, Part 2: Structures), all integers big-endian:
//
//   TPMS_ATTEST     magic u32 (TPM_GENERATED_VALUE 0xff544347), type u16 (TPM_ST_ATTEST_QUOTE
//                   0x8018), qualifiedSigner TPM2B_NAME, extraData TPM2B_DATA, clockInfo
//                   (clock u64, resetCount u32, restartCount u32, safe u8), firmwareVersion u64,
//                   attested TPMS_QUOTE_INFO (TPML_PCR_SELECTION pcrSelect, TPM2B_DIGEST pcrDigest)
//   TPMT_SIGNATURE  sigAlg u16, hash u16, TPM2B signature
//
// Only what Azure's vTPM produces is accepted: one SHA-256 PCR selection of 3 bitmap bytes and an
// RSASSA-PKCS1-v1_5 / SHA-256 signature; anything else is refused rather than interpreted.
#ifndef TEE_VERIFIER_AZURE_TPM_QUOTE_H_
#define TEE_VERIFIER_AZURE_TPM_QUOTE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::azure {

inline constexpr uint32_t kTpmGeneratedValue = 0xff544347;
inline constexpr uint16_t kTpmStAttestQuote = 0x8018;
inline constexpr uint16_t kTpmAlgSha256 = 0x000b;
inline constexpr uint16_t kTpmAlgRsassa = 0x0014;
inline constexpr size_t kPcrCount = 24;
inline constexpr size_t kMaxExtraData = 64;  // TPM2B_DATA of a SHA-512-sized binding at most

struct TpmQuote {
  std::string qualified_signer;  // TPM2B_NAME contents
  std::string extra_data;        // the qualifying data the caller passed to TPM2_Quote
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
  uint64_t firmware_version = 0;
  uint32_t pcr_mask = 0;  // bit i: PCR i of the SHA-256 bank is in the digest
  std::string pcr_digest;  // 32 bytes
};

// Parses a TPMS_ATTEST of type QUOTE; no trailing bytes.
absl::StatusOr<TpmQuote> ParseTpmsAttest(absl::string_view bytes);

// The RSA signature bytes of a TPMT_SIGNATURE (RSASSA, SHA-256); no trailing bytes.
absl::StatusOr<std::string> ParseTpmtSignature(absl::string_view bytes);

// The PCR indices of `mask`, ascending.
std::vector<uint32_t> PcrIndices(uint32_t mask);

}  // namespace teeverify::azure

#endif  // TEE_VERIFIER_AZURE_TPM_QUOTE_H_
