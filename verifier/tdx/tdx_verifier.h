// Verifies a TDX quote end to end, as Intel's Quote Verification Library does: quote and QE
// report signatures, the QE binding, the PCK chain to the pinned Intel root, both CRLs, the
// signed TCB info and QE identity with their windows, and the TCB status; all at `now`.
#ifndef TEE_VERIFIER_TDX_TDX_VERIFIER_H_
#define TEE_VERIFIER_TDX_TDX_VERIFIER_H_

#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/claims/claims.h"
#include "verifier/common/expiring_cache.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/collateral.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote.h"

namespace teeverify {

// Where a verifier finds verified collateral for a platform, by FMSPC (the sidecar reads a
// directory of PCS responses and keeps what verified until it expires).
class TdxCollateralProvider {
 public:
  virtual ~TdxCollateralProvider() = default;
  virtual absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, absl::Time now) const = 0;
  // The same for a platform whose PCK was issued by `ca`: a provider that fetches collateral
  // needs it to ask for the right PCK CRL. (The verifier checks the CRL's issuer either way.)
  virtual absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>& fmspc, tdx::PckCa ca, absl::Time now) const {
    return ForPlatform(fmspc, now);
  }
};

// An EC public key built from raw X||Y, shared read-only between threads.
struct CachedKey {
  EvpPkeyPtr key;
};

// What a server keeps between TDX verifications of the same platform: verified PCK chains (by
// their PEM) and attestation keys (by X||Y; a quoting enclave reuses its key across quotes).
// Revocation and every per-quote signature are still checked on each call.
struct TdxCaches {
  explicit TdxCaches(size_t capacity) : pck_chains(capacity), attestation_keys(capacity) {}
  ExpiringCache<tdx::VerifiedPckChain> pck_chains;
  ExpiringCache<CachedKey> attestation_keys;
};

// Immutable and thread-safe (the optional cache is internally synchronized).
class TdxVerifier {
 public:
  // With `caches`, a PCK chain verified once is reused while all its certificates are valid;
  // revocation is still checked against the collateral on every call.
  explicit TdxVerifier(std::shared_ptr<const TrustRoots> roots,
                       std::shared_ptr<TdxCaches> caches = nullptr)
      : roots_(std::move(roots)), caches_(std::move(caches)) {}

  absl::StatusOr<VerifiedClaims> Verify(absl::string_view quote, const tdx::TdxCollateral& collateral,
                                        absl::Time now) const;

  // The same with collateral verified beforehand (e.g. once per platform by a server).
  absl::StatusOr<VerifiedClaims> Verify(absl::string_view quote,
                                        const tdx::VerifiedTdxCollateral& collateral,
                                        absl::Time now) const;

  // The same with collateral chosen by the platform's FMSPC (from the verified PCK certificate).
  absl::StatusOr<VerifiedClaims> Verify(absl::string_view quote,
                                        const TdxCollateralProvider& provider,
                                        absl::Time now) const;

  // The checks that need no collateral: the PCK chain to the pinned root (without revocation),
  // the QE report signature and binding, the quote signature. Not a verification: the QE
  // identity, revocation and TCB status need the collateral (used before it for Azure TDX).
  absl::Status VerifySignatures(absl::string_view quote, absl::Time now) const;

  // Parses the quote and reads its PCK certificate's FMSPC without verifying anything. The
  // claims are for display (tee-verify --inspect) and must never be trusted.
  static absl::StatusOr<Claims> Inspect(absl::string_view quote, absl::Time now);

 private:
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedPckChain>> PckChain(
      const tdx::Quote& quote, absl::Time now, CertificatePool* pool = nullptr) const;
  absl::StatusOr<VerifiedClaims> VerifyWithChain(const tdx::Quote& quote,
                                                 const tdx::VerifiedPckChain& pck,
                                                 const tdx::VerifiedTdxCollateral& collateral,
                                                 absl::Time now) const;

  absl::StatusOr<std::shared_ptr<const CachedKey>> AttestationKey(const tdx::Quote& quote) const;
  absl::Status CheckSignatures(const tdx::Quote& quote, const tdx::VerifiedPckChain& pck) const;

  std::shared_ptr<const TrustRoots> roots_;
  std::shared_ptr<TdxCaches> caches_;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_TDX_TDX_VERIFIER_H_
