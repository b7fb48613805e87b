#include "tests/sidecar/sidecar_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "grpcpp/health_check_service_interface.h"
#include "health.grpc.pb.h"

namespace teeverify::testing {

std::string MakeTempDir() {
  char tmpl[] = "/tmp/tee-sidecar-test-XXXXXX";
  return mkdtemp(tmpl);
}

SidecarProcess::SidecarProcess(std::vector<std::string> args, std::string target)
    : dir_(MakeTempDir()), target_(std::move(target)) {
  args.insert(args.begin(), TEE_VERIFIERD_PATH);
  args.push_back("--log-file=" + dir_ + "/log.jsonl");
  pid_ = fork();
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

SidecarProcess::~SidecarProcess() { Stop(); }

bool SidecarProcess::WaitReady(std::shared_ptr<grpc::ChannelCredentials> creds,
                               const grpc::ChannelArguments& args) {
  for (int i = 0; i < 100; ++i) {
    // A new channel each time: a channel that failed once waits out its reconnect backoff.
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateCustomChannel(target_, creds, args));
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("teeverify.v1.Verifier");
    grpc::health::v1::HealthCheckResponse resp;
    if (health->Check(&ctx, req, &resp).ok() &&
        resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int SidecarProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  return WaitExit();
}

int SidecarProcess::WaitExit() {
  if (pid_ <= 0) return -1;
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::unique_ptr<v1::Verifier::Stub> SidecarProcess::Stub(std::shared_ptr<grpc::ChannelCredentials> creds,
                                                         const grpc::ChannelArguments& args) const {
  return v1::Verifier::NewStub(grpc::CreateCustomChannel(target_, creds, args));
}

std::string SidecarProcess::Log() const {
  std::ifstream in(dir_ + "/log.jsonl");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace teeverify::testing
