// Helpers shared by the C++ tests: reading checked-in vectors and pinned times.
#ifndef TEE_TESTS_TEST_UTIL_H_
#define TEE_TESTS_TEST_UTIL_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "verifier/common/errors.h"
#include "verifier/common/time_util.h"
#include "verifier/io/files.h"
#include "verifier/roots/trust_roots.h"

namespace teeverify::testing {

inline std::string TestDataPath(absl::string_view relative) {
  return std::string(TEE_TEST_DATA_DIR) + "/" + std::string(relative);
}

// Reads tests/data/<relative>; fails the test when it cannot.
inline std::string ReadTestData(absl::string_view relative) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(TestDataPath(relative));
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

// The pinned vendor roots, as production uses them.
inline std::shared_ptr<const TrustRoots> BuiltInRoots() {
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
  EXPECT_TRUE(roots.ok()) << roots.status();
  return roots.ok() ? *roots : nullptr;
}

// A TDX collateral bundle of tests/data/tdx/collateral/NAME.
inline tdx::TdxCollateral TestTdxCollateral(absl::string_view name) {
  absl::StatusOr<tdx::TdxCollateral> c =
      LoadTdxCollateralDir(TestDataPath(std::string("tdx/collateral/") + std::string(name)));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : tdx::TdxCollateral{};
}

// The same outcome: code, reason and message. OpenSSL's error text inside parse errors is left
// out: it is the first entry of OpenSSL's thread-local error queue, which earlier successful
// calls may have left non-empty (see docs/performance.md).
inline void ExpectSameOutcome(const absl::Status& a, const absl::Status& b) {
  auto without_openssl = [](const absl::Status& s) {
    const std::string m(s.message());
    return m.substr(0, m.find(" (error:"));
  };
  EXPECT_EQ(a.code(), b.code()) << a << " vs " << b;
  EXPECT_EQ(ReasonOf(a), ReasonOf(b)) << a << " vs " << b;
  EXPECT_EQ(without_openssl(a), without_openssl(b));
}

inline absl::Time At(absl::string_view rfc3339) {
  absl::StatusOr<absl::Time> t = ParseRfc3339(rfc3339, "test time");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : absl::UnixEpoch();
}

}  // namespace teeverify::testing

#endif  // TEE_TESTS_TEST_UTIL_H_
