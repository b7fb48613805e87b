#include "verifier/collateral/tdx_cache.h"

#include <openssl/x509.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/atomic_file.h"
#include "verifier/collateral/cache_pacing.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/io/files.h"

namespace teeverify::collateral {
namespace fs = std::filesystem;

struct LiveTdxCollateral::Entry {
  std::string fmspc;  // hex
  PckCa ca = PckCa::kPlatform;
  std::shared_ptr<const tdx::VerifiedTdxCollateral> verified;
  tdx::TdxCollateral raw;                  // what `verified` was made from
  std::optional<tdx::TdxCollateral> disk;  // read from disk, verified at its first lookup
  std::string source;
  bool in_flight = false;
  uint64_t generation = 0;  // completed fetches
  absl::Status last_status;
  std::string last_error;
  bool expired = false;  // at the last lookup
  absl::Time refresh_at = absl::InfiniteFuture();
  absl::Time next_attempt = absl::InfinitePast();     // Clock
  absl::Time not_found_until = absl::InfinitePast();  // Clock
  absl::Time last_refresh = absl::InfinitePast();     // Clock
  absl::CondVar done;
};

namespace {

constexpr char kCacheFilePrefix[] = "tdx-";

std::string Key(absl::string_view fmspc_hex, PckCa ca) {
  return absl::StrCat(fmspc_hex, "-", PckCaName(ca));
}

// The bundle as one JSON file: every item base64 under its --collateral file name.
std::string Serialize(const std::string& source, const tdx::TdxCollateral& raw) {
  nlohmann::ordered_json doc;
  doc["version"] = 1;
  doc["source"] = source;
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    doc["items"][std::string(item.file)] = absl::Base64Escape(raw.*item.bytes);
  }
  if (!raw.tcb_info_early_response.empty()) {
    doc["items"][std::string(tdx::kTcbInfoEarlyFile)] =
        absl::Base64Escape(raw.tcb_info_early_response);
  }
  return doc.dump(1);
}

// A bundle file is {"version", "source", "items": {"<file>": "<base64>", ...}}: depth 2. Deeper
// input is refused by ParseJson's linear scan before anything is built from it.
constexpr int kMaxBundleFileDepth = 2;

absl::StatusOr<std::pair<std::string, tdx::TdxCollateral>> Deserialize(const std::string& text) {
  absl::StatusOr<Json> parsed =
      ParseJson(text, "collateral cache file", v1::REASON_COLLATERAL_INVALID, kMaxBundleFileDepth);
  if (!parsed.ok()) return parsed.status();
  Json& doc = *parsed;
  if (!doc.is_object() || !doc.contains("items") ||
      !doc["items"].is_object() || !doc.value("source", nlohmann::json()).is_string()) {
    return absl::InvalidArgumentError("not a collateral cache file");
  }
  tdx::TdxCollateral raw;
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    const auto it = doc["items"].find(std::string(item.file));
    if (it == doc["items"].end() || !it->is_string() ||
        !absl::Base64Unescape(it->get<std::string>(), &(raw.*item.bytes))) {
      return absl::InvalidArgumentError(absl::StrCat("item ", item.file, " missing or not base64"));
    }
  }
  // Optional: the early channel's TCB info.
  const auto early = doc["items"].find(std::string(tdx::kTcbInfoEarlyFile));
  if (early != doc["items"].end() &&
      (!early->is_string() ||
       !absl::Base64Unescape(early->get<std::string>(), &raw.tcb_info_early_response))) {
    return absl::InvalidArgumentError(absl::StrCat("item ", tdx::kTcbInfoEarlyFile, " not base64"));
  }
  return std::make_pair(doc["source"].get<std::string>(), std::move(raw));
}

bool CrlWindow(X509_CRL* crl, absl::Time* from, absl::Time* to) {
  return crl != nullptr && Asn1TimeToAbsl(X509_CRL_get0_lastUpdate(crl), from) &&
         X509_CRL_get0_nextUpdate(crl) != nullptr &&
         Asn1TimeToAbsl(X509_CRL_get0_nextUpdate(crl), to);
}

}  // namespace

const char* ItemStateName(ItemState state) {
  switch (state) {
    case ItemState::kAbsent: return "absent";
    case ItemState::kFetching: return "fetching";
    case ItemState::kValid: return "valid";
    case ItemState::kRefreshing: return "refreshing";
    case ItemState::kStale: return "stale";
    case ItemState::kExpired: return "expired";
  }
  return "unknown";
}

LiveTdxCollateral::LiveTdxCollateral(std::vector<PcsSource> sources,
                                     std::shared_ptr<HttpTransport> transport,
                                     std::shared_ptr<const TrustRoots> roots, const Clock* clock,
                                     CacheOptions options, LogFn log)
    : sources_(std::move(sources)),
      transport_(std::move(transport)),
      roots_(std::move(roots)),
      clock_(clock),
      options_(std::move(options)),
      log_(std::move(log)),
      pacer_(std::make_unique<SourcePacer>(SourceNames(sources_), &options_, &counters_)) {}

LiveTdxCollateral::~LiveTdxCollateral() = default;

void LiveTdxCollateral::LoadDisk() {
  if (options_.cache_dir.empty()) return;
  std::error_code ec;
  fs::create_directories(options_.cache_dir, ec);
  fs::directory_iterator it(options_.cache_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, kCacheFilePrefix) || !absl::EndsWith(name, ".json")) continue;
    const std::string key = name.substr(4, name.size() - 4 - 5);
    const size_t dash = key.find('-');
    const std::string fmspc = key.substr(0, dash);
    const std::string ca = dash == std::string::npos ? "" : key.substr(dash + 1);
    absl::StatusOr<std::string> text = ReadFileBytes(it->path().string(), 1 << 20);
    absl::StatusOr<std::pair<std::string, tdx::TdxCollateral>> bundle =
        text.ok() ? Deserialize(*text) : absl::StatusOr<std::pair<std::string, tdx::TdxCollateral>>(
                                              text.status());
    if (bundle.ok() && (fmspc.size() != 12 || (ca != "platform" && ca != "processor"))) {
      bundle = absl::InvalidArgumentError("file name is not tdx-<fmspc>-<platform|processor>.json");
    }
    if (!bundle.ok()) {
      log_("warn", "collateral_cache_file_ignored",
           {{"file", it->path().string()}, {"error", std::string(bundle.status().message())}});
      continue;
    }
    absl::MutexLock lock(&mu_);
    auto& entry = entries_[key];
    if (!entry) entry = std::make_unique<Entry>();
    entry->fmspc = fmspc;
    entry->ca = ca == "platform" ? PckCa::kPlatform : PckCa::kProcessor;
    entry->source = bundle->first;
    entry->disk = std::move(bundle->second);
  }
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> VerifyBundleFor(
    const tdx::TdxCollateral& raw, X509* intel_root, const ByteArray<6>& fmspc, PckCa ca,
    absl::Time now) {
  ASSIGN_OR_RETURN(std::shared_ptr<const tdx::VerifiedTdxCollateral> verified,
                   tdx::VerifyTdxCollateral(raw, intel_root, now));
  if (verified->tcb_info.fmspc != fmspc) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(tdx::kTcbInfoFile, ": TCB info is for FMSPC ",
                                  HexEncode(verified->tcb_info.fmspc), ", not the requested ",
                                  HexEncode(fmspc), " (another platform's)"));
  }
  const std::string issuer = SubjectCommonName(verified->pck_crl_issuer.get());
  const bool processor = absl::StrContains(issuer, "Processor");
  if (processor != (ca == PckCa::kProcessor)) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(tdx::kPckCrlFile, ": issued by '", issuer, "', not the PCK ",
                                  PckCaName(ca), " CA"));
  }
  return verified;
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> LiveTdxCollateral::Accept(
    const tdx::TdxCollateral& raw, const ByteArray<6>& fmspc, PckCa ca,
    absl::Time now) const {
  ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kIntelSgxRootCa));
  return VerifyBundleFor(raw, root, fmspc, ca, now);
}

absl::Time LiveTdxCollateral::RefreshPointLocked(const tdx::VerifiedTdxCollateral& c) const {
  std::vector<std::pair<absl::Time, absl::Time>> windows = {
      {c.tcb_info.issue_date, c.tcb_info.next_update},
      {c.qe_identity.issue_date, c.qe_identity.next_update}};
  for (X509_CRL* crl : {c.pck_crl.get(), c.root_ca_crl.get()}) {
    absl::Time from, to;
    if (CrlWindow(crl, &from, &to)) windows.emplace_back(from, to);
  }
  absl::Time at = c.window.not_after;
  const double jitter =
      options_.refresh_jitter > 0 ? absl::Uniform(rng_, 0.0, options_.refresh_jitter) : 0.0;
  for (const auto& [from, to] : windows) {
    if (to <= from) continue;
    at = std::min(at, from + (to - from) * (options_.refresh_fraction - jitter));
  }
  return at;
}

void LiveTdxCollateral::CountLookup(bool hit) const {
  ++(hit ? counters_.hits : counters_.misses);
  if (options_.observer) options_.observer->OnLookup(hit);
}

absl::StatusOr<LiveTdxCollateral::Fetched> LiveTdxCollateral::FetchFromSources(
    const ByteArray<6>& fmspc, PckCa ca, absl::Time now, bool* all_not_found) const {
  std::vector<std::string> errors;
  *all_not_found = !sources_.empty();
  for (size_t i = 0; i < sources_.size(); ++i) {
    const PcsSource& source = sources_[i];
    {
      absl::MutexLock lock(&mu_);
      if (std::optional<std::string> deferred = pacer_->Deferred(i, clock_->Now())) {
        errors.push_back(*std::move(deferred));
        *all_not_found = false;
        continue;
      }
    }
    FetchResult result = FetchTdxCollateral(*transport_, source, fmspc, ca);
    if (result.failure) {
      const FetchFailure& f = *result.failure;
      const bool not_found = f.http_status == 404;
      if (!not_found) *all_not_found = false;
      errors.push_back(absl::StrCat(source.name, ": ", f.item, ": ", f.status.message()));
      absl::MutexLock lock(&mu_);
      pacer_->Failed(i, f.http_status, f.retry_after, clock_->Now(), rng_);
      continue;
    }
    *all_not_found = false;
    if (!result.early_error.empty()) {
      log_("info", "collateral_early_tcb_info_unavailable",
           {{"source", source.name}, {"fmspc", HexEncode(fmspc)}, {"error", result.early_error}});
    }
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> verified =
        Accept(*result.collateral, fmspc, ca, now);
    if (!verified.ok() && !result.collateral->tcb_info_early_response.empty()) {
      // The early TCB info only feeds the early warning: one that does not verify is dropped
      // (and logged), and the standard bundle is judged on its own.
      tdx::TdxCollateral standard = *result.collateral;
      standard.tcb_info_early_response.clear();
      absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> alone =
          Accept(standard, fmspc, ca, now);
      if (alone.ok()) {
        log_("warn", "collateral_early_tcb_info_rejected",
             {{"source", source.name}, {"fmspc", HexEncode(fmspc)},
              {"error", std::string(verified.status().message())}});
        *result.collateral = std::move(standard);
        verified = std::move(alone);
      }
    }
    if (!verified.ok()) {
      // Badly signed, expired or another platform's data: never cached; the next source is tried.
      errors.push_back(absl::StrCat(source.name, ": served collateral that does not verify: ",
                                    verified.status().message()));
      log_("error", "collateral_source_rejected",
           {{"source", source.name}, {"fmspc", HexEncode(fmspc)}, {"pck_ca", PckCaName(ca)},
            {"error", std::string(verified.status().message())}});
      absl::MutexLock lock(&mu_);
      pacer_->Rejected(i, clock_->Now(), rng_);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      pacer_->Succeeded(i);
    }
    return Fetched{*std::move(verified), *std::move(result.collateral), source.name};
  }
  if (sources_.empty()) errors.push_back("no collateral source is configured");
  return MakeError(v1::REASON_COLLATERAL_MISSING,
                   absl::StrCat("no source provided TDX collateral for FMSPC ", HexEncode(fmspc),
                                " (PCK ", PckCaName(ca), " CA): ", absl::StrJoin(errors, "; ")));
}

void LiveTdxCollateral::Persist(const std::string& key, const Fetched& fetched) const {
  if (options_.cache_dir.empty()) return;
  const std::string path = absl::StrCat(options_.cache_dir, "/", kCacheFilePrefix, key, ".json");
  if (absl::Status s = WriteFileAtomically(path, Serialize(fetched.source, fetched.raw)); !s.ok()) {
    log_("warn", "collateral_cache_write_failed",
         {{"file", path}, {"error", std::string(s.message())}});
  }
}

absl::Status LiveTdxCollateral::FetchInto(Entry& e, const ByteArray<6>& fmspc, PckCa ca,
                                          absl::Time now) const {
  e.in_flight = true;
  mu_.Unlock();
  bool all_not_found = false;
  absl::StatusOr<Fetched> fetched = FetchFromSources(fmspc, ca, now, &all_not_found);
  if (fetched.ok()) Persist(Key(e.fmspc, ca), *fetched);
  mu_.Lock();
  e.in_flight = false;
  ++e.generation;
  e.next_attempt = clock_->Now() + options_.min_refresh_interval;
  if (fetched.ok()) {
    e.verified = fetched->verified;
    e.raw = std::move(fetched->raw);
    e.source = fetched->source;
    e.refresh_at = RefreshPointLocked(*e.verified);
    e.last_refresh = clock_->Now();
    e.last_error.clear();
    e.last_status = absl::OkStatus();
    e.expired = false;
    log_("info", "collateral_fetched",
         {{"fmspc", e.fmspc}, {"pck_ca", PckCaName(ca)}, {"source", e.source},
          {"tcb_evaluation_data_number", e.verified->tcb_info.tcb_evaluation_data_number},
          {"tcb_evaluation_data_number_early",
           e.verified->tcb_info_early ? e.verified->tcb_info_early->tcb_evaluation_data_number
                                      : 0},
          {"next_update", FormatRfc3339(e.verified->window.not_after)},
          {"refresh_at", FormatRfc3339(e.refresh_at)}});
  } else {
    e.last_status = fetched.status();
    e.last_error = std::string(fetched.status().message());
    if (all_not_found) e.not_found_until = clock_->Now() + options_.not_found_ttl;
    log_("warn", e.verified ? "collateral_refresh_failed" : "collateral_fetch_failed",
         {{"fmspc", e.fmspc}, {"pck_ca", PckCaName(ca)}, {"error", e.last_error}});
  }
  e.done.SignalAll();
  return e.last_status;
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> LiveTdxCollateral::ForPlatform(
    const ByteArray<6>& fmspc, tdx::PckCa ca, absl::Time now) const {
  return ForPlatform(fmspc, ca == tdx::PckCa::kProcessor ? PckCa::kProcessor : PckCa::kPlatform,
                     now);
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> LiveTdxCollateral::ForPlatform(
    const ByteArray<6>& fmspc, absl::Time now) const {
  return ForPlatform(fmspc, PckCa::kPlatform, now);
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> LiveTdxCollateral::ForPlatform(
    const ByteArray<6>& fmspc, PckCa ca, absl::Time now) const {
  const std::string fmspc_hex = HexEncode(fmspc);
  const std::string key = Key(fmspc_hex, ca);
  const absl::Time wait_until = absl::Now() + options_.max_wait;
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Entry>& slot = entries_[key];
  if (!slot) {
    slot = std::make_unique<Entry>();
    slot->fmspc = fmspc_hex;
    slot->ca = ca;
  }
  Entry& e = *slot;
  std::optional<uint64_t> waited_for;  // the generation this lookup waited on
  while (true) {
    if (e.disk && !e.in_flight) {
      tdx::TdxCollateral raw = std::move(*e.disk);
      e.disk.reset();
      absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> verified =
          Accept(raw, fmspc, ca, now);
      if (verified.ok()) {
        e.verified = *verified;
        e.raw = std::move(raw);
        e.refresh_at = RefreshPointLocked(*e.verified);
      } else {
        log_("warn", "collateral_cache_file_ignored",
             {{"fmspc", fmspc_hex}, {"pck_ca", PckCaName(ca)},
              {"error", std::string(verified.status().message())}});
      }
    }
    if (e.verified && e.verified->window.Contains(now)) {
      e.expired = false;
      CountLookup(/*hit=*/true);
      if (now >= e.refresh_at && !e.in_flight && clock_->Now() >= e.next_attempt) {
        // This lookup pays for the refresh; concurrent ones are served the held bundle. A
        // failure keeps the held bundle, which is still valid at `now`.
        FetchInto(e, fmspc, ca, now).IgnoreError();
        if (e.verified->window.Contains(now)) return e.verified;
        continue;
      }
      return e.verified;
    }
    if (e.verified) e.expired = true;
    if (e.in_flight) {
      waited_for = e.generation;
      if (e.done.WaitWithDeadline(&mu_, wait_until)) {
        return MakeError(v1::REASON_COLLATERAL_MISSING,
                         absl::StrCat("TDX collateral for FMSPC ", fmspc_hex,
                                      ": still being fetched after ",
                                      absl::FormatDuration(options_.max_wait)));
      }
      continue;
    }
    if (waited_for && e.generation != *waited_for) break;  // the fetch waited on failed
    if (clock_->Now() < e.not_found_until) break;          // a recent 404 from every source
    CountLookup(/*hit=*/false);
    if (FetchInto(e, fmspc, ca, now).ok() && e.verified->window.Contains(now)) return e.verified;
    break;
  }
  // Nothing valid at `now`. An expired bundle names the item that expired.
  absl::Status error = e.last_status.ok()
                           ? MakeError(v1::REASON_COLLATERAL_MISSING,
                                       absl::StrCat("no TDX collateral for FMSPC ", fmspc_hex))
                           : e.last_status;
  if (e.verified) {
    ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kIntelSgxRootCa));
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> again =
        tdx::VerifyTdxCollateral(e.raw, root, now);
    if (!again.ok()) {
      return WithContext(again.status(),
                         absl::StrCat("TDX collateral for FMSPC ", fmspc_hex, " (held from ",
                                      e.source, "; refresh failed: ", error.message(), ")"));
    }
  }
  return error;
}

int LiveTdxCollateral::RefreshDue(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  int attempts = 0;
  for (auto& [key, entry] : entries_) {
    Entry& e = *entry;
    if (!e.verified || e.in_flight || !e.verified->window.Contains(now)) continue;
    if (now < e.refresh_at || clock_->Now() < e.next_attempt) continue;
    ByteArray<6> fmspc = e.verified->tcb_info.fmspc;
    FetchInto(e, fmspc, e.ca, now).IgnoreError();
    ++attempts;
  }
  return attempts;
}

std::vector<BundleStatus> LiveTdxCollateral::Status() const {
  absl::MutexLock lock(&mu_);
  std::vector<BundleStatus> out;
  for (const auto& [key, entry] : entries_) {
    const Entry& e = *entry;
    BundleStatus s;
    s.fmspc = e.fmspc;
    s.pck_ca = PckCaName(e.ca);
    s.source = e.source;
    s.last_refresh = e.last_refresh;
    s.last_error = e.last_error;
    if (e.verified) {
      s.tcb_info_issue_date = e.verified->tcb_info.issue_date;
      s.tcb_info_next_update = e.verified->tcb_info.next_update;
      s.next_update = e.verified->window.not_after;
      s.refresh_at = e.refresh_at;
      s.tcb_evaluation_data_number = e.verified->tcb_info.tcb_evaluation_data_number;
      if (e.verified->tcb_info_early) {
        s.tcb_evaluation_data_number_early = e.verified->tcb_info_early->tcb_evaluation_data_number;
      }
    }
    s.state = ItemStateOf(e.verified != nullptr, e.expired, e.in_flight, !e.last_error.empty());
    out.push_back(std::move(s));
  }
  return out;
}

CacheCounters LiveTdxCollateral::Counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace teeverify::collateral
