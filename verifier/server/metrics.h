// tee-verifierd's Prometheus metrics (--metrics-listen; every name, type and label is listed in
// docs/collateral.md, "Metrics"): counters the service and the live collateral cache increment
// as they work, gauges computed at each scrape from what the sidecar holds, and the HTTP
// endpoint (prometheus-cpp). Prometheus types stay inside metrics.cc.
#ifndef TEE_VERIFIER_SERVER_METRICS_H_
#define TEE_VERIFIER_SERVER_METRICS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/claims/claims.h"
#include "verifier/collateral/cache_observer.h"

namespace teeverify::collateral {
class LiveSnpCollateral;
class LiveTdxCollateral;
}

namespace teeverify::server {

class CollateralStore;

// A verified TDX platform evaluated against an early TCB info (the next evaluation number).
struct EarlyTcbOutcome {
  std::string fmspc;     // hex
  std::string platform;  // a digest of the PPID: tells platforms apart, reveals nothing
  // Its status under the early TCB info is worse than under the standard one, in Intel's order
  // UpToDate < SWHardeningNeeded < ConfigurationNeeded < ConfigurationAndSWHardeningNeeded <
  // OutOfDate < OutOfDateConfigurationNeeded < Revoked < TcbLevelNotSupported.
  bool downgraded = false;
};
// Nothing for claims of anything else, or without an early TCB info.
std::optional<EarlyTcbOutcome> EarlyTcbEvaluation(const Claims& claims);

class Metrics : public collateral::CacheObserver {
 public:
  Metrics();
  ~Metrics() override;

  // What the scrape-time gauges read (held weakly: the caches hold this as their observer). Any
  // may be empty.
  void Watch(std::weak_ptr<const collateral::LiveTdxCollateral> live,
             std::weak_ptr<const CollateralStore> store,
             std::weak_ptr<const collateral::LiveSnpCollateral> live_snp = {});

  // Serves GET /metrics on `listen` ("127.0.0.1:9464", "[::1]:0"; port 0 picks a free one)
  // until destroyed; returns the port bound.
  absl::StatusOr<int> Serve(const std::string& listen);

  void OnFetch(absl::string_view source, collateral::FetchOutcome outcome) override;
  void OnLookup(bool hit) override;

  // One answered Verify or Evaluate call: rpc "Verify"/"Evaluate", tee "tdx"... or "unknown",
  // outcome "verified"/"not_verified" (Verify), "allow"/"deny" (Evaluate) or "error" (an RPC
  // error), reason the teeverify.v1.Reason name, POLICY_MISMATCH, the gRPC code name or "none".
  void CountRequest(absl::string_view rpc, absl::string_view tee, absl::string_view outcome,
                    absl::string_view reason);
  void ObserveEvaluateLatency(absl::string_view tee, absl::Duration took);
  // Counts a downgraded evaluation, and keeps the set of distinct platforms the early TCB info
  // downgrades (a platform leaves it when it is seen again and no longer downgraded, or after
  // kEarlyPlatformWindow without being seen).
  void ObserveEarlyTcb(const EarlyTcbOutcome& outcome);

  static constexpr absl::Duration kEarlyPlatformWindow = absl::Hours(24 * 7);
  static constexpr size_t kMaxEarlyPlatforms = 100000;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace teeverify::server

#endif  // TEE_VERIFIER_SERVER_METRICS_H_
