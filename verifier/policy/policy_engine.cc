#include "verifier/policy/policy_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/time_util.h"
#include "verifier/policy/nonce_binding.h"
#include "verifier/policy/tcb_rules.h"

namespace teeverify::policy {
namespace {

template <typename List>
bool Contains(const List& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// An attested certificate is always bound (allow_unbound_evidence is about recorded evidence
// sent with a nonce login); its freshness is its age, which the role bounds.
void CheckCertificate(const Claims& claims, const v1::Policy& policy,
                      const CertificateBinding& cert, absl::Time now, Decision* out) {
  out->metadata["nonce_binding"] = "attested certificate";
  out->certificate_spki_sha256 = HexEncode(Sha256(cert.spki_der));
  const std::string expected = ExpectedCertificateReportData(cert.spki_der, cert.not_before);
  if (claims.report_data != expected) {
    out->mismatches.push_back({"report_data", {HexEncode(expected)}, HexEncode(claims.report_data)});
  }
  if (cert.not_before > now + kMaxCertificateClockSkew) {
    out->mismatches.push_back(
        {"certificate_not_before",
         {absl::StrCat("at most ", absl::ToInt64Seconds(kMaxCertificateClockSkew), "s after ",
                       FormatRfc3339(now))},
         FormatRfc3339(cert.not_before)});
  }
  if (now >= cert.not_after) {
    out->mismatches.push_back(
        {"certificate_not_after", {absl::StrCat("after ", FormatRfc3339(now))},
         FormatRfc3339(cert.not_after)});
  }
  const absl::Duration age = now - cert.not_before;
  if (age > absl::Seconds(policy.max_certificate_age_seconds())) {
    out->mismatches.push_back(
        {"certificate_age", {absl::StrCat("at most ", policy.max_certificate_age_seconds(), "s")},
         absl::StrCat(absl::ToInt64Seconds(age), "s (notBefore ", FormatRfc3339(cert.not_before),
                      ")")});
  }
}

void CheckBinding(const Claims& claims, const v1::Policy& policy, const LoginBinding& binding,
                  absl::Time now, Decision* out) {
  if (binding.certificate != nullptr) {
    CheckCertificate(claims, policy, *binding.certificate, now, out);
    return;
  }
  if (policy.allow_unbound_evidence()) {
    out->metadata["nonce_binding"] = "unbound (recorded evidence; role allows unbound evidence)";
    return;
  }
  out->metadata["nonce_binding"] = "bound";
  if (binding.nonce.empty()) {
    out->mismatches.push_back({"nonce", {"a login nonce bound into the evidence"}, "none supplied"});
    return;
  }
  absl::StatusOr<std::string> expected = ExpectedReportData(binding.nonce, binding.client_public_key);
  if (!expected.ok()) {
    out->mismatches.push_back({"nonce", {"1 to 64 bytes"}, std::string(expected.status().message())});
    return;
  }
  if (claims.report_data != *expected) {
    out->mismatches.push_back({"report_data", {HexEncode(*expected)}, HexEncode(claims.report_data)});
  }
  if (!binding.client_public_key.empty()) {
    out->client_public_key_sha256 = HexEncode(Sha256(binding.client_public_key));
  }
}

}  // namespace

std::string WorkloadIdentity(const Claims& claims, const v1::Policy& policy,
                             absl::string_view role) {
  const TeeRules& rules = RulesOf(claims.tee);
  // One line per item, the role length-prefixed, so that no two inputs share a text.
  std::string text = absl::StrCat("tee-verify workload identity v1\nrole ", role.size(), ":", role,
                                  "\nanchor ", rules.workload_identity(claims), "\ndebug ",
                                  claims.debug ? 1 : 0, "\n");
  for (const ValueField& field : rules.fields) {
    if (field.allowed(policy).empty()) continue;
    absl::StrAppend(&text, field.name, " ", HexEncode(field.actual(claims)), "\n");
  }
  return absl::StrCat(TeeKindName(claims.tee), ":", HexEncode(Sha256(text)));
}

namespace internal {

Decision EvaluateClaims(const Claims& claims, const v1::Policy& policy,
                        const LoginBinding& binding, absl::Time now) {
  Decision out;
  const std::string tee(TeeKindName(claims.tee));
  out.metadata["tee"] = tee;
  if (!Contains(policy.tee_types(), tee)) {
    // The role says nothing about this TEE's claims; nothing else can be evaluated.
    out.mismatches.push_back({"tee", {policy.tee_types().begin(), policy.tee_types().end()}, tee});
    return out;
  }
  if (claims.debug && !policy.allow_debug()) {
    out.mismatches.push_back({"debug", {"false"}, "true"});
  }
  CheckTcb(claims, policy, now, &out.mismatches, &out.metadata);
  const TeeRules& rules = RulesOf(claims.tee);
  // An Azure kind's hardware report fields first (its check_extras include theirs).
  for (const TeeRules* r : {rules.underlying, &rules}) {
    if (r == nullptr) continue;
    for (const ValueField& field : r->fields) {
      const StringList& allowed = field.allowed(policy);
      if (allowed.empty()) continue;
      const std::string actual = HexEncode(field.actual(claims));
      if (!Contains(allowed, actual)) {
        out.mismatches.push_back({std::string(field.name), {allowed.begin(), allowed.end()},
                                  actual.empty() ? "absent" : actual});
      } else {
        out.metadata[std::string(field.name)] = actual;
      }
    }
  }
  if (rules.check_extras != nullptr) rules.check_extras(claims, policy, now, &out.mismatches);
  if (policy.allow_weak_image_anchor()) {
    // The admin's opt-out is shown on every token, and says whether it was needed.
    out.metadata["weak_image_anchor"] =
        PinsImage(rules, policy) ? "allowed by role (image pinned)"
                                 : "allowed by role (DANGEROUS: image not pinned)";
  }
  CheckBinding(claims, policy, binding, now, &out);

  out.workload_identity = WorkloadIdentity(claims, policy, binding.role);
  out.metadata["workload_identity"] = out.workload_identity;
  out.allow = out.mismatches.empty();
  return out;
}

}  // namespace internal

nlohmann::ordered_json MismatchesToJson(const std::vector<Mismatch>& mismatches) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Mismatch& m : mismatches) {
    out.push_back({{"field", m.field}, {"expected", m.expected}, {"actual", m.actual}});
  }
  return out;
}

Decision Evaluate(const VerifiedClaims& claims, const v1::Policy& policy,
                  const LoginBinding& binding, absl::Time now) {
  return internal::EvaluateClaims(claims.claims(), policy, binding, now);
}

}  // namespace teeverify::policy
