#include "verifier/tdx/quote_parser.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"

namespace teeverify::tdx {
namespace {

constexpr absl::string_view kWhat = "tdx quote";

absl::Status ReadHeader(ByteReader& r, QuoteHeader* h) {
  ASSIGN_OR_RETURN(h->version, r.U16("header.version"));
  ASSIGN_OR_RETURN(h->attestation_key_type, r.U16("header.attestation_key_type"));
  ASSIGN_OR_RETURN(h->tee_type, r.U32("header.tee_type"));
  RETURN_IF_ERROR(r.Array("header.reserved", &h->reserved));
  RETURN_IF_ERROR(r.Array("header.qe_vendor_id", &h->qe_vendor_id));
  RETURN_IF_ERROR(r.Array("header.user_data", &h->user_data));

  if (h->version != kQuoteVersion4 && h->version != kQuoteVersion5) {
    return Unsupported(absl::StrCat(kWhat, ": header.version ", h->version,
                                    " is not supported (supported: 4, 5)"));
  }
  if (h->tee_type != kTeeTypeTdx) {
    return Unsupported(absl::StrCat(kWhat, ": header.tee_type 0x", absl::Hex(h->tee_type),
                                    " is not TDX (0x81)",
                                    h->tee_type == kTeeTypeSgx ? "; this is an SGX quote" : ""));
  }
  if (h->attestation_key_type != kAttestationKeyEcdsaP256) {
    return Unsupported(absl::StrCat(kWhat, ": header.attestation_key_type ",
                                    h->attestation_key_type,
                                    " is not supported (supported: 2, ECDSA-256-with-P-256)"));
  }
  if (h->qe_vendor_id != kIntelQeVendorId) {
    return Unsupported(absl::StrCat(kWhat, ": header.qe_vendor_id ", HexEncode(h->qe_vendor_id),
                                    " is not Intel's quoting enclave (",
                                    HexEncode(kIntelQeVendorId), ")"));
  }
  return absl::OkStatus();
}

absl::Status ReadTdReport(ByteReader& r, bool tdx15, TdReport* b) {
  RETURN_IF_ERROR(r.Array("body.tee_tcb_svn", &b->tee_tcb_svn));
  RETURN_IF_ERROR(r.Array("body.mr_seam", &b->mr_seam));
  RETURN_IF_ERROR(r.Array("body.mr_signer_seam", &b->mr_signer_seam));
  RETURN_IF_ERROR(r.Array("body.seam_attributes", &b->seam_attributes));
  RETURN_IF_ERROR(r.Array("body.td_attributes", &b->td_attributes));
  RETURN_IF_ERROR(r.Array("body.xfam", &b->xfam));
  RETURN_IF_ERROR(r.Array("body.mr_td", &b->mr_td));
  RETURN_IF_ERROR(r.Array("body.mr_config_id", &b->mr_config_id));
  RETURN_IF_ERROR(r.Array("body.mr_owner", &b->mr_owner));
  RETURN_IF_ERROR(r.Array("body.mr_owner_config", &b->mr_owner_config));
  for (size_t i = 0; i < b->rtmr.size(); ++i) {
    RETURN_IF_ERROR(r.Array(absl::StrCat("body.rtmr", i), &b->rtmr[i]));
  }
  RETURN_IF_ERROR(r.Array("body.report_data", &b->report_data));
  b->is_tdx15 = tdx15;
  if (tdx15) {
    RETURN_IF_ERROR(r.Array("body.tee_tcb_svn2", &b->tee_tcb_svn2));
    RETURN_IF_ERROR(r.Array("body.mr_service_td", &b->mr_service_td));
  }
  return absl::OkStatus();
}

void WriteTdReport(const TdReport& b, ByteWriter& w) {
  w.Array(b.tee_tcb_svn);
  w.Array(b.mr_seam);
  w.Array(b.mr_signer_seam);
  w.Array(b.seam_attributes);
  w.Array(b.td_attributes);
  w.Array(b.xfam);
  w.Array(b.mr_td);
  w.Array(b.mr_config_id);
  w.Array(b.mr_owner);
  w.Array(b.mr_owner_config);
  for (const auto& rtmr : b.rtmr) w.Array(rtmr);
  w.Array(b.report_data);
  if (b.is_tdx15) {
    w.Array(b.tee_tcb_svn2);
    w.Array(b.mr_service_td);
  }
}

absl::Status ReadSgxReportBody(ByteReader& r, SgxReportBody* q) {
  RETURN_IF_ERROR(r.Array("qe_report.cpu_svn", &q->cpu_svn));
  RETURN_IF_ERROR(r.Array("qe_report.misc_select", &q->misc_select));
  RETURN_IF_ERROR(r.Array("qe_report.reserved1", &q->reserved1));
  RETURN_IF_ERROR(r.Array("qe_report.attributes", &q->attributes));
  RETURN_IF_ERROR(r.Array("qe_report.mr_enclave", &q->mr_enclave));
  RETURN_IF_ERROR(r.Array("qe_report.reserved2", &q->reserved2));
  RETURN_IF_ERROR(r.Array("qe_report.mr_signer", &q->mr_signer));
  RETURN_IF_ERROR(r.Array("qe_report.reserved3", &q->reserved3));
  ASSIGN_OR_RETURN(q->isv_prod_id, r.U16("qe_report.isv_prod_id"));
  ASSIGN_OR_RETURN(q->isv_svn, r.U16("qe_report.isv_svn"));
  RETURN_IF_ERROR(r.Array("qe_report.reserved4", &q->reserved4));
  RETURN_IF_ERROR(r.Array("qe_report.report_data", &q->report_data));
  return absl::OkStatus();
}

// Body selection: v4 always carries a TD Report 1.0; v5 says which body follows and how long.
absl::Status ReadBody(ByteReader& r, Quote* q) {
  if (q->header.version == kQuoteVersion4) {
    q->body_type = kBodyTypeTdReport10;
    return ReadTdReport(r, /*tdx15=*/false, &q->body);
  }
  ASSIGN_OR_RETURN(q->body_type, r.U16("body_descriptor.type"));
  ASSIGN_OR_RETURN(const uint32_t body_size, r.U32("body_descriptor.size"));
  size_t expected = 0;
  if (q->body_type == kBodyTypeTdReport10) {
    expected = kTdReport10Size;
  } else if (q->body_type == kBodyTypeTdReport15) {
    expected = kTdReport15Size;
  } else {
    return Unsupported(absl::StrCat(kWhat, ": body_descriptor.type ", q->body_type,
                                    " is not a TD report (supported: 2 = TDX 1.0, 3 = TDX 1.5)"));
  }
  if (body_size != expected) {
    return Malformed(absl::StrCat(kWhat, ": body_descriptor.size ", body_size, " for body type ",
                                  q->body_type, ", expected ", expected));
  }
  return ReadTdReport(r, q->body_type == kBodyTypeTdReport15, &q->body);
}

// Certification data type 6 (QE report certification data), which must end exactly where its
// declared size says: leftover bytes inside signed-over structures are never ignored.
absl::Status ReadQeCertificationData(absl::string_view data, QeReportCertificationData* c) {
  ByteReader r(data, "tdx quote certification data");
  ASSIGN_OR_RETURN(c->qe_report_bytes, r.OwnedBytes(kSgxReportBodySize, "qe_report"));
  ByteReader report(c->qe_report_bytes, kWhat);
  RETURN_IF_ERROR(ReadSgxReportBody(report, &c->qe_report));
  RETURN_IF_ERROR(r.Array("qe_report_signature", &c->qe_report_signature));
  ASSIGN_OR_RETURN(const uint16_t auth_size, r.U16("qe_auth_data.size"));
  ASSIGN_OR_RETURN(c->qe_auth_data, r.OwnedBytes(auth_size, "qe_auth_data"));
  ASSIGN_OR_RETURN(c->pck_cert_data_type, r.U16("pck_cert_data.type"));
  if (c->pck_cert_data_type != kCertDataPckChain) {
    return Unsupported(absl::StrCat(kWhat, ": pck_cert_data.type ", c->pck_cert_data_type,
                                    " is not supported (supported: 5, PEM PCK chain)"));
  }
  ASSIGN_OR_RETURN(const uint32_t chain_size, r.U32("pck_cert_data.size"));
  ASSIGN_OR_RETURN(c->pck_chain_pem, r.OwnedBytes(chain_size, "pck_cert_data"));
  if (r.remaining() != 0) {
    return Malformed(absl::StrCat(kWhat, ": ", r.remaining(),
                                  " unexpected bytes after pck_cert_data inside certification data"));
  }
  return absl::OkStatus();
}

absl::Status ReadSignatureData(absl::string_view data, Quote* q) {
  ByteReader r(data, "tdx quote signature data");
  RETURN_IF_ERROR(r.Array("signature", &q->signature));
  RETURN_IF_ERROR(r.Array("attestation_key", &q->attestation_key));
  ASSIGN_OR_RETURN(const uint16_t cert_type, r.U16("certification_data.type"));
  if (cert_type != kCertDataQeReport) {
    return Unsupported(absl::StrCat(kWhat, ": certification_data.type ", cert_type,
                                    " is not supported (supported: 6, QE report certification "
                                    "data)"));
  }
  ASSIGN_OR_RETURN(const uint32_t cert_size, r.U32("certification_data.size"));
  ASSIGN_OR_RETURN(const absl::string_view cert_data, r.Bytes(cert_size, "certification_data"));
  RETURN_IF_ERROR(ReadQeCertificationData(cert_data, &q->certification));
  if (r.remaining() != 0) {
    return Malformed(absl::StrCat(kWhat, ": ", r.remaining(),
                                  " unexpected bytes after certification_data inside signature "
                                  "data"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Quote> ParseQuoteIgnoringTrailingBytes(absl::string_view bytes,
                                                      std::string* out_trailing_problem) {
  if (bytes.size() > kMaxQuoteSize) {
    return Malformed(absl::StrCat(kWhat, ": ", bytes.size(), " bytes, more than the ",
                                  kMaxQuoteSize, " a TD's quote buffer holds"));
  }
  Quote q;
  ByteReader r(bytes, kWhat);
  RETURN_IF_ERROR(ReadHeader(r, &q.header));
  RETURN_IF_ERROR(ReadBody(r, &q));
  q.signed_bytes = std::string(bytes.substr(0, r.offset()));

  ASSIGN_OR_RETURN(const uint32_t sig_size, r.U32("signature_data.size"));
  ASSIGN_OR_RETURN(const absl::string_view sig_data, r.Bytes(sig_size, "signature_data"));
  RETURN_IF_ERROR(ReadSignatureData(sig_data, &q));

  const absl::string_view trailing = r.rest();
  q.trailing_bytes = trailing.size();
  out_trailing_problem->clear();
  const auto nonzero = std::find_if(trailing.begin(), trailing.end(), [](char c) { return c != 0; });
  if (nonzero != trailing.end()) {
    *out_trailing_problem = absl::StrCat(
        kWhat, ": ", trailing.size(),
        " bytes follow the signature data and they are not zero padding (first non-zero byte at "
        "offset ",
        r.offset() + (nonzero - trailing.begin()), ")");
  }
  return q;
}

absl::StatusOr<Quote> ParseQuote(absl::string_view bytes) {
  std::string trailing_problem;
  ASSIGN_OR_RETURN(Quote q, ParseQuoteIgnoringTrailingBytes(bytes, &trailing_problem));
  if (!trailing_problem.empty()) return Malformed(trailing_problem);
  return q;
}

std::string SerializeSgxReportBody(const SgxReportBody& q) {
  ByteWriter w;
  w.Array(q.cpu_svn);
  w.Array(q.misc_select);
  w.Array(q.reserved1);
  w.Array(q.attributes);
  w.Array(q.mr_enclave);
  w.Array(q.reserved2);
  w.Array(q.mr_signer);
  w.Array(q.reserved3);
  w.U16(q.isv_prod_id);
  w.U16(q.isv_svn);
  w.Array(q.reserved4);
  w.Array(q.report_data);
  return w.Take();
}

std::string SerializeQuote(const Quote& q) {
  ByteWriter w;
  w.U16(q.header.version);
  w.U16(q.header.attestation_key_type);
  w.U32(q.header.tee_type);
  w.Array(q.header.reserved);
  w.Array(q.header.qe_vendor_id);
  w.Array(q.header.user_data);
  if (q.header.version == kQuoteVersion5) {
    w.U16(q.body_type);
    w.U32(static_cast<uint32_t>(q.body.is_tdx15 ? kTdReport15Size : kTdReport10Size));
  }
  WriteTdReport(q.body, w);

  const QeReportCertificationData& c = q.certification;
  ByteWriter cert;
  cert.Bytes(SerializeSgxReportBody(c.qe_report));
  cert.Array(c.qe_report_signature);
  cert.U16(static_cast<uint16_t>(c.qe_auth_data.size()));
  cert.Bytes(c.qe_auth_data);
  cert.U16(c.pck_cert_data_type);
  cert.U32(static_cast<uint32_t>(c.pck_chain_pem.size()));
  cert.Bytes(c.pck_chain_pem);
  const std::string cert_bytes = cert.Take();

  ByteWriter sig;
  sig.Array(q.signature);
  sig.Array(q.attestation_key);
  sig.U16(kCertDataQeReport);
  sig.U32(static_cast<uint32_t>(cert_bytes.size()));
  sig.Bytes(cert_bytes);
  const std::string sig_bytes = sig.Take();

  w.U32(static_cast<uint32_t>(sig_bytes.size()));
  w.Bytes(sig_bytes);
  return w.Take();
}

bool LooksLikeTdxQuote(absl::string_view bytes) {
  ByteReader r(bytes, kWhat);
  auto version = r.U16("version");
  auto key_type = r.U16("key_type");
  auto tee_type = r.U32("tee_type");
  // The key type keeps an SEV-SNP report apart: its bytes 2..3 are always zero, while a v5
  // report whose guest SVN is 0x81 would otherwise look like a TDX quote.
  return version.ok() && key_type.ok() && tee_type.ok() &&
         (*version == kQuoteVersion4 || *version == kQuoteVersion5) &&
         *key_type == kAttestationKeyEcdsaP256 && *tee_type == kTeeTypeTdx;
}

}  // namespace teeverify::tdx
