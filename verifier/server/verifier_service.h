// The teeverify.v1.Verifier gRPC service: Verify (evidence -> claims), Evaluate (evidence +
// nonce + policy -> decision with every mismatch), ValidatePolicy, Info.
//
// Errors: unusable input (malformed or unsupported evidence, a bad request or policy) is an RPC
// error INVALID_ARGUMENT whose error_details carry a serialized teeverify.v1.Error with its stable
// Reason; evidence that parses but does not verify, and a policy that does not match, are
// successful RPCs (verified=false / DECISION_DENY) carrying the reasons.
#ifndef TEE_VERIFIER_SERVER_VERIFIER_SERVICE_H_
#define TEE_VERIFIER_SERVER_VERIFIER_SERVICE_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "teeverify/v1/verifier.grpc.pb.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/collateral/tdx_cache.h"
#include "verifier/evidence.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/server/chained_provider.h"
#include "verifier/server/collateral_store.h"
#include "verifier/server/decision_log.h"
#include "verifier/server/metrics.h"

namespace teeverify::server {

struct ServiceOptions {
  bool replay_mode = false;
  int max_concurrent = 4;
  absl::Duration max_call_time = absl::Seconds(10);
  std::string version;
};

class VerifierService final : public v1::Verifier::Service {
 public:
  VerifierService(std::shared_ptr<const EvidenceVerifier> verifier,
                  std::shared_ptr<const CollateralStore> store, ServiceOptions options,
                  DecisionLog* log,
                  std::shared_ptr<const collateral::LiveTdxCollateral> live = nullptr,
                  std::shared_ptr<Metrics> metrics = nullptr,
                  std::shared_ptr<const collateral::LiveSnpCollateral> live_snp = nullptr);

  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;
  grpc::Status Evaluate(grpc::ServerContext* context, const v1::EvaluateRequest* request,
                        v1::EvaluateResponse* response) override;
  grpc::Status ValidatePolicy(grpc::ServerContext* context,
                              const v1::ValidatePolicyRequest* request,
                              v1::ValidatePolicyResponse* response) override;
  grpc::Status Info(grpc::ServerContext* context, const v1::InfoRequest* request,
                    v1::InfoResponse* response) override;

 private:
  struct Outcome;
  // Verify and Evaluate before the metrics count their answer (Verify/Evaluate above).
  grpc::Status VerifyUnmetered(grpc::ServerContext* context, const v1::VerifyRequest* request,
                               v1::VerifyResponse* response);
  grpc::Status EvaluateUnmetered(grpc::ServerContext* context, const v1::EvaluateRequest* request,
                                 v1::EvaluateResponse* response);
  // Waits for one of max_concurrent slots until the call's deadline; false when none freed.
  bool Acquire(grpc::ServerContext* context);
  void Release();
  // The answer to evidence of a TEE that `policy` does not admit: DENY, the "tee" mismatch,
  // nothing verified.
  grpc::Status DenyTeeType(const v1::EvaluateRequest& req, const v1::Policy& policy, TeeKind tee,
                           v1::EvaluateResponse* resp);
  // policy::ValidatePolicy, plus what this sidecar's mode refuses (unbound evidence).
  policy::PolicyValidation CheckPolicy(const v1::Policy& policy) const;
  // Verifies the evidence of `request`; malformed input comes back as `rpc_error`.
  Outcome VerifyEvidence(const v1::VerifyRequest& request) const;

  std::shared_ptr<const EvidenceVerifier> verifier_;
  std::shared_ptr<const CollateralStore> store_;
  std::shared_ptr<const collateral::LiveTdxCollateral> live_;
  ChainedTdxProvider tdx_provider_;  // store_ then live_
  std::shared_ptr<const collateral::LiveSnpCollateral> live_snp_;  // AMD KDS; may be null
  ServiceOptions options_;
  DecisionLog* log_;
  std::shared_ptr<Metrics> metrics_;  // may be null
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace teeverify::server

#endif  // TEE_VERIFIER_SERVER_VERIFIER_SERVICE_H_
