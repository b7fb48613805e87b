#include "verifier/tdx/pck_chain.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/chain.h"

namespace teeverify::tdx {
namespace {

constexpr absl::string_view kWhat = "tdx quote pck chain";

absl::StatusOr<std::vector<X509*>> ParseChain(absl::string_view pem, CertificatePool& pool) {
  // Counted before any is parsed (parsing is what costs): a chain of many certificates is refused
  // for its count.
  ASSIGN_OR_RETURN(const std::vector<std::string> ders,
                   PemCertificatesToDer(pem, kWhat, PemForm::kStrict));
  if (ders.size() != 3) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": expected 3 certificates (PCK, PCK CA, root), found ",
                                  ders.size()));
  }
  std::vector<X509*> certs;
  for (const std::string& der : ders) {
    ASSIGN_OR_RETURN(X509* cert, pool.FromDer(der, kWhat));
    certs.push_back(cert);
  }
  if (!absl::StrContains(SubjectCommonName(certs[0]), "SGX PCK Certificate")) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": leaf ", DescribeCertificate(certs[0]),
                                  " is not an 'Intel SGX PCK Certificate'"));
  }
  return certs;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const VerifiedPckChain>> VerifyPckChain(
    absl::string_view pem, X509* intel_root, absl::Time now, CertificatePool* shared_pool) {
  CertificatePool local_pool(intel_root);
  CertificatePool& pool = shared_pool != nullptr ? *shared_pool : local_pool;
  ASSIGN_OR_RETURN(std::vector<X509*> certs, ParseChain(pem, pool));
  // The embedded root is only a hint; trust comes from the pinned root alone (the pool returns
  // it for its exact DER).
  if (certs[2] != intel_root) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": root ", DescribeCertificate(certs[2]),
                                  " is not the pinned '", SubjectCommonName(intel_root), "'"));
  }
  X509* intermediates[] = {certs[1]};
  ASSIGN_OR_RETURN(ValidityWindow window,
                   VerifyChainToRoot(certs[0], intermediates, intel_root, now, kWhat, &pool));
  auto out = std::make_shared<VerifiedPckChain>();
  ASSIGN_OR_RETURN(out->extensions, ParsePckExtensions(certs[0]));
  out->leaf = Share(certs[0]);
  out->intermediate = Share(certs[1]);
  // Intel names its two PCK CAs "... PCK Platform CA" and "... PCK Processor CA".
  out->ca = absl::StrContains(SubjectCommonName(certs[1]), "Processor") ? PckCa::kProcessor
                                                                        : PckCa::kPlatform;
  out->window = window;
  return std::shared_ptr<const VerifiedPckChain>(std::move(out));
}

absl::StatusOr<PckExtensions> InspectPckChain(absl::string_view pem) {
  CertificatePool pool;
  ASSIGN_OR_RETURN(std::vector<X509*> certs, ParseChain(pem, pool));
  return ParsePckExtensions(certs[0]);
}

}  // namespace teeverify::tdx
