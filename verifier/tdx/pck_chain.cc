#include "verifier/tdx/pck_chain.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/chain.h"
#include "verifier/crypto/leaf_certificate.h"

namespace teeverify::tdx {
namespace {

constexpr absl::string_view kWhat = "tdx quote pck chain";

// The leaf (parsed on its own, without decoding its key through OpenSSL's decoders: see
// leaf_certificate.h) and the CA and root from the pool.
struct ParsedChain {
  X509Ptr leaf;
  X509* ca = nullptr;
  X509* root = nullptr;
};

absl::StatusOr<ParsedChain> ParseChain(absl::string_view pem, CertificatePool& pool) {
  // Counted before any is parsed (parsing is what costs): a chain of many certificates is refused
  // for its count.
  ASSIGN_OR_RETURN(const std::vector<std::string> ders,
                   PemCertificatesToDer(pem, kWhat, PemForm::kStrict));
  if (ders.size() != 3) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": expected 3 certificates (PCK, PCK CA, root), found ",
                                  ders.size()));
  }
  ParsedChain out;
  ASSIGN_OR_RETURN(out.leaf, ParseLeafCertificate(ders[0], kWhat));
  ASSIGN_OR_RETURN(out.ca, pool.FromDer(ders[1], kWhat));
  ASSIGN_OR_RETURN(out.root, pool.FromDer(ders[2], kWhat));
  if (!absl::StrContains(SubjectCommonName(out.leaf.get()), "SGX PCK Certificate")) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": leaf ", DescribeCertificate(out.leaf.get()),
                                  " is not an 'Intel SGX PCK Certificate'"));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const VerifiedPckChain>> VerifyPckChain(
    absl::string_view pem, X509* intel_root, absl::Time now, CertificatePool* shared_pool) {
  CertificatePool local_pool(intel_root);
  CertificatePool& pool = shared_pool != nullptr ? *shared_pool : local_pool;
  ASSIGN_OR_RETURN(ParsedChain chain, ParseChain(pem, pool));
  X509* leaf = chain.leaf.get();
  // The embedded root is only a hint; trust comes from the pinned root alone (the pool returns
  // it for its exact DER).
  if (chain.root != intel_root) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(kWhat, ": root ", DescribeCertificate(chain.root),
                                  " is not the pinned '", SubjectCommonName(intel_root), "'"));
  }
  X509* intermediates[] = {chain.ca};
  ASSIGN_OR_RETURN(ValidityWindow window,
                   VerifyChainToRoot(leaf, intermediates, intel_root, now, kWhat, &pool));
  auto out = std::make_shared<VerifiedPckChain>();
  ASSIGN_OR_RETURN(out->extensions, ParsePckExtensions(leaf));
  ASSIGN_OR_RETURN(out->leaf_key, LeafEcKey(leaf, Curve::kP256, kWhat));
  out->leaf = std::move(chain.leaf);
  out->intermediate = Share(chain.ca);
  // Intel names its two PCK CAs "... PCK Platform CA" and "... PCK Processor CA".
  out->ca = absl::StrContains(SubjectCommonName(chain.ca), "Processor") ? PckCa::kProcessor
                                                                        : PckCa::kPlatform;
  out->window = window;
  return std::shared_ptr<const VerifiedPckChain>(std::move(out));
}

absl::StatusOr<PckExtensions> InspectPckChain(absl::string_view pem) {
  CertificatePool pool;
  ASSIGN_OR_RETURN(ParsedChain chain, ParseChain(pem, pool));
  return ParsePckExtensions(chain.leaf.get());
}

}  // namespace teeverify::tdx
