#include "verifier/crypto/x509_util.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"

namespace teeverify {
namespace {

bool IsPadding(char c) { return c == '\0' || c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool LooksLikePem(absl::string_view data) {
  return data.find("-----BEGIN") != absl::string_view::npos;
}

// Whether everything in `data` is padding.
bool OnlyPadding(absl::string_view data) { return std::all_of(data.begin(), data.end(), IsPadding); }

bool OnlyNuls(absl::string_view data) {
  return std::all_of(data.begin(), data.end(), [](char c) { return c == '\0'; });
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

constexpr size_t kMaxBase64 = 1 << 20;

// The base64 text between the armour lines, whitespace dropped (files written by hand or by
// other tools).
absl::StatusOr<std::string> LenientBase64Lines(absl::string_view body) {
  std::string b64;
  b64.reserve(body.size());
  for (char c : body) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (!IsBase64Char(c) || b64.size() >= kMaxBase64) {
      return absl::InvalidArgumentError("is not base64");
    }
    b64.push_back(c);
  }
  return b64;
}

// RFC 7468's strict form, as every TEE's own PEM is written: "\n" after the BEGIN line, lines of
// exactly 64 base64 characters but the last (1 to 64), each ended by "\n". With one encoding per
// certificate, a changed byte in evidence is never an equivalent spelling.
absl::StatusOr<std::string> StrictBase64Lines(absl::string_view body) {
  if (body.size() > kMaxBase64 || !absl::ConsumePrefix(&body, "\n") ||
      !absl::ConsumeSuffix(&body, "\n")) {
    return absl::InvalidArgumentError("is not in strict PEM form (line breaks)");
  }
  std::string b64;
  b64.reserve(body.size());
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    const bool last = line.data() + line.size() == body.data() + body.size();
    if (line.empty() || line.size() > 64 || (!last && line.size() != 64) ||
        !std::all_of(line.begin(), line.end(), IsBase64Char)) {
      return absl::InvalidArgumentError("is not in strict PEM form (64-character base64 lines)");
    }
    absl::StrAppend(&b64, line);
  }
  return b64;
}

// Decodes base64 that is its own canonical encoding: '=' only as final padding and zero pad bits,
// so that no two spellings decode to the same certificate.
absl::StatusOr<std::string> DecodeCanonicalBase64(absl::string_view b64) {
  if (b64.empty() || b64.size() % 4 != 0) return absl::InvalidArgumentError("is not base64");
  std::string der(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  const size_t padding = (b64.back() == '=') + (b64.size() > 1 && b64[b64.size() - 2] == '=');
  if (n < 0 || static_cast<size_t>(n) < padding) return absl::InvalidArgumentError("is not base64");
  der.resize(n - padding);  // EVP_DecodeBlock counts '=' padding as zero bytes
  std::string again(der.size() / 3 * 4 + 5, '\0');
  const int m = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(again.data()),
                                reinterpret_cast<const unsigned char*>(der.data()),
                                static_cast<int>(der.size()));
  if (absl::string_view(again.data(), static_cast<size_t>(m)) != b64) {
    return absl::InvalidArgumentError("is not canonical base64");
  }
  return der;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> PemCertificatesToDer(absl::string_view pem,
                                                              absl::string_view what,
                                                              PemForm form) {
  constexpr absl::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr absl::string_view kEnd = "-----END CERTIFICATE-----";
  const bool strict = form == PemForm::kStrict;
  auto error = [&](size_t index, absl::string_view problem) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": certificate ", index, " ", problem));
  };
  std::vector<std::string> ders;
  size_t pos = 0;
  while (true) {
    const size_t begin = pem.find(kBegin, pos);
    const absl::string_view gap =
        pem.substr(pos, begin == absl::string_view::npos ? absl::string_view::npos : begin - pos);
    if (begin == absl::string_view::npos) {
      // Strict: the final END line ends the input, or a line break and NUL terminators follow.
      const absl::string_view nuls = strict && absl::StartsWith(gap, "\n") ? gap.substr(1) : gap;
      if (strict ? !(gap.empty() || (absl::StartsWith(gap, "\n") && OnlyNuls(nuls)))
                 : !OnlyPadding(gap)) {
        return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                         absl::StrCat(what, ": unexpected bytes after certificate ", ders.size()));
      }
      break;
    }
    // Strict: blocks follow each other, each END line ended by exactly one line break.
    if (strict ? gap != (ders.empty() ? "" : "\n") : !OnlyPadding(gap)) {
      return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                       absl::StrCat(what, ": unexpected bytes before certificate ",
                                    ders.size() + 1));
    }
    const size_t end = pem.find(kEnd, begin);
    if (end == absl::string_view::npos) return error(ders.size() + 1, "has no END line");
    const absl::string_view body = pem.substr(begin + kBegin.size(), end - begin - kBegin.size());
    absl::StatusOr<std::string> b64 =
        strict ? StrictBase64Lines(body) : LenientBase64Lines(body);
    if (!b64.ok()) return error(ders.size() + 1, b64.status().message());
    absl::StatusOr<std::string> der = DecodeCanonicalBase64(*b64);
    if (!der.ok()) return error(ders.size() + 1, der.status().message());
    ders.push_back(*std::move(der));
    pos = end + kEnd.size();
  }
  if (ders.empty()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID, absl::StrCat(what, ": no certificate"));
  }
  return ders;
}

namespace {

// `expected` says what the input may be, for the error ("DER", "DER or PEM").
absl::StatusOr<X509Ptr> ParseDer(absl::string_view der, absl::string_view what,
                                 absl::string_view expected, OSSL_LIB_CTX* ctx = nullptr) {
  const unsigned char* p = Uchar(der);
  X509* cert = ctx == nullptr ? d2i_X509(nullptr, &p, static_cast<long>(der.size()))
                              : reinterpret_cast<X509*>(ASN1_item_d2i_ex(
                                    nullptr, &p, static_cast<long>(der.size()),
                                    ASN1_ITEM_rptr(X509), ctx, nullptr));
  if (cert == nullptr) {
    return OpenSslError(v1::REASON_CERT_CHAIN_INVALID,
                        absl::StrCat(what, ": not a ", expected, " certificate"));
  }
  X509Ptr owned(cert);
  const size_t used = static_cast<size_t>(p - Uchar(der));
  if (used != der.size()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": ", der.size() - used,
                                  " trailing bytes after the DER certificate"));
  }
  return owned;
}

}  // namespace

absl::StatusOr<X509Ptr> ParseDerCertificate(absl::string_view der, absl::string_view what,
                                            OSSL_LIB_CTX* ctx) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der, what, "DER", ctx));
  // d2i_X509 caches the extensions (key usage, basic constraints, key identifiers) as it parses;
  // ASN1_item_d2i_ex leaves that to their first use, done here so that a malformed extension is
  // flagged (EXFLAG_INVALID) before anything reads the certificate.
  if (ctx != nullptr) X509_check_purpose(cert.get(), -1, 0);
  return cert;
}

absl::StatusOr<std::vector<X509Ptr>> ParsePemCertificates(absl::string_view pem,
                                                          absl::string_view what) {
  ASSIGN_OR_RETURN(std::vector<std::string> ders, PemCertificatesToDer(pem, what));
  std::vector<X509Ptr> certs;
  for (size_t i = 0; i < ders.size(); ++i) {
    absl::StatusOr<X509Ptr> cert = ParseDerCertificate(ders[i], what);
    if (!cert.ok()) {
      return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                       absl::StrCat(what, ": certificate ", i + 1, " does not parse"));
    }
    certs.push_back(*std::move(cert));
  }
  return certs;
}

absl::StatusOr<X509Ptr> ParseCertificate(absl::string_view der_or_pem, absl::string_view what) {
  if (LooksLikePem(der_or_pem)) {
    auto certs = ParsePemCertificates(der_or_pem, what);
    if (!certs.ok()) return certs.status();
    if (certs->size() != 1) {
      return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                       absl::StrCat(what, ": expected one certificate, found ", certs->size()));
    }
    return std::move(certs->front());
  }
  return ParseDer(der_or_pem, what, "DER or PEM");
}

absl::StatusOr<X509CrlPtr> ParseCrl(absl::string_view der_or_pem, absl::string_view what) {
  X509_CRL* crl = nullptr;
  if (LooksLikePem(der_or_pem)) {
    BioPtr bio(BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
    crl = bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  } else {
    const unsigned char* p = Uchar(der_or_pem);
    crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der_or_pem.size()));
    if (crl != nullptr && static_cast<size_t>(p - Uchar(der_or_pem)) != der_or_pem.size()) {
      X509_CRL_free(crl);
      return MakeError(v1::REASON_COLLATERAL_INVALID,
                       absl::StrCat(what, ": trailing bytes after the DER CRL"));
    }
  }
  if (crl == nullptr) {
    return OpenSslError(v1::REASON_COLLATERAL_INVALID,
                        absl::StrCat(what, ": not a DER or PEM CRL"));
  }
  return X509CrlPtr(crl);
}

std::string OidText(const ASN1_OBJECT* obj) {
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof(buf), obj, /*no_name=*/1);
  return n > 0 ? std::string(buf, std::min<size_t>(n, sizeof(buf) - 1)) : "";
}

absl::string_view OidSuffix(absl::string_view oid, absl::string_view arc) {
  if (oid.size() <= arc.size() + 1 || !absl::StartsWith(oid, arc) || oid[arc.size()] != '.') {
    return "";
  }
  return oid.substr(arc.size() + 1);
}

std::string CertificateDer(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

ByteArray<32> CertificateFingerprint(X509* cert) { return Sha256(CertificateDer(cert)); }

std::string SubjectCommonName(X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), len);
  OPENSSL_free(utf8);
  return out;
}

std::string SerialHex(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  if (serial == nullptr) return "";
  return HexEncode(absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
                                     ASN1_STRING_length(serial)));
}

std::string DescribeCertificate(X509* cert) {
  const std::string serial = SerialHex(cert);
  return absl::StrCat("'", SubjectCommonName(cert), "' (serial ",
                      serial.empty() ? absl::string_view("0") : absl::string_view(serial), ")");
}

void ValidityWindow::Intersect(const ValidityWindow& other) {
  not_before = std::max(not_before, other.not_before);
  not_after = std::min(not_after, other.not_after);
}

absl::StatusOr<ValidityWindow> CertificateValidity(X509* cert) {
  ValidityWindow window;
  if (!Asn1TimeToAbsl(X509_get0_notBefore(cert), &window.not_before) ||
      !Asn1TimeToAbsl(X509_get0_notAfter(cert), &window.not_after)) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("certificate ", DescribeCertificate(cert),
                                  ": unreadable validity dates"));
  }
  return window;
}

}  // namespace teeverify
