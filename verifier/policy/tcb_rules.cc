#include "verifier/policy/tcb_rules.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/time_util.h"
#include "verifier/tdx/tcb_status.h"

namespace teeverify::policy {
namespace {

template <typename List>
bool Contains(const List& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool UsesTcbRecoveryFields(const v1::Policy& p) {
  return p.tcb_grace_period() != 0 || p.has_min_tcb_evaluation_data_number() ||
         p.max_collateral_age() != 0 || !p.rejected_advisory_ids().empty();
}

// The status the platform would have without its out-of-date part, which grace forgives.
std::optional<absl::string_view> Forgiven(absl::string_view status) {
  if (status == tdx::TcbStatusName(tdx::TcbStatus::kOutOfDate)) {
    return tdx::TcbStatusName(tdx::TcbStatus::kUpToDate);
  }
  if (status == tdx::TcbStatusName(tdx::TcbStatus::kOutOfDateConfigurationNeeded)) {
    return tdx::TcbStatusName(tdx::TcbStatus::kConfigurationNeeded);
  }
  return std::nullopt;
}

void CheckStatus(const Claims& claims, const v1::Policy& policy, absl::Time now,
                 std::vector<Mismatch>* out, std::map<std::string, std::string>* metadata) {
  const StringList& allowed = policy.allowed_tcb_statuses();
  if (Contains(allowed, claims.tcb_status)) return;
  const std::vector<std::string> expected(allowed.begin(), allowed.end());
  const std::optional<absl::string_view> forgiven = Forgiven(claims.tcb_status);
  const tdx::TcbEvaluationClaims* tcb =
      claims.tdx && claims.tdx->tcb ? &*claims.tdx->tcb : nullptr;
  if (policy.tcb_grace_period() <= 0 || !forgiven || !Contains(allowed, *forgiven) ||
      tcb == nullptr) {
    out->push_back({"tcb_status", expected, claims.tcb_status});
    return;
  }
  if (!tcb->out_of_date_since) {
    out->push_back({"tcb_status",
                    {absl::StrCat(*forgiven, " (or ", claims.tcb_status,
                                  " within tcb_grace_period: no TCB level above the matched one "
                                  "dates the change)")},
                    claims.tcb_status});
    return;
  }
  const absl::Time since = *tcb->out_of_date_since;
  const absl::Time deadline = since + absl::Seconds(policy.tcb_grace_period());
  if (now >= deadline) {
    out->push_back({"tcb_grace_period",
                    {absl::StrCat("before ", FormatRfc3339(deadline), " (", claims.tcb_status,
                                  " since ", FormatRfc3339(since), ")")},
                    FormatRfc3339(now)});
    return;
  }
  (*metadata)["tcb_grace"] = absl::StrCat(claims.tcb_status, " admitted within tcb_grace_period");
  (*metadata)["tcb_out_of_date_since"] = FormatRfc3339(since);
  (*metadata)["tcb_grace_deadline"] = FormatRfc3339(deadline);
}

void CheckNotOlder(absl::string_view field, absl::Time date, absl::Time oldest,
                   std::vector<Mismatch>* out) {
  if (date < oldest) {
    out->push_back({std::string(field), {absl::StrCat("at or after ", FormatRfc3339(oldest))},
                    FormatRfc3339(date)});
  }
}

void CheckRecoveryFields(const Claims& claims, const v1::Policy& policy, absl::Time now,
                         std::vector<Mismatch>* out) {
  std::string rejected;
  for (const std::string& id : claims.advisory_ids) {
    if (Contains(policy.rejected_advisory_ids(), absl::AsciiStrToUpper(id))) {
      absl::StrAppend(&rejected, rejected.empty() ? "" : ",", id);
    }
  }
  if (!rejected.empty()) {
    out->push_back({"advisory_ids",
                    {absl::StrCat("none of ", policy.rejected_advisory_ids().size(),
                                  " rejected_advisory_ids")},
                    rejected});
  }
  if (!claims.tdx || !claims.tdx->tcb) return;
  const tdx::TcbEvaluationClaims& tcb = *claims.tdx->tcb;
  if (policy.has_min_tcb_evaluation_data_number()) {
    const uint32_t min = policy.min_tcb_evaluation_data_number();
    if (tcb.tcb_evaluation_data_number < min) {
      out->push_back({"tdx.tcb_evaluation_data_number", {absl::StrCat(">= ", min)},
                      absl::StrCat(tcb.tcb_evaluation_data_number)});
    }
    if (tcb.qe_identity_tcb_evaluation_data_number < min) {
      out->push_back({"tdx.qe_identity_tcb_evaluation_data_number", {absl::StrCat(">= ", min)},
                      absl::StrCat(tcb.qe_identity_tcb_evaluation_data_number)});
    }
  }
  if (policy.max_collateral_age() > 0) {
    const absl::Time oldest = now - absl::Seconds(policy.max_collateral_age());
    CheckNotOlder("tdx.collateral_dates.tcb_info_issue_date", tcb.tcb_info_issue_date, oldest, out);
    CheckNotOlder("tdx.collateral_dates.qe_identity_issue_date", tcb.qe_identity_issue_date, oldest,
                  out);
    CheckNotOlder("tdx.collateral_dates.pck_crl_this_update", tcb.pck_crl_this_update, oldest, out);
  }
}

}  // namespace

void ValidateTcbRecoveryFields(v1::Policy* p, std::vector<std::string>* errors) {
  if (UsesTcbRecoveryFields(*p) && !Contains(p->tee_types(), TeeKindName(TeeKind::kTdx))) {
    errors->push_back(
        "tcb_grace_period, min_tcb_evaluation_data_number, max_collateral_age and "
        "rejected_advisory_ids apply to TDX only, but \"tdx\" is not in tee_types");
  }
  if (p->tcb_grace_period() < 0) errors->push_back("tcb_grace_period: must not be negative");
  if (p->max_collateral_age() < 0) errors->push_back("max_collateral_age: must not be negative");
  std::vector<std::string> ids;
  for (int i = 0; i < p->rejected_advisory_ids_size(); ++i) {
    std::string id = absl::AsciiStrToUpper(p->rejected_advisory_ids(i));
    if (id.empty() || id.find_first_of(" \t,") != std::string::npos) {
      errors->push_back(absl::StrCat("rejected_advisory_ids[", i, "]: \"",
                                     p->rejected_advisory_ids(i),
                                     "\" is not an advisory ID such as INTEL-SA-00837"));
    } else if (!Contains(ids, id)) {
      ids.push_back(std::move(id));
    }
  }
  p->clear_rejected_advisory_ids();
  for (std::string& id : ids) p->add_rejected_advisory_ids(std::move(id));
}

void CheckTcb(const Claims& claims, const v1::Policy& policy, absl::Time now,
              std::vector<Mismatch>* mismatches, std::map<std::string, std::string>* metadata) {
  if (claims.tcb_status == kTcbStatusNotApplicable) return;
  (*metadata)["tcb_status"] = claims.tcb_status;
  if (claims.tdx && claims.tdx->tcb && claims.tdx->tcb->early) {
    (*metadata)["tcb_status_early"] = claims.tdx->tcb->early->tcb_status;
  }
  CheckStatus(claims, policy, now, mismatches, metadata);
  CheckRecoveryFields(claims, policy, now, mismatches);
}

}  // namespace teeverify::policy
