#include "verifier/collateral/cache_pacing.h"

#include <algorithm>

namespace teeverify::collateral {

ItemState ItemStateOf(bool held, bool expired, bool in_flight, bool last_fetch_failed) {
  if (!held) return in_flight ? ItemState::kFetching : ItemState::kAbsent;
  if (expired) return in_flight ? ItemState::kFetching : ItemState::kExpired;
  if (in_flight) return ItemState::kRefreshing;
  return last_fetch_failed ? ItemState::kStale : ItemState::kValid;
}

absl::Time BackoffUntil(const CacheOptions& options, int failures,
                        std::optional<absl::Duration> retry_after, absl::Time now,
                        absl::BitGen& rng) {
  absl::Duration wait = options.backoff_initial;
  for (int i = 1; i < failures && wait < options.backoff_max; ++i) wait *= 2;
  wait = std::min(wait, options.backoff_max) * absl::Uniform(rng, 0.5, 1.0);
  if (retry_after) wait = std::max(wait, *retry_after);
  return now + wait;
}

}  // namespace teeverify::collateral
