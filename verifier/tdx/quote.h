// Byte layout of Intel TDX DCAP quotes, versions 4 and 5, as typed structs.
//
// Spec: Intel TDX DCAP Quote Generation Library and Quote Verification Library, "Quote Format"
// (quote v4: header, TD Report body, ECDSA quote signature data with certification data type 6;
// quote v5 adds a body descriptor selecting TD Report 1.0 (type 2) or 1.5 (type 3)).
// Parsing lives in quote_parser.h; nothing here verifies anything.
#ifndef TEE_VERIFIER_TDX_QUOTE_H_
#define TEE_VERIFIER_TDX_QUOTE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "verifier/common/byte_reader.h"

namespace teeverify::tdx {

// The largest quote accepted, checked before anything else is read: whoever calls the login
// endpoint chooses these bytes. Real quotes are 5-8 KB (about 1.5 KB of quote and a 3.5-5 KB PCK
// chain); the Linux TDX guest driver's quote buffer is 8 KiB (GET_QUOTE_BUF_SIZE) and was 16 KiB
// (GET_QUOTE_MAX_SIZE, 4 pages) "for third party implementations".
inline constexpr size_t kMaxQuoteSize = 16 * 1024;

inline constexpr uint16_t kQuoteVersion4 = 4;
inline constexpr uint16_t kQuoteVersion5 = 5;
inline constexpr uint16_t kAttestationKeyEcdsaP256 = 2;
inline constexpr uint32_t kTeeTypeTdx = 0x81;
inline constexpr uint32_t kTeeTypeSgx = 0x00;

// v5 body descriptor types.
inline constexpr uint16_t kBodyTypeSgxEnclave = 1;
inline constexpr uint16_t kBodyTypeTdReport10 = 2;
inline constexpr uint16_t kBodyTypeTdReport15 = 3;

// Certification data types (Intel DCAP, "Certification Data Type").
inline constexpr uint16_t kCertDataPckChain = 5;
inline constexpr uint16_t kCertDataQeReport = 6;

inline constexpr size_t kQuoteHeaderSize = 48;
inline constexpr size_t kBodyDescriptorSize = 6;
inline constexpr size_t kTdReport10Size = 584;
inline constexpr size_t kTdReport15Size = 648;
inline constexpr size_t kSgxReportBodySize = 384;
inline constexpr size_t kEcdsaP256SignatureSize = 64;
inline constexpr size_t kEcdsaP256PublicKeySize = 64;

// Intel's quoting enclave vendor ID; QVL refuses quotes from any other QE vendor.
inline constexpr ByteArray<16> kIntelQeVendorId = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                                   0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

struct QuoteHeader {
  uint16_t version = 0;
  uint16_t attestation_key_type = 0;
  uint32_t tee_type = 0;
  // Bytes 8..11: "reserved" in the v4/v5 header (QE/PCE SVN in v3). Opaque, but signed.
  ByteArray<4> reserved = {};
  ByteArray<16> qe_vendor_id = {};
  ByteArray<20> user_data = {};
};
static_assert(sizeof(uint16_t) * 2 + sizeof(uint32_t) + 4 + 16 + 20 == kQuoteHeaderSize);

// TD Report body (TDX 1.0, 584 bytes); TDX 1.5 appends tee_tcb_svn2 and mr_service_td (648).
struct TdReport {
  ByteArray<16> tee_tcb_svn = {};
  ByteArray<48> mr_seam = {};
  ByteArray<48> mr_signer_seam = {};
  ByteArray<8> seam_attributes = {};
  ByteArray<8> td_attributes = {};
  ByteArray<8> xfam = {};
  ByteArray<48> mr_td = {};
  ByteArray<48> mr_config_id = {};
  ByteArray<48> mr_owner = {};
  ByteArray<48> mr_owner_config = {};
  std::array<ByteArray<48>, 4> rtmr = {};
  ByteArray<64> report_data = {};
  // TDX 1.5 only (v5 body type 3).
  bool is_tdx15 = false;
  ByteArray<16> tee_tcb_svn2 = {};
  ByteArray<48> mr_service_td = {};
};
static_assert(16 + 48 * 2 + 8 * 3 + 48 * 4 + 48 * 4 + 64 == kTdReport10Size);
static_assert(kTdReport10Size + 16 + 48 == kTdReport15Size);

// SGX enclave report body: the quoting enclave's report inside certification data type 6.
struct SgxReportBody {
  ByteArray<16> cpu_svn = {};
  ByteArray<4> misc_select = {};  // little-endian u32, compared byte-wise as QVL does
  ByteArray<28> reserved1 = {};   // reserved + ISVEXTPRODID
  ByteArray<16> attributes = {};
  ByteArray<32> mr_enclave = {};
  ByteArray<32> reserved2 = {};
  ByteArray<32> mr_signer = {};
  ByteArray<96> reserved3 = {};   // reserved + CONFIGID
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  ByteArray<60> reserved4 = {};   // CONFIGSVN + reserved + ISVFAMILYID
  ByteArray<64> report_data = {};
};
static_assert(16 + 4 + 28 + 16 + 32 + 32 + 32 + 96 + 2 + 2 + 60 + 64 == kSgxReportBodySize);

// Certification data type 6: the QE report, its PCK signature, QE auth data and the PCK chain.
struct QeReportCertificationData {
  SgxReportBody qe_report;
  std::string qe_report_bytes;  // the 384 signed bytes
  ByteArray<64> qe_report_signature = {};
  std::string qe_auth_data;
  uint16_t pck_cert_data_type = 0;
  std::string pck_chain_pem;  // type 5: leaf, intermediate CA, root, PEM
};

struct Quote {
  QuoteHeader header;
  uint16_t body_type = kBodyTypeTdReport10;  // v4 quotes carry a TD Report 1.0
  TdReport body;
  std::string signed_bytes;  // header [+ v5 body descriptor] + body: what the attestation key signs
  ByteArray<64> signature = {};        // ECDSA P-256 r||s, big-endian
  ByteArray<64> attestation_key = {};  // P-256 X||Y, big-endian
  QeReportCertificationData certification;
  // Bytes that followed the signature data. ParseQuote only accepts zero padding here.
  size_t trailing_bytes = 0;
};

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_QUOTE_H_
