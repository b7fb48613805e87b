#include "verifier/azure/azure_verifier.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/tdx/quote_parser.h"

namespace teeverify {
namespace {

using azure::AzureEvidence;
using azure::HwReportType;

TeeKind TeeOf(const AzureEvidence& e) {
  return e.hcl.report_type == HwReportType::kSnp ? TeeKind::kAzSnpVtpm : TeeKind::kAzTdxVtpm;
}

// REPORT_DATA of the hardware report: SNP report offset 0x50; TDREPORT's REPORTMACSTRUCT at 128.
absl::string_view HardwareReportData(const AzureEvidence& e) {
  const size_t offset = e.hcl.report_type == HwReportType::kSnp ? 0x50 : 128;
  return absl::string_view(e.hcl.hw_report).substr(offset, 64);
}

absl::Status CheckRuntimeDataBinding(const AzureEvidence& e) {
  const absl::string_view report_data = HardwareReportData(e);
  const std::string expected(AsView(Sha256(e.hcl.runtime_data)));
  if (report_data.substr(0, 32) != expected) {
    return MakeError(v1::REASON_NONCE_MISMATCH,
                     absl::StrCat("hcl report: hardware REPORT_DATA[0:32] ",
                                  HexEncode(report_data.substr(0, 32)),
                                  " is not SHA-256 of the runtime data ", HexEncode(expected)));
  }
  if (report_data.substr(32) != std::string(32, '\0')) {
    return MakeError(v1::REASON_NONCE_MISMATCH,
                     "hcl report: hardware REPORT_DATA[32:64] is not zero");
  }
  return absl::OkStatus();
}

// The TD quote's body must be the TDREPORT the paravisor put in the HCL report (TDX module ABI:
// REPORTMACSTRUCT at 0, TEE_TCB_INFO at 256, TDINFO at 512).
absl::Status CheckTdReport(const AzureEvidence& e) {
  ASSIGN_OR_RETURN(const tdx::Quote quote, tdx::ParseQuote(e.td_quote));
  const tdx::TdReport& b = quote.body;
  const absl::string_view r = e.hcl.hw_report;
  struct Field {
    absl::string_view name;
    size_t offset;
    absl::string_view quoted;
  };
  const Field fields[] = {
      {"report_data", 128, AsView(b.report_data)},
      {"tee_tcb_svn", 264, AsView(b.tee_tcb_svn)},
      {"mr_seam", 280, AsView(b.mr_seam)},
      {"mr_signer_seam", 328, AsView(b.mr_signer_seam)},
      {"seam_attributes", 376, AsView(b.seam_attributes)},
      {"td_attributes", 512, AsView(b.td_attributes)},
      {"xfam", 520, AsView(b.xfam)},
      {"mr_td", 528, AsView(b.mr_td)},
      {"mr_config_id", 576, AsView(b.mr_config_id)},
      {"mr_owner", 624, AsView(b.mr_owner)},
      {"mr_owner_config", 672, AsView(b.mr_owner_config)},
      {"rtmr0", 720, AsView(b.rtmr[0])},
      {"rtmr1", 768, AsView(b.rtmr[1])},
      {"rtmr2", 816, AsView(b.rtmr[2])},
      {"rtmr3", 864, AsView(b.rtmr[3])},
  };
  for (const Field& f : fields) {
    const absl::string_view reported = r.substr(f.offset, f.quoted.size());
    if (reported != f.quoted) {
      return MakeError(v1::REASON_PLATFORM_MISMATCH,
                       absl::StrCat("azure evidence: td_quote ", f.name, " ", HexEncode(f.quoted),
                                    " is not the HCL report's TDREPORT ", f.name, " ",
                                    HexEncode(reported)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EvpPkeyPtr> RsaKey(absl::string_view modulus, absl::string_view exponent) {
  using BnPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
  using BldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
  using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;
  BnPtr n(BN_bin2bn(Uchar(modulus), static_cast<int>(modulus.size()), nullptr));
  BnPtr e(BN_bin2bn(Uchar(exponent), static_cast<int>(exponent.size()), nullptr));
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return OpenSslError(v1::REASON_INTERNAL, "hcl runtime data: HCLAkPub");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(v1::REASON_MALFORMED_EVIDENCE, "hcl runtime data: HCLAkPub is not an RSA key");
  }
  return EvpPkeyPtr(key);
}

absl::Status CheckQuoteSignature(const AzureEvidence& e) {
  ASSIGN_OR_RETURN(const EvpPkeyPtr key, RsaKey(e.runtime.ak_modulus, e.runtime.ak_exponent));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, Sha256Md(), nullptr, key.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return OpenSslError(v1::REASON_INTERNAL, "tpm quote: signature check");
  }
  const int ok = EVP_DigestVerify(ctx.get(), Uchar(e.tpm_signature), e.tpm_signature.size(),
                                  Uchar(e.tpm_message), e.tpm_message.size());
  if (ok != 1) {
    ClearOpenSslErrors();
    return MakeError(v1::REASON_BAD_SIGNATURE,
                     "tpm quote: the RSASSA-PKCS1-v1_5/SHA-256 signature does not verify with "
                     "the HCL runtime data's attestation key (HCLAkPub)");
  }
  return absl::OkStatus();
}

absl::Status CheckPcrDigest(const AzureEvidence& e) {
  std::string selected;
  for (uint32_t i : azure::PcrIndices(e.tpm_quote.pcr_mask)) selected += e.pcrs[i];
  const std::string digest(AsView(Sha256(selected)));
  if (digest != e.tpm_quote.pcr_digest) {
    return MakeError(v1::REASON_BAD_SIGNATURE,
                     absl::StrCat("tpm quote: the supplied PCR values hash to ", HexEncode(digest),
                                  ", not to the quoted pcrDigest ",
                                  HexEncode(e.tpm_quote.pcr_digest)));
  }
  return absl::OkStatus();
}

azure::AzureClaims AzureClaimsOf(const AzureEvidence& e) {
  azure::AzureClaims c;
  for (uint32_t i : azure::PcrIndices(e.tpm_quote.pcr_mask)) c.pcrs[i] = e.pcrs[i];
  c.vm_flags = e.runtime.vm_flags;
  c.vm_strings = e.runtime.vm_strings;
  c.vm_id = e.runtime.vm_id;
  c.user_data = e.runtime.user_data;
  c.hardware_report_data = std::string(HardwareReportData(e));
  c.tpm_reset_count = e.tpm_quote.reset_count;
  c.tpm_restart_count = e.tpm_quote.restart_count;
  return c;
}

// The hardware claims become the Azure TEE's: its TEE name, the quote's extraData as the
// report_data the login binding is checked against, and the azure object.
Claims AzureClaims(Claims hardware, const AzureEvidence& e) {
  hardware.tee = TeeOf(e);
  hardware.report_data = e.tpm_quote.extra_data;
  hardware.azure = AzureClaimsOf(e);
  return hardware;
}

// The SEV-SNP evidence the hardware verifier gets: the report, with the VCEK the Azure evidence
// carries as its certificate table's VCEK entry. The SNP verifier then combines it with the
// certificates given with the request exactly as for sev-snp evidence: the ASK and ARK that THIM
// serves (tee-login sends them with the request) join the chain, a different VCEK given with the
// request is refused, and test roots (tee-verifierd --test-roots) apply as they do to sev-snp.
std::string SnpHardwareEvidence(const AzureEvidence& e) {
  if (e.vcek.empty()) return e.hcl.hw_report;
  return absl::StrCat(e.hcl.hw_report, snp::SerializeCertTable({{snp::kVcekGuid, e.vcek}}));
}

absl::Status CheckRequestedTee(const AzureEvidence& e, std::optional<TeeKind> tee) {
  if (tee && *tee != TeeOf(e)) {
    return Unsupported(absl::StrCat("azure evidence: the HCL report holds a ",
                                    azure::HwReportTypeName(e.hcl.report_type),
                                    " report, so it is ", TeeKindName(TeeOf(e)), ", not ",
                                    TeeKindName(*tee)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AzureVerifier::CheckBindings(const AzureEvidence& e) {
  RETURN_IF_ERROR(CheckRuntimeDataBinding(e));
  if (e.hcl.report_type == HwReportType::kTdx) RETURN_IF_ERROR(CheckTdReport(e));
  RETURN_IF_ERROR(CheckQuoteSignature(e));
  return CheckPcrDigest(e);
}

absl::StatusOr<VerifiedClaims> AzureVerifier::Verify(absl::string_view evidence,
                                                     std::optional<TeeKind> tee,
                                                     absl::string_view certificate,
                                                     HardwareVerify hardware) {
  ASSIGN_OR_RETURN(const AzureEvidence e, azure::ParseAzureEvidence(evidence));
  RETURN_IF_ERROR(CheckRequestedTee(e, tee));
  RETURN_IF_ERROR(CheckBindings(e));
  absl::StatusOr<VerifiedClaims> verified =
      e.hcl.report_type == HwReportType::kSnp
          ? hardware(TeeKind::kSevSnp, SnpHardwareEvidence(e), certificate)
          : hardware(TeeKind::kTdx, e.td_quote, "");
  if (!verified.ok()) {
    return WithContext(verified.status(), absl::StrCat(TeeKindName(TeeOf(e)), " hardware report"));
  }
  return VerifiedClaims(AzureClaims(verified->claims(), e));
}

absl::StatusOr<Claims> AzureVerifier::Inspect(absl::string_view evidence, absl::Time now) {
  ASSIGN_OR_RETURN(const AzureEvidence e, azure::ParseAzureEvidence(evidence));
  absl::StatusOr<Claims> hardware =
      e.hcl.report_type == HwReportType::kSnp ? SnpVerifier::Inspect(e.hcl.hw_report, now)
                                              : TdxVerifier::Inspect(e.td_quote, now);
  if (!hardware.ok()) return hardware.status();
  Claims claims = AzureClaims(*std::move(hardware), e);
  const absl::Status bindings = CheckBindings(e);
  if (!bindings.ok()) claims.warnings.push_back(std::string(bindings.message()));
  return claims;
}

absl::StatusOr<TeeKind> DetectAzureTee(absl::string_view evidence) {
  ASSIGN_OR_RETURN(const AzureEvidence e, azure::ParseAzureEvidence(evidence));
  return TeeOf(e);
}

}  // namespace teeverify
