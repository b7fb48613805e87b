// TCB evaluation as Intel's Quote Verification Library does it for TDX: the quoting enclave
// against its TD_QE identity, the platform (PCK SVNs + TEE_TCB_SVN) against the TCB levels, the
// TDX module against its identity, and the convergence of the three into one status.
// All inputs must already be verified; this file only compares.
#ifndef TEE_VERIFIER_TDX_TCB_EVALUATION_H_
#define TEE_VERIFIER_TDX_TCB_EVALUATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/tdx/pck_extensions.h"
#include "verifier/tdx/quote.h"
#include "verifier/tdx/tcb_info.h"
#include "verifier/tdx/tcb_status.h"

namespace teeverify::tdx {

struct QeEvaluation {
  TcbStatus status = TcbStatus::kOutOfDate;
  std::vector<std::string> advisory_ids;
};

// MISCSELECT and ATTRIBUTES under their masks, MRSIGNER and ISVPRODID must match the identity
// (REASON_IDENTITY_MISMATCH); the first level (in document order) whose ISVSVN the QE reaches
// gives its status; an ISVSVN below every level is REASON_TCB_LEVEL_NOT_SUPPORTED.
absl::StatusOr<QeEvaluation> EvaluateQeIdentity(const EnclaveIdentity& identity,
                                                const SgxReportBody& qe_report);

struct TcbEvaluation {
  TcbStatus status = TcbStatus::kOutOfDate;  // the converged status
  TcbStatus platform_status = TcbStatus::kOutOfDate;
  TcbStatus module_status = TcbStatus::kOutOfDate;
  TcbStatus qe_status = TcbStatus::kOutOfDate;
  absl::Time tcb_date;
  // Platform level, TDX module level and QE level advisories, de-duplicated, in that order.
  std::vector<std::string> advisory_ids;
};

absl::StatusOr<TcbEvaluation> EvaluateTcb(const TcbInfo& tcb_info, const PckExtensions& pck,
                                          const TdReport& report, const QeEvaluation& qe);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_TCB_EVALUATION_H_
