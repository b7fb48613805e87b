#include "verifier/collateral/snp_cache.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/cache_pacing.h"
#include "verifier/collateral/snp_cache_entry.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/crypto/chain.h"
#include "verifier/snp/product.h"
#include "verifier/snp/vek_checks.h"

namespace teeverify::collateral {

namespace {

std::string Pem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n > 0 ? n : 0);
}

std::string ItemName(const std::string& kind, snp::Product product, bool vlek,
                     const std::string& hw_id = "") {
  if (kind == "vcek") return absl::StrCat("VCEK of ", snp::ProductName(product), " chip ", hw_id);
  return absl::StrCat("AMD KDS ", vlek ? "vlek " : "vcek ", kind, " of ",
                      snp::ProductName(product));
}

// Counts a lookup and keeps an entry from eviction while it runs.
struct InUse {
  explicit InUse(int& users) : users_(users) { ++users_; }
  ~InUse() { --users_; }
  int& users_;
};

}  // namespace

LiveSnpCollateral::LiveSnpCollateral(std::vector<KdsSource> sources,
                                     std::shared_ptr<HttpTransport> transport,
                                     std::shared_ptr<const TrustRoots> roots, const Clock* clock,
                                     SnpCacheOptions options, LogFn log)
    : sources_(std::move(sources)),
      transport_(std::move(transport)),
      roots_(std::move(roots)),
      clock_(clock),
      options_(std::move(options)),
      log_(std::move(log)),
      pacer_(std::make_unique<SourcePacer>(SourceNames(sources_), &options_.cache, &counters_)) {}

LiveSnpCollateral::~LiveSnpCollateral() = default;

LiveSnpCollateral::Entry& LiveSnpCollateral::EntryLocked(const std::string& key,
                                                         const std::string& kind,
                                                         snp::Product product, bool vlek,
                                                         const std::string& path) const {
  std::unique_ptr<Entry>& slot = entries_[key];
  if (!slot) {
    slot = std::make_unique<Entry>();
    slot->key = key;
    slot->kind = kind;
    slot->product = product;
    slot->vlek = vlek;
    slot->path = path;
    if (kind == "vcek") EvictVceksLocked(slot.get());
  }
  return *slot;
}

void LiveSnpCollateral::EvictVceksLocked(const Entry* keep) const {
  size_t count = 0;
  for (const auto& [key, e] : entries_) count += e->kind == "vcek";
  while (count > options_.max_vceks) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const Entry& e = *it->second;
      // Never the entry being created nor one a lookup is using. Entries that hold nothing (a
      // chip KDS does not know) go too: reports are not signature-checked before their VCEK is
      // asked for, so anyone can make such entries.
      if (e.kind != "vcek" || &e == keep || e.in_flight || e.users > 0) continue;
      if (victim == entries_.end() || e.last_used < victim->second->last_used) victim = it;
    }
    if (victim == entries_.end()) return;
    entries_.erase(victim);
    --count;
  }
}

absl::StatusOr<std::shared_ptr<const LiveSnpCollateral::Held>> LiveSnpCollateral::FetchFromSources(
    const std::string& path, const Verify& verify, absl::Time now, bool* all_not_found) const {
  std::vector<std::string> errors;
  *all_not_found = !sources_.empty();
  for (size_t i = 0; i < sources_.size(); ++i) {
    const KdsSource& source = sources_[i];
    {
      absl::MutexLock lock(&mu_);
      if (std::optional<std::string> deferred = pacer_->Deferred(i, clock_->Now())) {
        errors.push_back(*std::move(deferred));
        *all_not_found = false;
        continue;
      }
    }
    KdsFetch fetched = FetchKds(*transport_, source, path);
    if (fetched.failure) {
      const FetchFailure& f = *fetched.failure;
      if (f.http_status != 404) *all_not_found = false;
      errors.push_back(absl::StrCat(source.name, ": ", f.status.message()));
      absl::MutexLock lock(&mu_);
      pacer_->Failed(i, f.http_status, f.retry_after, clock_->Now(), rng_);
      continue;
    }
    *all_not_found = false;
    absl::StatusOr<std::shared_ptr<const Held>> held = verify(*fetched.body, source.name, now);
    if (!held.ok()) {
      // Another chip's VCEK, a chain or CRL not from the trusted ARK, garbage: never cached.
      errors.push_back(absl::StrCat(source.name, ": served ", path,
                                    " that does not verify: ", held.status().message()));
      log_("error", "collateral_source_rejected",
           {{"source", source.name}, {"path", path},
            {"error", std::string(held.status().message())}});
      absl::MutexLock lock(&mu_);
      pacer_->Rejected(i, clock_->Now(), rng_);
      continue;
    }
    absl::MutexLock lock(&mu_);
    pacer_->Succeeded(i);
    return held;
  }
  if (sources_.empty()) errors.push_back("no AMD collateral source is configured");
  return MakeError(v1::REASON_COLLATERAL_MISSING,
                   absl::StrCat("no source provided ", path, ": ", absl::StrJoin(errors, "; ")));
}

absl::Status LiveSnpCollateral::FetchInto(Entry& e, const Verify& verify, absl::Time now) const {
  e.in_flight = true;
  mu_.Unlock();
  bool all_not_found = false;
  absl::StatusOr<std::shared_ptr<const Held>> fetched =
      FetchFromSources(e.path, verify, now, &all_not_found);
  mu_.Lock();
  e.in_flight = false;
  ++e.generation;
  e.next_attempt = clock_->Now() + options_.cache.min_refresh_interval;
  const std::string item = ItemName(e.kind, e.product, e.vlek, e.hw_id);
  if (fetched.ok()) {
    e.held = *fetched;
    e.last_refresh = clock_->Now();
    e.last_error.clear();
    e.last_status = absl::OkStatus();
    e.expired = false;
    e.not_found_until = absl::InfinitePast();
    e.refresh_at = absl::InfiniteFuture();  // certificates never change
    if (e.kind == "crl") {
      const ValidityWindow& w = e.held->window;
      const double jitter = options_.cache.refresh_jitter > 0
                                ? absl::Uniform(rng_, 0.0, options_.cache.refresh_jitter)
                                : 0.0;
      e.refresh_at = w.not_before + (w.not_after - w.not_before) *
                                        (options_.cache.refresh_fraction - jitter);
    }
    Persist(e);
    log_("info", "collateral_fetched",
         {{"item", item}, {"source", e.held->source},
          {"not_after", FormatRfc3339(e.held->window.not_after)}});
  } else {
    e.last_status = fetched.status();
    e.last_error = std::string(fetched.status().message());
    if (all_not_found) {
      e.not_found_until = clock_->Now() + options_.cache.not_found_ttl;
      if (!e.held) Persist(e);
    }
    log_("warn", e.held ? "collateral_refresh_failed" : "collateral_fetch_failed",
         {{"item", item}, {"error", e.last_error}});
  }
  e.done.SignalAll();
  return e.last_status;
}

absl::StatusOr<std::shared_ptr<const LiveSnpCollateral::Held>> LiveSnpCollateral::Obtain(
    Entry& e, const Verify& verify, absl::Time now) const {
  InUse in_use(e.users);
  e.last_used = ++use_counter_;
  const absl::Time wait_until = absl::Now() + options_.cache.max_wait;
  const std::string item = ItemName(e.kind, e.product, e.vlek, e.hw_id);
  std::optional<uint64_t> waited_for;
  while (true) {
    if (e.disk && !e.in_flight) {
      auto [source, raw] = std::move(*e.disk);
      e.disk.reset();
      absl::StatusOr<std::shared_ptr<const Held>> held = verify(raw, source, now);
      if (held.ok()) {
        e.held = *held;
        if (e.kind == "crl") {
          const ValidityWindow& w = e.held->window;
          e.refresh_at =
              w.not_before + (w.not_after - w.not_before) * options_.cache.refresh_fraction;
        }
      } else {
        log_("warn", "collateral_cache_file_ignored",
             {{"item", item}, {"error", std::string(held.status().message())}});
      }
    }
    if (e.held && e.held->window.Contains(now)) {
      e.expired = false;
      counters_.hits++;
      if (options_.cache.observer) options_.cache.observer->OnLookup(true);
      if (now >= e.refresh_at && !e.in_flight && clock_->Now() >= e.next_attempt) {
        FetchInto(e, verify, now).IgnoreError();  // a failure keeps the held item
        if (e.held->window.Contains(now)) return e.held;
        continue;
      }
      return e.held;
    }
    if (e.held) e.expired = true;
    if (e.in_flight) {
      waited_for = e.generation;
      if (e.done.WaitWithDeadline(&mu_, wait_until)) {
        return MakeError(v1::REASON_COLLATERAL_MISSING,
                         absl::StrCat(item, ": still being fetched after ",
                                      absl::FormatDuration(options_.cache.max_wait)));
      }
      continue;
    }
    if (waited_for && e.generation != *waited_for) break;  // the fetch waited on failed
    if (clock_->Now() < e.not_found_until) break;          // a recent 404 from every source
    counters_.misses++;
    if (options_.cache.observer) options_.cache.observer->OnLookup(false);
    if (FetchInto(e, verify, now).ok() && e.held->window.Contains(now)) return e.held;
    break;
  }
  absl::Status error =
      !e.last_status.ok()
          ? e.last_status
          : MakeError(v1::REASON_COLLATERAL_MISSING,
                      absl::StrCat(item, ": not found at any source (not asked again before ",
                                   FormatRfc3339(e.not_found_until), ")"));
  if (e.held) {
    // Held but not valid at `now` (a CRL past its nextUpdate): name the item and its dates.
    absl::Status window = CheckWindow(e.held->window, now, absl::StrCat(item, " from ", e.held->source));
    if (!window.ok()) {
      return WithContext(window, absl::StrCat("refresh failed (", error.message(), ")"));
    }
  }
  return error;
}

absl::StatusOr<std::shared_ptr<const LiveSnpCollateral::Held>> LiveSnpCollateral::Chain(
    snp::Product product, absl::Time now) const {
  Entry& e = EntryLocked(absl::StrCat("cert_chain-vcek-", snp::ProductName(product)), "cert_chain",
                         product, false, KdsCertChainPath(product, false));
  return Obtain(e,
                [this, product](const std::string& raw, const std::string& source,
                                absl::Time at) -> absl::StatusOr<std::shared_ptr<const Held>> {
                  ASSIGN_OR_RETURN(X509Ptr ask,
                                   snp::VerifyAmdCertChain(*roots_, product, false, raw, at));
                  auto held = std::make_shared<Held>();
                  ASSIGN_OR_RETURN(held->window, CertificateValidity(ask.get()));
                  held->raw = raw;
                  held->source = source;
                  held->cert = std::move(ask);
                  return std::shared_ptr<const Held>(std::move(held));
                },
                now);
}

absl::StatusOr<std::string> LiveSnpCollateral::VcekFor(const snp::Report& report,
                                                       snp::Product product,
                                                       absl::Time now) const {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const std::shared_ptr<const Held> chain, Chain(product, now));
  const std::string hw_id = snp::HwIdOf(report, product);
  if (hw_id.find_first_not_of('\0') == std::string::npos) {
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     "sev-snp: the report's CHIP_ID is masked (all zero), so its VCEK cannot be "
                     "fetched: the evidence must carry it");
  }
  // Nothing is asked for a TCB no VCEK can have been issued for (reserved bits set): the report
  // is not signed-checked yet, and the source must not be backed off for its answer.
  const snp::TcbVersion reported = snp::DecodeTcb(report.reported_tcb, product);
  if (snp::EncodeTcb(reported, product) != report.reported_tcb) {
    return MakeError(v1::REASON_PLATFORM_MISMATCH,
                     absl::StrCat("sev-snp: REPORTED_TCB 0x", absl::Hex(report.reported_tcb),
                                  " sets reserved bits: no VCEK is issued for it"));
  }
  const std::string tcb = absl::StrCat(absl::Hex(report.reported_tcb, absl::kZeroPad16));
  Entry& e = EntryLocked(
      absl::StrCat("vcek-", snp::ProductName(product), "-", HexEncode(hw_id), "-", tcb), "vcek",
      product, false, KdsVcekPath(product, hw_id, reported));
  e.hw_id = HexEncode(hw_id);
  e.tcb = tcb;
  ASSIGN_OR_RETURN(
      const std::shared_ptr<const Held> held,
      Obtain(e,
             [&](const std::string& raw, const std::string& source,
                 absl::Time at) -> absl::StatusOr<std::shared_ptr<const Held>> {
               ASSIGN_OR_RETURN(X509Ptr vcek, ParseCertificate(raw, "VCEK from AMD KDS"));
               auto out = std::make_shared<Held>();
               ASSIGN_OR_RETURN(out->window,
                                snp::VerifyFetchedVcek(*roots_, report, product, vcek.get(),
                                                       chain->cert.get(), at));
               out->raw = raw;
               out->source = source;
               out->bundle = Pem(vcek.get()) + Pem(chain->cert.get());
               out->cert = std::move(vcek);
               return std::shared_ptr<const Held>(std::move(out));
             },
             now));
  return held->bundle;
}

LiveSnpCollateral::Verify LiveSnpCollateral::CrlVerifier(snp::Product product, bool vlek) const {
  return [this, product, vlek](const std::string& raw, const std::string& source,
                               absl::Time at) -> absl::StatusOr<std::shared_ptr<const Held>> {
    ASSIGN_OR_RETURN(std::shared_ptr<const snp::VerifiedAmdCrl> crl,
                     snp::VerifyAmdCrl(*roots_, product, vlek, raw, at));
    auto held = std::make_shared<Held>();
    held->raw = raw;
    held->source = source;
    held->window = crl->window;
    held->crl = std::move(crl);
    return std::shared_ptr<const Held>(std::move(held));
  };
}

absl::StatusOr<std::shared_ptr<const snp::VerifiedAmdCrl>> LiveSnpCollateral::CrlFor(
    snp::Product product, bool vlek, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  Entry& e = EntryLocked(absl::StrCat("crl-", vlek ? "vlek-" : "vcek-", snp::ProductName(product)),
                         "crl", product, vlek, KdsCrlPath(product, vlek));
  absl::StatusOr<std::shared_ptr<const Held>> held = Obtain(e, CrlVerifier(product, vlek), now);
  if (held.ok()) return (*held)->crl;
  // Fail closed once a CRL was held (it is past its nextUpdate and no source answers), or
  // always when a CRL is required; else go on without one, which Info shows.
  if (e.held) return held.status();
  if (options_.crl_required) {
    return WithContext(held.status(), "sev-snp: a current AMD CRL is required (crl_required)");
  }
  return std::shared_ptr<const snp::VerifiedAmdCrl>();
}

int LiveSnpCollateral::RefreshDue(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  int attempts = 0;
  for (auto& [key, entry] : entries_) {
    Entry& e = *entry;
    if (e.kind != "crl" || !e.held || e.in_flight || !e.held->window.Contains(now)) continue;
    if (now < e.refresh_at || clock_->Now() < e.next_attempt) continue;
    InUse in_use(e.users);
    FetchInto(e, CrlVerifier(e.product, e.vlek), now).IgnoreError();
    ++attempts;
  }
  return attempts;
}

std::vector<SnpItemStatus> LiveSnpCollateral::Status() const {
  absl::MutexLock lock(&mu_);
  std::vector<SnpItemStatus> out;
  for (const auto& [key, entry] : entries_) {
    const Entry& e = *entry;
    SnpItemStatus s;
    s.kind = e.kind;
    s.product = std::string(snp::ProductName(e.product));
    s.vlek = e.vlek;
    s.hw_id = e.hw_id;
    s.tcb = e.tcb;
    s.last_refresh = e.last_refresh;
    s.last_error = e.last_error;
    s.not_found = clock_->Now() < e.not_found_until;
    if (e.held) {
      s.source = e.held->source;
      s.not_before = e.held->window.not_before;
      s.not_after = e.held->window.not_after;
      s.refresh_at = e.refresh_at;
    }
    s.state = ItemStateOf(e.held != nullptr, e.expired, e.in_flight, !e.last_error.empty());
    out.push_back(std::move(s));
  }
  return out;
}

CacheCounters LiveSnpCollateral::Counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace teeverify::collateral
