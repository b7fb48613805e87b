// End-entity certificates (a TDX quote's PCK certificate, a Nitro document's signing certificate)
// parsed without OpenSSL 3's provider decoders. d2i_X509 decodes every certificate's public key
// through OSSL_DECODER_CTX_new_for_pkey, which walks every decoder and key manager of the loaded
// providers: about 1.3 M instructions per certificate with Debian's OpenSSL 3.0, more than the
// ECDSA verification the key is then used for. A leaf issues nothing in its path, so its X509
// needs no decoded key (OpenSSL needs one only of an issuer, in X509_check_issued and to verify
// what it signed); the leaf's EC key is built directly from the point in its
// SubjectPublicKeyInfo, which is checked to lie on the curve as the decoder checks it.
#ifndef TEE_VERIFIER_CRYPTO_LEAF_CERTIFICATE_H_
#define TEE_VERIFIER_CRYPTO_LEAF_CERTIFICATE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/ecdsa.h"

namespace teeverify {

// Parses exactly one DER certificate (trailing bytes are refused) without decoding its key:
// X509_get0_pubkey of the result is null. `what` names it in errors.
absl::StatusOr<X509Ptr> ParseLeafCertificate(absl::string_view der, absl::string_view what);

// The key of a certificate, which must be an EC point on `curve` (id-ecPublicKey, the named
// curve, an uncompressed point on the curve), built from its SubjectPublicKeyInfo.
absl::StatusOr<EvpPkeyPtr> LeafEcKey(X509* cert, Curve curve, absl::string_view what);

}  // namespace teeverify

#endif  // TEE_VERIFIER_CRYPTO_LEAF_CERTIFICATE_H_
