// The TDX part of the claims ("tdx" object of docs/claims.md) and its JSON rendering.
#ifndef TEE_VERIFIER_TDX_TDX_CLAIMS_H_
#define TEE_VERIFIER_TDX_TDX_CLAIMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "verifier/tdx/quote.h"
#include "verifier/tdx/tcb_explain.h"

namespace teeverify::tdx {

// What a TCB evaluation against Intel's collateral concluded; absent when only parsed.
struct TcbEvaluationClaims {
  std::string platform_tcb_status;
  std::string tdx_module_tcb_status;
  std::string qe_tcb_status;
  absl::Time tcb_date;
  uint32_t tcb_evaluation_data_number = 0;
  uint32_t qe_identity_tcb_evaluation_data_number = 0;
  // Below UpToDate: what falls short of the next higher level of each scope (tcb_explain.h).
  std::vector<TcbExplanation::Entry> shortfall;
  // When the platform became out of date (TcbExplanation::OutOfDateSince); grace counts from it.
  std::optional<absl::Time> out_of_date_since;
  // How fresh the collateral is (a role's max_collateral_age).
  absl::Time tcb_info_issue_date;
  absl::Time qe_identity_issue_date;
  absl::Time pck_crl_this_update;
  // The converged status under an "early" TCB info (the next evaluation number, published before
  // the standard channel switches to it), when the collateral carries one.
  struct Early {
    std::string tcb_status;  // Intel's status, or "TcbLevelNotSupported"
    uint32_t tcb_evaluation_data_number = 0;
    std::vector<TcbExplanation::Entry> shortfall;
  };
  std::optional<Early> early;
};

struct TdxClaims {
  QuoteHeader header;
  uint16_t body_type = 0;
  TdReport body;
  // From the PCK certificate's SGX extension (present once the PCK chain parsed).
  std::optional<ByteArray<6>> fmspc;
  std::optional<ByteArray<2>> pce_id;
  // The platform's PPID, only to count distinct platforms (the sidecar's TCB recovery metric).
  // Deliberately left out of the claims JSON, tokens and logs: Intel treats the PPID as a
  // platform identifier that is not to be shared.
  std::optional<ByteArray<16>> ppid;
  std::optional<TcbEvaluationClaims> tcb;
};

TdxClaims TdxClaimsFromQuote(const Quote& quote);

// TD_ATTRIBUTES bit 0: the TD runs in debug mode and its memory is not confidential.
bool IsDebugTd(const TdReport& body);

nlohmann::ordered_json TdxClaimsToJson(const TdxClaims& claims);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_TDX_CLAIMS_H_
