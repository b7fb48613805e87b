#include "verifier/tdx/tcb_explain.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/common/time_util.h"

namespace teeverify::tdx {
namespace {

void CompareSvns(absl::string_view name, const ByteArray<16>& have, const ByteArray<16>& need,
                 size_t from, std::vector<SvnShortfall>* out) {
  for (size_t i = from; i < have.size(); ++i) {
    if (have[i] < need[i]) out->push_back({absl::StrCat(name, "[", i, "]"), have[i], need[i]});
  }
}

UnmetLevel Unmet(size_t index, TcbStatus status, absl::Time date,
                 const std::vector<std::string>& advisories, std::vector<SvnShortfall> svns) {
  return UnmetLevel{index, status, date, advisories, std::move(svns)};
}

// The same walk as EvaluateTcb: the first level (highest first) whose SGX components, PCESVN
// and TDX components (from byte 2 when a module version is set) the platform reaches.
ScopeExplanation ExplainPlatform(const TcbInfo& info, const PckExtensions& pck,
                                 const TdReport& report) {
  ScopeExplanation out;
  out.scope = "platform";
  const size_t tdx_from = report.tee_tcb_svn[1] > 0 ? 2 : 0;
  for (size_t i = 0; i < info.tcb_levels.size(); ++i) {
    const TcbLevel& level = info.tcb_levels[i];
    std::vector<SvnShortfall> svns;
    CompareSvns("cpusvn", pck.tcb_component_svns, level.sgx_svns, 0, &svns);
    if (pck.pce_svn < level.pce_svn) svns.push_back({"pcesvn", pck.pce_svn, level.pce_svn});
    CompareSvns("tee_tcb_svn", report.tee_tcb_svn, level.tdx_svns, tdx_from, &svns);
    if (svns.empty()) {
      out.matched = i;
      out.matched_status = level.status;
      out.matched_tcb_date = level.tcb_date;
      return out;
    }
    out.unmet.push_back(Unmet(i, level.status, level.tcb_date, level.advisory_ids, std::move(svns)));
  }
  return out;
}

// TEE_TCB_SVN[1] names the module identity, [0] is its SVN; TDX 1.0 modules (version 0) have
// no levels and are not a scope.
std::optional<ScopeExplanation> ExplainModule(const TcbInfo& info, const TdReport& report) {
  const uint8_t version = report.tee_tcb_svn[1];
  const uint8_t svn = report.tee_tcb_svn[0];
  if (version == 0) return std::nullopt;
  ScopeExplanation out;
  out.scope = "tdx_module";
  const std::string name = absl::StrFormat("TDX_%02X", version);
  auto it = std::find_if(info.tdx_module_identities.begin(), info.tdx_module_identities.end(),
                         [&](const TdxModuleIdentity& m) { return m.id == name; });
  if (it == info.tdx_module_identities.end()) {
    out.problem = absl::StrCat("no TDX module identity ", name, " (TEE_TCB_SVN[1] = ", version,
                               ") in the TCB info");
    return out;
  }
  for (size_t i = 0; i < it->tcb_levels.size(); ++i) {
    const TdxModuleTcbLevel& level = it->tcb_levels[i];
    if (svn >= level.isv_svn) {
      out.matched = i;
      out.matched_status = level.status;
      out.matched_tcb_date = level.tcb_date;
      return out;
    }
    out.unmet.push_back(Unmet(i, level.status, level.tcb_date, level.advisory_ids,
                              {{"tdx_module_svn", svn, level.isv_svn}}));
  }
  return out;
}

// Document order, first level at or below the QE's ISVSVN; statuses other than UpToDate and
// Revoked count as OutOfDate, as in EvaluateQeIdentity.
ScopeExplanation ExplainQe(const EnclaveIdentity& identity, uint16_t isvsvn) {
  ScopeExplanation out;
  out.scope = "qe";
  for (size_t i = 0; i < identity.tcb_levels.size(); ++i) {
    const QeTcbLevel& level = identity.tcb_levels[i];
    if (level.isv_svn <= isvsvn) {
      out.matched = i;
      out.matched_status = level.status == TcbStatus::kUpToDate || level.status == TcbStatus::kRevoked
                               ? level.status
                               : TcbStatus::kOutOfDate;
      out.matched_tcb_date = level.tcb_date;
      return out;
    }
    out.unmet.push_back(Unmet(i, level.status, level.tcb_date, level.advisory_ids,
                              {{"qe_isvsvn", isvsvn, level.isv_svn}}));
  }
  return out;
}

bool IsOutOfDate(TcbStatus s) {
  return s == TcbStatus::kOutOfDate || s == TcbStatus::kOutOfDateConfigurationNeeded;
}

std::string Advisories(const std::vector<std::string>& ids) {
  return ids.empty() ? "none" : absl::StrJoin(ids, ", ");
}

std::string Components(const std::vector<SvnShortfall>& svns) {
  return absl::StrJoin(svns, ", ", [](std::string* out, const SvnShortfall& s) {
    absl::StrAppend(out, s.component, " ", s.have, " < ", s.need);
  });
}

}  // namespace

TcbExplanation ExplainTcb(const TcbInfo& info, const EnclaveIdentity& qe_identity,
                          const PckExtensions& pck, const TdReport& report, uint16_t qe_isvsvn) {
  TcbExplanation out;
  out.scopes.push_back(ExplainPlatform(info, pck, report));
  if (std::optional<ScopeExplanation> module = ExplainModule(info, report)) {
    out.scopes.push_back(*std::move(module));
  }
  out.scopes.push_back(ExplainQe(qe_identity, qe_isvsvn));
  return out;
}

std::vector<TcbExplanation::Entry> TcbExplanation::Shortfall() const {
  std::vector<Entry> out;
  for (const ScopeExplanation& scope : scopes) {
    const UnmetLevel* next = scope.next_higher();
    if (next == nullptr) continue;
    for (const SvnShortfall& svn : next->short_components) {
      out.push_back({svn, scope.scope, next->status, next->tcb_date, next->advisory_ids});
    }
  }
  return out;
}

std::optional<absl::Time> TcbExplanation::OutOfDateSince() const {
  std::optional<absl::Time> since;
  for (const ScopeExplanation& scope : scopes) {
    if (!scope.matched || !IsOutOfDate(scope.matched_status)) continue;
    const UnmetLevel* next = scope.next_higher();
    if (next == nullptr) return std::nullopt;  // out of date with nothing above: no date
    since = since ? std::min(*since, next->tcb_date) : next->tcb_date;
  }
  return since;
}

nlohmann::ordered_json ShortfallToJson(const std::vector<TcbExplanation::Entry>& entries) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const TcbExplanation::Entry& e : entries) {
    out.push_back({{"component", e.svn.component},
                   {"have", e.svn.have},
                   {"need", e.svn.need},
                   {"scope", e.scope},
                   {"level_status", std::string(TcbStatusName(e.level_status))},
                   {"level_tcb_date", FormatRfc3339(e.level_tcb_date)},
                   {"level_advisory_ids", e.level_advisory_ids}});
  }
  return out;
}

std::string ExplanationText(const TcbExplanation& explanation, const TcbInfo& info) {
  std::string out = absl::StrCat("TCB info: FMSPC ", HexEncode(info.fmspc),
                                 ", tcbEvaluationDataNumber ", info.tcb_evaluation_data_number,
                                 ", issued ", FormatRfc3339(info.issue_date), "\n");
  for (const ScopeExplanation& scope : explanation.scopes) {
    if (!scope.problem.empty()) {
      absl::StrAppend(&out, scope.scope, ": cannot be rated: ", scope.problem, "\n");
      continue;
    }
    if (!scope.matched) {
      absl::StrAppend(&out, scope.scope,
                      ": matches NO TCB level (TCB level not supported); each level is ruled out "
                      "by:\n");
      for (const UnmetLevel& level : scope.unmet) {
        absl::StrAppend(&out, "  level ", level.index, " (", TcbStatusName(level.status), ", tcbDate ",
                        FormatRfc3339(level.tcb_date), "): ", Components(level.short_components),
                        "\n");
      }
      continue;
    }
    absl::StrAppend(&out, scope.scope, ": level ", *scope.matched, " ",
                    TcbStatusName(scope.matched_status), " (tcbDate ",
                    FormatRfc3339(scope.matched_tcb_date), ")\n");
    if (const UnmetLevel* next = scope.next_higher()) {
      absl::StrAppend(&out, "  short of the next higher level ", next->index, " (",
                      TcbStatusName(next->status), ", tcbDate ", FormatRfc3339(next->tcb_date),
                      ", advisories ", Advisories(next->advisory_ids),
                      "): ", Components(next->short_components), "\n");
    }
  }
  if (std::optional<absl::Time> since = explanation.OutOfDateSince()) {
    absl::StrAppend(&out, "out of date since ", FormatRfc3339(*since),
                    " (a role's tcb_grace_period counts from here)\n");
  }
  return out;
}

absl::StatusOr<std::string> ExplainQuoteText(absl::string_view quote_bytes,
                                             const VerifiedTdxCollateral& collateral) {
  std::string ignored;
  ASSIGN_OR_RETURN(const Quote quote, ParseQuoteIgnoringTrailingBytes(quote_bytes, &ignored));
  ASSIGN_OR_RETURN(const PckExtensions pck, InspectPckChain(quote.certification.pck_chain_pem));
  const uint16_t qe_isvsvn = quote.certification.qe_report.isv_svn;
  std::string out = absl::StrCat(
      "platform: FMSPC ", HexEncode(pck.fmspc), ", cpusvn components [",
      absl::StrJoin(pck.tcb_component_svns, ","), "], pcesvn ", pck.pce_svn, ", tee_tcb_svn [",
      absl::StrJoin(quote.body.tee_tcb_svn, ","), "], qe_isvsvn ", qe_isvsvn, "\n");
  const TcbInfo* infos[] = {&collateral.tcb_info,
                            collateral.tcb_info_early ? &*collateral.tcb_info_early : nullptr};
  for (const TcbInfo* info : infos) {
    if (info == nullptr) continue;
    absl::StrAppend(&out, "\n", info == &collateral.tcb_info ? "standard" : "early", " ");
    absl::StrAppend(&out, ExplanationText(ExplainTcb(*info, collateral.qe_identity, pck,
                                                     quote.body, qe_isvsvn),
                                          *info));
  }
  return out;
}

}  // namespace teeverify::tdx
