#include "verifier/nitro/nitro_chain.h"

#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/chain.h"

namespace teeverify::nitro {
namespace {

// The document carries DER only; PEM text inside a byte string is not a certificate here.
absl::StatusOr<X509Ptr> ParseDer(absl::string_view der, absl::string_view field) {
  const std::string what = absl::StrCat("nitro document ", field);
  if (der.empty() || static_cast<uint8_t>(der[0]) != 0x30) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": not a DER certificate"));
  }
  return ParseCertificate(der, what);
}

// `issuer` issued `cert` (names, key identifiers, key usage) and signed it.
absl::Status CheckIssued(X509* cert, absl::string_view cert_field, X509* issuer,
                         absl::string_view issuer_field) {
  const int rc = X509_check_issued(issuer, cert);
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (rc != X509_V_OK || key == nullptr || X509_verify(cert, key) != 1) {
    ClearOpenSslErrors();
    return MakeError(
        v1::REASON_CERT_CHAIN_INVALID,
        absl::StrCat(kChainWhat, ": ", cert_field, " ", DescribeCertificate(cert),
                     " is not issued by ", issuer_field, " ", DescribeCertificate(issuer),
                     rc != X509_V_OK ? absl::StrCat(" (", X509_verify_cert_error_string(rc), ")")
                                     : " (signature does not verify)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<X509Ptr>> ParseNitroCertificates(const AttestationPayload& payload) {
  std::vector<X509Ptr> certs;
  ASSIGN_OR_RETURN(X509Ptr leaf, ParseDer(payload.certificate, "certificate"));
  certs.push_back(std::move(leaf));
  for (size_t i = payload.cabundle.size(); i-- > 0;) {
    ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(payload.cabundle[i], absl::StrCat("cabundle[", i, "]")));
    certs.push_back(std::move(cert));
  }
  return certs;
}

absl::StatusOr<VerifiedNitroChain> VerifyNitroChain(const AttestationPayload& payload, X509* root,
                                                    absl::Time now) {
  VerifiedNitroChain out;
  ASSIGN_OR_RETURN(out.leaf, ParseDer(payload.certificate, "certificate"));
  std::vector<X509Ptr> bundle;
  for (size_t i = 0; i < payload.cabundle.size(); ++i) {
    ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(payload.cabundle[i], absl::StrCat("cabundle[", i, "]")));
    bundle.push_back(std::move(cert));
  }
  if (bundle.empty()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID, absl::StrCat(kChainWhat, ": cabundle is empty"));
  }

  // 1. The bundle starts at the pinned root, byte for byte: a look-alike root is not the root.
  if (CertificateDer(bundle[0].get()) != CertificateDer(root)) {
    return MakeError(
        v1::REASON_CERT_CHAIN_INVALID,
        absl::StrCat(kChainWhat, ": cabundle[0] ", DescribeCertificate(bundle[0].get()),
                     " (sha256 ", HexEncode(CertificateFingerprint(bundle[0].get())),
                     ") is not the pinned root ", DescribeCertificate(root), " (sha256 ",
                     HexEncode(CertificateFingerprint(root)), ")"));
  }

  // 2. The order AWS documents: each entry issued by the one before, the leaf by the last.
  for (size_t i = 1; i < bundle.size(); ++i) {
    RETURN_IF_ERROR(CheckIssued(bundle[i].get(), absl::StrCat("cabundle[", i, "]"),
                                bundle[i - 1].get(), absl::StrCat("cabundle[", i - 1, "]")));
  }
  RETURN_IF_ERROR(CheckIssued(out.leaf.get(), "certificate", bundle.back().get(),
                              absl::StrCat("cabundle[", bundle.size() - 1, "]")));

  // 3. Windows (each certificate named when expired) and path validation at `now`.
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < bundle.size(); ++i) intermediates.push_back(bundle[i].get());
  ASSIGN_OR_RETURN(out.window,
                   VerifyChainToRoot(out.leaf.get(), intermediates, root, now, kChainWhat));
  ASSIGN_OR_RETURN(out.leaf_window, CertificateValidity(out.leaf.get()));
  return out;
}

}  // namespace teeverify::nitro
