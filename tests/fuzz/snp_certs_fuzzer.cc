// libFuzzer target: the SEV-SNP certificate table (parse -> serialize -> parse stability), the
// VCEK/VLEK extension value parsers (driven as a list of (OID, value) pairs decoded from the
// input) and VCEK/VLEK certificates (DER via OpenSSL, then their AMD extensions).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/vcek_extensions.h"

namespace {

// Input as records {suffix index, length, value}: the suffixes of the AMD arc and one outsider.
std::vector<std::pair<std::string, std::string>> Records(absl::string_view in) {
  static const char* const kSuffixes[] = {"1",   "2",   "3.1", "3.2", "3.3", "3.4", "3.5", "3.6",
                                          "3.7", "3.8", "3.9", "4",   "5",   "6"};
  std::vector<std::pair<std::string, std::string>> out;
  while (in.size() >= 2) {
    const size_t which = static_cast<uint8_t>(in[0]) % 15;
    const size_t len = std::min<size_t>(static_cast<uint8_t>(in[1]), in.size() - 2);
    const std::string oid = which < 14 ? absl::StrCat(teeverify::snp::kAmdExtensionArc, ".",
                                                      kSuffixes[which])
                                       : "2.5.29.19";
    out.emplace_back(oid, std::string(in.substr(2, len)));
    in.remove_prefix(2 + len);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  auto table = teeverify::snp::ParseCertTable(input);
  if (table.ok()) {
    const std::string once = teeverify::snp::SerializeCertTable(*table);
    auto again = teeverify::snp::ParseCertTable(once);
    if (!again.ok() || *again != *table) abort();
    if (teeverify::snp::SerializeCertTable(*again) != once) abort();
  }
  (void)teeverify::snp::ParseVekExtensionValues(Records(input));
  (void)teeverify::snp::ParseSplValue(input, "fuzz");
  (void)teeverify::snp::ParseIa5Value(input, "fuzz");
  (void)teeverify::snp::ParseHwIdValue(input);
  auto cert = teeverify::ParseCertificate(input, "fuzz");
  if (cert.ok()) (void)teeverify::snp::ParseVekExtensions(cert->get());
  return 0;
}
