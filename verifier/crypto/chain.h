// Trust decisions over X.509: certificate paths to a pinned root and CRLs, always at an explicit
// verification time. Errors name the certificate or CRL and the check that failed.
#ifndef TEE_VERIFIER_CRYPTO_CHAIN_H_
#define TEE_VERIFIER_CRYPTO_CHAIN_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/certificate_pool.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {

// Fails with REASON_EXPIRED when `now` lies outside `window`; `item` names what the window
// belongs to ("pck_crl.der", "certificate 'Intel SGX PCK Certificate' (serial ...)").
absl::Status CheckWindow(const ValidityWindow& window, absl::Time now, absl::string_view item);

// Verifies that `leaf` chains through the untrusted `intermediates` (any order) to `root`, the
// only trust anchor, with every certificate valid at `now`. Each link: the issuer's name (and key
// identifier) matches, the issuer is a CA allowed to sign certificates, path length constraints
// hold, no certificate carries a critical extension OpenSSL does not understand, and the
// signature verifies. Returns the window in which the whole path is valid. `what` names the chain
// in errors ("tdx quote pck chain"). With a `pool`, a link verified earlier in the same
// verification is not verified again.
absl::StatusOr<ValidityWindow> VerifyChainToRoot(X509* leaf, absl::Span<X509* const> intermediates,
                                                 X509* root, absl::Time now,
                                                 absl::string_view what,
                                                 CertificatePool* pool = nullptr);

// Checks that `crl` was issued by `issuer` (name and signature) and is current at `now`
// (thisUpdate <= now <= nextUpdate; a CRL without nextUpdate is refused). Returns its window.
absl::StatusOr<ValidityWindow> VerifyCrl(X509_CRL* crl, X509* issuer, absl::Time now,
                                         absl::string_view what);

// Fails with REASON_REVOKED when `cert` is listed on `crl`, which must be from cert's issuer.
absl::Status CheckNotRevoked(X509_CRL* crl, X509* cert, absl::string_view crl_name);

}  // namespace teeverify

#endif  // TEE_VERIFIER_CRYPTO_CHAIN_H_
