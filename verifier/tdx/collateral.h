// Intel PCS collateral for one TDX platform, as raw bytes, and its verification: the signing
// chains to the pinned Intel root, the signatures over TCB info and QE identity, the CRLs, and
// the validity windows at an explicit time. The result does not depend on any quote, so a server
// can verify it once and reuse it until its window closes.
#ifndef TEE_VERIFIER_TDX_COLLATERAL_H_
#define TEE_VERIFIER_TDX_COLLATERAL_H_

#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/certificate_pool.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/tdx/tcb_info.h"

namespace teeverify::tdx {

// Names of the collateral items; also the file names of a --collateral directory.
inline constexpr absl::string_view kTcbInfoFile = "tcb_info_response.json";
inline constexpr absl::string_view kQeIdentityFile = "qe_identity_response.json";
inline constexpr absl::string_view kPckCrlFile = "pck_crl.der";
inline constexpr absl::string_view kRootCaCrlFile = "root_ca_crl.der";
inline constexpr absl::string_view kTcbInfoIssuerChainFile = "tcb_info_issuer_chain.pem";
inline constexpr absl::string_view kQeIdentityIssuerChainFile = "qe_identity_issuer_chain.pem";
inline constexpr absl::string_view kPckCrlIssuerChainFile = "pck_crl_issuer_chain.pem";
// Optional: the same platform's TCB info from PCS with update=early (the next evaluation
// number, before the standard channel switches to it), signed by the same TCB Signing key as
// the standard one (so tcb_info_issuer_chain.pem serves both). Not one of kTdxCollateralItems:
// a bundle without it is complete.
inline constexpr absl::string_view kTcbInfoEarlyFile = "tcb_info_early_response.json";

struct TdxCollateral {
  std::string tcb_info_response;
  std::string qe_identity_response;
  std::string pck_crl;      // DER or PEM
  std::string root_ca_crl;  // DER or PEM
  std::string tcb_info_issuer_chain;
  std::string qe_identity_issuer_chain;
  std::string pck_crl_issuer_chain;
  std::string tcb_info_early_response;  // optional (kTcbInfoEarlyFile)
};

// Every item with its file name, for code that handles the bundle item by item (files, tests).
struct TdxCollateralItem {
  absl::string_view file;
  std::string TdxCollateral::*bytes;
};
inline constexpr TdxCollateralItem kTdxCollateralItems[] = {
    {kTcbInfoFile, &TdxCollateral::tcb_info_response},
    {kQeIdentityFile, &TdxCollateral::qe_identity_response},
    {kPckCrlFile, &TdxCollateral::pck_crl},
    {kRootCaCrlFile, &TdxCollateral::root_ca_crl},
    {kTcbInfoIssuerChainFile, &TdxCollateral::tcb_info_issuer_chain},
    {kQeIdentityIssuerChainFile, &TdxCollateral::qe_identity_issuer_chain},
    {kPckCrlIssuerChainFile, &TdxCollateral::pck_crl_issuer_chain},
};

struct VerifiedTdxCollateral {
  TcbInfo tcb_info;
  EnclaveIdentity qe_identity;
  X509CrlPtr root_ca_crl;
  X509CrlPtr pck_crl;
  X509Ptr pck_crl_issuer;  // the PCK CA that signed pck_crl
  absl::Time pck_crl_this_update;
  // The early TCB info, verified like the standard one, when the bundle has it.
  std::optional<TcbInfo> tcb_info_early;
  // Where every certificate, CRL and signed body above is valid.
  ValidityWindow window;
};

// Verifies every collateral item against `intel_root` at `now`. A missing item is an error
// naming it (REASON_COLLATERAL_MISSING); nothing is skipped silently. An early TCB info, when
// given, must verify too (signature, FMSPC, window) or the whole collateral is refused. `pool` (optional, built
// with `intel_root` as its known certificate) lets callers share parsed certificates.
absl::StatusOr<std::shared_ptr<const VerifiedTdxCollateral>> VerifyTdxCollateral(
    const TdxCollateral& collateral, X509* intel_root, absl::Time now,
    CertificatePool* pool = nullptr);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_COLLATERAL_H_
