#include "verifier/crypto/certificate_pool.h"

#include "verifier/common/status_macros.h"
#include "verifier/roots/known_intermediates.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {

CertificatePool::CertificatePool(X509* known) : known_(known) {
  if (known_ != nullptr) known_der_ = CertificateDer(known_);
}

absl::StatusOr<X509*> CertificatePool::FromDer(absl::string_view der, absl::string_view what) {
  if (known_ != nullptr && der == known_der_) return known_;
  if (X509* intermediate = FindKnownIntermediate(der)) return intermediate;
  if (auto it = parsed_.find(der); it != parsed_.end()) return it->second.get();
  ASSIGN_OR_RETURN(X509Ptr cert, ParseDerCertificate(der, what));
  X509* raw = cert.get();
  parsed_.emplace(std::string(der), std::move(cert));
  return raw;
}

absl::StatusOr<std::vector<X509*>> CertificatePool::FromPem(absl::string_view pem,
                                                            absl::string_view what,
                                                            PemForm form) {
  ASSIGN_OR_RETURN(std::vector<std::string> ders, PemCertificatesToDer(pem, what, form));
  std::vector<X509*> out;
  for (const std::string& der : ders) {
    ASSIGN_OR_RETURN(X509* cert, FromDer(der, what));
    out.push_back(cert);
  }
  return out;
}

X509Ptr Share(X509* cert) {
  X509_up_ref(cert);
  return X509Ptr(cert);
}

}  // namespace teeverify
