#include "verifier/tdx/collateral.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/chain.h"
#include "verifier/crypto/ecdsa.h"

namespace teeverify::tdx {
namespace {

absl::Status CheckPresent(absl::string_view value, absl::string_view name) {
  if (value.empty()) {
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     absl::StrCat("tdx collateral: ", name, " is missing"));
  }
  return absl::OkStatus();
}

// An issuer chain from a PCS response header: [issuing CA, Intel root]. The CA must chain to the
// pinned root and must not be on the root CA CRL.
absl::StatusOr<X509Ptr> VerifyIssuerChain(absl::string_view pem, absl::string_view name,
                                          absl::string_view expected_cn, X509* intel_root,
                                          X509_CRL* root_ca_crl, absl::Time now,
                                          CertificatePool& pool, ValidityWindow* window) {
  ASSIGN_OR_RETURN(std::vector<X509*> certs, pool.FromPem(pem, name, PemForm::kStrict));
  if (certs.size() != 2) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(name, ": expected 2 certificates (issuer, root), found ",
                                  certs.size()));
  }
  if (certs[1] != intel_root) {  // the pool returns the pinned root for its exact DER only
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(name, ": root certificate ", DescribeCertificate(certs[1]),
                                  " is not the pinned '", SubjectCommonName(intel_root), "'"));
  }
  if (!absl::StrContains(SubjectCommonName(certs[0]), expected_cn)) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(name, ": certificate ", DescribeCertificate(certs[0]),
                                  " is not an '", expected_cn, "' certificate"));
  }
  ASSIGN_OR_RETURN(ValidityWindow w,
                   VerifyChainToRoot(certs[0], {}, intel_root, now, name, &pool));
  window->Intersect(w);
  RETURN_IF_ERROR(CheckNotRevoked(root_ca_crl, certs[0], kRootCaCrlFile));
  return Share(certs[0]);
}

// A PCS body signed by the TCB Signing key: its signature and its issueDate..nextUpdate window.
absl::StatusOr<SignedCollateral> VerifySignedBody(absl::string_view response,
                                                  absl::string_view body_key,
                                                  absl::string_view name, X509* signer) {
  ASSIGN_OR_RETURN(SignedCollateral signed_body,
                   ParseSignedCollateral(response, body_key, name));
  RETURN_IF_ERROR(VerifyEcdsaRaw(X509_get0_pubkey(signer), Sha256Md(), signed_body.body,
                                 AsView(signed_body.signature), ByteOrder::kBigEndian,
                                 absl::StrCat(name, ": ", body_key, " signature by ",
                                              DescribeCertificate(signer))));
  return signed_body;
}

absl::Status CheckIssueWindow(absl::Time issue, absl::Time next_update, absl::Time now,
                              absl::string_view name, ValidityWindow* window) {
  const ValidityWindow w{issue, next_update};
  RETURN_IF_ERROR(CheckWindow(w, now, absl::StrCat(name, " (issueDate..nextUpdate)")));
  window->Intersect(w);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const VerifiedTdxCollateral>> VerifyTdxCollateral(
    const TdxCollateral& c, X509* intel_root, absl::Time now, CertificatePool* shared_pool) {
  CertificatePool local_pool(intel_root);
  CertificatePool& pool = shared_pool != nullptr ? *shared_pool : local_pool;
  for (const TdxCollateralItem& item : kTdxCollateralItems) {
    RETURN_IF_ERROR(CheckPresent(c.*item.bytes, item.file));
  }

  auto out = std::make_shared<VerifiedTdxCollateral>();
  ValidityWindow& window = out->window;

  // 1. The root CA CRL, signed by the pinned root: it revokes the intermediate CAs below.
  ASSIGN_OR_RETURN(out->root_ca_crl, ParseCrl(c.root_ca_crl, kRootCaCrlFile));
  ASSIGN_OR_RETURN(ValidityWindow root_crl_window,
                   VerifyCrl(out->root_ca_crl.get(), intel_root, now, kRootCaCrlFile));
  window.Intersect(root_crl_window);

  // 2. TCB info, signed by the TCB Signing certificate of its issuer chain.
  ASSIGN_OR_RETURN(X509Ptr tcb_signer,
                   VerifyIssuerChain(c.tcb_info_issuer_chain, kTcbInfoIssuerChainFile,
                                     "SGX TCB Signing", intel_root, out->root_ca_crl.get(), now,
                                     pool, &window));
  ASSIGN_OR_RETURN(SignedCollateral tcb_info,
                   VerifySignedBody(c.tcb_info_response, "tcbInfo", kTcbInfoFile, tcb_signer.get()));
  ASSIGN_OR_RETURN(out->tcb_info, ParseTcbInfo(tcb_info.body, kTcbInfoFile));
  RETURN_IF_ERROR(CheckIssueWindow(out->tcb_info.issue_date, out->tcb_info.next_update, now,
                                   kTcbInfoFile, &window));
  if (!c.tcb_info_early_response.empty()) {
    ASSIGN_OR_RETURN(SignedCollateral early, VerifySignedBody(c.tcb_info_early_response, "tcbInfo",
                                                              kTcbInfoEarlyFile, tcb_signer.get()));
    ASSIGN_OR_RETURN(out->tcb_info_early, ParseTcbInfo(early.body, kTcbInfoEarlyFile));
    if (out->tcb_info_early->fmspc != out->tcb_info.fmspc) {
      return MakeError(v1::REASON_COLLATERAL_INVALID,
                       absl::StrCat(kTcbInfoEarlyFile, ": FMSPC ",
                                    HexEncode(out->tcb_info_early->fmspc), " differs from ",
                                    kTcbInfoFile, "'s ", HexEncode(out->tcb_info.fmspc)));
    }
    RETURN_IF_ERROR(CheckIssueWindow(out->tcb_info_early->issue_date,
                                     out->tcb_info_early->next_update, now, kTcbInfoEarlyFile,
                                     &window));
  }

  // 3. The TD quoting enclave identity, signed the same way.
  ASSIGN_OR_RETURN(X509Ptr qe_signer,
                   VerifyIssuerChain(c.qe_identity_issuer_chain, kQeIdentityIssuerChainFile,
                                     "SGX TCB Signing", intel_root, out->root_ca_crl.get(), now,
                                     pool, &window));
  ASSIGN_OR_RETURN(SignedCollateral qe_identity,
                   VerifySignedBody(c.qe_identity_response, "enclaveIdentity", kQeIdentityFile,
                                    qe_signer.get()));
  ASSIGN_OR_RETURN(out->qe_identity, ParseEnclaveIdentity(qe_identity.body, kQeIdentityFile));
  RETURN_IF_ERROR(CheckIssueWindow(out->qe_identity.issue_date, out->qe_identity.next_update, now,
                                   kQeIdentityFile, &window));

  // 4. The PCK CRL, signed by a PCK CA (Platform or Processor) that chains to the root.
  ASSIGN_OR_RETURN(out->pck_crl_issuer,
                   VerifyIssuerChain(c.pck_crl_issuer_chain, kPckCrlIssuerChainFile, "CA",
                                     intel_root, out->root_ca_crl.get(), now, pool, &window));
  ASSIGN_OR_RETURN(out->pck_crl, ParseCrl(c.pck_crl, kPckCrlFile));
  ASSIGN_OR_RETURN(ValidityWindow pck_crl_window,
                   VerifyCrl(out->pck_crl.get(), out->pck_crl_issuer.get(), now, kPckCrlFile));
  window.Intersect(pck_crl_window);
  out->pck_crl_this_update = pck_crl_window.not_before;
  return std::shared_ptr<const VerifiedTdxCollateral>(std::move(out));
}

}  // namespace teeverify::tdx
