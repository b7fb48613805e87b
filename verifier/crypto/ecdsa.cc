#include "verifier/crypto/ecdsa.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace teeverify {
namespace {

using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG, ECDSA_SIG_free>>;
using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;

const char* GroupName(Curve curve) { return curve == Curve::kP256 ? "prime256v1" : "secp384r1"; }

BignumPtr BignumFrom(absl::string_view bytes, ByteOrder order) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const int n = static_cast<int>(bytes.size());
  return BignumPtr(order == ByteOrder::kBigEndian ? BN_bin2bn(p, n, nullptr)
                                                  : BN_lebin2bn(p, n, nullptr));
}

}  // namespace

bool IsEcKeyOn(EVP_PKEY* key, Curve curve) {
  char group[32] = {0};
  size_t len = 0;
  const bool on_curve = key != nullptr && EVP_PKEY_is_a(key, "EC") &&
                        EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
                        absl::string_view(group, len) == GroupName(curve);
  if (!on_curve) ClearOpenSslErrors();
  return on_curve;
}

size_t CoordinateSize(Curve curve) { return curve == Curve::kP256 ? 32 : 48; }

absl::StatusOr<EvpPkeyPtr> EcPublicKeyFromXY(Curve curve, absl::string_view xy,
                                             absl::string_view what) {
  if (xy.size() != 2 * CoordinateSize(curve)) {
    return Malformed(absl::StrCat(what, ": expected ", 2 * CoordinateSize(curve),
                                  " bytes of X||Y, got ", xy.size()));
  }
  std::string point;
  point.reserve(xy.size() + 1);
  point.push_back('\x04');  // SEC 1 uncompressed point
  point.append(xy.data(), xy.size());

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, GroupName(curve), 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return OpenSslError(v1::REASON_INTERNAL, absl::StrCat(what, ": building key parameters"));
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(v1::REASON_MALFORMED_EVIDENCE,
                        absl::StrCat(what, ": not a valid ", GroupName(curve), " point"));
  }
  EvpPkeyPtr key(raw);
  // EVP_PKEY_fromdata does not validate the point; an off-curve key must never "verify". The
  // quick check (point on the curve) is complete for P-256 and P-384, whose cofactor is 1; the
  // full check would add a scalar multiplication by the group order to every verification.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return OpenSslError(v1::REASON_MALFORMED_EVIDENCE,
                        absl::StrCat(what, ": point is not on ", GroupName(curve)));
  }
  return key;
}

absl::Status VerifyEcdsaRaw(EVP_PKEY* key, const EVP_MD* md, absl::string_view message,
                            absl::string_view r_s, ByteOrder order, absl::string_view what) {
  if (r_s.size() % 2 != 0 || r_s.empty()) {
    return Malformed(absl::StrCat(what, ": signature has odd length ", r_s.size()));
  }
  const size_t half = r_s.size() / 2;
  BignumPtr r = BignumFrom(r_s.substr(0, half), order);
  BignumPtr s = BignumFrom(r_s.substr(half), order);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OpenSslError(v1::REASON_INTERNAL, absl::StrCat(what, ": building signature"));
  }
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) {
    return OpenSslError(v1::REASON_INTERNAL, absl::StrCat(what, ": encoding signature"));
  }
  std::string der_sig(reinterpret_cast<char*>(der), der_len);
  OPENSSL_free(der);
  return VerifyEcdsaDer(key, md, message, der_sig, what);
}

absl::Status VerifyEcdsaDer(EVP_PKEY* key, const EVP_MD* md, absl::string_view message,
                            absl::string_view der_signature, absl::string_view what) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
    return OpenSslError(v1::REASON_INTERNAL, absl::StrCat(what, ": initialising verification"));
  }
  const int rc = EVP_DigestVerify(ctx.get(), Uchar(der_signature), der_signature.size(),
                                  Uchar(message), message.size());
  if (rc != 1) {
    ClearOpenSslErrors();
    return MakeError(v1::REASON_BAD_SIGNATURE, absl::StrCat(what, ": signature does not verify"));
  }
  return absl::OkStatus();
}

}  // namespace teeverify
