// Intel PCS collateral for TDX, as typed structs: TCB info v3 (id "TDX") and the TD_QE enclave
// identity v2. Spec: Intel SGX and TDX PCS API v4, "TCB Info V3" and "Enclave Identity V2".
// Parsing only; signatures and validity windows are checked by collateral_verifier.h.
#ifndef TEE_VERIFIER_TDX_TCB_INFO_H_
#define TEE_VERIFIER_TDX_TCB_INFO_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/byte_reader.h"
#include "verifier/tdx/tcb_status.h"

namespace teeverify::tdx {

// A signed PCS response: the exact signed bytes of the body and the raw r||s signature.
struct SignedCollateral {
  std::string body;
  ByteArray<64> signature = {};
};

// The largest PCS response (TCB info, QE identity) accepted, checked before it is read. Real TDX
// TCB info is 2.4-4.8 KB (tests/data/tdx, /work/shared/vectors) and grows by about 450 bytes per
// TCB recovery; 64 KiB leaves room for a decade of them.
inline constexpr size_t kMaxCollateralJsonSize = 64 * 1024;

// Splits {"<body_key>":{...},"signature":"<hex r||s>"} into the signed body bytes and signature;
// a response over kMaxCollateralJsonSize is refused.
absl::StatusOr<SignedCollateral> ParseSignedCollateral(absl::string_view response,
                                                       absl::string_view body_key,
                                                       absl::string_view what);

struct TcbLevel {
  ByteArray<16> sgx_svns = {};
  uint16_t pce_svn = 0;
  ByteArray<16> tdx_svns = {};
  absl::Time tcb_date;
  TcbStatus status = TcbStatus::kOutOfDate;
  std::vector<std::string> advisory_ids;
};

struct TdxModuleTcbLevel {
  uint16_t isv_svn = 0;  // compared with TEE_TCB_SVN[0]
  absl::Time tcb_date;
  TcbStatus status = TcbStatus::kOutOfDate;
  std::vector<std::string> advisory_ids;
};

struct TdxModuleIdentity {
  std::string id;  // "TDX_01": TDX_ and the module's major version in two hex digits
  ByteArray<48> mr_signer = {};
  ByteArray<8> attributes = {};
  ByteArray<8> attributes_mask = {};
  std::vector<TdxModuleTcbLevel> tcb_levels;  // sorted by isv_svn, highest first
};

struct TcbInfo {
  std::string id;
  uint32_t version = 0;
  absl::Time issue_date;
  absl::Time next_update;
  ByteArray<6> fmspc = {};
  ByteArray<2> pce_id = {};
  uint32_t tcb_type = 0;
  uint32_t tcb_evaluation_data_number = 0;
  TdxModuleIdentity tdx_module;  // the plain "tdxModule" object (id empty, no levels)
  std::vector<TdxModuleIdentity> tdx_module_identities;
  std::vector<TcbLevel> tcb_levels;  // sorted as QVL sorts them: highest first
};

// Parses the signed "tcbInfo" body. Only TCB info version 3 with id "TDX" and tcbType 0 is
// accepted; levels must have exactly 16 SGX and 16 TDX components; duplicate levels are refused.
absl::StatusOr<TcbInfo> ParseTcbInfo(absl::string_view body, absl::string_view what);

struct QeTcbLevel {
  uint16_t isv_svn = 0;
  absl::Time tcb_date;
  TcbStatus status = TcbStatus::kOutOfDate;
  std::vector<std::string> advisory_ids;
};

struct EnclaveIdentity {
  std::string id;
  uint32_t version = 0;
  absl::Time issue_date;
  absl::Time next_update;
  uint32_t tcb_evaluation_data_number = 0;
  ByteArray<4> misc_select = {};
  ByteArray<4> misc_select_mask = {};
  ByteArray<16> attributes = {};
  ByteArray<16> attributes_mask = {};
  ByteArray<32> mr_signer = {};
  uint16_t isv_prod_id = 0;
  std::vector<QeTcbLevel> tcb_levels;  // in document order, as QVL walks them
};

// Parses the signed "enclaveIdentity" body; only version 2 with id "TD_QE" is accepted.
absl::StatusOr<EnclaveIdentity> ParseEnclaveIdentity(absl::string_view body,
                                                     absl::string_view what);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_TCB_INFO_H_
