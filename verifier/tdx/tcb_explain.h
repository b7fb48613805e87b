// Why a TDX platform is not UpToDate: for each of the three things Intel rates (the platform's
// SGX/PCE/TDX SVNs, the TDX module, the quoting enclave) the level it matched and, for every level
// above it (every level when none matched), the components that fall short. It walks the same
// levels in the same order as tcb_evaluation.cc, so "matched" here is what the evaluation chose.
// Comparison only: the inputs are verified (claims) or merely parsed (tee-verify --explain).
#ifndef TEE_VERIFIER_TDX_TCB_EXPLAIN_H_
#define TEE_VERIFIER_TDX_TCB_EXPLAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "verifier/tdx/collateral.h"
#include "verifier/tdx/pck_extensions.h"
#include "verifier/tdx/quote.h"
#include "verifier/tdx/tcb_info.h"

namespace teeverify::tdx {

// One SVN below what a level requires: "cpusvn[2]" (the PCK certificate's SGX TCB component
// 2), "pcesvn", "tee_tcb_svn[2]", "tdx_module_svn" (TEE_TCB_SVN[0]), "qe_isvsvn".
struct SvnShortfall {
  std::string component;
  uint32_t have = 0;
  uint32_t need = 0;
};

// A level the platform does not meet, with what falls short of it.
struct UnmetLevel {
  size_t index = 0;  // in the TCB info's order (highest first; QE: document order)
  TcbStatus status = TcbStatus::kOutOfDate;
  absl::Time tcb_date;
  std::vector<std::string> advisory_ids;
  std::vector<SvnShortfall> short_components;
};

struct ScopeExplanation {
  std::string scope;  // "platform", "tdx_module", "qe"
  // The level the evaluation chose; absent when none is met (REASON_TCB_LEVEL_NOT_SUPPORTED).
  std::optional<size_t> matched;
  TcbStatus matched_status = TcbStatus::kOutOfDate;
  absl::Time matched_tcb_date;
  // Every level above the matched one (all levels when none matched), in the TCB info's order;
  // the last one is the next higher level.
  std::vector<UnmetLevel> unmet;
  // Set when the scope could not be rated at all (e.g. no identity for the TDX module version).
  std::string problem;

  const UnmetLevel* next_higher() const {
    return matched && !unmet.empty() ? &unmet.back() : nullptr;
  }
};

struct TcbExplanation {
  std::vector<ScopeExplanation> scopes;  // platform, then tdx_module (TDX 1.0: absent), then qe

  // What falls short of the next higher level of each scope, with that level's status, date
  // and advisories (the "tdx.tcb_shortfall" claim).
  struct Entry {
    SvnShortfall svn;
    std::string scope;
    TcbStatus level_status = TcbStatus::kOutOfDate;
    absl::Time level_tcb_date;
    std::vector<std::string> level_advisory_ids;
  };
  std::vector<Entry> Shortfall() const;

  // When the platform became out of date: over the scopes whose matched level is OutOfDate (or
  // OutOfDateConfigurationNeeded), the earliest tcbDate of their next higher level, i.e. the
  // day a level the platform does not meet came into effect. Absent when no scope is out of
  // date or an out-of-date scope has no higher level (then no grace can be computed).
  std::optional<absl::Time> OutOfDateSince() const;
};

TcbExplanation ExplainTcb(const TcbInfo& info, const EnclaveIdentity& qe_identity,
                          const PckExtensions& pck, const TdReport& report, uint16_t qe_isvsvn);

nlohmann::ordered_json ShortfallToJson(const std::vector<TcbExplanation::Entry>& entries);

// Several lines for a person (tee-verify --explain).
std::string ExplanationText(const TcbExplanation& explanation, const TcbInfo& info);

// The explanation of a quote against verified collateral (and its early TCB info, when given),
// from the quote's parsed, unverified PCK certificate: for display only, also when the quote
// does not verify (e.g. REASON_TCB_LEVEL_NOT_SUPPORTED), never for a decision.
absl::StatusOr<std::string> ExplainQuoteText(absl::string_view quote,
                                             const VerifiedTdxCollateral& collateral);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_TCB_EXPLAIN_H_
