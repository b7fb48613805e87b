// Starts a real tee-verifierd for a test and stops it: the binary, its socket or port, its log.
#ifndef TEE_TESTS_SIDECAR_SIDECAR_PROCESS_H_
#define TEE_TESTS_SIDECAR_SIDECAR_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "teeverify/v1/verifier.grpc.pb.h"

namespace teeverify::testing {

class SidecarProcess {
 public:
  // Runs tee-verifierd with `args` (plus --log-file); `target` is what clients dial.
  SidecarProcess(std::vector<std::string> args, std::string target);
  ~SidecarProcess();

  // Waits until the health service answers SERVING over `creds`; false if the process exited or
  // did not come up within a few seconds.
  bool WaitReady(std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials(),
                 const grpc::ChannelArguments& args = grpc::ChannelArguments());
  // Sends SIGTERM and returns the exit status (or -1).
  int Stop();
  // Waits for the process to exit on its own (startup refusals); returns its exit status.
  int WaitExit();

  std::unique_ptr<v1::Verifier::Stub> Stub(
      std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials(),
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;
  std::string Log() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string target_;
  pid_t pid_ = -1;
};

// A fresh private temporary directory.
std::string MakeTempDir();

}  // namespace teeverify::testing

#endif  // TEE_TESTS_SIDECAR_SIDECAR_PROCESS_H_
