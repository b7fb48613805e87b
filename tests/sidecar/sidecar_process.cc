#include "tests/sidecar/sidecar_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "health.grpc.pb.h"

// LeakSanitizer, in this test process only (the sidecars it starts get no suppression): c-ares
// 1.18 (Debian 12) leaks its copy of the name on every "localhost" lookup through gRPC's resolver
// (c-ares/c-ares#439). The fast unwinder sees no frame past libcares, so the module is named.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcares.so.2\n"; }

namespace teeverify::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

std::string MakeTempDir() {
  char tmpl[] = "/tmp/tee-sidecar-test-XXXXXX";
  return mkdtemp(tmpl);
}

int CountLines(absl::string_view text, absl::string_view needle) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) ++n;
  }
  return n;
}

SidecarProcess::SidecarProcess(std::vector<std::string> args, std::string target)
    : dir_(MakeTempDir()), target_(std::move(target)) {
  args.insert(args.begin(), TEE_VERIFIERD_PATH);
  args.push_back("--log-file=" + dir_ + "/log.jsonl");
  const std::string out_path = dir_ + "/stderr.log";
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {  // only async-signal-safe calls from here on
    const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
}

SidecarProcess::~SidecarProcess() {
  if (pid_ <= 0) return;
  const int status = Stop();
  if (status != 0) {
    ADD_FAILURE() << "tee-verifierd exited with status " << status
                  << " after SIGTERM (a leak found by LeakSanitizer makes it 1 under ASan, 23 standalone)\n--- its stderr:\n"
                  << Stderr();
  }
}

bool SidecarProcess::WaitReady(std::shared_ptr<grpc::ChannelCredentials> creds,
                               const grpc::ChannelArguments& args) {
  for (int i = 0; i < 100; ++i) {
    // A new channel each time: a channel that failed once waits out its reconnect backoff.
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateCustomChannel(target_, creds, args));
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      Reap(status);
      return false;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(v1::Verifier::service_full_name());
    grpc::health::v1::HealthCheckResponse resp;
    if (health->Check(&ctx, req, &resp).ok() &&
        resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int SidecarProcess::Reap(int wait_status) {
  pid_ = -1;
  if (WIFEXITED(wait_status)) {
    exit_status_ = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit_status_ = 128 + WTERMSIG(wait_status);
  } else {
    exit_status_ = -1;
  }
  return *exit_status_;
}

int SidecarProcess::Stop() {
  if (pid_ <= 0) return exit_status_.value_or(-1);
  kill(pid_, SIGTERM);
  return WaitExit();
}

int SidecarProcess::WaitExit() {
  if (pid_ <= 0) return exit_status_.value_or(-1);
  int status = 0;
  // Generous: a sanitized sidecar takes seconds to shut down and to run LeakSanitizer.
  for (int i = 0; i < 600; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return Reap(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  exit_status_ = -1;
  return -1;
}

void SidecarProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  Reap(status);
}

void SidecarProcess::Signal(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

bool SidecarProcess::Stall() const {
  if (pid_ <= 0) return false;
  kill(pid_, SIGSTOP);
  const std::string stat_path = "/proc/" + std::to_string(pid_) + "/stat";
  for (int i = 0; i < 500; ++i) {
    // The state follows the parenthesised command name: "pid (comm) T ...".
    const std::string stat = ReadAll(stat_path);
    const size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool SidecarProcess::WaitForLog(absl::string_view needle, int count, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (CountLines(Log(), needle) < count) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::unique_ptr<v1::Verifier::Stub> SidecarProcess::Stub(std::shared_ptr<grpc::ChannelCredentials> creds,
                                                         const grpc::ChannelArguments& args) const {
  return v1::Verifier::NewStub(grpc::CreateCustomChannel(target_, creds, args));
}

std::string SidecarProcess::Log() const { return ReadAll(dir_ + "/log.jsonl"); }

std::string SidecarProcess::Stderr() const { return ReadAll(dir_ + "/stderr.log"); }

}  // namespace teeverify::testing
