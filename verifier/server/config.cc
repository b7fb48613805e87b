#include "verifier/server/config.h"

#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "verifier/common/status_macros.h"
#include "verifier/io/files.h"

namespace teeverify::server {
namespace {

const char kUsage[] =
    "usage: tee-verifierd [--config FILE] [--listen unix:/path|host:port]\n"
    "                     [--tls-cert FILE --tls-key FILE --tls-client-ca FILE]\n"
    "                     [--insecure-loopback] [--collateral-dir DIR] [--test-roots DIR]\n"
    "                     [--replay-recorded-evidence] [--max-request-bytes N]\n"
    "                     [--max-concurrent N] [--max-call-seconds N] [--log-file FILE]\n";

constexpr const char* kBoolFlags[] = {"insecure_loopback", "replay_recorded_evidence"};

bool IsBoolFlag(const std::string& name) {
  for (const char* b : kBoolFlags) {
    if (name == b) return true;
  }
  return false;
}

absl::Status Apply(const std::string& name, const std::string& value, ServerConfig* c) {
  auto number = [&](int64_t* out) -> absl::Status {
    if (!absl::SimpleAtoi(value, out) || *out <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": not a positive number: ", value));
    }
    return absl::OkStatus();
  };
  auto boolean = [&](bool* out) -> absl::Status {
    if (value == "true" || value == "1" || value.empty()) {
      *out = true;
    } else if (value == "false" || value == "0") {
      *out = false;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": not a boolean: ", value));
    }
    return absl::OkStatus();
  };
  int64_t n = 0;
  if (name == "listen") {
    c->listen = value;
  } else if (name == "tls_cert") {
    c->tls_cert_file = value;
  } else if (name == "tls_key") {
    c->tls_key_file = value;
  } else if (name == "tls_client_ca") {
    c->tls_client_ca_file = value;
  } else if (name == "insecure_loopback") {
    return boolean(&c->insecure_loopback);
  } else if (name == "collateral_dir") {
    c->collateral_dir = value;
  } else if (name == "test_roots") {
    c->test_roots_dir = value;
  } else if (name == "replay_recorded_evidence") {
    return boolean(&c->replay_recorded_evidence);
  } else if (name == "max_request_bytes") {
    RETURN_IF_ERROR(number(&n));
    c->max_request_bytes = static_cast<size_t>(n);
  } else if (name == "max_concurrent") {
    RETURN_IF_ERROR(number(&n));
    c->max_concurrent = static_cast<int>(n);
  } else if (name == "max_call_seconds") {
    RETURN_IF_ERROR(number(&n));
    c->max_call_time = absl::Seconds(n);
  } else if (name == "log_file") {
    c->log_file = value;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown option --",
                                                   absl::StrReplaceAll(name, {{"_", "-"}})));
  }
  return absl::OkStatus();
}

absl::Status ApplyFile(const std::string& path, ServerConfig* c) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileBytes(path, 1 << 20));
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  for (const auto& [key, value] : doc.items()) {
    std::string text_value;
    if (value.is_string()) {
      text_value = value.get<std::string>();
    } else if (value.is_boolean()) {
      text_value = value.get<bool>() ? "true" : "false";
    } else if (value.is_number_integer()) {
      text_value = absl::StrCat(value.get<int64_t>());
    } else {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", key, ": unsupported value"));
    }
    RETURN_IF_ERROR(Apply(key, text_value, c));
  }
  return absl::OkStatus();
}

bool IsLoopbackHost(absl::string_view host_port) {
  return absl::StartsWith(host_port, "127.0.0.1:") || absl::StartsWith(host_port, "[::1]:") ||
         absl::StartsWith(host_port, "localhost:");
}

}  // namespace

const char* ServerUsage() { return kUsage; }

absl::StatusOr<ServerConfig> ParseServerConfig(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument ", arg));
    }
    std::string name = arg.substr(2);
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    name = absl::StrReplaceAll(name, {{"-", "_"}});  // the name only: values are paths
    if (eq == std::string::npos && !IsBoolFlag(name)) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = argv[++i];
    }
    if (name == "config") {
      config_file = value;
    } else {
      flags.emplace_back(name, value);
    }
  }
  ServerConfig config;
  if (!config_file.empty()) RETURN_IF_ERROR(ApplyFile(config_file, &config));
  for (const auto& [name, value] : flags) RETURN_IF_ERROR(Apply(name, value, &config));
  if (config.max_concurrent == 0) {
    config.max_concurrent = 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  RETURN_IF_ERROR(ValidateServerConfig(config));
  return config;
}

absl::Status ValidateServerConfig(const ServerConfig& c) {
  const bool tls = !c.tls_cert_file.empty() || !c.tls_key_file.empty() || !c.tls_client_ca_file.empty();
  if (absl::StartsWith(c.listen, "unix:")) {
    if (c.listen.size() <= 5) return absl::InvalidArgumentError("--listen unix: needs a path");
    if (tls || c.insecure_loopback) {
      return absl::InvalidArgumentError(
          "--tls-* and --insecure-loopback apply to TCP; a unix socket is protected by its file mode");
    }
    return absl::OkStatus();
  }
  if (c.insecure_loopback) {
    if (tls) return absl::InvalidArgumentError("--insecure-loopback and --tls-* exclude each other");
    if (!IsLoopbackHost(c.listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-loopback: plaintext TCP is allowed only on 127.0.0.1, [::1] or localhost, not ",
          c.listen));
    }
    return absl::OkStatus();
  }
  if (c.tls_cert_file.empty() || c.tls_key_file.empty() || c.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", c.listen,
        ": TCP needs mutual TLS (--tls-cert, --tls-key and --tls-client-ca), or "
        "--insecure-loopback on a loopback address"));
  }
  return absl::OkStatus();
}

}  // namespace teeverify::server
