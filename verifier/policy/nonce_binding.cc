#include "verifier/policy/nonce_binding.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/openssl_util.h"

namespace teeverify::policy {

absl::StatusOr<std::string> ExpectedReportData(absl::string_view nonce,
                                               absl::string_view client_public_key) {
  if (nonce.empty() || nonce.size() > kMaxNonceSize) {
    return MakeError(v1::REASON_BAD_REQUEST,
                     absl::StrCat("nonce: expected 1 to ", kMaxNonceSize, " bytes, got ",
                                  nonce.size()));
  }
  if (client_public_key.size() > 16384) {
    return MakeError(v1::REASON_BAD_REQUEST, "client_public_key: larger than 16384 bytes");
  }
  std::string key_hash;
  if (!client_public_key.empty()) key_hash = std::string(AsView(Sha256(client_public_key)));
  std::string input(kReportDataDomain.data(), kReportDataDomain.size());
  input.push_back('\0');
  input.push_back(static_cast<char>(nonce.size()));
  input.append(nonce.data(), nonce.size());
  input.push_back(static_cast<char>(key_hash.size()));
  input.append(key_hash);
  return std::string(AsView(Sha512(input)));
}

std::string ExpectedCertificateReportData(absl::string_view spki_der, absl::Time not_before) {
  std::string input(kCertificateReportDataDomain.data(), kCertificateReportDataDomain.size());
  input.push_back('\0');
  input.append(std::string(AsView(Sha256(spki_der))));
  const uint64_t seconds = static_cast<uint64_t>(absl::ToUnixSeconds(not_before));
  for (int shift = 56; shift >= 0; shift -= 8) {
    input.push_back(static_cast<char>((seconds >> shift) & 0xff));
  }
  return std::string(AsView(Sha512(input)));
}

}  // namespace teeverify::policy
