// What the TDX and AMD collateral caches share about an item and a source: the state an item's
// entry is in (for Info and the metrics) and when a failing source may be asked again.
#ifndef TEE_VERIFIER_COLLATERAL_CACHE_PACING_H_
#define TEE_VERIFIER_COLLATERAL_CACHE_PACING_H_

#include <optional>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "verifier/collateral/tdx_cache.h"

namespace teeverify::collateral {

// absent/fetching without a held item; expired (or fetching again) when the held one was not
// valid at the last lookup; else refreshing, stale (the last fetch failed) or valid.
ItemState ItemStateOf(bool held, bool expired, bool in_flight, bool last_fetch_failed);

// When a source that has now failed `failures` times in a row may be asked again: exponential
// from backoff_initial to backoff_max, jittered over the upper half, and not before a
// Retry-After it sent.
absl::Time BackoffUntil(const CacheOptions& options, int failures,
                        std::optional<absl::Duration> retry_after, absl::Time now,
                        absl::BitGen& rng);

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_CACHE_PACING_H_
