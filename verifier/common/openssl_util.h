// RAII holders for OpenSSL objects (one deleter per type, as Tink's SslUniquePtr) and helpers
// that turn OpenSSL's error queue into a status message, then clear it.
#ifndef TEE_VERIFIER_COMMON_OPENSSL_UTIL_H_
#define TEE_VERIFIER_COMMON_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/errors.h"

namespace teeverify {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL, X509_CRL_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using X509StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

// Drains OpenSSL's error queue into "context: <first error>" with the given reason.
absl::Status OpenSslError(Reason reason, absl::string_view context);

// Discards whatever OpenSSL left in its error queue (after an expected failure).
void ClearOpenSslErrors();

inline const unsigned char* Uchar(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// SHA-256 and SHA-384 fetched from the default provider once per process. OpenSSL 3 otherwise
// fetches the implementation on every EVP_DigestVerifyInit(EVP_sha256()), at a cost that shows
// in warm verification.
const EVP_MD* Sha256Md();
const EVP_MD* Sha384Md();

ByteArray<32> Sha256(absl::string_view data);
ByteArray<48> Sha384(absl::string_view data);
ByteArray<64> Sha512(absl::string_view data);

// Converts an ASN1_TIME (certificate or CRL date) to absl::Time; false if it cannot.
bool Asn1TimeToAbsl(const ASN1_TIME* t, absl::Time* out);

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_OPENSSL_UTIL_H_
