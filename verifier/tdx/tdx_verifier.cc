#include "verifier/tdx/tdx_verifier.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/chain.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/tdx/tcb_evaluation.h"

namespace teeverify {
namespace {

using tdx::Quote;
using tdx::VerifiedPckChain;
using tdx::VerifiedTdxCollateral;

// The PCK CRL must come from the CA that issued this PCK certificate (Platform vs Processor).
absl::Status CheckRevocation(const VerifiedPckChain& pck, const VerifiedTdxCollateral& c) {
  RETURN_IF_ERROR(CheckNotRevoked(c.root_ca_crl.get(), pck.intermediate.get(), tdx::kRootCaCrlFile));
  if (X509_cmp(c.pck_crl_issuer.get(), pck.intermediate.get()) != 0) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(tdx::kPckCrlFile, " is issued by ",
                                  DescribeCertificate(c.pck_crl_issuer.get()),
                                  ", not by the quote's PCK CA ",
                                  DescribeCertificate(pck.intermediate.get())));
  }
  return CheckNotRevoked(c.pck_crl.get(), pck.leaf.get(), tdx::kPckCrlFile);
}

// The collateral must describe this platform: same FMSPC and PCE-ID as the PCK certificate.
absl::Status CheckPlatform(const tdx::PckExtensions& pck, const tdx::TcbInfo& info) {
  if (pck.fmspc != info.fmspc) {
    return MakeError(v1::REASON_PLATFORM_MISMATCH,
                     absl::StrCat("PCK certificate FMSPC ", HexEncode(pck.fmspc),
                                  " does not match ", tdx::kTcbInfoFile, " FMSPC ",
                                  HexEncode(info.fmspc)));
  }
  if (pck.pce_id != info.pce_id) {
    return MakeError(v1::REASON_PLATFORM_MISMATCH,
                     absl::StrCat("PCK certificate PCE-ID ", HexEncode(pck.pce_id),
                                  " does not match ", tdx::kTcbInfoFile, " pceId ",
                                  HexEncode(info.pce_id)));
  }
  return absl::OkStatus();
}

// The QE vouches for the attestation key: its report data is SHA-256(attestation key || QE auth
// data) followed by 32 zero bytes.
absl::Status CheckQeBinding(const Quote& quote) {
  const auto& c = quote.certification;
  const ByteArray<32> expected =
      Sha256(absl::StrCat(AsView(quote.attestation_key), c.qe_auth_data));
  const absl::string_view report_data = AsView(c.qe_report.report_data);
  if (report_data.substr(0, 32) != AsView(expected) ||
      report_data.substr(32) != std::string(32, '\0')) {
    return MakeError(v1::REASON_BAD_SIGNATURE,
                     absl::StrCat("tdx quote: QE report data ", HexEncode(report_data),
                                  " does not bind the attestation key (expected SHA-256 ",
                                  HexEncode(expected), " followed by zeros)"));
  }
  return absl::OkStatus();
}

Claims ParsedClaims(const Quote& quote, absl::Time now) {
  Claims claims;
  claims.tee = TeeKind::kTdx;
  claims.verified_at = now;
  claims.debug = tdx::IsDebugTd(quote.body);
  claims.report_data = std::string(AsView(quote.body.report_data));
  claims.tdx = tdx::TdxClaimsFromQuote(quote);
  return claims;
}

}  // namespace

absl::StatusOr<VerifiedClaims> TdxVerifier::Verify(absl::string_view quote_bytes,
                                                   const tdx::TdxCollateral& collateral,
                                                   absl::Time now) const {
  ASSIGN_OR_RETURN(const Quote quote, tdx::ParseQuote(quote_bytes));
  ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kIntelSgxRootCa));
  CertificatePool pool(root);  // the PCK CA and the root appear in several chains
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedTdxCollateral> verified,
                   tdx::VerifyTdxCollateral(collateral, root, now, &pool));
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedPckChain> pck, PckChain(quote, now, &pool));
  return VerifyWithChain(quote, *pck, *verified, now);
}

absl::StatusOr<VerifiedClaims> TdxVerifier::Verify(absl::string_view quote_bytes,
                                                   const VerifiedTdxCollateral& collateral,
                                                   absl::Time now) const {
  ASSIGN_OR_RETURN(const Quote quote, tdx::ParseQuote(quote_bytes));
  RETURN_IF_ERROR(CheckWindow(collateral.window, now, "tdx collateral"));
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedPckChain> pck, PckChain(quote, now));
  return VerifyWithChain(quote, *pck, collateral, now);
}

absl::StatusOr<VerifiedClaims> TdxVerifier::Verify(absl::string_view quote_bytes,
                                                   const TdxCollateralProvider& provider,
                                                   absl::Time now) const {
  ASSIGN_OR_RETURN(const Quote quote, tdx::ParseQuote(quote_bytes));
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedPckChain> pck, PckChain(quote, now));
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedTdxCollateral> collateral,
                   provider.ForPlatform(pck->extensions.fmspc, pck->ca, now));
  return VerifyWithChain(quote, *pck, *collateral, now);
}

// 1. The PCK chain leads to the pinned Intel root (verified once per chain when cached).
absl::StatusOr<std::shared_ptr<const VerifiedPckChain>> TdxVerifier::PckChain(
    const Quote& quote, absl::Time now, CertificatePool* pool) const {
  // Keyed by the PEM itself: it is what was verified, and hashing it would cost more than the
  // map's own string hashing and comparison.
  const std::string& pem = quote.certification.pck_chain_pem;
  if (caches_) {
    if (auto hit = caches_->pck_chains.Get(pem, now)) return hit;
  }
  ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kIntelSgxRootCa));
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedPckChain> pck,
                   tdx::VerifyPckChain(pem, root, now, pool));
  if (caches_) caches_->pck_chains.Put(pem, pck, pck->window);
  return pck;
}

absl::StatusOr<std::shared_ptr<const CachedKey>> TdxVerifier::AttestationKey(
    const Quote& quote) const {
  const std::string xy(AsView(quote.attestation_key));
  if (caches_) {
    if (auto hit = caches_->attestation_keys.Get(xy, absl::UnixEpoch())) return hit;
  }
  auto key = std::make_shared<CachedKey>();
  ASSIGN_OR_RETURN(key->key, EcPublicKeyFromXY(Curve::kP256, xy, "tdx quote: attestation key"));
  if (caches_) caches_->attestation_keys.Put(xy, key, ValidityWindow{});
  return std::shared_ptr<const CachedKey>(std::move(key));
}

absl::Status TdxVerifier::CheckSignatures(const Quote& quote, const VerifiedPckChain& pck) const {
  // The PCK key signed the QE report, and the QE report vouches for the attestation key.
  RETURN_IF_ERROR(VerifyEcdsaRaw(pck.leaf_key.get(), Sha256Md(),
                                 quote.certification.qe_report_bytes,
                                 AsView(quote.certification.qe_report_signature),
                                 ByteOrder::kBigEndian,
                                 absl::StrCat("tdx quote: QE report signature by PCK certificate ",
                                              DescribeCertificate(pck.leaf.get()))));
  RETURN_IF_ERROR(CheckQeBinding(quote));
  // The attestation key signed header and TD report.
  ASSIGN_OR_RETURN(std::shared_ptr<const CachedKey> attestation_key, AttestationKey(quote));
  return VerifyEcdsaRaw(attestation_key->key.get(), Sha256Md(), quote.signed_bytes,
                        AsView(quote.signature), ByteOrder::kBigEndian,
                        "tdx quote: quote signature by the attestation key");
}

absl::Status TdxVerifier::VerifySignatures(absl::string_view quote_bytes, absl::Time now) const {
  ASSIGN_OR_RETURN(const Quote quote, tdx::ParseQuote(quote_bytes));
  ASSIGN_OR_RETURN(std::shared_ptr<const VerifiedPckChain> pck, PckChain(quote, now));
  return CheckSignatures(quote, *pck);
}

absl::StatusOr<VerifiedClaims> TdxVerifier::VerifyWithChain(const Quote& quote,
                                                            const VerifiedPckChain& pck_chain,
                                                            const VerifiedTdxCollateral& collateral,
                                                            absl::Time now) const {
  const VerifiedPckChain* pck = &pck_chain;
  // Nothing on the PCK chain is revoked by the (verified, current) collateral.
  RETURN_IF_ERROR(CheckRevocation(*pck, collateral));

  // 2. The collateral is about this platform.
  RETURN_IF_ERROR(CheckPlatform(pck->extensions, collateral.tcb_info));

  // 3 and 5. PCK -> QE report -> attestation key -> quote signatures.
  // 4. The QE is Intel's TD quoting enclave at a known ISVSVN (needs the collateral).
  RETURN_IF_ERROR(CheckSignatures(quote, *pck));
  ASSIGN_OR_RETURN(const tdx::QeEvaluation qe,
                   tdx::EvaluateQeIdentity(collateral.qe_identity, quote.certification.qe_report));

  // 6. TCB status from platform, TDX module and QE; a revoked TCB never verifies.
  ASSIGN_OR_RETURN(const tdx::TcbEvaluation tcb,
                   tdx::EvaluateTcb(collateral.tcb_info, pck->extensions, quote.body, qe));
  if (tcb.status == tdx::TcbStatus::kRevoked) {
    return MakeError(v1::REASON_REVOKED, "tdx quote: the platform's TCB status is Revoked");
  }

  Claims claims = ParsedClaims(quote, now);
  claims.tcb_status = std::string(tdx::TcbStatusName(tcb.status));
  claims.advisory_ids = tcb.advisory_ids;
  ValidityWindow window = pck->window;
  window.Intersect(collateral.window);
  claims.valid_until = window.not_after;
  claims.tdx->fmspc = pck->extensions.fmspc;
  claims.tdx->pce_id = pck->extensions.pce_id;
  claims.tdx->ppid = pck->extensions.ppid;
  tdx::TcbEvaluationClaims& out = claims.tdx->tcb.emplace();
  out.platform_tcb_status = std::string(tdx::TcbStatusName(tcb.platform_status));
  out.tdx_module_tcb_status = std::string(tdx::TcbStatusName(tcb.module_status));
  out.qe_tcb_status = std::string(tdx::TcbStatusName(tcb.qe_status));
  out.tcb_date = tcb.tcb_date;
  out.tcb_evaluation_data_number = collateral.tcb_info.tcb_evaluation_data_number;
  out.qe_identity_tcb_evaluation_data_number = collateral.qe_identity.tcb_evaluation_data_number;
  const uint16_t qe_isvsvn = quote.certification.qe_report.isv_svn;
  if (tcb.status != tdx::TcbStatus::kUpToDate) {
    const tdx::TcbExplanation why = tdx::ExplainTcb(collateral.tcb_info, collateral.qe_identity,
                                                    pck->extensions, quote.body, qe_isvsvn);
    out.shortfall = why.Shortfall();
    out.out_of_date_since = why.OutOfDateSince();
  }
  out.tcb_info_issue_date = collateral.tcb_info.issue_date;
  out.qe_identity_issue_date = collateral.qe_identity.issue_date;
  out.pck_crl_this_update = collateral.pck_crl_this_update;
  // 7. Early warning: the same platform under the next evaluation number, for reporting only.
  if (collateral.tcb_info_early) {
    const tdx::TcbInfo& early_info = *collateral.tcb_info_early;
    // Assigned, not emplace()d: clang does not see the nested struct (member initializers) as
    // default-constructible inside std::optional (the sanitizer build).
    out.early = tdx::TcbEvaluationClaims::Early{};
    tdx::TcbEvaluationClaims::Early& early = *out.early;
    early.tcb_evaluation_data_number = early_info.tcb_evaluation_data_number;
    absl::StatusOr<tdx::TcbEvaluation> under_early =
        tdx::EvaluateTcb(early_info, pck->extensions, quote.body, qe);
    early.tcb_status = under_early.ok() ? std::string(tdx::TcbStatusName(under_early->status))
                                        : "TcbLevelNotSupported";
    if (!under_early.ok() || under_early->status != tdx::TcbStatus::kUpToDate) {
      early.shortfall = tdx::ExplainTcb(early_info, collateral.qe_identity, pck->extensions,
                                        quote.body, qe_isvsvn)
                            .Shortfall();
    }
  }
  return VerifiedClaims(std::move(claims));
}

absl::StatusOr<Claims> TdxVerifier::Inspect(absl::string_view quote_bytes, absl::Time now) {
  std::string trailing_problem;
  ASSIGN_OR_RETURN(const Quote quote,
                   tdx::ParseQuoteIgnoringTrailingBytes(quote_bytes, &trailing_problem));
  Claims claims = ParsedClaims(quote, now);
  if (!trailing_problem.empty()) claims.warnings.push_back(trailing_problem);
  absl::StatusOr<tdx::PckExtensions> pck = tdx::InspectPckChain(quote.certification.pck_chain_pem);
  if (pck.ok()) {
    claims.tdx->fmspc = pck->fmspc;
    claims.tdx->pce_id = pck->pce_id;
  } else {
    claims.warnings.push_back(std::string(pck.status().message()));
  }
  return claims;
}

}  // namespace teeverify
