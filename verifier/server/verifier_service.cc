#include "verifier/server/verifier_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/rpc/status.pb.h"
#include "nlohmann/json.hpp"
#include "verifier/attested_cert/attested_cert.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/time_util.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"

namespace teeverify::server {
namespace {

std::optional<TeeKind> TeeFromProto(v1::TeeType t) {
  switch (t) {
    case v1::TEE_TYPE_TDX:
      return TeeKind::kTdx;
    case v1::TEE_TYPE_SEV_SNP:
      return TeeKind::kSevSnp;
    case v1::TEE_TYPE_NITRO:
      return TeeKind::kNitro;
    case v1::TEE_TYPE_AZ_SNP_VTPM:
      return TeeKind::kAzSnpVtpm;
    case v1::TEE_TYPE_AZ_TDX_VTPM:
      return TeeKind::kAzTdxVtpm;
    default:
      return std::nullopt;
  }
}

v1::TeeType TeeToProto(TeeKind t) {
  switch (t) {
    case TeeKind::kTdx:
      return v1::TEE_TYPE_TDX;
    case TeeKind::kSevSnp:
      return v1::TEE_TYPE_SEV_SNP;
    case TeeKind::kNitro:
      return v1::TEE_TYPE_NITRO;
    case TeeKind::kAzSnpVtpm:
      return v1::TEE_TYPE_AZ_SNP_VTPM;
    case TeeKind::kAzTdxVtpm:
      return v1::TEE_TYPE_AZ_TDX_VTPM;
  }
  return v1::TEE_TYPE_UNSPECIFIED;
}

// Input that cannot be evidence at all is the caller's error, not a verification outcome: the
// reasons that say so (MALFORMED_EVIDENCE, UNSUPPORTED_FORMAT, BAD_REQUEST) are the ones MakeError
// gives INVALID_ARGUMENT.
bool IsInputError(const absl::Status& status) { return absl::IsInvalidArgument(status); }

void FillError(const absl::Status& status, v1::Error* error) {
  error->set_reason(ReasonOf(status));
  error->set_message(std::string(status.message()));
}

// INVALID_ARGUMENT with the teeverify.v1.Error in the standard rich-error trailer (a
// google.rpc.Status whose details hold it), which gRPC clients decode natively.
grpc::Status RpcError(const absl::Status& status) {
  v1::Error error;
  FillError(status, &error);
  const std::string message = absl::StrCat(ReasonName(error.reason()), ": ", status.message());
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  details.set_message(message);
  details.add_details()->PackFrom(error);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message, details.SerializeAsString());
}

// The TEE a request is about (named, or detected from a few header bytes), without parsing it.
absl::StatusOr<TeeKind> TeeOf(const v1::VerifyRequest& req) {
  EvidenceRequest request;
  request.evidence = req.evidence();
  request.tee = TeeFromProto(req.tee_type());
  return EvidenceVerifier::ResolveTee(request);
}

bool Admits(const v1::Policy& policy, TeeKind tee) {
  const absl::string_view name = TeeKindName(tee);
  return std::find(policy.tee_types().begin(), policy.tee_types().end(), name) !=
         policy.tee_types().end();
}

// The metrics' tee label: "tdx", "sev-snp"..., or "unknown" before the TEE was told.
std::string TeeLabel(v1::TeeType t) {
  const std::optional<TeeKind> tee = TeeFromProto(t);
  return tee ? std::string(TeeKindName(*tee)) : "unknown";
}

// The metrics' reason label of an RPC error: the teeverify.v1.Reason that RpcError put in its
// details, or else the gRPC code (RESOURCE_EXHAUSTED when busy, CANCELLED...).
absl::string_view RpcReasonLabel(const grpc::Status& status) {
  google::rpc::Status details;
  v1::Error error;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
      details.ParseFromString(status.error_details()) && details.details_size() > 0 &&
      details.details(0).UnpackTo(&error)) {
    return ReasonName(error.reason());
  }
  switch (status.error_code()) {
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    default: return "OTHER";
  }
}

nlohmann::ordered_json ErrorJson(const absl::Status& status) {
  return {{"reason", std::string(ReasonName(ReasonOf(status)))},
          {"message", std::string(status.message())}};
}

}  // namespace

struct VerifierService::Outcome {
  absl::StatusOr<VerifiedClaims> claims = absl::UnknownError("not run");
  std::optional<TeeKind> tee;
  absl::Time at;
  std::string evidence_sha256;

  // The request was not evidence to verify (answered with RpcError, not a decision).
  bool invalid_input() const { return !claims.ok() && IsInputError(claims.status()); }
};

namespace {

// Info's times: RFC 3339, or empty when unknown.
std::string RfcTimeOrEmpty(absl::Time t) {
  return t == absl::InfinitePast() || t == absl::InfiniteFuture() ? std::string()
                                                                  : FormatRfc3339(t);
}

}  // namespace

VerifierService::VerifierService(std::shared_ptr<const EvidenceVerifier> verifier,
                                 std::shared_ptr<const CollateralStore> store,
                                 ServiceOptions options, DecisionLog* log,
                                 std::shared_ptr<const collateral::LiveTdxCollateral> live,
                                 std::shared_ptr<Metrics> metrics,
                                 std::shared_ptr<const collateral::LiveSnpCollateral> live_snp)
    : verifier_(std::move(verifier)),
      store_(std::move(store)),
      live_(std::move(live)),
      tdx_provider_({store_.get(), live_.get()}),
      live_snp_(std::move(live_snp)),
      options_(std::move(options)),
      log_(log),
      metrics_(std::move(metrics)) {}

bool VerifierService::Acquire(grpc::ServerContext* context) {
  const absl::Time deadline =
      std::min(absl::FromChrono(context->deadline()), absl::Now() + options_.max_call_time);
  absl::MutexLock lock(&mu_);
  auto has_slot = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ < options_.max_concurrent;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&has_slot), deadline)) return false;
  ++in_flight_;
  return true;
}

void VerifierService::Release() {
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

VerifierService::Outcome VerifierService::VerifyEvidence(const v1::VerifyRequest& req) const {
  Outcome out;
  out.at = absl::Now();
  out.evidence_sha256 = HexEncode(Sha256(req.evidence()));
  if (req.verification_time_unix() != 0) {
    if (!options_.replay_mode) {
      out.claims = MakeError(v1::REASON_BAD_REQUEST,
                             "verification_time_unix is honoured only by a sidecar started with "
                             "--replay-recorded-evidence");
      return out;
    }
    out.at = absl::FromUnixSeconds(req.verification_time_unix());
  }
  EvidenceRequest request;
  request.evidence = req.evidence();
  request.tee = TeeFromProto(req.tee_type());
  request.now = out.at;
  request.certificate = req.certificate();
  if (req.has_tdx_collateral()) {
    const v1::TdxCollateral& c = req.tdx_collateral();
    // The request carries no early TCB info: that channel is the live cache's alone.
    tdx::TdxCollateral& t = request.tdx_collateral.emplace();
    t.tcb_info_response = c.tcb_info_response();
    t.qe_identity_response = c.qe_identity_response();
    t.pck_crl = c.pck_crl();
    t.root_ca_crl = c.root_ca_crl();
    t.tcb_info_issuer_chain = c.tcb_info_issuer_chain();
    t.qe_identity_issuer_chain = c.qe_identity_issuer_chain();
    t.pck_crl_issuer_chain = c.pck_crl_issuer_chain();
  }
  request.tdx_collateral_provider = &tdx_provider_;
  request.snp_collateral_provider = live_snp_.get();
  absl::StatusOr<TeeKind> tee = TeeOf(req);
  if (tee.ok()) out.tee = *tee;
  out.claims = tee.ok() ? verifier_->Verify(request) : absl::StatusOr<VerifiedClaims>(tee.status());
  return out;
}

grpc::Status VerifierService::Verify(grpc::ServerContext* context, const v1::VerifyRequest* req,
                                     v1::VerifyResponse* resp) {
  const grpc::Status status = VerifyUnmetered(context, req, resp);
  if (metrics_) {
    const bool answered = status.ok();
    metrics_->CountRequest("Verify", TeeLabel(resp->tee_type()),
                           !answered ? "error" : resp->verified() ? "verified" : "not_verified",
                           !answered        ? RpcReasonLabel(status)
                           : resp->verified() ? "none"
                                              : ReasonName(resp->error().reason()));
  }
  return status;
}

grpc::Status VerifierService::VerifyUnmetered(grpc::ServerContext* context,
                                              const v1::VerifyRequest* req,
                                              v1::VerifyResponse* resp) {
  if (!Acquire(context)) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "sidecar busy");
  const absl::Time start = absl::Now();
  Outcome out = VerifyEvidence(*req);
  Release();
  nlohmann::ordered_json log = {{"evidence_sha256", out.evidence_sha256},
                                {"duration_us", absl::ToInt64Microseconds(absl::Now() - start)}};
  if (out.tee) log["tee"] = std::string(TeeKindName(*out.tee));
  if (out.invalid_input()) {
    log["error"] = ErrorJson(out.claims.status());
    log_->Write("warn", "verify_invalid_input", log);
    return RpcError(out.claims.status());
  }
  if (out.tee) resp->set_tee_type(TeeToProto(*out.tee));
  resp->set_verified(out.claims.ok());
  if (out.claims.ok()) {
    resp->set_claims_json(ClaimsToJson(*out.claims).dump());
    log["verified"] = true;
  } else {
    FillError(out.claims.status(), resp->mutable_error());
    log["verified"] = false;
    log["error"] = ErrorJson(out.claims.status());
  }
  log_->Write("info", "verify", log);
  return context->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK;
}

grpc::Status VerifierService::Evaluate(grpc::ServerContext* context, const v1::EvaluateRequest* req,
                                       v1::EvaluateResponse* resp) {
  const absl::Time start = absl::Now();
  const grpc::Status status = EvaluateUnmetered(context, req, resp);
  if (metrics_) {
    const std::string tee = TeeLabel(resp->tee_type());
    absl::string_view outcome = "error", reason;
    if (!status.ok()) {
      reason = RpcReasonLabel(status);
    } else if (resp->decision() == v1::DECISION_ALLOW) {
      outcome = "allow";
      reason = "none";
    } else {
      outcome = "deny";
      reason = resp->has_error() ? ReasonName(resp->error().reason()) : "POLICY_MISMATCH";
    }
    metrics_->CountRequest("Evaluate", tee, outcome, reason);
    metrics_->ObserveEvaluateLatency(tee, absl::Now() - start);
  }
  return status;
}

grpc::Status VerifierService::EvaluateUnmetered(grpc::ServerContext* context,
                                                const v1::EvaluateRequest* req,
                                                v1::EvaluateResponse* resp) {
  const bool refuse = req->refuse_role();
  policy::PolicyValidation policy = refuse ? policy::PolicyValidation{} : CheckPolicy(req->policy());
  if (!policy.errors.empty()) {
    return RpcError(MakeError(v1::REASON_BAD_REQUEST,
                              absl::StrCat("policy: ", absl::StrJoin(policy.errors, "; "))));
  }
  // An attested certificate brings its own evidence and binding; a request mixing it with a
  // nonce login's fields is refused rather than half-honoured.
  std::optional<attested_cert::AttestedCertificate> cert;
  std::optional<policy::CertificateBinding> cert_binding;
  v1::VerifyRequest evidence_request = req->evidence();
  if (!req->attested_certificate().empty()) {
    if (!req->evidence().evidence().empty() || !req->nonce().empty() ||
        !req->client_public_key().empty()) {
      return RpcError(MakeError(v1::REASON_BAD_REQUEST,
                                "attested_certificate: sent together with evidence, nonce or "
                                "client_public_key (the certificate carries its own)"));
    }
    absl::StatusOr<attested_cert::AttestedCertificate> parsed =
        attested_cert::ParseAttestedCertificate(req->attested_certificate());
    if (!parsed.ok()) return RpcError(parsed.status());
    cert = *std::move(parsed);
    cert_binding = policy::CertificateBinding{cert->spki_der, cert->not_before, cert->not_after};
    evidence_request.set_evidence(cert->evidence);
  }
  // Evidence of a TEE the role does not admit is denied on its type alone: nothing of it is
  // parsed or verified, so a caller cannot make a role pay for evidence it could never accept.
  if (absl::StatusOr<TeeKind> tee = TeeOf(evidence_request);
      !refuse && tee.ok() && !Admits(policy.normalized, *tee)) {
    return DenyTeeType(*req, policy.normalized, *tee, resp);
  }
  if (!Acquire(context)) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "sidecar busy");
  const absl::Time start = absl::Now();
  const absl::Status self_issued = cert ? attested_cert::VerifySelfIssued(*cert) : absl::OkStatus();
  Outcome out;
  if (self_issued.ok()) {
    out = VerifyEvidence(evidence_request);
  } else {
    out.at = absl::Now();
    out.evidence_sha256 = HexEncode(Sha256(cert->evidence));
    out.claims = self_issued;
  }
  std::optional<policy::Decision> decision;
  if (out.claims.ok() && refuse) {
    decision = policy::Decision{};
    decision->mismatches.push_back({"role", {}, "no role admits this login"});
  } else if (out.claims.ok()) {
    policy::LoginBinding binding{req->nonce(), req->client_public_key(), req->role()};
    if (cert_binding) binding.certificate = &*cert_binding;
    decision = policy::Evaluate(*out.claims, policy.normalized, binding, out.at);
  }
  Release();
  if (metrics_ && out.claims.ok()) {
    if (std::optional<EarlyTcbOutcome> early = EarlyTcbEvaluation(out.claims->claims())) {
      metrics_->ObserveEarlyTcb(*early);
    }
  }

  nlohmann::ordered_json log = {{"role", req->role()}, {"evidence_sha256", out.evidence_sha256}};
  if (cert) log["attested_certificate"] = true;
  if (out.tee) log["tee"] = std::string(TeeKindName(*out.tee));
  if (out.invalid_input()) {
    log["decision"] = "invalid_input";
    log["error"] = ErrorJson(out.claims.status());
    log["duration_us"] = absl::ToInt64Microseconds(absl::Now() - start);
    log_->Write("warn", "evaluate", log);
    return RpcError(out.claims.status());
  }
  if (out.tee) resp->set_tee_type(TeeToProto(*out.tee));
  if (!decision) {
    resp->set_decision(v1::DECISION_DENY);
    FillError(out.claims.status(), resp->mutable_error());
    log["decision"] = "deny";
    log["error"] = ErrorJson(out.claims.status());
  } else {
    resp->set_decision(decision->allow ? v1::DECISION_ALLOW : v1::DECISION_DENY);
    resp->set_claims_json(ClaimsToJson(*out.claims).dump());
    const absl::Time until = out.claims->claims().valid_until;
    resp->set_valid_until_unix(until == absl::InfiniteFuture() ? 0 : absl::ToUnixSeconds(until));
    resp->set_workload_identity(decision->workload_identity);
    resp->set_verified_at_unix(absl::ToUnixSeconds(out.at));
    resp->set_client_public_key_sha256(decision->client_public_key_sha256);
    if (cert) {
      resp->set_certificate_spki_sha256(decision->certificate_spki_sha256);
      resp->set_certificate_not_after_unix(absl::ToUnixSeconds(cert->not_after));
    }
    for (const policy::Mismatch& m : decision->mismatches) {
      v1::Mismatch* pm = resp->add_mismatches();
      pm->set_field(m.field);
      for (const std::string& e : m.expected) pm->add_expected(e);
      pm->set_actual(m.actual);
    }
    for (const auto& [key, value] : decision->metadata) (*resp->mutable_metadata())[key] = value;
    log["decision"] = decision->allow ? "allow" : "deny";
    if (!decision->allow) log["reasons"] = policy::MismatchesToJson(decision->mismatches);
    log["workload_identity"] = decision->workload_identity;
    log["measurements"] = decision->metadata;
  }
  log["duration_us"] = absl::ToInt64Microseconds(absl::Now() - start);
  log_->Write("info", "evaluate", log);
  return context->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK;
}

grpc::Status VerifierService::DenyTeeType(const v1::EvaluateRequest& req, const v1::Policy& policy,
                                          TeeKind tee, v1::EvaluateResponse* resp) {
  const absl::Time start = absl::Now();
  const policy::Mismatch mismatch{"tee", {policy.tee_types().begin(), policy.tee_types().end()},
                                  std::string(TeeKindName(tee))};
  resp->set_tee_type(TeeToProto(tee));
  resp->set_decision(v1::DECISION_DENY);
  v1::Mismatch* pm = resp->add_mismatches();
  pm->set_field(mismatch.field);
  for (const std::string& e : mismatch.expected) pm->add_expected(e);
  pm->set_actual(mismatch.actual);
  log_->Write("info", "evaluate",
              {{"role", req.role()},
               {"evidence_sha256", HexEncode(Sha256(req.evidence().evidence()))},
               {"tee", mismatch.actual},
               {"decision", "deny"},
               {"reasons", policy::MismatchesToJson({mismatch})},
               {"duration_us", absl::ToInt64Microseconds(absl::Now() - start)}});
  return grpc::Status::OK;
}

grpc::Status VerifierService::ValidatePolicy(grpc::ServerContext*,
                                             const v1::ValidatePolicyRequest* req,
                                             v1::ValidatePolicyResponse* resp) {
  policy::PolicyValidation v = CheckPolicy(req->policy());
  for (const std::string& e : v.errors) resp->add_errors(e);
  if (v.errors.empty()) *resp->mutable_normalized() = std::move(v.normalized);
  return grpc::Status::OK;
}

policy::PolicyValidation VerifierService::CheckPolicy(const v1::Policy& p) const {
  policy::PolicyValidation v = policy::ValidatePolicy(p);
  // Evidence that binds no nonce can be replayed by whoever captured it once: only recorded
  // evidence replayed at a pinned time (demos, tests) may go without.
  if (p.allow_unbound_evidence() && !options_.replay_mode) {
    v.errors.push_back(
        "allow_unbound_evidence: honoured only by a sidecar started with "
        "--replay-recorded-evidence (recorded evidence); a live login must bind its nonce");
  }
  return v;
}

grpc::Status VerifierService::Info(grpc::ServerContext*, const v1::InfoRequest*,
                                   v1::InfoResponse* resp) {
  resp->set_version(options_.version);
  resp->set_test_roots(!verifier_->roots().built_in());
  resp->set_replay_mode(options_.replay_mode);
  if (store_) {
    for (const std::string& d : store_->Describe()) resp->add_tdx_collateral(d);
  }
  if (live_) {
    auto time = RfcTimeOrEmpty;
    for (const collateral::BundleStatus& b : live_->Status()) {
      v1::TdxCollateralStatus* s = resp->add_live_tdx_collateral();
      s->set_fmspc(b.fmspc);
      s->set_pck_ca(b.pck_ca);
      s->set_state(collateral::ItemStateName(b.state));
      s->set_source(b.source);
      s->set_tcb_info_issue_date(time(b.tcb_info_issue_date));
      s->set_tcb_info_next_update(time(b.tcb_info_next_update));
      s->set_next_update(time(b.next_update));
      s->set_refresh_at(time(b.refresh_at));
      s->set_tcb_evaluation_data_number(b.tcb_evaluation_data_number);
      s->set_last_refresh(time(b.last_refresh));
      s->set_last_error(b.last_error);
    }
  }
  if (live_snp_) {
    auto time = RfcTimeOrEmpty;
    for (const collateral::SnpItemStatus& i : live_snp_->Status()) {
      v1::SnpCollateralStatus* s = resp->add_live_snp_collateral();
      s->set_product(i.product);
      s->set_kind(i.kind);
      s->set_vlek(i.vlek);
      s->set_hw_id(i.hw_id);
      s->set_reported_tcb(i.tcb);
      s->set_state(collateral::ItemStateName(i.state));
      s->set_source(i.source);
      s->set_not_before(time(i.not_before));
      s->set_not_after(time(i.not_after));
      s->set_refresh_at(time(i.refresh_at));
      s->set_last_refresh(time(i.last_refresh));
      s->set_last_error(i.last_error);
      s->set_not_found(i.not_found);
    }
  }
  return grpc::Status::OK;
}

}  // namespace teeverify::server
