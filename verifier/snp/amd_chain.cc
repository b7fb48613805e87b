#include "verifier/snp/amd_chain.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/certificate_pool.h"
#include "verifier/crypto/chain.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/roots/builtin_roots.h"
#include "verifier/snp/amd_certs.h"
#include "verifier/snp/product.h"

namespace teeverify::snp {
namespace {

absl::Status ChainError(absl::string_view message) {
  return MakeError(v1::REASON_CERT_CHAIN_INVALID, absl::StrCat("sev-snp certificate chain: ", message));
}

std::string ExpectedIntermediateName(Product product, bool vlek) {
  return absl::StrCat(vlek ? "SEV-VLEK-" : "SEV-", ProductName(product));
}

// AMD signs ASKs, ASVKs, VCEKs and VLEKs with RSASSA-PSS, SHA-384, MGF1-SHA-384 and a 48-byte
// salt; OpenSSL would accept other RSA signatures too, so the algorithm is pinned here.
absl::Status CheckSignatureAlgorithm(X509* cert, absl::string_view role) {
  int md_nid = NID_undef, pk_nid = NID_undef, bits = 0;
  uint32_t flags = 0;
  const bool known = X509_get_signature_info(cert, &md_nid, &pk_nid, &bits, &flags) == 1;
  ClearOpenSslErrors();
  if (X509_get_signature_nid(cert) != NID_rsassaPss || !known || md_nid != NID_sha384 ||
      (flags & X509_SIG_INFO_TLS) == 0) {
    return ChainError(absl::StrCat(role, " ", DescribeCertificate(cert),
                                   " is not signed with RSASSA-PSS SHA-384 (MGF1 SHA-384, salt 48)"));
  }
  return absl::OkStatus();
}

absl::Status CheckP384Key(X509* vek, absl::string_view role) {
  if (!IsEcKeyOn(X509_get0_pubkey(vek), Curve::kP384)) {
    return ChainError(absl::StrCat(role, " ", DescribeCertificate(vek),
                                   " does not hold an ECDSA P-384 key"));
  }
  return absl::OkStatus();
}

absl::Status CheckName(X509* cert, absl::string_view role, absl::string_view expected) {
  const std::string cn = SubjectCommonName(cert);
  if (cn != expected) {
    return ChainError(absl::StrCat("the ", role, " is ", DescribeCertificate(cert), ", expected '",
                                   expected, "'"));
  }
  return absl::OkStatus();
}

// The root for `product` must be that product's ARK: AMD's, or a test root that is not any of
// AMD's ARKs (a Genoa ARK configured as the Milan root is a configuration error, refused).
absl::StatusOr<bool> RootIsAmdArk(X509* root, Product product) {
  if (IsAmdArk(root, product)) return true;
  for (Product other : kAllProducts) {
    if (other != product && IsAmdArk(root, other)) {
      return ChainError(absl::StrCat("the root configured for ", ProductName(product), " is AMD's ",
                                     SubjectCommonName(root), ", the ARK of ",
                                     ProductName(other)));
    }
  }
  return false;
}

}  // namespace

absl::string_view IntermediateRole(bool vlek) { return vlek ? "ASVK" : "ASK"; }
absl::string_view LeafRole(bool vlek) { return vlek ? "VLEK" : "VCEK"; }

bool IsAmdArk(X509* cert, Product product) {
  const std::string fingerprint = HexEncode(CertificateFingerprint(cert));
  for (size_t i = 0; i < kBuiltInRootCount; ++i) {
    if (kBuiltInRoots[i].id == ArkRootId(product)) {
      return fingerprint == kBuiltInRoots[i].sha256_of_der;
    }
  }
  return false;
}

namespace {

// The compiled-in ASKs and ASVKs, parsed and checked against their pins once per process: in
// OpenSSL 3 parsing a certificate with an RSA-4096 key costs more than verifying a signature
// with it. Shared read-only; callers take their own reference.
const std::vector<absl::StatusOr<X509Ptr>>& ParsedBuiltInIntermediates() {
  static const auto* parsed = [] {
    auto* out = new std::vector<absl::StatusOr<X509Ptr>>();
    for (size_t i = 0; i < kBuiltInAmdIntermediateCount; ++i) {
      const BuiltInAmdIntermediate& b = kBuiltInAmdIntermediates[i];
      absl::StatusOr<X509Ptr> cert = ParseCertificate(b.pem, b.common_name);
      if (cert.ok()) {
        if (absl::Status pin = CheckBuiltInPin(cert->get(), b.sha256_of_der, b.common_name,
                                               "certificate");
            !pin.ok()) {
          cert = pin;
        }
      }
      out->push_back(std::move(cert));
    }
    return out;
  }();
  return *parsed;
}

}  // namespace

absl::StatusOr<X509Ptr> BuiltInIntermediate(Product product, bool vlek) {
  const std::vector<absl::StatusOr<X509Ptr>>& parsed = ParsedBuiltInIntermediates();
  for (size_t i = 0; i < kBuiltInAmdIntermediateCount; ++i) {
    const BuiltInAmdIntermediate& b = kBuiltInAmdIntermediates[i];
    if (b.product != product || b.vlek != vlek) continue;
    if (!parsed[i].ok()) return parsed[i].status();
    return Share(parsed[i]->get());
  }
  return MakeError(v1::REASON_INTERNAL, "no built-in AMD intermediate for this product");
}

absl::StatusOr<ValidityWindow> VerifyAmdChain(const TrustRoots& roots, Product product, bool vlek,
                                              const AmdChainCertificates& certs, absl::Time now) {
  const absl::string_view leaf_role = LeafRole(vlek), ask_role = IntermediateRole(vlek);
  if (certs.vek == nullptr) return ChainError(absl::StrCat("no ", leaf_role, " certificate"));
  ASSIGN_OR_RETURN(X509* root, roots.Get(ArkRootId(product)));
  ASSIGN_OR_RETURN(const bool amd_root, RootIsAmdArk(root, product));

  // 1. An ARK carried with the evidence is only a hint: it must be the trusted one.
  if (certs.ark != nullptr && X509_cmp(certs.ark, root) != 0) {
    return ChainError(absl::StrCat("the ARK carried with the evidence, ",
                                   DescribeCertificate(certs.ark), ", is not the trusted ",
                                   ProductName(product), " root '", SubjectCommonName(root), "'"));
  }

  // 2. The ASK/ASVK: AMD's pinned one under AMD's ARK; the carried one under a test ARK.
  X509Ptr builtin;
  X509* intermediate = certs.intermediate;
  if (amd_root) {
    ASSIGN_OR_RETURN(builtin, BuiltInIntermediate(product, vlek));
    if (intermediate != nullptr && X509_cmp(intermediate, builtin.get()) != 0) {
      return ChainError(absl::StrCat("the ", ask_role, " carried with the evidence, ",
                                     DescribeCertificate(intermediate), ", is not AMD's ",
                                     SubjectCommonName(builtin.get()), " (pinned SHA-256 ",
                                     HexEncode(CertificateFingerprint(builtin.get())), ")"));
    }
    intermediate = builtin.get();
  } else if (intermediate == nullptr) {
    return ChainError(absl::StrCat("no ", ask_role, ": the trusted ", ProductName(product),
                                   " root '", SubjectCommonName(root),
                                   "' is not AMD's ARK, so the ", ask_role,
                                   " must come with the evidence (certificate table or --cert)"));
  }

  // 3. The shape AMD gives the chain: names, signature algorithms, the P-384 key.
  RETURN_IF_ERROR(CheckName(intermediate, ask_role, ExpectedIntermediateName(product, vlek)));
  RETURN_IF_ERROR(CheckName(certs.vek, leaf_role, vlek ? "SEV-VLEK" : "SEV-VCEK"));
  RETURN_IF_ERROR(CheckSignatureAlgorithm(intermediate, ask_role));
  RETURN_IF_ERROR(CheckSignatureAlgorithm(certs.vek, leaf_role));
  RETURN_IF_ERROR(CheckP384Key(certs.vek, leaf_role));

  // 4. Path validation at `now`. VCEKs and VLEKs have serial number 0; OpenSSL accepts that and
  // nothing else about them needs relaxing.
  X509* intermediates[] = {intermediate};
  return VerifyChainToRoot(certs.vek, intermediates, root, now,
                           absl::StrCat("sev-snp ", leaf_role, " chain"));
}

}  // namespace teeverify::snp
