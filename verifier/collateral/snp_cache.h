// Live AMD SEV-SNP collateral: VCEKs by (product, hwID, reported TCB), each product's cert_chain
// (ASK + ARK) and CRL, fetched from an ordered list of KDS sources, verified by the core
// (snp/snp_collateral.h) before use or caching, kept in memory and on disk. docs/collateral.md.
//
// Every item has the state machine of the TDX cache (tdx_cache.h): absent -> fetching -> valid
// (-> refreshing -> valid | stale) -> expired. VCEKs and chains never change: they are held
// until their certificates' notAfter (VCEKs bounded in number, least recently used dropped
// first). CRLs are refreshed ahead of nextUpdate and never served past it. One fetch per item
// however many lookups wait (single flight); Retry-After, backoff per source, 404s remembered
// briefly (on disk too, so a restart does not ask again).
#ifndef TEE_VERIFIER_COLLATERAL_SNP_CACHE_H_
#define TEE_VERIFIER_COLLATERAL_SNP_CACHE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "verifier/collateral/kds_client.h"
#include "verifier/collateral/tdx_cache.h"
#include "verifier/snp/snp_collateral.h"

namespace teeverify::collateral {

struct SnpCacheOptions {
  CacheOptions cache;     // directory, refresh, backoff, waits and observer, as for TDX
  size_t max_vceks = 4096;  // VCEKs held in memory
  // false (default): verification goes on without a CRL only while none was ever obtained for
  // the product (e.g. no source serves one); once one is held, past its nextUpdate with no
  // source answering fails closed. true: no SNP verification without a current CRL.
  bool crl_required = false;
};

// What Info and the metrics report per item.
struct SnpItemStatus {
  std::string kind;     // "vcek", "cert_chain", "crl"
  std::string product;  // "Milan", "Genoa", "Turin"
  bool vlek = false;
  std::string hw_id;    // hex, VCEKs only
  std::string tcb;      // REPORTED_TCB hex, VCEKs only
  ItemState state = ItemState::kAbsent;
  std::string source;
  absl::Time not_before = absl::InfinitePast();  // CRL: thisUpdate; certificates: notBefore
  absl::Time not_after = absl::InfinitePast();   // CRL: nextUpdate; certificates: notAfter
  absl::Time refresh_at = absl::InfiniteFuture();
  absl::Time last_refresh = absl::InfinitePast();  // Clock
  std::string last_error;
  bool not_found = false;  // every source answered 404 recently
};

class LiveSnpCollateral : public SnpCollateralProvider {
 public:
  LiveSnpCollateral(std::vector<KdsSource> sources, std::shared_ptr<HttpTransport> transport,
                    std::shared_ptr<const TrustRoots> roots, const Clock* clock,
                    SnpCacheOptions options, LogFn log);
  ~LiveSnpCollateral() override;

  // Reads the disk cache (items are verified at their first lookup); unreadable files are
  // logged and ignored.
  void LoadDisk();

  absl::StatusOr<std::string> VcekFor(const snp::Report& report, snp::Product product,
                                      absl::Time now) const override;
  absl::StatusOr<std::shared_ptr<const snp::VerifiedAmdCrl>> CrlFor(snp::Product product,
                                                                    bool vlek,
                                                                    absl::Time now) const override;

  // Refreshes every held CRL whose refresh point has passed at `now`; returns the attempts.
  int RefreshDue(absl::Time now) const;

  std::vector<SnpItemStatus> Status() const;
  CacheCounters Counters() const;

 private:
  struct Entry;
  struct Held;  // one verified item
  using Verify = std::function<absl::StatusOr<std::shared_ptr<const Held>>(
      const std::string& raw, const std::string& source, absl::Time now)>;

  Entry& EntryLocked(const std::string& key, const std::string& kind, snp::Product product,
                     bool vlek, const std::string& path) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The item valid at `now`: held, read from disk, or fetched once for every waiting lookup.
  absl::StatusOr<std::shared_ptr<const Held>> Obtain(Entry& e, const Verify& verify,
                                                     absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FetchInto(Entry& e, const Verify& verify, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<const Held>> FetchFromSources(const std::string& path,
                                                               const Verify& verify,
                                                               absl::Time now,
                                                               bool* all_not_found) const;
  absl::StatusOr<std::shared_ptr<const Held>> Chain(snp::Product product, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Verify CrlVerifier(snp::Product product, bool vlek) const;
  void Persist(const Entry& e) const;
  // Drops the least recently used VCEK entries (never `keep`) beyond options_.max_vceks.
  void EvictVceksLocked(const Entry* keep) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<KdsSource> sources_;
  const std::shared_ptr<HttpTransport> transport_;
  const std::shared_ptr<const TrustRoots> roots_;
  const Clock* clock_;
  const SnpCacheOptions options_;
  const LogFn log_;

  mutable absl::Mutex mu_;
  mutable std::map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  mutable CacheCounters counters_ ABSL_GUARDED_BY(mu_);
  // Which source may be asked, and their fetches counted into counters_.
  const std::unique_ptr<SourcePacer> pacer_ ABSL_PT_GUARDED_BY(mu_);
  mutable absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t use_counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_SNP_CACHE_H_
