// Starts a real tee-verifierd for a test and stops it: the binary, its socket or port, its log.
// A sidecar still running when its SidecarProcess is destroyed is stopped with SIGTERM, and a
// non-zero exit status then fails the test: LeakSanitizer makes the exit status of a leaking
// process non-zero (1 under ASan, 23 standalone), so in a sanitized build every test also checks
// that a clean shutdown leaks nothing.
#ifndef TEE_TESTS_SIDECAR_SIDECAR_PROCESS_H_
#define TEE_TESTS_SIDECAR_SIDECAR_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "teeverify/v1/verifier.grpc.pb.h"

namespace teeverify::testing {

class SidecarProcess {
 public:
  // Runs tee-verifierd with `args` (plus --log-file); `target` is what clients dial. Its stdout
  // and stderr go to Stderr().
  SidecarProcess(std::vector<std::string> args, std::string target);
  ~SidecarProcess();

  // Waits until the health service answers SERVING over `creds`; false if the process exited or
  // did not come up within a few seconds.
  bool WaitReady(std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials(),
                 const grpc::ChannelArguments& args = grpc::ChannelArguments());
  // Sends SIGTERM (once) and returns the exit status: 0..255, 128+N when killed by signal N, -1
  // when it did not exit in time. Later calls return the same status.
  int Stop();
  // Waits for the process to exit on its own (startup refusals); returns its exit status.
  int WaitExit();
  // SIGKILL, as a crash would: no cleanup in the sidecar; returns once it is reaped.
  void Kill();
  // Sends `signal` (e.g. SIGHUP) to the running sidecar.
  void Signal(int signal) const;
  // SIGSTOP, returning once the kernel reports the process stopped (kill() does not wait for it);
  // false if it did not stop within a few seconds.
  bool Stall() const;
  // Waits until the log holds at least `count` lines containing `needle`.
  bool WaitForLog(absl::string_view needle, int count = 1,
                  absl::Duration timeout = absl::Seconds(20)) const;

  std::unique_ptr<v1::Verifier::Stub> Stub(
      std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials(),
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;
  std::string Log() const;     // the --log-file
  std::string Stderr() const;  // what the process wrote to stdout and stderr
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

 private:
  int Reap(int wait_status);

  std::string dir_;
  std::string target_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// A fresh private temporary directory.
std::string MakeTempDir();

// Counts the lines of `text` containing `needle`.
int CountLines(absl::string_view text, absl::string_view needle);

}  // namespace teeverify::testing

#endif  // TEE_TESTS_SIDECAR_SIDECAR_PROCESS_H_
