// Live TDX collateral: fetched from an ordered list of PCS/PCCS sources, verified by the core
// (tdx::VerifyTdxCollateral) before it is used or cached, kept in memory and on disk, refreshed
// ahead of nextUpdate and never served past it. docs/collateral.md.
//
// One bundle per (FMSPC, PCK CA), each with its own small state machine:
//   absent -> fetching -> valid -> refreshing -> valid
//                                            \-> stale (refresh failed; served until nextUpdate)
//   valid/stale -> expired (past nextUpdate: fails closed naming the item) -> fetching
// Validity is judged at each lookup's verification time; pacing (backoff, Retry-After, the
// brief caching of 404s, the gap between refresh attempts) by the injected Clock.
#ifndef TEE_VERIFIER_COLLATERAL_TDX_CACHE_H_
#define TEE_VERIFIER_COLLATERAL_TDX_CACHE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "verifier/collateral/cache_observer.h"
#include "verifier/collateral/clock.h"
#include "verifier/collateral/http.h"
#include "verifier/collateral/pcs_client.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify::collateral {

class SourcePacer;  // cache_pacing.h

// Verifies a fetched bundle for the platform (fmspc, ca) at `now`: the core's checks
// (tdx::VerifyTdxCollateral), then that the TCB info is this FMSPC's and the PCK CRL this CA's.
absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> VerifyBundleFor(
    const tdx::TdxCollateral& raw, X509* intel_root, const ByteArray<6>& fmspc, PckCa ca,
    absl::Time now);

struct CacheOptions {
  std::string cache_dir;  // empty: memory only
  // Refresh once this fraction of the shortest item window (issueDate..nextUpdate) has passed,
  // earlier by a random part of up to refresh_jitter of that window.
  double refresh_fraction = 0.75;
  double refresh_jitter = 0.05;
  absl::Duration min_refresh_interval = absl::Minutes(5);  // between attempts on one bundle
  absl::Duration not_found_ttl = absl::Minutes(5);         // a 404 from every source
  absl::Duration backoff_initial = absl::Seconds(5);       // per source, doubled per failure
  absl::Duration backoff_max = absl::Minutes(10);
  absl::Duration max_wait = absl::Seconds(10);  // a lookup waits this long for another's fetch
  // Told of every fetch outcome and lookup (tee-verifierd's metrics); may be null.
  std::shared_ptr<CacheObserver> observer;
};

// Structured log lines: (level, event, fields), e.g. DecisionLog::Write.
using LogFn = std::function<void(absl::string_view, absl::string_view, nlohmann::ordered_json)>;

enum class ItemState { kAbsent, kFetching, kValid, kRefreshing, kStale, kExpired };
const char* ItemStateName(ItemState state);

// What Info and the metrics report per bundle.
struct BundleStatus {
  std::string fmspc;  // hex
  std::string pck_ca; // "platform" / "processor"
  ItemState state = ItemState::kAbsent;
  std::string source;
  absl::Time tcb_info_issue_date = absl::InfinitePast();
  absl::Time tcb_info_next_update = absl::InfinitePast();
  absl::Time next_update = absl::InfinitePast();  // the earliest of every item (the bundle's end)
  absl::Time refresh_at = absl::InfinitePast();
  uint32_t tcb_evaluation_data_number = 0;
  // The early channel's evaluation number (0: no early TCB info held).
  uint32_t tcb_evaluation_data_number_early = 0;
  absl::Time last_refresh = absl::InfinitePast();  // last successful fetch (Clock)
  std::string last_error;
};

// What the cache counted (as it told CacheOptions::observer).
struct CacheCounters {
  // (source, FetchOutcomeName) -> n
  std::map<std::pair<std::string, std::string>, uint64_t> fetches;
  uint64_t hits = 0;
  uint64_t misses = 0;
};

class LiveTdxCollateral : public TdxCollateralProvider {
 public:
  LiveTdxCollateral(std::vector<PcsSource> sources, std::shared_ptr<HttpTransport> transport,
                    std::shared_ptr<const TrustRoots> roots, const Clock* clock,
                    CacheOptions options, LogFn log);
  ~LiveTdxCollateral() override;

  // Reads the disk cache (bundles are verified at their first lookup). A file that cannot be
  // read is logged and ignored: the next lookup fetches instead.
  void LoadDisk();

  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, absl::Time now) const override;
  // The same for a platform whose PCK was issued by `ca` (the overload above asks for the
  // platform CA's CRL; the verifier checks the CRL's issuer against the PCK either way).
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, PckCa ca, absl::Time now) const;
  // The verifier's form (TdxCollateralProvider, reached through ChainedTdxProvider): the CA it
  // read from the quote's PCK chain, so a Processor-CA platform gets its own CA's CRL.
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, tdx::PckCa ca, absl::Time now) const override;

  // Refreshes every held bundle whose refresh point has passed at `now` (a background thread
  // calls this periodically); returns how many refresh attempts were made.
  int RefreshDue(absl::Time now) const;

  std::vector<BundleStatus> Status() const;
  CacheCounters Counters() const;

 private:
  struct Entry;
  struct Fetched {
    std::shared_ptr<const tdx::VerifiedTdxCollateral> verified;
    tdx::TdxCollateral raw;
    std::string source;
  };

  // Verifies `raw` for (fmspc, ca) at `now`: the core's checks, then that it is this platform's.
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> Accept(
      const tdx::TdxCollateral& raw, const ByteArray<6>& fmspc, PckCa ca,
      absl::Time now) const;
  // Tries each source in order; the first whose bundle verifies wins.
  absl::StatusOr<Fetched> FetchFromSources(const ByteArray<6>& fmspc, PckCa ca,
                                           absl::Time now, bool* all_not_found) const;
  // Runs one fetch for `entry` (the caller marked it in flight) and records the outcome.
  absl::Status FetchInto(Entry& entry, const ByteArray<6>& fmspc, PckCa ca,
                         absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time RefreshPointLocked(const tdx::VerifiedTdxCollateral& c) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Persist(const std::string& key, const Fetched& fetched) const;
  void CountLookup(bool hit) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<PcsSource> sources_;
  const std::shared_ptr<HttpTransport> transport_;
  const std::shared_ptr<const TrustRoots> roots_;
  const Clock* clock_;
  const CacheOptions options_;
  const LogFn log_;

  mutable absl::Mutex mu_;
  mutable std::map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  mutable CacheCounters counters_ ABSL_GUARDED_BY(mu_);
  // Which source may be asked, and their fetches counted into counters_.
  const std::unique_ptr<SourcePacer> pacer_ ABSL_PT_GUARDED_BY(mu_);
  mutable absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_TDX_CACHE_H_
