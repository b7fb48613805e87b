// HTTP GET for collateral sources, behind an interface so that tests can inject a transport. The
// production transport is libcurl: it honours HTTPS_PROXY / NO_PROXY from the environment, a CA
// bundle per source and a timeout per request.
#ifndef TEE_VERIFIER_COLLATERAL_HTTP_H_
#define TEE_VERIFIER_COLLATERAL_HTTP_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace teeverify::collateral {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  absl::Duration timeout = absl::Seconds(10);
  std::string ca_file;  // empty: the system's CA bundle
  size_t max_body_bytes = 16 << 20;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  // The header's value, or "" when absent (`name` in lower case).
  std::string Header(const std::string& name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // A transport error (no connection, timeout, truncated body) is an error status; any HTTP
  // answer, whatever its status code, is a response.
  virtual absl::StatusOr<HttpResponse> Get(const HttpRequest& request) = 0;
};

// libcurl. Thread-safe: every call uses its own easy handle.
class CurlTransport : public HttpTransport {
 public:
  CurlTransport();
  absl::StatusOr<HttpResponse> Get(const HttpRequest& request) override;
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_HTTP_H_
