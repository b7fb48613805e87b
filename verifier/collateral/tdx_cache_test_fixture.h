// The TDX collateral cache tests' fixture: an in-memory PCS serving the real dcap-qvl responses
// (with their URL-encoded issuer chain headers) or the test platform's bundle, and CacheTest,
// which builds caches on a FakeClock (collateral_test.cc, tdx_cache_early_test.cc).
#ifndef TEE_VERIFIER_COLLATERAL_TDX_CACHE_TEST_FIXTURE_H_
#define TEE_VERIFIER_COLLATERAL_TDX_CACHE_TEST_FIXTURE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/collateral/cache_test_util.h"
#include "verifier/collateral/clock.h"
#include "verifier/collateral/tdx_cache.h"

namespace teeverify::collateral::cache_test {


using testing::ReadTestData;

inline const ByteArray<6> kFmspc = {0xb0, 0xc0, 0x6f, 0x00, 0x00, 0x00};
using testing::At;

inline std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(absl::StrFormat("%02x", c)));
    }
  }
  return out;
}

// A PCS serving one recorded bundle; every answer can be replaced per path prefix.
inline constexpr char kEarlyTcb[] = "/tdx/certification/v4/tcb (update=early)";

class FakePcs : public HttpTransport {
 public:
  explicit FakePcs(std::string base, std::string bundle = "dcap-qvl-2025-06") : base_(base) {
    const std::string dir = "tdx/collateral/" + bundle + "/";
    const std::string chain = UrlEncode(ReadTestData(dir + "tcb_info_issuer_chain.pem"));
    ok_["/tdx/certification/v4/tcb"] = {200, {{"tcb-info-issuer-chain", chain}},
                                        ReadTestData(dir + "tcb_info_response.json")};
    ok_["/tdx/certification/v4/qe/identity"] = {
        200, {{"sgx-enclave-identity-issuer-chain",
               UrlEncode(ReadTestData(dir + "qe_identity_issuer_chain.pem"))}},
        ReadTestData(dir + "qe_identity_response.json")};
    ok_["/sgx/certification/v4/pckcrl"] = {
        200, {{"sgx-pck-crl-issuer-chain", UrlEncode(ReadTestData(dir + "pck_crl_issuer_chain.pem"))}},
        ReadTestData(dir + "pck_crl.der")};
    ok_["/sgx/certification/v4/rootcacrl"] = {
        200, {}, absl::BytesToHexString(ReadTestData(dir + "root_ca_crl.der"))};
  }

  // Serving the test platform's bundle (tdx_test_tee.h) instead of a recorded one.
  FakePcs(std::string base, const tdx::TdxCollateral& c) : base_(base) {
    ok_["/tdx/certification/v4/tcb"] = {
        200, {{"tcb-info-issuer-chain", UrlEncode(c.tcb_info_issuer_chain)}}, c.tcb_info_response};
    ok_["/tdx/certification/v4/qe/identity"] = {
        200, {{"sgx-enclave-identity-issuer-chain", UrlEncode(c.qe_identity_issuer_chain)}},
        c.qe_identity_response};
    ok_["/sgx/certification/v4/pckcrl"] = {
        200, {{"sgx-pck-crl-issuer-chain", UrlEncode(c.pck_crl_issuer_chain)}}, c.pck_crl};
    ok_["/sgx/certification/v4/rootcacrl"] = {200, {}, c.root_ca_crl};
  }

  absl::StatusOr<HttpResponse> Get(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    EXPECT_TRUE(absl::StartsWith(request.url, base_)) << request.url;
    std::string path = request.url.substr(base_.size());
    urls_.push_back(path);
    // The early channel's TCB info is its own answer (Item(kEarlyTcb)); 404 unless set.
    const bool early = absl::StrContains(path, "update=early");
    path = path.substr(0, path.find('?'));
    if (early) path = kEarlyTcb;
    if (fail_) return *fail_;
    auto it = ok_.find(path);
    if (it == ok_.end()) return HttpResponse{404, {}, ""};
    return it->second;
  }

  void Fail(std::optional<HttpResponse> r) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(r);
  }
  HttpResponse& Item(const std::string& path) { return ok_[path]; }
  std::vector<std::string> Urls() {
    absl::MutexLock lock(&mu_);
    return urls_;
  }
  size_t Requests() { return Urls().size(); }

 private:
  std::string base_;
  absl::Mutex mu_;
  std::map<std::string, HttpResponse> ok_;
  std::optional<HttpResponse> fail_;
  std::vector<std::string> urls_;
};

// One transport for several sources, told apart by base URL.
class Router : public HttpTransport {
 public:
  std::map<std::string, FakePcs*> by_base;
  absl::StatusOr<HttpResponse> Get(const HttpRequest& r) override {
    for (auto& [base, pcs] : by_base) {
      if (absl::StartsWith(r.url, base)) return pcs->Get(r);
    }
    return absl::UnavailableError("no route");
  }
};

inline PcsSource Source(const std::string& name) {
  PcsSource s;
  s.name = name;
  s.base_url = "http://" + name;
  return s;
}

class CacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<LiveTdxCollateral> Make(
      std::vector<PcsSource> sources, HttpTransport* t, std::string dir = "",
      std::shared_ptr<CacheObserver> observer = nullptr,
      std::shared_ptr<const TrustRoots> roots = testing::BuiltInRoots()) {
    CacheOptions options;
    options.cache_dir = dir;
    options.observer = std::move(observer);
    options.refresh_jitter = 0;
    auto cache = std::make_unique<LiveTdxCollateral>(std::move(sources), Borrow(t),
                                                     std::move(roots), &clock_, options, log_.Sink());
    cache->LoadDisk();
    return cache;
  }
  std::string Log() const { return log_.Text(); }

  FakeClock clock_{At("2026-01-01T00:00:00Z")};
  CacheLog log_;
  const absl::Time kEarly = At("2025-06-25T00:00:00Z");
  const absl::Time kDue = At("2025-07-15T00:00:00Z");  // past 3/4 of the PCK CRL's month
  const absl::Time kLast = At("2025-07-19T10:00:34Z");  // MANIFEST time of the dcap-qvl quote
  const absl::Time kPast = At("2025-07-19T10:00:36Z");  // the PCK CRL's nextUpdate has passed
};

}  // namespace teeverify::collateral::cache_test

#endif  // TEE_VERIFIER_COLLATERAL_TDX_CACHE_TEST_FIXTURE_H_
