// tee-verifierd configuration: flags and/or one JSON config file (flags win). See
// docs/sidecar.md for every option.
#ifndef TEE_VERIFIER_SERVER_CONFIG_H_
#define TEE_VERIFIER_SERVER_CONFIG_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/collateral/kds_client.h"
#include "verifier/collateral/pcs_client.h"

namespace teeverify::server {

struct ServerConfig {
  // "unix:/path/to.sock" (default; created 0600) or "host:port" (TCP).
  std::string listen = "unix:/run/tee-verifierd/tee-verifierd.sock";
  // TCP requires TLS with client certificates: server certificate, key, and the CA that issues
  // client certificates.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Plaintext TCP, allowed only on a loopback address and only with this flag.
  bool insecure_loopback = false;
  // TDX collateral: a directory of PCS response bundles (one per subdirectory, or the directory
  // itself), in the file names of tee-verify --collateral.
  std::string collateral_dir;
  // Live TDX collateral (docs/collateral.md): PCS/PCCS sources tried in order after
  // collateral_dir, with a disk cache. Flags: --collateral-source pccs=URL (repeatable; replaces
  // the config file's list); config file: "collateral_sources": [{"kind", "url", ...}].
  std::vector<collateral::PcsSource> collateral_sources;
  // Live AMD SEV-SNP collateral from KDS or a proxy with its paths, in order: --collateral-source
  // kds=URL (repeatable), or {"kind": "kds", "url", "name", "ca_file", "timeout_seconds"} entries
  // of "collateral_sources". Shares collateral_cache_dir.
  std::vector<collateral::KdsSource> kds_sources;
  // AMD CRLs: false (default) fails closed once a held CRL is past its nextUpdate and no source
  // answers; true: no SNP verification through KDS sources without a current CRL.
  bool amd_crl_required = false;
  std::string collateral_cache_dir;
  // How often the background refresher looks for bundles due for refresh.
  absl::Duration collateral_refresh_check = absl::Seconds(60);
  // Test roots replace the vendor roots (tests only; logged loudly, reported by Info).
  std::string test_roots_dir;
  // Requests may pin the verification time, to replay recorded evidence (logged loudly).
  bool replay_recorded_evidence = false;
  size_t max_request_bytes = 1 << 20;
  int max_concurrent = 0;  // 0: twice the number of CPUs
  absl::Duration max_call_time = absl::Seconds(10);
  std::string log_file;  // decision log; empty: stderr
  // Prometheus text metrics (docs/collateral.md, "Metrics") on "IP:port" (port 0: any free
  // one, logged); empty: none. Plain HTTP without authentication, so only on a loopback address
  // unless metrics_allow_remote says otherwise.
  std::string metrics_listen;
  bool metrics_allow_remote = false;
};

// Parses argv (--name=value or --name value; --config FILE first loads a JSON object with the
// same names, underscores instead of dashes). Returns the validated configuration.
absl::StatusOr<ServerConfig> ParseServerConfig(int argc, char** argv);

// Rejects unsafe or inconsistent settings: TCP without mTLS, plaintext off loopback, etc.
absl::Status ValidateServerConfig(const ServerConfig& config);

// The usage text of tee-verifierd.
const char* ServerUsage();

}  // namespace teeverify::server

#endif  // TEE_VERIFIER_SERVER_CONFIG_H_
