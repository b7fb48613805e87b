#include "verifier/server/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "verifier/common/json_util.h"
#include "verifier/common/status_macros.h"
#include "verifier/io/files.h"

namespace teeverify::server {
namespace {

const char kUsage[] =
    "usage: tee-verifierd [--config FILE] [--listen unix:/path|host:port]\n"
    "                     [--tls-cert FILE --tls-key FILE --tls-client-ca FILE]\n"
    "                     [--insecure-loopback] [--collateral-dir DIR] [--test-roots DIR]\n"
    "                     [--replay-recorded-evidence] [--max-request-bytes N]\n"
    "                     [--max-concurrent N] [--max-call-seconds N] [--log-file FILE]\n"
    "                     [--collateral-source pcs=URL|pccs=URL|kds=URL]...\n"
    "                     [--collateral-cache-dir DIR] [--amd-crl-required]\n"
    "                     [--collateral-refresh-check-seconds N]\n"
    "                     [--metrics-listen IP:PORT [--metrics-allow-remote]]\n";

constexpr const char* kBoolFlags[] = {"insecure_loopback", "replay_recorded_evidence",
                                      "metrics_allow_remote", "amd_crl_required"};

// The config file (--config): settings and a list of flat source objects, so it nests 3 deep
// ({"collateral_sources": [{...}]}); deeper input is refused by a linear scan before it is parsed
// (ParseJson), with an error naming the file, the setting and the limit.
constexpr size_t kMaxConfigFileBytes = 1 << 20;
constexpr int kMaxConfigJsonDepth = 3;

bool IsBoolFlag(const std::string& name) {
  for (const char* b : kBoolFlags) {
    if (name == b) return true;
  }
  return false;
}

// What every source has: its URL (http or https, no trailing slash), a CA bundle for its TLS and
// a per-request timeout.
absl::Status ParseEndpoint(const nlohmann::json& j, const std::string& where, std::string* url,
                           std::string* ca_file, absl::Duration* timeout) {
  if (!absl::StartsWith(*url, "https://") && !absl::StartsWith(*url, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".url: must be an http:// or https:// URL, not '", *url, "'"));
  }
  while (absl::EndsWith(*url, "/")) url->pop_back();
  if (j.contains("timeout_seconds")) {
    if (!j["timeout_seconds"].is_number_integer() || j["timeout_seconds"].get<int64_t>() <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".timeout_seconds: not a positive number"));
    }
    *timeout = absl::Seconds(j["timeout_seconds"].get<int64_t>());
  }
  if (!ca_file->empty()) {
    absl::StatusOr<std::string> ca = ReadFileBytes(*ca_file, 1 << 20);
    if (!ca.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ".ca_file: ", ca.status().message()));
  }
  return absl::OkStatus();
}

// One entry of "collateral_sources"; `where` names it in errors ("collateral_sources[1]").
absl::StatusOr<collateral::PcsSource> ParseSource(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
  collateral::PcsSource s;
  auto text = [&](const char* key, std::string* out) -> absl::Status {
    if (!j.contains(key)) return absl::OkStatus();
    if (!j[key].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": not a string"));
    }
    *out = j[key].get<std::string>();
    return absl::OkStatus();
  };
  std::string kind, update = "standard", api_key_file;
  for (auto it = j.begin(); it != j.end(); ++it) {
    // Not a structured binding: clang 14 (the sanitizer build) refuses to capture one.
    const std::string& key = it.key();
    static const char* const kKeys[] = {"kind",    "url",          "name",
                                        "update",  "early_tcb_info", "root_ca_crl_url",
                                        "ca_file", "api_key_file", "timeout_seconds"};
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&](const char* k) { return key == k; }) == std::end(kKeys)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown setting ", key));
    }
  }
  RETURN_IF_ERROR(text("kind", &kind));
  RETURN_IF_ERROR(text("url", &s.base_url));
  RETURN_IF_ERROR(text("name", &s.name));
  RETURN_IF_ERROR(text("update", &update));
  RETURN_IF_ERROR(text("root_ca_crl_url", &s.root_ca_crl_url));
  RETURN_IF_ERROR(text("ca_file", &s.ca_file));
  RETURN_IF_ERROR(text("api_key_file", &api_key_file));
  if (kind == "pcs") {
    s.kind = collateral::PcsKind::kPcs;
  } else if (kind == "pccs") {
    s.kind = collateral::PcsKind::kPccs;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".kind: must be pcs, pccs or kds, not '", kind, "'"));
  }
  RETURN_IF_ERROR(ParseEndpoint(j, where, &s.base_url, &s.ca_file, &s.timeout));
  if (update != "standard" && update != "early") {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".update: must be standard or early, not '", update, "'"));
  }
  s.early_update = update == "early";
  // Intel PCS publishes the early channel for every FMSPC; a PCCS may not, so it is asked only
  // when the admin says so.
  s.fetch_early_tcb_info = s.kind == collateral::PcsKind::kPcs && !s.early_update;
  if (j.contains("early_tcb_info")) {
    if (!j["early_tcb_info"].is_boolean()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".early_tcb_info: not true or false"));
    }
    s.fetch_early_tcb_info = j["early_tcb_info"].get<bool>();
  }
  if (s.fetch_early_tcb_info && s.early_update) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".early_tcb_info: the source already decides on the early channel (update: early)"));
  }
  if (!api_key_file.empty()) {
    absl::StatusOr<std::string> key = ReadFileBytes(api_key_file, 4096);
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".api_key_file: ", key.status().message()));
    }
    s.api_key = std::string(absl::StripAsciiWhitespace(*key));
  }
  if (s.name.empty()) s.name = s.base_url;
  return s;
}

// A "kind": "kds" entry of "collateral_sources": AMD KDS or a proxy serving its paths.
absl::StatusOr<collateral::KdsSource> ParseKdsSource(const nlohmann::json& j,
                                                     const std::string& where) {
  collateral::KdsSource s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key != "kind" && key != "url" && key != "name" && key != "ca_file" &&
        key != "timeout_seconds") {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown setting ", key,
                                                     " (a kds source takes url, name, ca_file, "
                                                     "timeout_seconds)"));
    }
    if (key != "timeout_seconds" && !it.value().is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": not a string"));
    }
  }
  s.base_url = j.value("url", "");
  s.name = j.value("name", "");
  s.ca_file = j.value("ca_file", "");
  RETURN_IF_ERROR(ParseEndpoint(j, where, &s.base_url, &s.ca_file, &s.timeout));
  if (s.name.empty()) s.name = s.base_url;
  return s;
}

// An entry of "collateral_sources" (or --collateral-source): Intel (pcs, pccs) or AMD (kds).
absl::Status AddSource(const nlohmann::json& j, const std::string& where, ServerConfig* c) {
  if (j.is_object() && j.value("kind", nlohmann::json()) == "kds") {
    ASSIGN_OR_RETURN(collateral::KdsSource s, ParseKdsSource(j, where));
    c->kds_sources.push_back(std::move(s));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(collateral::PcsSource s, ParseSource(j, where));
  c->collateral_sources.push_back(std::move(s));
  return absl::OkStatus();
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
  } else if (name == "collateral_source") {
    const size_t eq = value.find('=');
    nlohmann::json source = {{"kind", value.substr(0, eq)},
                             {"url", eq == std::string::npos ? "" : value.substr(eq + 1)}};
    RETURN_IF_ERROR(AddSource(source, "--collateral-source " + value, c));
  } else if (name == "collateral_cache_dir") {
    c->collateral_cache_dir = value;
  } else if (name == "collateral_refresh_check_seconds") {
    RETURN_IF_ERROR(number(&n));
    c->collateral_refresh_check = absl::Seconds(n);
  } else if (name == "log_file") {
    c->log_file = value;
  } else if (name == "metrics_listen") {
    c->metrics_listen = value;
  } else if (name == "metrics_allow_remote") {
    return boolean(&c->metrics_allow_remote);
  } else if (name == "amd_crl_required") {
    return boolean(&c->amd_crl_required);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown option --",
                                                   absl::StrReplaceAll(name, {{"_", "-"}})));
  }
  return absl::OkStatus();
}

absl::Status ApplyFile(const std::string& path, ServerConfig* c) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileBytes(path, kMaxConfigFileBytes));
  absl::StatusOr<Json> parsed = ParseJson(text, path, v1::REASON_BAD_REQUEST, kMaxConfigJsonDepth);
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.status().message());
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  for (const auto& [key, value] : doc.items()) {
    if (key == "collateral_sources") {
      if (!value.is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": collateral_sources: not an array"));
      }
      c->collateral_sources.clear();
      c->kds_sources.clear();
      for (size_t i = 0; i < value.size(); ++i) {
        RETURN_IF_ERROR(
            AddSource(value[i], absl::StrCat(path, ": collateral_sources[", i, "]"), c));
      }
      continue;
    }
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

// --metrics-listen: "IPv4:port" or "[IPv6]:port" (what the HTTP server binds; no host names,
// so that what is checked for loopback is what is bound).
absl::Status ValidateMetricsListen(const ServerConfig& c) {
  if (c.metrics_listen.empty()) {
    if (c.metrics_allow_remote) {
      return absl::InvalidArgumentError("--metrics-allow-remote: needs --metrics-listen");
    }
    return absl::OkStatus();
  }
  const std::string& listen = c.metrics_listen;
  const size_t colon = listen.rfind(':');
  int64_t port = -1;
  std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  const bool v6 = absl::StartsWith(host, "[") && absl::EndsWith(host, "]");
  if (v6) host = host.substr(1, host.size() - 2);
  unsigned char addr[16];
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535 || inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen: '", listen,
        "' is not IPv4:port or [IPv6]:port (e.g. 127.0.0.1:9464; port 0 picks a free one)"));
  }
  const bool loopback = v6 ? host == "::1" : addr[0] == 127;
  if (!loopback && !c.metrics_allow_remote) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen ", listen,
        ": not a loopback address; the metrics are plain HTTP without authentication (they name "
        "FMSPCs, collateral sources and decision rates), so serving them beyond this host needs "
        "--metrics-allow-remote (and a firewall or an authenticating proxy in front)"));
  }
  return absl::OkStatus();
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
  // Sources given as flags replace the file's list rather than extend it.
  if (std::any_of(flags.begin(), flags.end(),
                  [](const auto& f) { return f.first == "collateral_source"; })) {
    config.collateral_sources.clear();
    config.kds_sources.clear();
  }
  for (const auto& [name, value] : flags) RETURN_IF_ERROR(Apply(name, value, &config));
  if (config.max_concurrent == 0) {
    config.max_concurrent = 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  RETURN_IF_ERROR(ValidateServerConfig(config));
  return config;
}

absl::Status ValidateServerConfig(const ServerConfig& c) {
  RETURN_IF_ERROR(ValidateMetricsListen(c));
  if (!c.collateral_cache_dir.empty() && c.collateral_sources.empty() && c.kds_sources.empty()) {
    return absl::InvalidArgumentError(
        "--collateral-cache-dir: needs at least one collateral source (--collateral-source)");
  }
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
