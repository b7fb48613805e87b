#include "verifier/nitro/nitro_chain.h"

#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/certificate_pool.h"
#include "verifier/crypto/chain.h"
#include "verifier/crypto/leaf_certificate.h"

namespace teeverify::nitro {
namespace {

// The document carries DER only; PEM text inside a byte string is not a certificate here.
absl::StatusOr<X509Ptr> ParseDer(absl::string_view der, absl::string_view field) {
  return ParseDerCertificate(der, absl::StrCat("nitro document ", field));
}

absl::Status NotIssued(X509* cert, absl::string_view cert_field, X509* issuer,
                       absl::string_view issuer_field, absl::string_view why) {
  return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                   absl::StrCat(kChainWhat, ": ", cert_field, " ", DescribeCertificate(cert),
                                " is not issued by ", issuer_field, " ",
                                DescribeCertificate(issuer), " (", why, ")"));
}

// `issuer` issued `cert` by name, key identifiers and key usage. The signature is checked with
// the rest of the path (VerifyChainToRoot), so that each signature is verified once.
absl::Status CheckIssuedByName(X509* cert, absl::string_view cert_field, X509* issuer,
                               absl::string_view issuer_field) {
  const int rc = X509_check_issued(issuer, cert);
  if (rc != X509_V_OK) {
    return NotIssued(cert, cert_field, issuer, issuer_field, X509_verify_cert_error_string(rc));
  }
  return absl::OkStatus();
}

// One link of the documented order, by position: cabundle[i] by cabundle[i-1], the leaf
// ("certificate", i == n) by cabundle[n-1].
struct Link {
  X509* child;
  X509* issuer;
  size_t index;
};

std::string Field(size_t index, size_t bundle_size) {
  return index == bundle_size ? "certificate" : absl::StrCat("cabundle[", index, "]");
}

// The cabundle's certificates: cabundle[0] is recognized as the pinned root by its bytes (and then
// not parsed again), every other entry is parsed.
absl::StatusOr<std::shared_ptr<VerifiedNitroBundle>> ParseBundle(const AttestationPayload& payload,
                                                                 X509* root) {
  auto bundle = std::make_shared<VerifiedNitroBundle>();
  const std::string root_der = CertificateDer(root);
  for (size_t i = 0; i < payload.cabundle.size(); ++i) {
    if (i == 0 && payload.cabundle[0] == root_der) {
      bundle->certificates.push_back(Share(root));
      continue;
    }
    ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(payload.cabundle[i], absl::StrCat("cabundle[", i, "]")));
    bundle->certificates.push_back(std::move(cert));
  }
  if (bundle->certificates.empty()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID, absl::StrCat(kChainWhat, ": cabundle is empty"));
  }

  // The bundle starts at the pinned root, byte for byte: a look-alike root is not the root.
  X509* first = bundle->certificates[0].get();
  if (payload.cabundle[0] != root_der) {
    return MakeError(
        v1::REASON_CERT_CHAIN_INVALID,
        absl::StrCat(kChainWhat, ": cabundle[0] ", DescribeCertificate(first), " (sha256 ",
                     HexEncode(CertificateFingerprint(first)), ") is not the pinned root ",
                     DescribeCertificate(root), " (sha256 ",
                     HexEncode(CertificateFingerprint(root)), ")"));
  }
  return bundle;
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

absl::StatusOr<VerifiedNitroChain> VerifyNitroChain(
    const AttestationPayload& payload, X509* root, absl::Time now,
    std::shared_ptr<const VerifiedNitroBundle> verified_bundle) {
  VerifiedNitroChain out;
  // The leaf signs the document and issues nothing: parsed without decoding its key through
  // OpenSSL's decoders, its P-384 key built from its point (leaf_certificate.h).
  ASSIGN_OR_RETURN(out.leaf, ParseLeafCertificate(payload.certificate, "nitro document certificate"));
  absl::StatusOr<EvpPkeyPtr> key = LeafEcKey(out.leaf.get(), Curve::kP384, "certificate");
  if (!key.ok()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("nitro document: signing certificate ",
                                  DescribeCertificate(out.leaf.get()),
                                  " does not hold an EC P-384 key, which ES384 requires"));
  }
  out.leaf_key = *std::move(key);

  // 1. The bundle starts at the pinned root (ParseBundle), unless it verified before.
  std::shared_ptr<const VerifiedNitroBundle> bundle = verified_bundle;
  std::shared_ptr<VerifiedNitroBundle> parsed;
  if (bundle == nullptr) {
    ASSIGN_OR_RETURN(parsed, ParseBundle(payload, root));
    bundle = parsed;
  }
  const std::vector<X509Ptr>& certs = bundle->certificates;
  std::vector<Link> links;  // the documented order, root first
  for (size_t i = 1; i < certs.size(); ++i) links.push_back({certs[i].get(), certs[i - 1].get(), i});
  links.push_back({out.leaf.get(), certs.back().get(), certs.size()});

  // 2. The order AWS documents: each entry issued by the one before, the leaf by the last. The
  //    links of a bundle that verified before are taken as verified (names, path and signature).
  CertificatePool pool;
  for (const Link& link : links) {
    const bool leaf_link = link.index == certs.size();
    if (verified_bundle != nullptr && !leaf_link) {
      pool.MarkLinkVerified(link.child, link.issuer);
      continue;
    }
    RETURN_IF_ERROR(CheckIssuedByName(link.child, Field(link.index, certs.size()), link.issuer,
                                      Field(link.index - 1, certs.size())));
  }

  // 3. Windows (each certificate named when expired), path validation and signatures at `now`.
  std::vector<X509*> intermediates;
  for (size_t i = 1; i < certs.size(); ++i) intermediates.push_back(certs[i].get());
  ASSIGN_OR_RETURN(out.window,
                   VerifyChainToRoot(out.leaf.get(), intermediates, root, now, kChainWhat, &pool));
  ASSIGN_OR_RETURN(out.leaf_window, CertificateValidity(out.leaf.get()));

  // 4. The path that verified is the documented order; a link it did not take (only possible
  //    with look-alike names in the bundle) must still carry a valid signature.
  bool path_is_documented_order = true;
  for (const Link& link : links) {
    if (pool.IsLinkVerified(link.child, link.issuer)) continue;
    path_is_documented_order = false;
    EVP_PKEY* key = X509_get0_pubkey(link.issuer);
    if (key == nullptr || X509_verify(link.child, key) != 1) {
      ClearOpenSslErrors();
      return NotIssued(link.child, Field(link.index, certs.size()), link.issuer,
                       Field(link.index - 1, certs.size()), "signature does not verify");
    }
  }
  if (path_is_documented_order) {
    if (parsed != nullptr) {
      for (const X509Ptr& cert : certs) {
        ASSIGN_OR_RETURN(const ValidityWindow w, CertificateValidity(cert.get()));
        parsed->window.Intersect(w);
      }
    }
    out.bundle = std::move(bundle);
  }
  return out;
}

}  // namespace teeverify::nitro
