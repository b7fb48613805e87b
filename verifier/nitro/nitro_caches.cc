#include "verifier/nitro/nitro_caches.h"

#include <cstdint>

namespace teeverify::nitro {
namespace {

// Length-prefixed, so that no two different chains give the same key.
void AppendField(absl::string_view bytes, std::string* key) {
  const uint64_t size = bytes.size();
  key->append(reinterpret_cast<const char*>(&size), sizeof(size));
  key->append(bytes.data(), bytes.size());
}

size_t BundleSize(const AttestationPayload& payload) {
  size_t size = 0;
  for (const std::string& der : payload.cabundle) size += der.size() + sizeof(uint64_t);
  return size;
}

}  // namespace

std::string BundleCacheKey(const AttestationPayload& payload) {
  std::string key;
  key.reserve(BundleSize(payload));
  for (const std::string& der : payload.cabundle) AppendField(der, &key);
  return key;
}

std::string ChainCacheKey(const AttestationPayload& payload) {
  std::string key;
  key.reserve(payload.certificate.size() + sizeof(uint64_t) + BundleSize(payload));
  AppendField(payload.certificate, &key);
  for (const std::string& der : payload.cabundle) AppendField(der, &key);
  return key;
}

}  // namespace teeverify::nitro
