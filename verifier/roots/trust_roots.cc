#include "verifier/roots/trust_roots.h"

#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/hex.h"
#include "verifier/roots/builtin_roots.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {
namespace {

absl::StatusOr<X509Ptr> LoadRoot(RootId id, absl::string_view pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(pem, RootDisplayName(id)));
  if (X509_check_issued(cert.get(), cert.get()) != X509_V_OK) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(RootDisplayName(id), ": root certificate is not self-issued"));
  }
  return cert;
}

}  // namespace

absl::string_view RootFileName(RootId id) {
  switch (id) {
    case RootId::kIntelSgxRootCa:
      return "intel_sgx_root_ca.pem";
    case RootId::kAmdArkMilan:
      return "amd_ark_milan.pem";
    case RootId::kAmdArkGenoa:
      return "amd_ark_genoa.pem";
    case RootId::kAmdArkTurin:
      return "amd_ark_turin.pem";
    case RootId::kAwsNitroEnclavesRootG1:
      return "aws_nitro_enclaves_root_g1.pem";
  }
  return "";
}

absl::string_view RootDisplayName(RootId id) {
  switch (id) {
    case RootId::kIntelSgxRootCa:
      return "Intel SGX Root CA";
    case RootId::kAmdArkMilan:
      return "AMD ARK-Milan";
    case RootId::kAmdArkGenoa:
      return "AMD ARK-Genoa";
    case RootId::kAmdArkTurin:
      return "AMD ARK-Turin";
    case RootId::kAwsNitroEnclavesRootG1:
      return "AWS Nitro Enclaves Root-G1";
  }
  return "";
}

absl::Status CheckBuiltInPin(X509* cert, absl::string_view sha256_of_der, absl::string_view name,
                             absl::string_view kind) {
  const std::string fingerprint = HexEncode(CertificateFingerprint(cert));
  if (fingerprint == sha256_of_der) return absl::OkStatus();
  return MakeError(v1::REASON_INTERNAL, absl::StrCat(name, ": built-in ", kind, " has SHA-256 ",
                                                     fingerprint, ", pinned ", sha256_of_der));
}

absl::StatusOr<std::shared_ptr<const TrustRoots>> TrustRoots::BuiltIn() {
  std::shared_ptr<TrustRoots> roots(new TrustRoots());
  roots->built_in_ = true;
  for (size_t i = 0; i < kBuiltInRootCount; ++i) {
    const BuiltInRoot& root = kBuiltInRoots[i];
    ASSIGN_OR_RETURN(X509Ptr cert, LoadRoot(root.id, root.pem));
    RETURN_IF_ERROR(
        CheckBuiltInPin(cert.get(), root.sha256_of_der, RootDisplayName(root.id), "root"));
    roots->roots_[root.id] = std::move(cert);
  }
  return std::shared_ptr<const TrustRoots>(std::move(roots));
}

absl::StatusOr<std::shared_ptr<const TrustRoots>> TrustRoots::FromPem(
    const std::map<RootId, std::string>& pem_by_id) {
  std::shared_ptr<TrustRoots> roots(new TrustRoots());
  for (const auto& [id, pem] : pem_by_id) {
    ASSIGN_OR_RETURN(roots->roots_[id], LoadRoot(id, pem));
  }
  return std::shared_ptr<const TrustRoots>(std::move(roots));
}

absl::StatusOr<X509*> TrustRoots::Get(RootId id) const {
  auto it = roots_.find(id);
  if (it == roots_.end()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("no trusted root configured for ", RootDisplayName(id)));
  }
  return it->second.get();
}

}  // namespace teeverify
