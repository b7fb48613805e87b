// What the TDX and AMD collateral cache tests share: a scratch directory, a transport the test
// owns, and the cache's log kept for assertions.
#ifndef TEE_VERIFIER_COLLATERAL_CACHE_TEST_UTIL_H_
#define TEE_VERIFIER_COLLATERAL_CACHE_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/http.h"
#include "verifier/collateral/tdx_cache.h"

namespace teeverify::collateral::cache_test {

// A fresh directory under the system's temporary directory.
inline std::string TempDir() {
  std::string dir =
      (std::filesystem::temp_directory_path() / "tee-collateral-test-XXXXXX").string();
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir;
}

// A non-owning shared_ptr: the test's fake transport outlives the cache that holds it.
inline std::shared_ptr<HttpTransport> Borrow(HttpTransport* transport) {
  return std::shared_ptr<HttpTransport>(transport, [](HttpTransport*) {});
}

// The cache's log lines ("LEVEL EVENT FIELDS"), for assertions and failure messages.
class CacheLog {
 public:
  LogFn Sink() {
    return [this](absl::string_view level, absl::string_view event, nlohmann::ordered_json f) {
      absl::MutexLock lock(&mu_);
      lines_.push_back(absl::StrCat(level, " ", event, " ", f.dump()));
    };
  }
  std::string Text() const {
    absl::MutexLock lock(&mu_);
    return absl::StrJoin(lines_, "\n");
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace teeverify::collateral::cache_test

#endif  // TEE_VERIFIER_COLLATERAL_CACHE_TEST_UTIL_H_
