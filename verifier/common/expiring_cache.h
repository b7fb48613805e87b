// A bounded, thread-safe memo of verified objects, each valid only within its own window (the
// certificates and collateral it was verified against). A server injects it into verifiers so
// that a platform seen before costs only the per-evidence signatures; the core does no I/O and
// caches nothing on its own.
#ifndef TEE_VERIFIER_COMMON_EXPIRING_CACHE_H_
#define TEE_VERIFIER_COMMON_EXPIRING_CACHE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "verifier/crypto/x509_util.h"

namespace teeverify {

// Appends `bytes` to a cache key, length-prefixed so that no two different inputs give the same
// key.
inline void AppendCacheKeyField(absl::string_view bytes, std::string* key) {
  const uint64_t size = bytes.size();
  key->append(reinterpret_cast<const char*>(&size), sizeof(size));
  key->append(bytes.data(), bytes.size());
}

template <typename V>
class ExpiringCache {
 public:
  explicit ExpiringCache(size_t capacity) : capacity_(capacity) {}

  // The value stored under `key` if `now` is inside its window; null otherwise. A value whose
  // window has closed is not returned, so callers verify again and report the exact failure.
  std::shared_ptr<const V> Get(const std::string& key, absl::Time now) const {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.window.Contains(now)) return nullptr;
    return it->second.value;
  }

  void Put(const std::string& key, std::shared_ptr<const V> value, const ValidityWindow& window) {
    absl::MutexLock lock(&mu_);
    if (entries_.count(key) == 0) {
      while (entries_.size() >= capacity_ && !order_.empty()) {
        entries_.erase(order_.front());  // oldest first; a re-verification refills it
        order_.pop_front();
      }
      order_.push_back(key);
    }
    entries_[key] = Entry{std::move(value), window};
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::shared_ptr<const V> value;
    ValidityWindow window;
  };

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_EXPIRING_CACHE_H_
