#include "verifier/nitro/nitro_caches.h"

#include <cstdint>

namespace teeverify::nitro {
namespace {

size_t BundleSize(const AttestationPayload& payload) {
  size_t size = 0;
  for (const std::string& der : payload.cabundle) size += der.size() + sizeof(uint64_t);
  return size;
}

}  // namespace

std::string BundleCacheKey(const AttestationPayload& payload) {
  std::string key;
  key.reserve(BundleSize(payload));
  for (const std::string& der : payload.cabundle) AppendCacheKeyField(der, &key);
  return key;
}

std::string ChainCacheKey(const AttestationPayload& payload) {
  std::string key;
  key.reserve(payload.certificate.size() + sizeof(uint64_t) + BundleSize(payload));
  AppendCacheKeyField(payload.certificate, &key);
  for (const std::string& der : payload.cabundle) AppendCacheKeyField(der, &key);
  return key;
}

}  // namespace teeverify::nitro
