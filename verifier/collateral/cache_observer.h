// What the live collateral cache reports as it works (fetch outcomes per source, cache hits and
// misses), so that tee-verifierd can count them for its metrics endpoint without this library
// depending on a metrics library (docs/collateral.md, "Metrics").
#ifndef TEE_VERIFIER_COLLATERAL_CACHE_OBSERVER_H_
#define TEE_VERIFIER_COLLATERAL_CACHE_OBSERVER_H_

#include "absl/strings/string_view.h"

namespace teeverify::collateral {

// How one attempt to fetch a bundle from one source ended.
enum class FetchOutcome {
  kOk,          // fetched and verified
  kHttpError,   // an HTTP status other than those below
  kRejected,    // answered, but the data did not verify (bad signature, expired, another platform)
  kNotFound,    // 404
  kThrottled,   // 429 or 503 (Retry-After honoured)
  kNetwork,     // no HTTP answer: connection refused, timeout, TLS, truncated transfer
  kSkipped,     // not asked: the source's backoff or Retry-After had not elapsed
};

// "ok", "http_error", "rejected", "not_found", "throttled", "network", "skipped_backoff".
absl::string_view FetchOutcomeName(FetchOutcome outcome);

// The outcome of a fetch that failed with `http_status` (0: no HTTP answer).
FetchOutcome FetchFailureOutcome(int http_status);

// Called on the thread doing the lookup or refresh, sometimes with the cache's lock held:
// implementations must be quick and thread-safe, and must not call back into the cache.
class CacheObserver {
 public:
  virtual ~CacheObserver() = default;
  virtual void OnFetch(absl::string_view source, FetchOutcome outcome) = 0;
  // hit: a lookup served a held bundle valid at its time; miss: a lookup found none and fetched.
  virtual void OnLookup(bool hit) = 0;
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_CACHE_OBSERVER_H_
