#include "verifier/roots/trust_roots.h"

#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {
namespace {

struct BuiltInRoot {
  RootId id;
  absl::string_view pem;
  absl::string_view sha256_of_der;  // pinned fingerprint
};

// Intel SGX Root CA, 2018-05-21 .. 2049-12-31; https://certificates.trustedservices.intel.com
constexpr absl::string_view kIntelSgxRootCaPem = R"(-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
)";

constexpr BuiltInRoot kBuiltInRoots[] = {
    {RootId::kIntelSgxRootCa, kIntelSgxRootCaPem,
     "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"},
};

absl::StatusOr<X509Ptr> LoadRoot(RootId id, absl::string_view pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(pem, RootDisplayName(id)));
  if (X509_check_issued(cert.get(), cert.get()) != X509_V_OK) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(RootDisplayName(id), ": root certificate is not self-issued"));
  }
  return cert;
}

}  // namespace

absl::string_view RootFileName(RootId id) {
  switch (id) {
    case RootId::kIntelSgxRootCa:
      return "intel_sgx_root_ca.pem";
  }
  return "";
}

absl::string_view RootDisplayName(RootId id) {
  switch (id) {
    case RootId::kIntelSgxRootCa:
      return "Intel SGX Root CA";
  }
  return "";
}

absl::StatusOr<std::shared_ptr<const TrustRoots>> TrustRoots::BuiltIn() {
  std::shared_ptr<TrustRoots> roots(new TrustRoots());
  roots->built_in_ = true;
  for (const BuiltInRoot& root : kBuiltInRoots) {
    ASSIGN_OR_RETURN(X509Ptr cert, LoadRoot(root.id, root.pem));
    const std::string fingerprint = HexEncode(CertificateFingerprint(cert.get()));
    if (fingerprint != root.sha256_of_der) {
      return MakeError(v1::REASON_INTERNAL,
                       absl::StrCat(RootDisplayName(root.id), ": built-in root has SHA-256 ",
                                    fingerprint, ", pinned ", root.sha256_of_der));
    }
    roots->roots_[root.id] = std::move(cert);
  }
  return std::shared_ptr<const TrustRoots>(std::move(roots));
}

absl::StatusOr<std::shared_ptr<const TrustRoots>> TrustRoots::FromPem(
    const std::map<RootId, std::string>& pem_by_id) {
  std::shared_ptr<TrustRoots> roots(new TrustRoots());
  for (const auto& [id, pem] : pem_by_id) {
    ASSIGN_OR_RETURN(roots->roots_[id], LoadRoot(id, pem));
  }
  return std::shared_ptr<const TrustRoots>(std::move(roots));
}

absl::StatusOr<X509*> TrustRoots::Get(RootId id) const {
  auto it = roots_.find(id);
  if (it == roots_.end()) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("no trusted root configured for ", RootDisplayName(id)));
  }
  return it->second.get();
}

}  // namespace teeverify
