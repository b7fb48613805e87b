#include "verifier/collateral/cache_observer.h"

namespace teeverify::collateral {

absl::string_view FetchOutcomeName(FetchOutcome outcome) {
  switch (outcome) {
    case FetchOutcome::kOk: return "ok";
    case FetchOutcome::kHttpError: return "http_error";
    case FetchOutcome::kRejected: return "rejected";
    case FetchOutcome::kNotFound: return "not_found";
    case FetchOutcome::kThrottled: return "throttled";
    case FetchOutcome::kNetwork: return "network";
    case FetchOutcome::kSkipped: return "skipped_backoff";
  }
  return "unknown";
}

FetchOutcome FetchFailureOutcome(int http_status) {
  if (http_status == 0) return FetchOutcome::kNetwork;
  if (http_status == 404) return FetchOutcome::kNotFound;
  // PCS and KDS answer 429 (and 503 when overloaded) with Retry-After when they throttle.
  if (http_status == 429 || http_status == 503) return FetchOutcome::kThrottled;
  return FetchOutcome::kHttpError;
}

}  // namespace teeverify::collateral
