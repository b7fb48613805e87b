#include "verifier/testing/tdx_test_tee.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/testing/test_keys.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testing {
namespace {

using nlohmann::ordered_json;

constexpr char kSgxExtensionOid[] = "1.2.840.113741.1.13.1";
// The test quoting enclave's identity (MRSIGNER of our made-up TD_QE).
constexpr ByteArray<32> kTestQeMrSigner = {0x7e, 0x57, 0x9e, 0x5e, 0x0e, 0x1d, 0x00, 0x01,
                                           0x7e, 0x57, 0x9e, 0x5e, 0x0e, 0x1d, 0x00, 0x02,
                                           0x7e, 0x57, 0x9e, 0x5e, 0x0e, 0x1d, 0x00, 0x03,
                                           0x7e, 0x57, 0x9e, 0x5e, 0x0e, 0x1d, 0x00, 0x04};
constexpr uint16_t kTestQeIsvSvn = 6;

std::string SgxEntry(absl::string_view suffix, absl::string_view value_der) {
  return DerTlv(0x30, absl::StrCat(DerOid(absl::StrCat(kSgxExtensionOid, ".", suffix)), value_der));
}

// The SGX extension: PPID, TCB (16 components, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX Type.
std::string SgxExtension(const TdxTestOptions& o) {
  std::string tcb;
  for (int i = 0; i < 16; ++i) {
    tcb += SgxEntry(absl::StrCat("2.", i + 1), DerSmallInteger(0x02, o.pck_tcb_svns[i]));
  }
  tcb += SgxEntry("2.17", DerSmallInteger(0x02, o.pck_pce_svn));
  tcb += SgxEntry("2.18", DerTlv(0x04, AsView(o.pck_tcb_svns)));
  std::string entries = SgxEntry("1", DerTlv(0x04, std::string(16, '\x11')));
  entries += SgxEntry("2", DerTlv(0x30, tcb));
  entries += SgxEntry("3", DerTlv(0x04, std::string(2, '\0')));
  entries += SgxEntry("4", DerTlv(0x04, AsView(o.fmspc)));
  entries += SgxEntry("5", DerSmallInteger(0x0a, 1));
  return DerTlv(0x30, entries);
}

ordered_json Components(const std::vector<int>& svns) {
  ordered_json list = ordered_json::array();
  for (int svn : svns) list.push_back({{"svn", svn}});
  return list;
}

std::vector<int> AsInts(const ByteArray<16>& svns) { return std::vector<int>(svns.begin(), svns.end()); }

std::string Response(absl::string_view key, absl::string_view body, absl::string_view sig) {
  return absl::StrCat("{\"", key, "\":", body, ",\"signature\":\"", HexEncode(sig), "\"}");
}

}  // namespace

absl::StatusOr<std::unique_ptr<TdxTestTee>> TdxTestTee::Create(const TdxTestOptions& options) {
  std::unique_ptr<TdxTestTee> tee(new TdxTestTee());
  RETURN_IF_ERROR(tee->Init(options));
  return tee;
}

absl::Status TdxTestTee::Init(const TdxTestOptions& o) {
  options_ = o;
  ASSIGN_OR_RETURN(root_key_, LoadPrivateKey(kRootKeyPem));
  ASSIGN_OR_RETURN(pck_ca_key_, LoadPrivateKey(kPckCaKeyPem));
  ASSIGN_OR_RETURN(pck_key_, LoadPrivateKey(kPckKeyPem));
  ASSIGN_OR_RETURN(tcb_signing_key_, LoadPrivateKey(kTcbSigningKeyPem));
  ASSIGN_OR_RETURN(attestation_key_, LoadPrivateKey(kAttestationKeyPem));
  const absl::Time nb = o.certificates.not_before, na = o.certificates.not_after;
  if (!o.root_pem.empty()) {
    ASSIGN_OR_RETURN(root_, PremadeCertificate(o.root_pem, root_key_.get(), "root_pem", "the test key"));
  } else {
    ASSIGN_OR_RETURN(root_, MakeCertificate(Spec("Test SGX Root CA", 1, nb, na, /*is_ca=*/true),
                                            root_key_.get(), nullptr, root_key_.get()));
  }
  if (!o.pck_ca_pem.empty()) {
    ASSIGN_OR_RETURN(pck_ca_, PremadeCertificate(o.pck_ca_pem, pck_ca_key_.get(), "pck_ca_pem",
                                                 "the test key"));
  } else {
    ASSIGN_OR_RETURN(pck_ca_,
                     MakeCertificate(Spec("Test SGX PCK Platform CA", 2, nb, na, /*is_ca=*/true),
                                     pck_ca_key_.get(), root_.get(), root_key_.get()));
  }
  ASSIGN_OR_RETURN(tcb_signing_,
                   MakeCertificate(Spec("Test SGX TCB Signing", 3, nb, na, /*is_ca=*/false),
                                   tcb_signing_key_.get(), root_.get(), root_key_.get()));
  ASSIGN_OR_RETURN(pck_, MakeCertificate(Spec("Test SGX PCK Certificate", 4, nb, na, /*is_ca=*/false,
                                              {{kSgxExtensionOid, SgxExtension(o)}}),
                                         pck_key_.get(), pck_ca_.get(), pck_ca_key_.get()));
  return absl::OkStatus();
}

std::string TdxTestTee::RootPem() const { return CertificatePem(root_.get()); }

tdx::TdReport TdxTestTee::DefaultReport() const {
  tdx::TdReport r;
  r.tee_tcb_svn = {6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // module SVN 6, TDX_01
  r.td_attributes = {0, 0, 0, 0x10, 0, 0, 0, 0};                     // SEPT_VE_DISABLE
  r.xfam = {0xe7, 0x02, 0x06, 0, 0, 0, 0, 0};
  r.mr_seam.fill(0x5e);
  r.mr_td.fill(0x7d);
  for (size_t i = 0; i < r.rtmr.size(); ++i) r.rtmr[i].fill(static_cast<uint8_t>(0xa0 + i));
  return r;
}

absl::StatusOr<tdx::Quote> TdxTestTee::MakeQuoteStruct(const tdx::TdReport& report,
                                                       uint16_t version) const {
  tdx::Quote q;
  q.header.version = version;
  q.header.attestation_key_type = tdx::kAttestationKeyEcdsaP256;
  q.header.tee_type = tdx::kTeeTypeTdx;
  q.header.qe_vendor_id = tdx::kIntelQeVendorId;
  q.body = report;
  q.body_type = report.is_tdx15 ? tdx::kBodyTypeTdReport15 : tdx::kBodyTypeTdReport10;
  ASSIGN_OR_RETURN(const std::string att_key, PublicKeyXY(attestation_key_.get(), 32));
  std::copy(att_key.begin(), att_key.end(), q.attestation_key.begin());

  tdx::QeReportCertificationData& c = q.certification;
  c.qe_auth_data = std::string(32, '\x42');
  c.qe_report.mr_signer = kTestQeMrSigner;
  c.qe_report.isv_prod_id = 2;
  c.qe_report.isv_svn = kTestQeIsvSvn;
  c.qe_report.attributes = {0x11, 0, 0, 0, 0, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0};
  const ByteArray<32> binding = Sha256(absl::StrCat(att_key, c.qe_auth_data));
  std::copy(binding.begin(), binding.end(), c.qe_report.report_data.begin());
  c.qe_report_bytes = tdx::SerializeSgxReportBody(c.qe_report);
  ASSIGN_OR_RETURN(const std::string qe_sig,
                   SignEcdsaRaw(pck_key_.get(), EVP_sha256(), c.qe_report_bytes, 32));
  std::copy(qe_sig.begin(), qe_sig.end(), c.qe_report_signature.begin());
  c.pck_cert_data_type = tdx::kCertDataPckChain;
  c.pck_chain_pem = absl::StrCat(CertificatePem(pck_.get()), CertificatePem(pck_ca_.get()),
                                 CertificatePem(root_.get()));
  RETURN_IF_ERROR(ResignQuote(&q));
  return q;
}

absl::Status TdxTestTee::ResignQuote(tdx::Quote* q) const {
  const std::string serialized = tdx::SerializeQuote(*q);
  const size_t body = q->body.is_tdx15 ? tdx::kTdReport15Size : tdx::kTdReport10Size;
  const size_t signed_size = tdx::kQuoteHeaderSize +
                             (q->header.version == tdx::kQuoteVersion5 ? tdx::kBodyDescriptorSize : 0) +
                             body;
  q->signed_bytes = serialized.substr(0, signed_size);
  ASSIGN_OR_RETURN(const std::string sig,
                   SignEcdsaRaw(attestation_key_.get(), EVP_sha256(), q->signed_bytes, 32));
  std::copy(sig.begin(), sig.end(), q->signature.begin());
  return absl::OkStatus();
}

absl::StatusOr<std::string> TdxTestTee::MakeQuote(const tdx::TdReport& report,
                                                  uint16_t version) const {
  ASSIGN_OR_RETURN(const tdx::Quote q, MakeQuoteStruct(report, version));
  return tdx::SerializeQuote(q);
}

std::string TdxTestTee::TcbInfoBody() const {
  const TdxTestOptions& o = options_;
  const std::string zeros48(96, '0');
  ordered_json module = {{"mrsigner", zeros48},
                         {"attributes", "0000000000000000"},
                         {"attributesMask", "FFFFFFFFFFFFFFFF"}};
  ordered_json identity = module;
  identity = {{"id", "TDX_01"},
              {"mrsigner", zeros48},
              {"attributes", "0000000000000000"},
              {"attributesMask", "FFFFFFFFFFFFFFFF"},
              {"tcbLevels",
               {{{"tcb", {{"isvsvn", 4}}}, {"tcbDate", "2024-03-13T00:00:00Z"}, {"tcbStatus", "UpToDate"}},
                {{"tcb", {{"isvsvn", 2}}},
                 {"tcbDate", "2023-08-09T00:00:00Z"},
                 {"tcbStatus", "OutOfDate"},
                 {"advisoryIDs", {"INTEL-SA-TEST-MODULE"}}}}}};
  std::vector<int> lower = AsInts(o.pck_tcb_svns);
  lower[0] = std::max(0, lower[0] - 1);
  ordered_json levels = {
      {{"tcb",
        {{"sgxtcbcomponents", Components(AsInts(o.pck_tcb_svns))},
         {"pcesvn", o.pck_pce_svn},
         {"tdxtcbcomponents", Components({5, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})}}},
       {"tcbDate", "2024-11-13T00:00:00Z"},
       {"tcbStatus", "UpToDate"}},
      {{"tcb",
        {{"sgxtcbcomponents", Components(lower)},
         {"pcesvn", o.pck_pce_svn},
         {"tdxtcbcomponents", Components({5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})}}},
       {"tcbDate", "2024-03-13T00:00:00Z"},
       {"tcbStatus", "OutOfDate"},
       {"advisoryIDs", {"INTEL-SA-TEST-0001", "INTEL-SA-TEST-0002"}}}};
  ordered_json info = {{"id", "TDX"},
                       {"version", 3},
                       {"issueDate", FormatRfc3339(o.tcb_info.not_before)},
                       {"nextUpdate", FormatRfc3339(o.tcb_info.not_after)},
                       {"fmspc", HexEncode(o.fmspc)},
                       {"pceId", "0000"},
                       {"tcbType", 0},
                       {"tcbEvaluationDataNumber", 18},
                       {"tdxModule", module},
                       {"tdxModuleIdentities", {identity}},
                       {"tcbLevels", levels}};
  return info.dump();
}

std::string TdxTestTee::RecoveredTcbInfoBody(absl::Time recovery) const {
  ordered_json info = ordered_json::parse(TcbInfoBody());
  info["tcbEvaluationDataNumber"] = 19;
  ordered_json& levels = info["tcbLevels"];
  ordered_json recovered = levels[0];
  recovered["tcb"]["tdxtcbcomponents"][2]["svn"] = 4;
  recovered["tcbDate"] = FormatRfc3339(recovery);
  levels[0]["tcbStatus"] = "OutOfDate";
  levels[0]["advisoryIDs"] = {"INTEL-SA-TEST-RECOVERY"};
  levels.insert(levels.begin(), recovered);
  return info.dump();
}

absl::StatusOr<std::string> TdxTestTee::SignTcbInfo(absl::string_view body) const {
  ASSIGN_OR_RETURN(const std::string sig,
                   SignEcdsaRaw(tcb_signing_key_.get(), EVP_sha256(), body, 32));
  return Response("tcbInfo", body, sig);
}

absl::StatusOr<tdx::TdxCollateral> TdxTestTee::MakeCollateral() const {
  const TdxTestOptions& o = options_;
  tdx::TdxCollateral c;
  ASSIGN_OR_RETURN(c.tcb_info_response, SignTcbInfo(TcbInfoBody()));

  ordered_json qe = {{"id", "TD_QE"},
                     {"version", 2},
                     {"issueDate", FormatRfc3339(o.qe_identity.not_before)},
                     {"nextUpdate", FormatRfc3339(o.qe_identity.not_after)},
                     {"tcbEvaluationDataNumber", 18},
                     {"miscselect", "00000000"},
                     {"miscselectMask", "FFFFFFFF"},
                     {"attributes", "11000000000000000000000000000000"},
                     {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
                     {"mrsigner", HexEncode(kTestQeMrSigner)},
                     {"isvprodid", 2},
                     {"tcbLevels",
                      {{{"tcb", {{"isvsvn", 4}}},
                        {"tcbDate", "2024-03-13T00:00:00Z"},
                        {"tcbStatus", "UpToDate"}}}}};
  const std::string qe_body = qe.dump();
  ASSIGN_OR_RETURN(const std::string qe_sig,
                   SignEcdsaRaw(tcb_signing_key_.get(), EVP_sha256(), qe_body, 32));
  c.qe_identity_response = Response("enclaveIdentity", qe_body, qe_sig);

  std::vector<X509*> pck_revoked, root_revoked;
  if (o.revoke_pck) pck_revoked.push_back(pck_.get());
  if (o.revoke_pck_ca) root_revoked.push_back(pck_ca_.get());
  ASSIGN_OR_RETURN(X509CrlPtr pck_crl,
                   MakeCrl({o.pck_crl.not_before, o.pck_crl.not_after, pck_revoked}, pck_ca_.get(),
                           pck_ca_key_.get()));
  ASSIGN_OR_RETURN(X509CrlPtr root_crl,
                   MakeCrl({o.root_ca_crl.not_before, o.root_ca_crl.not_after, root_revoked},
                           root_.get(), root_key_.get()));
  c.pck_crl = CrlDer(pck_crl.get());
  c.root_ca_crl = CrlDer(root_crl.get());
  const std::string signing_chain =
      absl::StrCat(CertificatePem(tcb_signing_.get()), CertificatePem(root_.get()));
  c.tcb_info_issuer_chain = signing_chain;
  c.qe_identity_issuer_chain = signing_chain;
  c.pck_crl_issuer_chain = absl::StrCat(CertificatePem(pck_ca_.get()), CertificatePem(root_.get()));
  return c;
}

}  // namespace teeverify::testing
