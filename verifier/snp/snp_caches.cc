#include "verifier/snp/snp_caches.h"

#include <cstdint>

namespace teeverify::snp {
namespace {

// Length-prefixed, so that no two different inputs give the same key.
void AppendField(absl::string_view bytes, std::string* key) {
  const uint64_t size = bytes.size();
  key->append(reinterpret_cast<const char*>(&size), sizeof(size));
  key->append(bytes.data(), bytes.size());
}

void AppendEntry(const SnpEvidence& evidence, const Guid& guid, std::string* key) {
  const std::string* der = evidence.Find(guid);
  if (der == nullptr) {
    key->push_back('\0');  // absent, which differs from present and empty
    return;
  }
  key->push_back('\1');
  AppendField(*der, key);
}

}  // namespace

std::string VekCacheKey(const SnpEvidence& evidence, absl::string_view certificate, bool vlek) {
  std::string key;
  key.reserve(certificate.size() + 64);
  key.push_back(vlek ? 'L' : 'C');
  AppendField(certificate, &key);
  AppendEntry(evidence, vlek ? kVlekGuid : kVcekGuid, &key);
  AppendEntry(evidence, kAskGuid, &key);
  AppendEntry(evidence, kArkGuid, &key);
  return key;
}

}  // namespace teeverify::snp
