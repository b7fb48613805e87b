// Parses each distinct certificate once per pool. In OpenSSL 3, parsing a certificate decodes
// its public key through the provider decoders, which costs more than an ECDSA verification; a
// cold TDX verification meets only three distinct certificates but reads nine (the root in every
// issuer chain, the TCB Signing certificate twice, the PCK CA twice). Known certificates (the
// pinned roots) are recognized by their DER bytes and never parsed again. Not thread-safe: one
// pool per verification.
#ifndef TEE_VERIFIER_CRYPTO_CERTIFICATE_POOL_H_
#define TEE_VERIFIER_CRYPTO_CERTIFICATE_POOL_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {

class CertificatePool {
 public:
  // `known` (may be null) is returned for its own DER without parsing; not owned.
  explicit CertificatePool(X509* known = nullptr);

  // The certificate with this DER, parsed on first use; owned by the pool.
  absl::StatusOr<X509*> FromDer(absl::string_view der, absl::string_view what);

  // Every certificate of a PEM bundle, in order (see PemCertificatesToDer for the forms).
  absl::StatusOr<std::vector<X509*>> FromPem(absl::string_view pem, absl::string_view what,
                                             PemForm form = PemForm::kLenient);

  // Chain links (child signed by issuer) already verified during this verification.
  bool IsLinkVerified(X509* child, X509* issuer) const {
    return verified_links_.count({child, issuer}) > 0;
  }
  void MarkLinkVerified(X509* child, X509* issuer) { verified_links_.insert({child, issuer}); }

 private:
  std::map<std::string, X509Ptr, std::less<>> parsed_;
  std::set<std::pair<X509*, X509*>> verified_links_;
  std::string known_der_;
  X509* known_ = nullptr;
};

// A new reference to `cert`, for holders that outlive the pool.
X509Ptr Share(X509* cert);

}  // namespace teeverify

#endif  // TEE_VERIFIER_CRYPTO_CERTIFICATE_POOL_H_
