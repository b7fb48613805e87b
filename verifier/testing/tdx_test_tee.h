// TEST-ONLY: a TDX platform built from checked-in test keys, shaped exactly like Intel's: a root
// CA, a PCK Platform CA, a PCK certificate with the SGX extension, a TCB Signing certificate,
// signed TCB info and TD_QE identity, both CRLs, and quotes signed by a test quoting enclave.
// Only a verifier given RootPem() as its Intel root accepts what it makes.
#ifndef TEE_VERIFIER_TESTING_TDX_TEST_TEE_H_
#define TEE_VERIFIER_TESTING_TDX_TEST_TEE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/tdx/collateral.h"
#include "verifier/tdx/quote.h"

namespace teeverify::testing {

struct TdxTestOptions {
  // Validity of every certificate.
  ValidityWindow certificates{absl::FromUnixSeconds(1577836800),   // 2020-01-01
                              absl::FromUnixSeconds(2524608000)};  // 2050-01-01
  // issueDate/thisUpdate .. nextUpdate of each collateral item.
  ValidityWindow tcb_info{absl::FromUnixSeconds(1704067200),       // 2024-01-01
                          absl::FromUnixSeconds(2493072000)};      // 2049-01-01
  ValidityWindow qe_identity = tcb_info;
  ValidityWindow pck_crl = tcb_info;
  ValidityWindow root_ca_crl = tcb_info;
  // The PCK certificate's FMSPC and SGX TCB.
  ByteArray<6> fmspc = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
  ByteArray<16> pck_tcb_svns = {3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  uint16_t pck_pce_svn = 13;
  // Revocation entries to put on the CRLs.
  bool revoke_pck = false;
  bool revoke_pck_ca = false;
  // Pre-made certificates (PEM) for the root and the PCK Platform CA, each holding its test key;
  // empty: made afresh. Processes that must agree on these bytes use the same ones: a verifier
  // pins the root byte for byte and compares the PCK CA of a quote with the PCK CRL's issuer,
  // and ECDSA signatures (so freshly made certificates) differ from run to run.
  std::string root_pem;
  std::string pck_ca_pem;
};

class TdxTestTee {
 public:
  static absl::StatusOr<std::unique_ptr<TdxTestTee>> Create(const TdxTestOptions& options = {});

  // The test root, to be used in place of the Intel SGX Root CA.
  std::string RootPem() const;

  // A TD report whose TEE_TCB_SVN reaches the UpToDate level of MakeCollateral's TCB info.
  tdx::TdReport DefaultReport() const;

  // A quote (version 4, or 5 with a TD 1.0/1.5 body) over `report`, signed by the test QE.
  absl::StatusOr<std::string> MakeQuote(const tdx::TdReport& report, uint16_t version = 4) const;
  absl::StatusOr<tdx::Quote> MakeQuoteStruct(const tdx::TdReport& report,
                                             uint16_t version = 4) const;

  // Signs the header+body of `quote` again after a test edited it.
  absl::Status ResignQuote(tdx::Quote* quote) const;

  // Collateral for this platform: UpToDate level, an OutOfDate level with advisories, TDX_01
  // module identity, TD_QE identity, both CRLs, and the issuer chains.
  absl::StatusOr<tdx::TdxCollateral> MakeCollateral() const;

  // TCB info JSON body before signing, for tests that edit it; then SignTcbInfo.
  std::string TcbInfoBody() const;
  absl::StatusOr<std::string> SignTcbInfo(absl::string_view body) const;

  // The TCB info after a TCB recovery published on `recovery`: evaluation number 19 instead of
  // 18, a new UpToDate level (tcbDate `recovery`) that needs TEE_TCB_SVN[2] = 4, and the
  // former UpToDate level now OutOfDate with advisory INTEL-SA-TEST-RECOVERY. DefaultReport's
  // platform (TEE_TCB_SVN[2] = 3) is UpToDate before and OutOfDate after.
  std::string RecoveredTcbInfoBody(absl::Time recovery) const;

  X509* pck_certificate() const { return pck_.get(); }
  X509* pck_ca_certificate() const { return pck_ca_.get(); }
  const TdxTestOptions& options() const { return options_; }

 private:
  TdxTestTee() = default;
  absl::Status Init(const TdxTestOptions& options);

  TdxTestOptions options_;
  EvpPkeyPtr root_key_, pck_ca_key_, pck_key_, tcb_signing_key_, attestation_key_;
  X509Ptr root_, pck_ca_, pck_, tcb_signing_;
};

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_TDX_TEST_TEE_H_
