#include "verifier/nitro/cose.h"

#include <openssl/core_names.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/nitro/cbor_writer.h"

namespace teeverify::nitro {

std::string SigStructure(absl::string_view protected_header, absl::string_view payload) {
  CborWriter w;
  w.ArrayStart(4);
  w.Text("Signature1");
  w.Bytes(protected_header);
  w.Bytes("");  // external_aad: Nitro documents use none
  w.Bytes(payload);
  return w.Take();
}

absl::Status VerifyEs384(const AttestationDocument& document, EVP_PKEY* key,
                         absl::string_view signer) {
  if (!IsEcKeyOn(key, Curve::kP384)) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("nitro document: signing certificate ", signer,
                                  " does not hold an EC P-384 key, which ES384 requires"));
  }
  if (document.signature.size() != kEs384SignatureSize) {
    return Malformed(absl::StrCat("nitro document: the signature is ", document.signature.size(),
                                  " bytes, expected ", kEs384SignatureSize));
  }
  return VerifyEcdsaRaw(key, Sha384Md(),
                        SigStructure(document.protected_header, document.payload_bytes),
                        document.signature, ByteOrder::kBigEndian,
                        absl::StrCat("nitro document: COSE_Sign1 ES384 signature by certificate ",
                                     signer));
}

}  // namespace teeverify::nitro
