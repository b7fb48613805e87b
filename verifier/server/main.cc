// tee-verifierd: the sidecar that verifies TEE evidence and evaluates roles for the Vault/OpenBao
// plugin, over gRPC (teeverify.v1.Verifier and grpc.health.v1). docs/sidecar.md.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/http.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/collateral/tdx_cache.h"
#include "verifier/common/status_macros.h"
#include "verifier/io/files.h"
#include "verifier/server/collateral_store.h"
#include "verifier/server/config.h"
#include "verifier/server/decision_log.h"
#include "verifier/server/metrics.h"
#include "verifier/server/verifier_service.h"

namespace teeverify::server {
namespace {

constexpr char kVersion[] = "tee-verifierd 0.1.0";
const char* const kServiceName = v1::Verifier::service_full_name();

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerConfig& c) {
  if (absl::StartsWith(c.listen, "unix:") || c.insecure_loopback) {
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  absl::StatusOr<std::string> ca = ReadFileBytes(c.tls_client_ca_file);
  absl::StatusOr<std::string> cert = ReadFileBytes(c.tls_cert_file);
  absl::StatusOr<std::string> key = ReadFileBytes(c.tls_key_file);
  for (const auto* s : {&ca, &cert, &key}) {
    if (!s->ok()) return s->status();
  }
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(ssl);
}

// Whether a server answers on the socket file `path`. Taking over a live socket would cut its
// server off silently (and its shutdown would later remove ours); a socket that refuses
// connections is left over from a killed run.
absl::StatusOr<bool> SocketInUse(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": socket path too long"));
  }
  memcpy(addr.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  close(fd);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return true;  // EAGAIN: backlog full
  if (err == ECONNREFUSED) return false;
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": cannot tell whether the existing socket is in use: ", strerror(err)));
}

// The socket's directory decides who can put a socket in its place: whoever may write it can
// remove ours (or bind first while we are down) and answer the plugin with a fake sidecar that
// allows everything. So it must belong to us (or to root, who can do anything anyway) and be
// writable by its owner alone; a missing one is created 0700.
absl::Status PrepareSocketDirectory(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (ec || (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)) {
      return absl::InternalError(absl::StrCat("cannot create the socket directory ", dir.string(),
                                              ": ", ec ? ec.message() : strerror(errno)));
    }
    chmod(dir.c_str(), 0700);  // exactly 0700, whatever the umask
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the socket directory ", dir.string(), " is not a directory"));
  }
  const std::string mode = absl::StrFormat("%04o", st.st_mode & 07777);
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the socket directory ", dir.string(), " (mode ", mode, ") is owned by uid ", st.st_uid,
        ", not by tee-verifierd's user (uid ", geteuid(), ") or root: that user could replace "
        "the socket; use a directory of tee-verifierd's own"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the socket directory ", dir.string(), " is writable by group or others (mode ", mode,
        "): they could replace the socket; use a directory only its owner can write (chmod go-w ",
        dir.string(), ", or let tee-verifierd create a missing one 0700)"));
  }
  return absl::OkStatus();
}

// The socket must be reachable by its owner only: created under a 0177 umask (so there is no
// moment when others could connect), then checked.
absl::Status PrepareUnixSocket(const std::string& path, DecisionLog& log) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  RETURN_IF_ERROR(PrepareSocketDirectory(parent.empty() ? "." : parent));
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a socket"));
    }
    absl::StatusOr<bool> in_use = SocketInUse(path);
    if (!in_use.ok()) return in_use.status();
    if (*in_use) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is in use by a running server (another tee-verifierd?); stop it first"));
    }
    unlink(path.c_str());
    log.Write("warn", "stale_socket_replaced", {{"socket", path}});
  }
  return absl::OkStatus();
}

absl::Status CheckSocketMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::InternalError(absl::StrCat(path, ": not created"));
  if (chmod(path.c_str(), 0600) != 0 || (st.st_mode & 0077) != 0) {
    return absl::InternalError(absl::StrCat(path, ": socket is not owner-only (mode ",
                                            absl::Hex(st.st_mode & 0777), ")"));
  }
  return absl::OkStatus();
}

// Startup failures also go to stderr when the log is a file, where an operator looks first.
int StartupFailed(DecisionLog& log, const ServerConfig& config, absl::string_view error) {
  log.Write("error", "startup_failed", {{"error", std::string(error)}});
  if (!config.log_file.empty()) std::cerr << "tee-verifierd: " << error << "\n";
  return 1;
}

// What the collateral store holds after a (re)load: each skipped bundle, and a warning when there
// is none, so that TDX requests answered COLLATERAL_MISSING are explained in the log.
void LogCollateral(DecisionLog& log, const CollateralStore& store, const std::string& dir,
                   absl::string_view event) {
  for (const std::string& p : store.LoadProblems()) {
    log.Write("warn", "collateral_skipped", {{"bundle", p}});
  }
  const std::vector<std::string> bundles = store.Describe();
  if (bundles.empty()) {
    log.Write("warn", "collateral_empty",
              {{"collateral_dir", dir},
               {"message", "no TDX collateral bundle loaded: TDX evidence is denied with "
                           "COLLATERAL_MISSING until bundles are added and SIGHUP is sent"}});
  }
  log.Write("info", event, {{"collateral_dir", dir}, {"bundles", bundles}});
}

int Run(int argc, char** argv) {
  // Signals are handled by this thread alone (sigwait below). Blocked first thing: gRPC starts
  // threads as soon as credentials are built, and a thread without the mask would take SIGTERM's
  // default action (exit 143, socket file left behind) instead of the clean shutdown.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian builds Abseil without NDEBUG, which turns on absl::Mutex's deadlock detection: every
  // lock, gRPC's own included, then updates a process-wide lock graph under a global lock (about
  // 50 ns more per lock, measured). The tests keep it; the daemon does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help") {
      std::cout << ServerUsage();
      return 0;
    }
  }
  absl::StatusOr<ServerConfig> config = ParseServerConfig(argc, argv);
  if (!config.ok()) {
    std::cerr << "tee-verifierd: " << config.status().message() << "\n\n" << ServerUsage();
    return 2;
  }
  DecisionLog log(config->log_file);

  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots =
      config->test_roots_dir.empty() ? TrustRoots::BuiltIn() : LoadRootsDir(config->test_roots_dir);
  if (!roots.ok()) {
    return StartupFailed(log, *config, roots.status().message());
  }
  if (!config->test_roots_dir.empty()) {
    log.Write("warn", "TEST_ROOTS_IN_USE",
              {{"message", "!!! TEST ROOTS REPLACE THE VENDOR ROOTS: evidence signed by test CAs "
                           "verifies. Never run this in production. !!!"},
               {"test_roots", config->test_roots_dir}});
  }
  if (config->replay_recorded_evidence) {
    log.Write("warn", "REPLAY_MODE",
              {{"message", "!!! REPLAY MODE: requests may pin the verification time, so expired "
                           "recorded evidence verifies. Demos and tests only. !!!"}});
  }

  std::shared_ptr<CollateralStore> store;
  if (!config->collateral_dir.empty()) {
    store = std::make_shared<CollateralStore>(config->collateral_dir, *roots);
    if (absl::Status s = store->Reload(); !s.ok()) {
      return StartupFailed(log, *config, absl::StrCat("--collateral-dir: ", s.message()));
    }
    LogCollateral(log, *store, config->collateral_dir, "collateral_loaded");
  }

  // Metrics (docs/collateral.md, "Metrics"): counted from here on, served once all is set up.
  std::shared_ptr<Metrics> metrics;
  if (!config->metrics_listen.empty()) metrics = std::make_shared<Metrics>();

  // Live collateral: fetched, verified and cached by the sidecar (docs/collateral.md).
  static const collateral::RealClock clock;
  std::shared_ptr<collateral::LiveTdxCollateral> live;
  if (!config->collateral_sources.empty()) {
    collateral::CacheOptions options;
    options.cache_dir = config->collateral_cache_dir;
    options.max_wait = config->max_call_time;
    options.observer = metrics;
    live = std::make_shared<collateral::LiveTdxCollateral>(
        config->collateral_sources, std::make_shared<collateral::CurlTransport>(), *roots, &clock,
        options, [&log](absl::string_view level, absl::string_view event,
                        nlohmann::ordered_json fields) { log.Write(level, event, std::move(fields)); });
    live->LoadDisk();
    std::vector<std::string> names;
    for (const collateral::PcsSource& s : config->collateral_sources) names.push_back(s.name);
    log.Write("info", "collateral_sources",
              {{"sources", names}, {"cache_dir", config->collateral_cache_dir}});
  }

  // Live AMD collateral: VCEKs, cert_chains and CRLs from KDS sources (docs/collateral.md).
  std::shared_ptr<collateral::LiveSnpCollateral> live_snp;
  if (!config->kds_sources.empty()) {
    collateral::SnpCacheOptions options;
    options.cache.cache_dir = config->collateral_cache_dir;
    options.cache.max_wait = config->max_call_time;
    options.cache.observer = metrics;
    options.crl_required = config->amd_crl_required;
    live_snp = std::make_shared<collateral::LiveSnpCollateral>(
        config->kds_sources, std::make_shared<collateral::CurlTransport>(), *roots, &clock,
        options, [&log](absl::string_view level, absl::string_view event,
                        nlohmann::ordered_json fields) { log.Write(level, event, std::move(fields)); });
    live_snp->LoadDisk();
    std::vector<std::string> names;
    for (const collateral::KdsSource& s : config->kds_sources) names.push_back(s.name);
    log.Write("info", "collateral_sources_amd",
              {{"sources", names}, {"cache_dir", config->collateral_cache_dir},
               {"amd_crl_required", config->amd_crl_required}});
  }

  auto verifier =
      std::make_shared<EvidenceVerifier>(*roots, VerificationCaches::WithCapacity(4096));
  VerifierService service(verifier, store,
                          {config->replay_recorded_evidence, config->max_concurrent,
                           config->max_call_time, kVersion},
                          &log, live, metrics, live_snp);
  if (metrics) {
    metrics->Watch(live, store, live_snp);
    absl::StatusOr<int> metrics_port = metrics->Serve(config->metrics_listen);
    if (!metrics_port.ok()) return StartupFailed(log, *config, metrics_port.status().message());
    log.Write("info", "metrics_listening",
              {{"metrics_listen", config->metrics_listen}, {"port", *metrics_port}});
  }

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds = Credentials(*config);
  if (!creds.ok()) {
    return StartupFailed(log, *config, creds.status().message());
  }
  const bool unix_socket = absl::StartsWith(config->listen, "unix:");
  const std::string socket_path = unix_socket ? config->listen.substr(5) : "";
  if (unix_socket) {
    if (absl::Status s = PrepareUnixSocket(socket_path, log); !s.ok()) {
      return StartupFailed(log, *config, s.message());
    }
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config->listen, *creds, unix_socket ? nullptr : &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config->max_request_bytes));
  // gRPC's sync server answers RESOURCE_EXHAUSTED at once when it has no thread for a call, so
  // the thread cap is what bounds the calls waiting for a verification slot (each waits in
  // VerifierService::Acquire until its deadline): room for max(16, 2 x N) of them, plus pollers
  // and the cheap RPCs.
  const int waiting_room = std::max(16, 2 * config->max_concurrent);
  grpc::ResourceQuota quota("tee-verifierd");
  quota.SetMaxThreads(config->max_concurrent + waiting_room + 4);
  builder.SetResourceQuota(quota);

  const mode_t old_umask = umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old_umask);
  if (!server) {
    return StartupFailed(log, *config, absl::StrCat("cannot listen on ", config->listen));
  }
  if (unix_socket) {
    if (absl::Status s = CheckSocketMode(socket_path); !s.ok()) {
      server->Shutdown();
      return StartupFailed(log, *config, s.message());
    }
  }
  server->GetHealthCheckService()->SetServingStatus(kServiceName, true);
  log.Write("info", "listening",
            {{"listen", config->listen}, {"port", port}, {"version", kVersion},
             {"test_roots", !config->test_roots_dir.empty()},
             {"replay_mode", config->replay_recorded_evidence},
             {"max_concurrent", config->max_concurrent}, {"max_waiting", waiting_room}});

  // Background refresh ahead of nextUpdate, by the real clock. Not in replay mode: there the
  // requests' pinned times, not the clock, say what is valid.
  absl::Notification stop_refresher;
  std::thread refresher;
  if ((live || live_snp) && !config->replay_recorded_evidence) {
    refresher = std::thread([&] {
      while (!stop_refresher.WaitForNotificationWithTimeout(config->collateral_refresh_check)) {
        if (live) live->RefreshDue(absl::Now());
        if (live_snp) live_snp->RefreshDue(absl::Now());
      }
    });
  }

  while (true) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP && store) {
      // A failed reload keeps what was loaded: each bundle still verifies against its own window.
      if (absl::Status s = store->Reload(); s.ok()) {
        LogCollateral(log, *store, config->collateral_dir, "collateral_reloaded");
      } else {
        log.Write("error", "collateral_reload_failed",
                  {{"error", std::string(s.message())}, {"kept_bundles", store->Describe()}});
      }
      continue;
    }
    if (sig == SIGHUP) continue;
    log.Write("info", "shutting_down", {{"signal", sig}});
    server->GetHealthCheckService()->SetServingStatus(kServiceName, false);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    break;
  }
  stop_refresher.Notify();
  if (refresher.joinable()) refresher.join();
  if (unix_socket) unlink(socket_path.c_str());
  log.Write("info", "stopped");
  return 0;
}

}  // namespace
}  // namespace teeverify::server

int main(int argc, char** argv) { return teeverify::server::Run(argc, argv); }
