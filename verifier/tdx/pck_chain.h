// The PCK certificate chain embedded in a quote (certification data type 5): leaf PCK
// certificate, PCK Platform/Processor CA, Intel SGX Root CA.
#ifndef TEE_VERIFIER_TDX_PCK_CHAIN_H_
#define TEE_VERIFIER_TDX_PCK_CHAIN_H_

#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/certificate_pool.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/tdx/pck_extensions.h"

namespace teeverify::tdx {

// The Intel CA that issued a PCK certificate; a PCK CRL is per CA (PCS: pckcrl?ca=...).
enum class PckCa { kPlatform, kProcessor };

struct VerifiedPckChain {
  X509Ptr leaf;         // its key is not decoded (leaf_certificate.h): use leaf_key
  EvpPkeyPtr leaf_key;  // the PCK key (P-256), which signs the QE report
  X509Ptr intermediate;
  PckExtensions extensions;
  PckCa ca = PckCa::kPlatform;  // from the intermediate's subject
  ValidityWindow window;  // where all three certificates are valid
};

// Parses the PEM chain (exactly leaf, intermediate, root), requires the root to be `intel_root`
// and verifies the path at `now`. Revocation is checked later, against verified collateral.
// `pool` is optional (see VerifyTdxCollateral).
absl::StatusOr<std::shared_ptr<const VerifiedPckChain>> VerifyPckChain(
    absl::string_view pem, X509* intel_root, absl::Time now, CertificatePool* pool = nullptr);

// Reads the leaf's SGX extension without verifying anything (for --inspect).
absl::StatusOr<PckExtensions> InspectPckChain(absl::string_view pem);

}  // namespace teeverify::tdx

#endif  // TEE_VERIFIER_TDX_PCK_CHAIN_H_
