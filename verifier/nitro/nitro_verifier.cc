#include "verifier/nitro/nitro_verifier.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/nitro/cose.h"
#include "verifier/nitro/document_input.h"
#include "verifier/nitro/document_parser.h"
#include "verifier/nitro/nitro_chain.h"
#include "verifier/nitro/nitro_claims.h"

namespace teeverify {
namespace {

using nitro::AttestationDocument;

absl::StatusOr<AttestationDocument> Parse(absl::string_view input) {
  ASSIGN_OR_RETURN(const std::string cose, nitro::DocumentBytes(input));
  return nitro::ParseDocument(cose);
}

absl::Time DocumentTime(const AttestationDocument& doc) {
  return absl::FromUnixMillis(static_cast<int64_t>(doc.payload.timestamp_ms));
}

std::string DescribeWindow(const ValidityWindow& w) {
  return absl::StrCat(FormatRfc3339(w.not_before), " .. ", FormatRfc3339(w.not_after));
}

Claims ParsedClaims(const AttestationDocument& doc, absl::Time now) {
  Claims claims;
  claims.tee = TeeKind::kNitro;
  claims.verified_at = now;
  claims.debug = nitro::IsDebugEnclave(doc.payload.pcrs);
  // The nonce is what a verifier chose and the enclave echoed: the freshness binding.
  claims.report_data = doc.payload.nonce.value_or("");
  claims.nitro = nitro::NitroClaimsFromPayload(doc.payload);
  return claims;
}

// What --inspect can tell without trusting anything: which certificates do not parse, and the
// times at which verification could succeed.
void AddInspectionWarnings(const AttestationDocument& doc, absl::Time now, Claims* claims) {
  absl::StatusOr<std::vector<X509Ptr>> certs = nitro::ParseNitroCertificates(doc.payload);
  if (!certs.ok()) {
    claims->warnings.push_back(std::string(certs.status().message()));
    return;
  }
  ValidityWindow chain;
  for (const X509Ptr& cert : *certs) {
    absl::StatusOr<ValidityWindow> w = CertificateValidity(cert.get());
    if (!w.ok()) {
      claims->warnings.push_back(std::string(w.status().message()));
      return;
    }
    chain.Intersect(*w);
  }
  if (!chain.Contains(now)) {
    claims->warnings.push_back(absl::StrCat("the certificate chain is valid only ",
                                            DescribeWindow(chain), "; verification at ",
                                            FormatRfc3339(now), " would fail"));
  }
  absl::StatusOr<ValidityWindow> leaf = CertificateValidity(certs->front().get());
  if (leaf.ok() && !leaf->Contains(DocumentTime(doc))) {
    claims->warnings.push_back(absl::StrCat("the document timestamp lies outside its signing "
                                            "certificate's validity ", DescribeWindow(*leaf)));
  }
}

}  // namespace

NitroVerifier::NitroVerifier(std::shared_ptr<const TrustRoots> roots,
                             std::shared_ptr<NitroCaches> caches)
    : roots_(std::move(roots)), caches_(std::move(caches)) {}

absl::StatusOr<std::shared_ptr<const nitro::VerifiedNitroChain>> NitroVerifier::Chain(
    const nitro::AttestationPayload& payload, absl::Time now) const {
  std::string chain_key, bundle_key;
  std::shared_ptr<const nitro::VerifiedNitroBundle> bundle;
  if (caches_) {
    chain_key = nitro::ChainCacheKey(payload);
    if (auto hit = caches_->chains.Get(chain_key, now)) return hit;
    bundle_key = nitro::BundleCacheKey(payload);
    bundle = caches_->bundles.Get(bundle_key, now);
  }
  ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kAwsNitroEnclavesRootG1));
  ASSIGN_OR_RETURN(nitro::VerifiedNitroChain verified,
                   nitro::VerifyNitroChain(payload, root, now, bundle));
  auto chain = std::make_shared<const nitro::VerifiedNitroChain>(std::move(verified));
  if (caches_) {
    caches_->chains.Put(chain_key, chain, chain->window);
    if (bundle == nullptr && chain->bundle != nullptr) {
      caches_->bundles.Put(bundle_key, chain->bundle, chain->bundle->window);
    }
  }
  return chain;
}

absl::StatusOr<VerifiedClaims> NitroVerifier::Verify(absl::string_view document,
                                                     absl::Time now) const {
  ASSIGN_OR_RETURN(const AttestationDocument doc, Parse(document));

  // 1. The signing certificate chains through the cabundle to the pinned AWS root, every
  //    certificate valid at `now` (verified once per chain when cached).
  ASSIGN_OR_RETURN(const std::shared_ptr<const nitro::VerifiedNitroChain> chain,
                   Chain(doc.payload, now));

  // 2. That certificate's key signed the protected header and the payload (COSE_Sign1, ES384).
  RETURN_IF_ERROR(nitro::VerifyEs384(doc, chain->leaf_key.get(),
                                     DescribeCertificate(chain->leaf.get())));

  // 3. The document was made while its signing certificate was valid: the NSM issues a fresh
  //    certificate per document, so a timestamp outside it means the two do not belong together.
  if (!chain->leaf_window.Contains(DocumentTime(doc))) {
    return MakeError(v1::REASON_EXPIRED,
                     absl::StrCat("nitro document: timestamp ", doc.payload.timestamp_ms, " ms (",
                                  FormatRfc3339(DocumentTime(doc)),
                                  ") lies outside the validity of its signing certificate ",
                                  DescribeCertificate(chain->leaf.get()), " (",
                                  DescribeWindow(chain->leaf_window), ")"));
  }

  Claims claims = ParsedClaims(doc, now);
  claims.tcb_status = std::string(kTcbStatusNotApplicable);
  claims.valid_until = chain->window.not_after;
  return VerifiedClaims(std::move(claims));
}

absl::StatusOr<Claims> NitroVerifier::Inspect(absl::string_view document, absl::Time now) {
  ASSIGN_OR_RETURN(const AttestationDocument doc, Parse(document));
  Claims claims = ParsedClaims(doc, now);
  AddInspectionWarnings(doc, now, &claims);
  return claims;
}

// Reads the head only, whatever the size of the input: the first base64 quantum (3 bytes) shows
// the COSE_Sign1 head; the whole text is decoded, strictly, when the document is parsed.
bool LooksLikeNitroDocument(absl::string_view bytes) {
  if (nitro::LooksLikeCoseSign1(bytes)) return true;
  std::string quantum;
  for (size_t i = 0; i < bytes.size() && quantum.size() < 4; ++i) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(bytes[i]))) quantum.push_back(bytes[i]);
  }
  if (quantum.size() < 4 || !nitro::LooksLikeBase64(quantum)) return false;
  absl::StatusOr<std::string> head = nitro::DecodeBase64Strict(quantum, "nitro document");
  return head.ok() && nitro::LooksLikeCoseSign1(*head);
}

}  // namespace teeverify
