#include "verifier/testing/x509_builder.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify::testing {
namespace {

absl::Status Fail(absl::string_view what) { return OpenSslError(v1::REASON_INTERNAL, what); }

bool SetTime(ASN1_TIME* field, absl::Time t) {
  return ASN1_TIME_set(field, absl::ToTimeT(t)) != nullptr;
}

absl::Status AddExtension(X509* cert, int nid, const char* value, X509* issuer) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Fail(absl::StrCat("extension ", value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : Fail("adding extension");
}

// Signs with `key`, using RSASSA-PSS (MGF1 with the same digest, salt = digest length) when asked.
template <typename Sign>
absl::Status SignWith(EVP_PKEY* key, const EVP_MD* md, bool rsa_pss, Sign sign) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return Fail("initialising signature");
  }
  if (rsa_pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                  EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)) {
    return Fail("configuring RSASSA-PSS");
  }
  return sign(ctx.get()) > 0 ? absl::OkStatus() : Fail("signing");
}

}  // namespace

std::string PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

absl::StatusOr<X509Ptr> PremadeCertificate(absl::string_view pem, EVP_PKEY* key,
                                           absl::string_view what, absl::string_view key_name) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(pem, what));
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key) != 1) {
    return MakeError(v1::REASON_INTERNAL, absl::StrCat(what, " does not hold ", key_name));
  }
  return cert;
}

absl::StatusOr<EvpPkeyPtr> LoadPrivateKey(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return Fail("loading test private key");
  return EvpPkeyPtr(key);
}

CertSpec Spec(std::string common_name, long serial, absl::Time not_before, absl::Time not_after,
              bool is_ca, std::vector<std::pair<std::string, std::string>> extensions) {
  CertSpec spec;
  spec.common_name = std::move(common_name);
  spec.serial = serial;
  spec.not_before = not_before;
  spec.not_after = not_after;
  spec.is_ca = is_ca;
  spec.extensions = std::move(extensions);
  return spec;
}

absl::StatusOr<X509Ptr> MakeCertificate(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                                        EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial) != 1 ||
      !SetTime(X509_getm_notBefore(cert.get()), spec.not_before) ||
      !SetTime(X509_getm_notAfter(cert.get()), spec.not_after) ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return Fail("building certificate");
  }
  // Built apart and copied in: OpenSSL 4.0 hands out a certificate's names only as const. An entry
  // OpenSSL refuses (e.g. an empty CN) is left out, as before.
  using NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME, X509_NAME_free>>;
  NamePtr name(X509_NAME_new());
  if (!name) return Fail("building certificate name");
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Test TEE"), -1, -1, 0);
  if (X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name.get()) != 1) {
    return Fail("building certificate name");
  }
  if (auto s = AddExtension(cert.get(), NID_basic_constraints,
                            spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE", issuer);
      !s.ok()) {
    return s;
  }
  if (auto s = AddExtension(cert.get(), NID_key_usage,
                            spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature",
                            issuer);
      !s.ok()) {
    return s;
  }
  if (!spec.subject_alt_names.empty()) {
    if (auto s = AddExtension(cert.get(), NID_subject_alt_name, spec.subject_alt_names.c_str(), issuer);
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [oid, der] : spec.extensions) {
    using ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpenSslDeleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
    using OctetsPtr =
        std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
    ObjectPtr obj(OBJ_txt2obj(oid.c_str(), 1));
    OctetsPtr data(ASN1_OCTET_STRING_new());
    if (!obj || !data ||
        ASN1_OCTET_STRING_set(data.get(), reinterpret_cast<const unsigned char*>(der.data()),
                              static_cast<int>(der.size())) != 1) {
      return Fail("building custom extension");
    }
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, data.get());
    const int ok = ext ? X509_add_ext(cert.get(), ext, -1) : 0;
    X509_EXTENSION_free(ext);
    if (ok != 1) return Fail("adding custom extension");
  }
  if (auto s = SignWith(issuer_key, spec.digest, spec.rsa_pss,
                        [&](EVP_MD_CTX* ctx) { return X509_sign_ctx(cert.get(), ctx); });
      !s.ok()) {
    return s;
  }
  return cert;
}

absl::StatusOr<X509CrlPtr> MakeCrl(const CrlSpec& spec, X509* issuer, EVP_PKEY* issuer_key) {
  X509CrlPtr crl(X509_CRL_new());
  using TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<ASN1_TIME, ASN1_TIME_free>>;
  TimePtr this_update(ASN1_TIME_set(nullptr, absl::ToTimeT(spec.this_update)));
  TimePtr next_update(ASN1_TIME_set(nullptr, absl::ToTimeT(spec.next_update)));
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1) {
    return Fail("building CRL");
  }
  for (X509* cert : spec.revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    if (entry == nullptr ||
        X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert)) != 1 ||
        X509_REVOKED_set_revocationDate(entry, this_update.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry) != 1) {
      X509_REVOKED_free(entry);
      return Fail("adding CRL entry");
    }
  }
  X509_CRL_sort(crl.get());
  if (auto s = SignWith(issuer_key, spec.digest, spec.rsa_pss,
                        [&](EVP_MD_CTX* ctx) { return X509_CRL_sign_ctx(crl.get(), ctx); });
      !s.ok()) {
    return s;
  }
  return crl;
}

std::string CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

std::string CrlDer(X509_CRL* crl) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_CRL(crl, &der);
  std::string out(reinterpret_cast<char*>(der), len > 0 ? len : 0);
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> SignEcdsaRaw(EVP_PKEY* key, const EVP_MD* md,
                                         absl::string_view message, size_t half) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, Uchar(message), message.size()) != 1) {
    return Fail("ECDSA signing");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     Uchar(message), message.size()) != 1) {
    return Fail("ECDSA signing");
  }
  const unsigned char* p = Uchar(der);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  if (sig == nullptr) return Fail("decoding ECDSA signature");
  std::string out(2 * half, '\0');
  auto* raw = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, static_cast<int>(half));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + half, static_cast<int>(half));
  ECDSA_SIG_free(sig);
  return out;
}

absl::StatusOr<std::string> PublicKeyXY(EVP_PKEY* key, size_t half) {
  unsigned char point[1 + 2 * 66];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len) !=
          1 ||
      len != 1 + 2 * half || point[0] != 0x04) {
    return Fail("reading EC public key");
  }
  return std::string(reinterpret_cast<char*>(point + 1), 2 * half);
}

std::string DerTlv(uint8_t tag, absl::string_view content) {
  std::string out(1, static_cast<char>(tag));
  const size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n < 0x100) {
    out.push_back('\x81');
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back('\x82');
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  }
  out.append(content.data(), content.size());
  return out;
}

std::string DerOid(absl::string_view dotted) {
  ASN1_OBJECT* obj = OBJ_txt2obj(std::string(dotted).c_str(), 1);
  unsigned char* der = nullptr;
  const int len = obj ? i2d_ASN1_OBJECT(obj, &der) : 0;
  std::string out(reinterpret_cast<char*>(der), len > 0 ? len : 0);
  OPENSSL_free(der);
  ASN1_OBJECT_free(obj);
  return out;
}

std::string DerSmallInteger(uint8_t tag, uint32_t value) {
  std::string content;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const char byte = static_cast<char>((value >> shift) & 0xff);
    if (content.empty() && byte == 0 && shift > 0) continue;
    content.push_back(byte);
  }
  if (static_cast<uint8_t>(content[0]) & 0x80) content.insert(content.begin(), '\0');
  return DerTlv(tag, content);
}

}  // namespace teeverify::testing
