// ECDSA with the raw key and signature encodings that attestation formats use: public keys as
// X||Y coordinates, signatures as r||s. The byte order is a parameter because AMD encodes both
// little-endian while Intel and COSE use big-endian.
#ifndef TEE_VERIFIER_CRYPTO_ECDSA_H_
#define TEE_VERIFIER_CRYPTO_ECDSA_H_

#include <openssl/evp.h>

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/common/openssl_util.h"

namespace teeverify {

enum class Curve { kP256, kP384 };
enum class ByteOrder { kBigEndian, kLittleEndian };

// Whether `key` (may be null) is an EC key on `curve`.
bool IsEcKeyOn(EVP_PKEY* key, Curve curve);

// Size in bytes of one coordinate or one signature half on `curve`.
size_t CoordinateSize(Curve curve);

// Builds a public key from X||Y (2 * CoordinateSize bytes, big-endian). Fails when the point is
// not on the curve. `what` names the key in errors.
absl::StatusOr<EvpPkeyPtr> EcPublicKeyFromXY(Curve curve, absl::string_view xy,
                                             absl::string_view what);

// Verifies an ECDSA signature given as r||s (each CoordinateSize bytes in `order`) over `message`
// hashed with `md`. Returns REASON_BAD_SIGNATURE naming `what` when it does not verify.
absl::Status VerifyEcdsaRaw(EVP_PKEY* key, const EVP_MD* md, absl::string_view message,
                            absl::string_view r_s, ByteOrder order, absl::string_view what);

// The same with a DER-encoded ECDSA-Sig-Value (as in X.509 and Intel collateral chains).
absl::Status VerifyEcdsaDer(EVP_PKEY* key, const EVP_MD* md, absl::string_view message,
                            absl::string_view der_signature, absl::string_view what);

}  // namespace teeverify

#endif  // TEE_VERIFIER_CRYPTO_ECDSA_H_
