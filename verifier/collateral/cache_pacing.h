// What the TDX and AMD collateral caches share about an item and a source: the state an item's
// entry is in (for Info and the metrics) and when a failing source may be asked again.
#ifndef TEE_VERIFIER_COLLATERAL_CACHE_PACING_H_
#define TEE_VERIFIER_COLLATERAL_CACHE_PACING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "verifier/collateral/cache_observer.h"
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

// The names of a cache's sources (PcsSource, KdsSource), in order.
template <typename Sources>
std::vector<std::string> SourceNames(const Sources& sources) {
  std::vector<std::string> names;
  for (const auto& source : sources) names.push_back(source.name);
  return names;
}

// The sources of one cache, in order, with how each has fared: whether it may be asked now, and
// every fetch's outcome counted (CacheCounters::fetches, and the observer). Not thread-safe: the
// cache calls it under its own lock, with its clock's time and its random generator.
class SourcePacer {
 public:
  SourcePacer(std::vector<std::string> names, const CacheOptions* options,
              CacheCounters* counters);

  size_t size() const { return sources_.size(); }
  // Why source i is not asked at `now` ("NAME: not asked before TIME ..."), counted as skipped;
  // nullopt when it may be asked.
  std::optional<std::string> Deferred(size_t i, absl::Time now);
  // A fetch that brought nothing: counted by its HTTP status. A 404 says the source does not
  // have the item, which is no reason to stop asking it for others; anything else backs off.
  void Failed(size_t i, int http_status, std::optional<absl::Duration> retry_after,
              absl::Time now, absl::BitGen& rng);
  // The source served something that does not verify: counted, and backed off.
  void Rejected(size_t i, absl::Time now, absl::BitGen& rng);
  // The source served what verifies: counted, and its failures forgotten.
  void Succeeded(size_t i);

 private:
  struct Source {
    std::string name;
    int failures = 0;
    absl::Time not_before = absl::InfinitePast();  // backoff or Retry-After
  };
  void Count(size_t i, FetchOutcome outcome);
  void BackOff(size_t i, std::optional<absl::Duration> retry_after, absl::Time now,
               absl::BitGen& rng);

  std::vector<Source> sources_;
  const CacheOptions* options_;
  CacheCounters* counters_;
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_CACHE_PACING_H_
