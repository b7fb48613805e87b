// The sidecar's TDX collateral: bundles of Intel PCS responses read from a directory (the
// directory itself and each subdirectory holding tcb_info_response.json), indexed by the FMSPC of
// their TCB info. A bundle is verified when first needed and reused until its window closes;
// an expired bundle is verified again so that the error names the expired item.
//
// Newest collateral wins: bundles of one FMSPC are tried newest TCB info first, and a newer
// bundle that failed verification (say, issued a few seconds in the future) is tried again on a
// later lookup before the older bundle serves, at most once per kRecheckInterval of verification
// time. A TCB recovery or a new PCK CRL is therefore used at most kRecheckInterval after it
// becomes valid, without SIGHUP, and a newer bundle that keeps failing costs one verification per
// interval, not one per login.
#ifndef TEE_VERIFIER_SERVER_COLLATERAL_STORE_H_
#define TEE_VERIFIER_SERVER_COLLATERAL_STORE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify::server {

class CollateralStore : public TdxCollateralProvider {
 public:
  // How long a bundle that failed verification is left untried while an older bundle of its
  // FMSPC serves. With no older bundle to serve, every lookup tries every bundle (the login
  // fails anyway, and its error names what is wrong now).
  static constexpr absl::Duration kRecheckInterval = absl::Seconds(60);

  CollateralStore(std::string dir, std::shared_ptr<const TrustRoots> roots)
      : dir_(std::move(dir)), roots_(std::move(roots)) {}

  // (Re)reads the directory. A bundle that cannot be read is skipped and reported by
  // LoadProblems (one bad download must not take every other platform down; nothing of it is
  // used). A missing or unreadable directory is an error that leaves the bundles loaded before
  // unchanged.
  absl::Status Reload();

  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, absl::Time now) const override;

  // "b0c06f000000 (dcap-qvl-2025-06, TCB info nextUpdate 2025-07-19T10:16:03Z)" per bundle.
  std::vector<std::string> Describe() const;

  // Per FMSPC (hex), when what serves it stops being valid: the end of the newest verified
  // bundle's window, or before any verification the newest TCB info's nextUpdate (metrics).
  std::map<std::string, absl::Time> NextUpdates() const;

  // Problems found by the last Reload (bundles skipped).
  std::vector<std::string> LoadProblems() const;

 private:
  struct Bundle {
    std::string name;
    tdx::TdxCollateral raw;
    absl::Time next_update;
    mutable std::shared_ptr<const tdx::VerifiedTdxCollateral> verified;  // guarded by mu_
    // Verification time of the last failed verification, if the last one failed (guarded by mu_).
    mutable std::optional<absl::Time> failed_at;
  };

  // Reads the bundle directory `path` and parses its TCB info (verification waits for first
  // use): its FMSPC (hex) and the bundle.
  static absl::StatusOr<std::pair<std::string, std::shared_ptr<Bundle>>> ReadBundle(
      const std::string& path, std::string name);

  // COLLATERAL_MISSING for an FMSPC no bundle serves, naming what the store holds and skipped.
  absl::Status NoBundleError(const std::string& fmspc) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const std::shared_ptr<const TrustRoots> roots_;
  mutable absl::Mutex mu_;
  // FMSPC (hex) -> bundles, newest TCB info first.
  std::map<std::string, std::vector<std::shared_ptr<Bundle>>> bundles_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> problems_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teeverify::server

#endif  // TEE_VERIFIER_SERVER_COLLATERAL_STORE_H_
