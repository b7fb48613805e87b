#include "verifier/server/metrics.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/collateral/tdx_cache.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/server/collateral_store.h"
#include "verifier/tdx/tcb_status.h"

namespace teeverify::server {
namespace {

// Intel's statuses in the order of how much they ask of the platform's owner; a TCB level the
// early TCB info does not list at all is past all of them.
int Severity(absl::string_view status) {
  const std::optional<tdx::TcbStatus> parsed = tdx::ParseTcbStatus(status);
  return parsed ? static_cast<int>(*parsed) : static_cast<int>(tdx::TcbStatus::kRevoked) + 1;
}

// A deadline as two gauges filled together: NAME_seconds (seconds until it at the scrape,
// negative once passed) and NAME_timestamp_seconds (its Unix time).
class DeadlineGauges {
 public:
  DeadlineGauges(const std::string& name, const std::string& what)
      : until_{name + "_seconds", "Seconds until " + what + " (negative: expired)",
               prometheus::MetricType::Gauge, {}},
        at_{name + "_timestamp_seconds", "Unix time of " + what, prometheus::MetricType::Gauge,
            {}} {}

  void Add(std::vector<prometheus::ClientMetric::Label> labels, absl::Time deadline,
           absl::Time now) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = absl::ToDoubleSeconds(deadline - now);
    until_.metric.push_back(m);
    m.gauge.value = static_cast<double>(absl::ToUnixSeconds(deadline));
    at_.metric.push_back(std::move(m));
  }
  void MoveInto(std::vector<prometheus::MetricFamily>& families) {
    families.push_back(std::move(until_));
    families.push_back(std::move(at_));
  }

 private:
  prometheus::MetricFamily until_;
  prometheus::MetricFamily at_;
};

// The AMD CRLs held live, per product and signing key (VCEK or VLEK): their nextUpdate. Past it
// with no source answering, SNP verification fails closed (docs/collateral.md, "AMD CRLs"), so
// this is what to alert on.
void AddAmdCrlGauges(const std::vector<collateral::SnpItemStatus>& items, absl::Time now,
                     std::vector<prometheus::MetricFamily>& families) {
  DeadlineGauges gauges("tee_collateral_amd_crl_next_update",
                        "the nextUpdate of the AMD CRL held for a product and signing key");
  for (const collateral::SnpItemStatus& item : items) {
    if (item.kind != "crl" || item.not_after == absl::InfinitePast()) continue;
    gauges.Add({{"product", item.product}, {"key", item.vlek ? "vlek" : "vcek"}}, item.not_after,
               now);
  }
  gauges.MoveInto(families);
}

// Seconds until, and the time of, the earliest nextUpdate of the collateral held per FMSPC, and
// the live TCB info's evaluation numbers, computed at each scrape (a gauge set at fetch time
// would not move as the deadline nears).
class CollateralCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::map<std::pair<std::string, std::string>, absl::Time> earliest;  // (store, fmspc)
    auto note = [&](const std::string& store, const std::string& fmspc, absl::Time t) {
      if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return;
      auto [it, added] = earliest.emplace(std::make_pair(store, fmspc), t);
      if (!added && t < it->second) it->second = t;
    };
    std::shared_ptr<const collateral::LiveTdxCollateral> live;
    std::shared_ptr<const CollateralStore> store;
    std::shared_ptr<const collateral::LiveSnpCollateral> live_snp;
    {
      absl::MutexLock lock(&mu_);
      live = live_.lock();
      store = store_.lock();
      live_snp = live_snp_.lock();
    }
    prometheus::MetricFamily evaluation{
        "tee_tdx_tcb_evaluation_data_number",
        "The TCB evaluation data number of the live TDX TCB info held for an FMSPC, by channel "
        "(early above standard: a TCB recovery is announced)",
        prometheus::MetricType::Gauge,
        {}};
    auto number = [&](const collateral::BundleStatus& b, const char* channel, uint32_t n) {
      if (n == 0) return;
      prometheus::ClientMetric m;
      m.label = {{"fmspc", b.fmspc}, {"pck_ca", b.pck_ca}, {"channel", channel}};
      m.gauge.value = n;
      evaluation.metric.push_back(std::move(m));
    };
    if (live) {
      for (const collateral::BundleStatus& b : live->Status()) {
        note("live", b.fmspc, b.next_update);
        number(b, "standard", b.tcb_evaluation_data_number);
        number(b, "early", b.tcb_evaluation_data_number_early);
      }
    }
    if (store) {
      for (const auto& [fmspc, t] : store->NextUpdates()) note("collateral_dir", fmspc, t);
    }
    DeadlineGauges next_update("tee_collateral_next_update",
                               "the earliest nextUpdate of the TDX collateral held for an FMSPC");
    const absl::Time now = absl::Now();
    for (const auto& [key, t] : earliest) {
      next_update.Add({{"store", key.first}, {"fmspc", key.second}}, t, now);
    }
    std::vector<prometheus::MetricFamily> families = {std::move(evaluation)};
    next_update.MoveInto(families);
    if (live_snp) AddAmdCrlGauges(live_snp->Status(), now, families);
    return families;
  }

  void Watch(std::weak_ptr<const collateral::LiveTdxCollateral> live,
             std::weak_ptr<const CollateralStore> store,
             std::weak_ptr<const collateral::LiveSnpCollateral> live_snp) {
    absl::MutexLock lock(&mu_);
    live_ = std::move(live);
    store_ = std::move(store);
    live_snp_ = std::move(live_snp);
  }

 private:
  mutable absl::Mutex mu_;
  std::weak_ptr<const collateral::LiveTdxCollateral> live_ ABSL_GUARDED_BY(mu_);
  std::weak_ptr<const CollateralStore> store_ ABSL_GUARDED_BY(mu_);
  std::weak_ptr<const collateral::LiveSnpCollateral> live_snp_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::optional<EarlyTcbOutcome> EarlyTcbEvaluation(const Claims& claims) {
  if (!claims.tdx || !claims.tdx->tcb || !claims.tdx->tcb->early || !claims.tdx->fmspc ||
      !claims.tdx->ppid) {
    return std::nullopt;
  }
  EarlyTcbOutcome out;
  out.fmspc = HexEncode(*claims.tdx->fmspc);
  // Only in memory, as a map key; 8 bytes of the digest keep distinct platforms apart.
  const ByteArray<32> digest = Sha256(absl::string_view(
      reinterpret_cast<const char*>(claims.tdx->ppid->data()), claims.tdx->ppid->size()));
  out.platform.assign(reinterpret_cast<const char*>(digest.data()), 8);
  out.downgraded =
      Severity(claims.tdx->tcb->early->tcb_status) > Severity(claims.tcb_status);
  return out;
}

// The distinct platforms the early TCB info downgrades, per FMSPC, computed at each scrape: the
// number of hosts to patch before the standard channel switches (docs/tcb-recovery.md).
class EarlyPlatformsCollector : public prometheus::Collectable {
 public:
  void Observe(const EarlyTcbOutcome& o, absl::Time now) {
    absl::MutexLock lock(&mu_);
    const std::pair<std::string, std::string> key{o.fmspc, o.platform};
    if (!o.downgraded) {
      seen_.erase(key);
      return;
    }
    auto it = seen_.find(key);
    if (it != seen_.end()) {
      it->second = now;
      return;
    }
    PruneLocked(now);
    // Bounded: past the cap the gauge is a lower bound, and says so through its help text.
    if (seen_.size() < Metrics::kMaxEarlyPlatforms) seen_.emplace(key, now);
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(&mu_);
    PruneLocked(absl::Now());
    std::map<std::string, int> per_fmspc;
    for (const auto& [key, last_seen] : seen_) ++per_fmspc[key.first];
    prometheus::MetricFamily family{
        "tee_tdx_tcb_early_downgrade_platforms",
        absl::StrCat("Distinct TDX platforms (by PPID), seen in the last ",
                     absl::FormatDuration(Metrics::kEarlyPlatformWindow),
                     ", that the early TCB info rates worse than the standard one, by FMSPC "
                     "(at most ", Metrics::kMaxEarlyPlatforms, " are tracked)"),
        prometheus::MetricType::Gauge,
        {}};
    for (const auto& [fmspc, n] : per_fmspc) {
      prometheus::ClientMetric m;
      m.label = {{"fmspc", fmspc}};
      m.gauge.value = n;
      family.metric.push_back(std::move(m));
    }
    return {std::move(family)};
  }

 private:
  void PruneLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = now - it->second > Metrics::kEarlyPlatformWindow ? seen_.erase(it) : std::next(it);
    }
  }

  mutable absl::Mutex mu_;
  // (FMSPC, platform) -> when last seen downgraded.
  mutable std::map<std::pair<std::string, std::string>, absl::Time> seen_ ABSL_GUARDED_BY(mu_);
};

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<CollateralCollector> next_update = std::make_shared<CollateralCollector>();
  std::shared_ptr<EarlyPlatformsCollector> early_platforms =
      std::make_shared<EarlyPlatformsCollector>();
  prometheus::Family<prometheus::Counter>& fetches =
      prometheus::BuildCounter()
          .Name("tee_collateral_fetches_total")
          .Help("Attempts to fetch a TDX collateral bundle from one source, by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& lookups =
      prometheus::BuildCounter()
          .Name("tee_collateral_cache_lookups_total")
          .Help("Live TDX collateral lookups: result hit (served from the cache) or miss (fetched)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("tee_verifier_requests_total")
          .Help("Answered Verify and Evaluate calls by TEE, outcome and reason")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram()
          .Name("tee_verifier_evaluate_duration_seconds")
          .Help("Time to answer an Evaluate call, waiting for a verification slot included")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& early =
      prometheus::BuildCounter()
          .Name("tee_tdx_tcb_early_downgrades_total")
          .Help("Evaluations of TDX platforms that the early TCB info (the next evaluation "
                "number) rates worse than the standard one, by FMSPC")
          .Register(*registry);
  // Last: stopped (its threads joined) before what it serves is destroyed.
  std::unique_ptr<prometheus::Exposer> exposer;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::Watch(std::weak_ptr<const collateral::LiveTdxCollateral> live,
                    std::weak_ptr<const CollateralStore> store,
                    std::weak_ptr<const collateral::LiveSnpCollateral> live_snp) {
  impl_->next_update->Watch(std::move(live), std::move(store), std::move(live_snp));
}

absl::StatusOr<int> Metrics::Serve(const std::string& listen) {
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("--metrics-listen ", listen, ": cannot listen: ", e.what()));
  }
  impl_->exposer->RegisterCollectable(impl_->registry);
  impl_->exposer->RegisterCollectable(impl_->next_update);
  impl_->exposer->RegisterCollectable(impl_->early_platforms);
  const std::vector<int> ports = impl_->exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen ", listen, ": no port bound"));
  }
  return ports.front();
}

void Metrics::OnFetch(absl::string_view source, collateral::FetchOutcome outcome) {
  impl_->fetches
      .Add({{"source", std::string(source)},
            {"outcome", std::string(collateral::FetchOutcomeName(outcome))}})
      .Increment();
}

void Metrics::OnLookup(bool hit) {
  impl_->lookups.Add({{"result", hit ? "hit" : "miss"}}).Increment();
}

void Metrics::CountRequest(absl::string_view rpc, absl::string_view tee,
                           absl::string_view outcome, absl::string_view reason) {
  impl_->requests
      .Add({{"rpc", std::string(rpc)},
            {"tee", std::string(tee)},
            {"outcome", std::string(outcome)},
            {"reason", std::string(reason)}})
      .Increment();
}

void Metrics::ObserveEvaluateLatency(absl::string_view tee, absl::Duration took) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  impl_->latency.Add({{"tee", std::string(tee)}}, kBuckets).Observe(absl::ToDoubleSeconds(took));
}

void Metrics::ObserveEarlyTcb(const EarlyTcbOutcome& outcome) {
  if (outcome.downgraded) impl_->early.Add({{"fmspc", outcome.fmspc}}).Increment();
  impl_->early_platforms->Observe(outcome, absl::Now());
}

}  // namespace teeverify::server
