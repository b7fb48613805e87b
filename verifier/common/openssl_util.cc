#include "verifier/common/openssl_util.h"

#include <openssl/err.h>
#include <openssl/sha.h>

#include <ctime>

#include "absl/strings/str_cat.h"

namespace teeverify {

absl::Status OpenSslError(Reason reason, absl::string_view context) {
  const unsigned long code = ERR_get_error();
  std::string detail = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    detail = buf;
  }
  ERR_clear_error();
  return MakeError(reason, absl::StrCat(context, " (", detail, ")"));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

const EVP_MD* Sha384Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
  return md;
}

ByteArray<32> Sha256(absl::string_view data) {
  ByteArray<32> out;
  SHA256(Uchar(data), data.size(), out.data());
  return out;
}

ByteArray<48> Sha384(absl::string_view data) {
  ByteArray<48> out;
  SHA384(Uchar(data), data.size(), out.data());
  return out;
}

ByteArray<64> Sha512(absl::string_view data) {
  ByteArray<64> out;
  SHA512(Uchar(data), data.size(), out.data());
  return out;
}

bool Asn1TimeToAbsl(const ASN1_TIME* t, absl::Time* out) {
  if (t == nullptr) return false;
  struct tm tm_value = {};
  if (ASN1_TIME_to_tm(t, &tm_value) != 1) return false;
  *out = absl::FromUnixSeconds(timegm(&tm_value));
  return true;
}

}  // namespace teeverify
