// The items LiveSnpCollateral holds (snp_cache.cc) and keeps on disk (snp_cache_disk.cc).
#ifndef TEE_VERIFIER_COLLATERAL_SNP_CACHE_ENTRY_H_
#define TEE_VERIFIER_COLLATERAL_SNP_CACHE_ENTRY_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "verifier/collateral/snp_cache.h"

namespace teeverify::collateral {

// The disk cache's files: snp-KEY.json in the cache directory.
inline constexpr char kSnpCacheFilePrefix[] = "snp-";

// One verified item: what was fetched and what the core made of it.
struct LiveSnpCollateral::Held {
  std::string raw;     // as served (DER VCEK, PEM cert_chain, DER CRL)
  std::string source;
  X509Ptr cert;        // VCEK, or the chain's ASK
  std::string bundle;  // VCEK: its PEM then the ASK's (SnpVerifier's certificate bundle)
  std::shared_ptr<const snp::VerifiedAmdCrl> crl;
  ValidityWindow window;
};

struct LiveSnpCollateral::Entry {
  std::string key, kind, path, hw_id, tcb;
  snp::Product product = snp::Product::kMilan;
  bool vlek = false;
  std::shared_ptr<const Held> held;
  std::optional<std::pair<std::string, std::string>> disk;  // (source, raw), verified at first use
  bool in_flight = false;
  int users = 0;  // lookups holding a reference (an entry in use is never evicted)
  uint64_t generation = 0;
  uint64_t last_used = 0;
  absl::Status last_status;
  std::string last_error;
  bool expired = false;
  absl::Time refresh_at = absl::InfiniteFuture();
  absl::Time next_attempt = absl::InfinitePast();     // Clock
  absl::Time not_found_until = absl::InfinitePast();  // Clock
  absl::Time last_refresh = absl::InfinitePast();     // Clock
  absl::CondVar done;
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_SNP_CACHE_ENTRY_H_
