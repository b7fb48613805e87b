#include "verifier/crypto/leaf_certificate.h"

#include <openssl/objects.h>
#include <openssl/provider.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {
namespace {

// A library context holding only OpenSSL's "null" provider (an empty context would load the
// default one on first use): nothing can be decoded or computed in it, so parsing a certificate
// in it skips the key decoding. Null if the provider cannot be loaded; then leaves are parsed
// the ordinary way.
OSSL_LIB_CTX* KeylessContext() {
  static OSSL_LIB_CTX* const ctx = [] {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c != nullptr && OSSL_PROVIDER_load(c, "null") == nullptr) {
      OSSL_LIB_CTX_free(c);
      c = nullptr;
    }
    ClearOpenSslErrors();
    return c;
  }();
  return ctx;
}

int CurveNid(Curve curve) {
  return curve == Curve::kP256 ? NID_X9_62_prime256v1 : NID_secp384r1;
}

}  // namespace

absl::StatusOr<X509Ptr> ParseLeafCertificate(absl::string_view der, absl::string_view what) {
  return ParseDerCertificate(der, what, KeylessContext());
}

absl::StatusOr<EvpPkeyPtr> LeafEcKey(X509* cert, Curve curve, absl::string_view what) {
  auto not_ec = [&](absl::string_view why) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": certificate ", DescribeCertificate(cert),
                                  " key is not an EC ",
                                  curve == Curve::kP256 ? "P-256" : "P-384", " key (", why, ")"));
  };
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* point = nullptr;
  int point_len = 0;
  X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(&algorithm, &point, &point_len, &algor,
                             X509_get_X509_PUBKEY(cert)) != 1) {
    ClearOpenSslErrors();
    return not_ec("no SubjectPublicKeyInfo");
  }
  const ASN1_OBJECT* params_oid = nullptr;
  int params_type = 0;
  const void* params = nullptr;
  X509_ALGOR_get0(&params_oid, &params_type, &params, algor);
  if (OBJ_obj2nid(algorithm) != NID_X9_62_id_ecPublicKey || params_type != V_ASN1_OBJECT ||
      OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(params)) != CurveNid(curve)) {
    return not_ec("algorithm or named curve");
  }
  const size_t xy = 2 * CoordinateSize(curve);
  if (point_len < 1 || static_cast<size_t>(point_len) != xy + 1 || point[0] != 0x04) {
    return not_ec("not an uncompressed point");
  }
  return EcPublicKeyFromXY(curve, absl::string_view(reinterpret_cast<const char*>(point + 1), xy),
                           absl::StrCat(what, ": certificate key"));
}

}  // namespace teeverify
