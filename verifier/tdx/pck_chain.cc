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

absl::StatusOr<std::vector<X509Ptr>> ParseChain(absl::string_view pem) {
  ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParsePemCertificates(pem, kWhat));
  if (certs.size() != 3) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": expected 3 certificates (PCK, PCK CA, root), found ",
                                  certs.size()));
  }
  if (!absl::StrContains(SubjectCommonName(certs[0].get()), "SGX PCK Certificate")) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": leaf ", DescribeCertificate(certs[0].get()),
                                  " is not an 'Intel SGX PCK Certificate'"));
  }
  return certs;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const VerifiedPckChain>> VerifyPckChain(absl::string_view pem,
                                                                       X509* intel_root,
                                                                       absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParseChain(pem));
  // The embedded root is only a hint; trust comes from the pinned root alone.
  if (X509_cmp(certs[2].get(), intel_root) != 0) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": root ", DescribeCertificate(certs[2].get()),
                                  " is not the pinned '", SubjectCommonName(intel_root), "'"));
  }
  X509* intermediates[] = {certs[1].get()};
  ASSIGN_OR_RETURN(ValidityWindow window,
                   VerifyChainToRoot(certs[0].get(), intermediates, intel_root, now, kWhat));
  auto out = std::make_shared<VerifiedPckChain>();
  ASSIGN_OR_RETURN(out->extensions, ParsePckExtensions(certs[0].get()));
  out->leaf = std::move(certs[0]);
  out->intermediate = std::move(certs[1]);
  out->window = window;
  return std::shared_ptr<const VerifiedPckChain>(std::move(out));
}

absl::StatusOr<PckExtensions> InspectPckChain(absl::string_view pem) {
  ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParseChain(pem));
  return ParsePckExtensions(certs[0].get());
}

}  // namespace teeverify::tdx
