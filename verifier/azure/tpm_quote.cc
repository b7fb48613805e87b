#include "verifier/azure/tpm_quote.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"

namespace teeverify::azure {
namespace {

// ByteReader reads little-endian; the TPM marshals big-endian.
class BigEndianReader {
 public:
  BigEndianReader(absl::string_view data, absl::string_view what) : r_(data, what), what_(what) {}

  absl::StatusOr<uint64_t> Uint(size_t n, absl::string_view field) {
    ASSIGN_OR_RETURN(absl::string_view raw, r_.Bytes(n, field));
    uint64_t v = 0;
    for (char c : raw) v = (v << 8) | static_cast<uint8_t>(c);
    return v;
  }
  // A TPM2B: u16 size, then that many bytes (at most `max`).
  absl::StatusOr<std::string> Sized(size_t max, absl::string_view field) {
    ASSIGN_OR_RETURN(const uint64_t size, Uint(2, field));
    if (size > max) {
      return Malformed(absl::StrCat(what(), ": ", field, " size ", size, " exceeds ", max));
    }
    return r_.OwnedBytes(size, field);
  }
  absl::Status End() const {
    if (r_.remaining() != 0) {
      return Malformed(absl::StrCat(what(), ": ", r_.remaining(), " trailing bytes"));
    }
    return absl::OkStatus();
  }
  absl::string_view what() const { return what_; }

 private:
  ByteReader r_;
  absl::string_view what_;
};

}  // namespace

absl::StatusOr<TpmQuote> ParseTpmsAttest(absl::string_view bytes) {
  BigEndianReader r(bytes, "tpm quote");
  ASSIGN_OR_RETURN(const uint64_t magic, r.Uint(4, "magic"));
  if (magic != kTpmGeneratedValue) {
    return Malformed(absl::StrCat("tpm quote: magic 0x", absl::Hex(magic),
                                  " is not TPM_GENERATED_VALUE 0xff544347"));
  }
  ASSIGN_OR_RETURN(const uint64_t type, r.Uint(2, "type"));
  if (type != kTpmStAttestQuote) {
    return Unsupported(absl::StrCat("tpm quote: type 0x", absl::Hex(type),
                                    " is not TPM_ST_ATTEST_QUOTE 0x8018"));
  }
  TpmQuote q;
  ASSIGN_OR_RETURN(q.qualified_signer, r.Sized(66, "qualifiedSigner"));
  ASSIGN_OR_RETURN(q.extra_data, r.Sized(kMaxExtraData, "extraData"));
  ASSIGN_OR_RETURN(q.clock, r.Uint(8, "clockInfo.clock"));
  ASSIGN_OR_RETURN(const uint64_t reset, r.Uint(4, "clockInfo.resetCount"));
  ASSIGN_OR_RETURN(const uint64_t restart, r.Uint(4, "clockInfo.restartCount"));
  ASSIGN_OR_RETURN(const uint64_t safe, r.Uint(1, "clockInfo.safe"));
  if (safe > 1) return Malformed(absl::StrCat("tpm quote: clockInfo.safe ", safe, " is not 0 or 1"));
  q.reset_count = static_cast<uint32_t>(reset);
  q.restart_count = static_cast<uint32_t>(restart);
  q.safe = safe == 1;
  ASSIGN_OR_RETURN(q.firmware_version, r.Uint(8, "firmwareVersion"));
  ASSIGN_OR_RETURN(const uint64_t count, r.Uint(4, "pcrSelect.count"));
  if (count != 1) {
    return Unsupported(absl::StrCat("tpm quote: pcrSelect.count ", count,
                                    " (one SHA-256 selection supported)"));
  }
  ASSIGN_OR_RETURN(const uint64_t hash, r.Uint(2, "pcrSelect[0].hash"));
  if (hash != kTpmAlgSha256) {
    return Unsupported(absl::StrCat("tpm quote: pcrSelect[0].hash 0x", absl::Hex(hash),
                                    " (SHA-256 0x000b supported)"));
  }
  ASSIGN_OR_RETURN(const uint64_t select_size, r.Uint(1, "pcrSelect[0].sizeofSelect"));
  if (select_size != 3) {
    return Unsupported(absl::StrCat("tpm quote: pcrSelect[0].sizeofSelect ", select_size,
                                    " (3 supported: PCRs 0-23)"));
  }
  // pcrSelect[0] holds PCRs 0-7 (bit 0 = PCR 0), pcrSelect[1] PCRs 8-15, pcrSelect[2] 16-23.
  for (size_t i = 0; i < 3; ++i) {
    ASSIGN_OR_RETURN(const uint64_t bits, r.Uint(1, "pcrSelect[0].pcrSelect"));
    q.pcr_mask |= static_cast<uint32_t>(bits) << (8 * i);
  }
  if (q.pcr_mask == 0) return Malformed("tpm quote: pcrSelect selects no PCR");
  ASSIGN_OR_RETURN(q.pcr_digest, r.Sized(64, "pcrDigest"));
  if (q.pcr_digest.size() != 32) {
    return Malformed(absl::StrCat("tpm quote: pcrDigest is ", q.pcr_digest.size(),
                                  " bytes, 32 (SHA-256) expected"));
  }
  RETURN_IF_ERROR(r.End());
  return q;
}

absl::StatusOr<std::string> ParseTpmtSignature(absl::string_view bytes) {
  BigEndianReader r(bytes, "tpm signature");
  ASSIGN_OR_RETURN(const uint64_t alg, r.Uint(2, "sigAlg"));
  if (alg != kTpmAlgRsassa) {
    return Unsupported(absl::StrCat("tpm signature: sigAlg 0x", absl::Hex(alg),
                                    " (RSASSA 0x0014 supported)"));
  }
  ASSIGN_OR_RETURN(const uint64_t hash, r.Uint(2, "hash"));
  if (hash != kTpmAlgSha256) {
    return Unsupported(absl::StrCat("tpm signature: hash 0x", absl::Hex(hash),
                                    " (SHA-256 0x000b supported)"));
  }
  ASSIGN_OR_RETURN(std::string sig, r.Sized(512, "signature"));
  RETURN_IF_ERROR(r.End());
  return sig;
}

std::vector<uint32_t> PcrIndices(uint32_t mask) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < kPcrCount; ++i) {
    if (mask & (1u << i)) out.push_back(i);
  }
  return out;
}

}  // namespace teeverify::azure
