#include "verifier/policy/policy_validation.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "verifier/claims/claims.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/policy/tcb_rules.h"
#include "verifier/policy/tee_rules.h"
#include "verifier/tdx/tcb_status.h"

namespace teeverify::policy {
namespace {

// Lowercases, checks hex and exact length, and removes duplicates of one value list.
void NormalizeValues(const ValueField& field, v1::Policy* p, std::vector<std::string>* errors) {
  StringList* values = field.mutable_allowed(p);
  std::vector<std::string> seen;
  for (int i = 0; i < values->size(); ++i) {
    std::string value = absl::AsciiStrToLower((*values)[i]);
    const std::string where = absl::StrCat(field.name, "[", i, "]");
    absl::StatusOr<std::string> raw = HexDecode(value, where);
    if (!raw.ok()) {
      errors->push_back(std::string(raw.status().message()));
    } else if (raw->size() != field.length) {
      errors->push_back(absl::StrCat(where, ": expected ", field.length, " bytes (",
                                     2 * field.length, " hex digits), got ", raw->size()));
    } else if (std::find(seen.begin(), seen.end(), value) == seen.end()) {
      seen.push_back(value);
    }
  }
  values->Clear();
  for (std::string& v : seen) values->Add(std::move(v));
}

std::string BindingFieldList(const TeeRules& tee) {
  std::vector<absl::string_view> names;
  for (const ValueField& f : tee.fields) {
    if (f.binds_workload) names.push_back(f.name);
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

PolicyValidation ValidatePolicy(const v1::Policy& policy) {
  PolicyValidation out;
  out.normalized = policy;
  v1::Policy* p = &out.normalized;
  std::vector<std::string>& errors = out.errors;

  std::set<TeeKind> tees;
  if (p->tee_types().empty()) {
    errors.push_back("tee_types: required: list the TEE types this role admits (tdx, sev-snp, nitro, "
        "az-snp-vtpm, az-tdx-vtpm)");
  }
  for (int i = 0; i < p->tee_types_size(); ++i) {
    const std::optional<TeeKind> tee = ParseTeeKind(absl::AsciiStrToLower(p->tee_types(i)));
    if (!tee) {
      errors.push_back(absl::StrCat("tee_types[", i, "]: \"", p->tee_types(i),
                                    "\" is not one of: tdx, sev-snp, nitro, az-snp-vtpm, az-tdx-vtpm"));
    } else if (!tees.insert(*tee).second) {
      errors.push_back(absl::StrCat("tee_types[", i, "]: \"", p->tee_types(i), "\" is listed twice"));
    }
  }
  p->clear_tee_types();
  for (TeeKind tee : tees) p->add_tee_types(std::string(TeeKindName(tee)));

  const TeeRules* const all_rules[] = {&TdxRules(), &SnpRules(), &NitroRules(), &AzSnpRules(),
                                       &AzTdxRules()};
  // A section may be set when a TEE it applies to is admitted: sev_snp / tdx also apply to the
  // Azure kinds over them; azure to either Azure kind.
  auto section_admitted = [&](const TeeRules* section) {
    for (const TeeRules* r : all_rules) {
      if (tees.count(r->tee) == 0) continue;
      if (r == section || r->underlying == section ||
          r->policy_section == section->policy_section) {
        return true;
      }
    }
    return false;
  };
  std::set<absl::string_view> validated_sections;
  for (const TeeRules* tee : all_rules) {
    const bool allowed = tees.count(tee->tee) > 0;
    const bool first_of_section = validated_sections.insert(tee->policy_section).second;
    if (tee->section_set(*p) && !section_admitted(tee)) {
      if (!first_of_section) continue;
      errors.push_back(absl::StrCat(tee->policy_section, ": constraints given, but \"",
                                    TeeKindName(tee->tee), "\" is not in tee_types"));
    }
    bool binds = false;
    // Only a section the role has: touching the others would create empty ones, which a second
    // validation would then read as constraints on a TEE the role does not admit.
    if (tee->section_set(*p)) {
      for (const ValueField& field : tee->fields) {
        // Counted before normalization: a malformed value already has its own error.
        binds |= field.binds_workload && !field.allowed(*p).empty();
        if (first_of_section) NormalizeValues(field, p, &errors);
      }
    }
    if (allowed && !p->allow_weak_image_anchor() && !PinsImage(*tee, policy)) {
      // Read from the role as given: a malformed value already has its own error.
      errors.push_back(absl::StrCat(
          "tee_types admits \"", TeeKindName(tee->tee),
          "\" but the role does not pin its image, so a host could run another workload under it: "
          "set ", DescribeAnchors(*tee), " (other fields only add constraints; an all-zero signer digest does not count)"));
    } else if (allowed && !binds) {
      errors.push_back(absl::StrCat("tee_types admits \"", TeeKindName(tee->tee),
                                    "\" but the role constrains none of its measurements, so any ",
                                    TeeKindName(tee->tee), " workload would match: set at least one of ",
                                    BindingFieldList(*tee)));
    }
    if (first_of_section && tee->section_set(*p) && tee->validate_extras != nullptr) {
      tee->validate_extras(p, &errors);
    }
  }

  if (p->allowed_tcb_statuses().empty()) p->add_allowed_tcb_statuses("UpToDate");
  for (int i = 0; i < p->allowed_tcb_statuses_size(); ++i) {
    const std::optional<tdx::TcbStatus> status = tdx::ParseTcbStatus(p->allowed_tcb_statuses(i));
    if (!status) {
      errors.push_back(absl::StrCat("allowed_tcb_statuses[", i, "]: \"", p->allowed_tcb_statuses(i),
                                    "\" is not an Intel TCB status (UpToDate, SWHardeningNeeded, "
                                    "ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, "
                                    "OutOfDate, OutOfDateConfigurationNeeded)"));
    } else if (*status == tdx::TcbStatus::kRevoked) {
      errors.push_back(absl::StrCat("allowed_tcb_statuses[", i,
                                    "]: Revoked evidence never verifies and cannot be allowed"));
    }
  }
  ValidateTcbRecoveryFields(p, &errors);
  if (p->max_evidence_age_seconds() < 0) {
    errors.push_back("max_evidence_age_seconds: must not be negative");
  } else if (p->max_evidence_age_seconds() == 0) {
    p->set_max_evidence_age_seconds(kDefaultMaxEvidenceAgeSeconds);
  }
  if (p->max_certificate_age_seconds() < 0 ||
      p->max_certificate_age_seconds() > kMaxMaxCertificateAgeSeconds) {
    errors.push_back(absl::StrCat("max_certificate_age_seconds: must be 0 (default ",
                                  kDefaultMaxCertificateAgeSeconds, ") to ",
                                  kMaxMaxCertificateAgeSeconds));
  } else if (p->max_certificate_age_seconds() == 0) {
    p->set_max_certificate_age_seconds(kDefaultMaxCertificateAgeSeconds);
  }
  return out;
}

absl::StatusOr<v1::Policy> PolicyFromJson(absl::string_view json) {
  if (json.size() > kMaxPolicyJsonSize) {
    return MakeError(v1::REASON_BAD_REQUEST, absl::StrCat("policy JSON: ", json.size(),
                                                          " bytes, more than the ",
                                                          kMaxPolicyJsonSize, " accepted"));
  }
  // protobuf's JSON parser recurses per level (up to 100) and allocates per value; the linear
  // scan refuses deep input before any of that.
  RETURN_IF_ERROR(CheckJsonDepth(json, "policy JSON", v1::REASON_BAD_REQUEST, kMaxPolicyJsonDepth));
  v1::Policy policy;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &policy, options);
  if (!status.ok()) {
    return MakeError(v1::REASON_BAD_REQUEST,
                     absl::StrCat("policy JSON: ", std::string(status.message())));
  }
  return policy;
}

std::string PolicyToJson(const v1::Policy& policy) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(policy, &json, options);
  return json;
}

}  // namespace teeverify::policy
