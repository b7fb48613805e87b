// The sidecar's TDX collateral sources in order: the local --collateral-dir first (an admin's
// pinned or air-gapped bundles), then the live cache of PCS/PCCS sources. The first provider
// that has valid collateral for the platform answers; when none does, the error names each.
#ifndef TEE_VERIFIER_SERVER_CHAINED_PROVIDER_H_
#define TEE_VERIFIER_SERVER_CHAINED_PROVIDER_H_

#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify::server {

class ChainedTdxProvider : public TdxCollateralProvider {
 public:
  // Non-owning; null entries are skipped.
  explicit ChainedTdxProvider(std::vector<const TdxCollateralProvider*> providers) {
    for (const TdxCollateralProvider* p : providers) {
      if (p != nullptr) providers_.push_back(p);
    }
  }
  bool empty() const { return providers_.empty(); }

  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, absl::Time now) const override {
    return ForPlatform(fmspc, tdx::PckCa::kPlatform, now);
  }
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, tdx::PckCa ca, absl::Time now) const override {
    absl::Status first;
    for (const TdxCollateralProvider* p : providers_) {
      absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> c =
          p->ForPlatform(fmspc, ca, now);
      if (c.ok()) return c;
      // The last provider's reason stands (the live sources are the last resort); the local
      // directory's message is kept in front of it.
      first = first.ok() ? c.status()
                         : WithContext(c.status(), absl::StrCat(first.message(), "; then"));
    }
    return first;
  }

 private:
  std::vector<const TdxCollateralProvider*> providers_;
};

}  // namespace teeverify::server

#endif  // TEE_VERIFIER_SERVER_CHAINED_PROVIDER_H_
