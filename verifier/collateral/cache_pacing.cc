#include "verifier/collateral/cache_pacing.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/common/time_util.h"

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

SourcePacer::SourcePacer(std::vector<std::string> names, const CacheOptions* options,
                         CacheCounters* counters)
    : options_(options), counters_(counters) {
  sources_.reserve(names.size());
  for (std::string& name : names) sources_.push_back(Source{std::move(name)});
}

std::optional<std::string> SourcePacer::Deferred(size_t i, absl::Time now) {
  const Source& s = sources_[i];
  if (now >= s.not_before) return std::nullopt;
  Count(i, FetchOutcome::kSkipped);
  return absl::StrCat(s.name, ": not asked before ", FormatRfc3339(s.not_before),
                      " (backoff or Retry-After)");
}

void SourcePacer::Failed(size_t i, int http_status, std::optional<absl::Duration> retry_after,
                         absl::Time now, absl::BitGen& rng) {
  Count(i, FetchFailureOutcome(http_status));
  if (http_status != 404) BackOff(i, retry_after, now, rng);
}

void SourcePacer::Rejected(size_t i, absl::Time now, absl::BitGen& rng) {
  Count(i, FetchOutcome::kRejected);
  BackOff(i, std::nullopt, now, rng);
}

void SourcePacer::Succeeded(size_t i) {
  Count(i, FetchOutcome::kOk);
  sources_[i].failures = 0;
  sources_[i].not_before = absl::InfinitePast();
}

void SourcePacer::Count(size_t i, FetchOutcome outcome) {
  ++counters_->fetches[{sources_[i].name, std::string(FetchOutcomeName(outcome))}];
  if (options_->observer) options_->observer->OnFetch(sources_[i].name, outcome);
}

void SourcePacer::BackOff(size_t i, std::optional<absl::Duration> retry_after, absl::Time now,
                          absl::BitGen& rng) {
  Source& s = sources_[i];
  ++s.failures;
  s.not_before = BackoffUntil(*options_, s.failures, retry_after, now, rng);
}

}  // namespace teeverify::collateral
