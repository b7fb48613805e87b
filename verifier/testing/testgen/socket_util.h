// Unix-socket plumbing for serve-nsm and nsm-request: bounded reads with a deadline, full writes.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_SOCKET_UTIL_H_
#define TEE_VERIFIER_TESTING_TESTGEN_SOCKET_UTIL_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace teeverify::testgen {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept;
  ~Fd();
  int get() const { return fd_; }

 private:
  int fd_;
};

// Binds and listens on `path`; a stale socket file there is replaced, any other file is an error.
absl::StatusOr<Fd> ListenUnix(const std::string& path);
// Connects to `path`, retrying while the server is not listening yet, up to `wait`.
absl::StatusOr<Fd> ConnectUnix(const std::string& path, absl::Duration wait);

// Reads until end of file, `max_bytes`, the deadline, or `complete(bytes so far)` says done.
// DeadlineExceeded / OutOfRange when the first two end it; the bytes read are in *out anyway.
absl::Status ReadUntil(int fd, absl::Time deadline, size_t max_bytes,
                       const std::function<bool(absl::string_view)>& complete, std::string* out);
absl::Status WriteAllBytes(int fd, absl::string_view bytes);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_SOCKET_UTIL_H_
