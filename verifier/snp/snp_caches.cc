#include "verifier/snp/snp_caches.h"

#include <cstdint>

namespace teeverify::snp {
namespace {

void AppendEntry(const SnpEvidence& evidence, const Guid& guid, std::string* key) {
  const std::string* der = evidence.Find(guid);
  if (der == nullptr) {
    key->push_back('\0');  // absent, which differs from present and empty
    return;
  }
  key->push_back('\1');
  AppendCacheKeyField(*der, key);
}

}  // namespace

std::string VekCacheKey(const SnpEvidence& evidence, absl::string_view certificate, bool vlek) {
  std::string key;
  key.reserve(certificate.size() + 64);
  key.push_back(vlek ? 'L' : 'C');
  AppendCacheKeyField(certificate, &key);
  AppendEntry(evidence, vlek ? kVlekGuid : kVcekGuid, &key);
  AppendEntry(evidence, kAskGuid, &key);
  AppendEntry(evidence, kArkGuid, &key);
  return key;
}

}  // namespace teeverify::snp
