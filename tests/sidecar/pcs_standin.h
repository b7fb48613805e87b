// Runs tests/collateral/pcs_standin.py (a local Intel PCS/PCCS serving recorded responses) for
// a test: its URL, its per-path request counts, and fault injection.
#ifndef TEE_TESTS_SIDECAR_PCS_STANDIN_H_
#define TEE_TESTS_SIDECAR_PCS_STANDIN_H_

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/http.h"

namespace teeverify::testing {

class PcsStandIn {
 public:
  // Serves tests/data/tdx/collateral/<bundle>.
  explicit PcsStandIn(const std::string& bundle_dir)
      : PcsStandIn(std::vector<std::string>{"--bundle", bundle_dir}) {}
  // Serves the real AMD KDS material of tests/data/sevsnp/kds/index.json (no Intel bundle).
  static std::vector<std::string> KdsArgs() {
    return {"--kds", std::string(TEE_TESTS_DIR) + "/data/sevsnp/kds/index.json"};
  }
  // pcs_standin.py with `args` (--bundle DIR, --kds INDEX).
  explicit PcsStandIn(const std::vector<std::string>& args) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    const std::string script = std::string(TEE_TESTS_DIR) + "/collateral/pcs_standin.py";
    std::vector<const char*> argv = {"python3", script.c_str()};
    for (const std::string& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      execvp("python3", const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[64] = {};
    // Blocks until the server listens (or exits: EOF).
    if (f != nullptr && fgets(line, sizeof(line), f) != nullptr && absl::StartsWith(line, "PORT ")) {
      url_ = absl::StrCat("http://127.0.0.1:", std::string(line + 5, strcspn(line + 5, "\n")));
    }
    if (f != nullptr) fclose(f);
    EXPECT_FALSE(url_.empty()) << "the PCS stand-in did not start";
  }
  ~PcsStandIn() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  const std::string& url() const { return url_; }

  // Requests answered per API path.
  std::map<std::string, int> Stats() const {
    std::map<std::string, int> out;
    absl::StatusOr<collateral::HttpResponse> r = Get("/_stats");
    if (!r.ok()) return out;
    const nlohmann::json stats = nlohmann::json::parse(r->body);
    for (auto it = stats.begin(); it != stats.end(); ++it) out[it.key()] = it.value().get<int>();
    return out;
  }
  int Requests() const {
    int n = 0;
    for (const auto& [path, count] : Stats()) n += count;
    return n;
  }
  // e.g. Fault("kind=429&retry_after=120"); Fault("kind=none").
  void Fault(const std::string& query) const { EXPECT_TRUE(Get("/_fault?" + query).ok()); }

 private:
  absl::StatusOr<collateral::HttpResponse> Get(const std::string& path) const {
    collateral::CurlTransport curl;
    collateral::HttpRequest req;
    req.url = url_ + path;
    return curl.Get(req);
  }

  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace teeverify::testing

#endif  // TEE_TESTS_SIDECAR_PCS_STANDIN_H_
