// tee-collateral: fetches TDX collateral from Intel PCS or a PCCS into a directory that
// tee-verify --collateral and tee-verifierd --collateral-dir read, verifying it first; and
// reports what a directory holds. docs/collateral.md.
//
//   tee-collateral fetch (--pccs URL | --pcs URL) --fmspc HEX [--ca platform|processor]
//                  [--update standard|early] [--root-ca-crl-url URL] [--ca-file FILE]
//                  [--api-key-file FILE] [--at RFC3339] --out DIR
//   tee-collateral fetch --kds URL --snp-report FILE [--ca-file FILE] [--at RFC3339] --out DIR
//   tee-collateral status DIR [--at RFC3339]
//
// Exit status: 0 everything fetched (or held) verified; 1 it did not; 2 usage.
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "verifier/collateral/atomic_file.h"
#include "verifier/collateral/http.h"
#include "verifier/collateral/pcs_client.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/collateral/tdx_cache.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"
#include "verifier/io/files.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/tdx/tcb_info.h"

namespace teeverify::collateral {
namespace {

namespace fs = std::filesystem;

const char kUsage[] =
    "usage: tee-collateral fetch (--pccs URL | --pcs URL) --fmspc HEX [--ca platform|processor]\n"
    "                      [--update standard|early] [--root-ca-crl-url URL] [--ca-file FILE]\n"
    "                      [--api-key-file FILE] [--at RFC3339] --out DIR\n"
    "       tee-collateral fetch --kds URL --snp-report FILE [--ca-file FILE] [--at RFC3339]\n"
    "                      --out DIR\n"
    "       tee-collateral status DIR [--at RFC3339]\n";

int Usage(absl::string_view error) {
  std::cerr << "tee-collateral: " << error << "\n\n" << kUsage;
  return 2;
}

int Print(const nlohmann::ordered_json& j, int code) {
  std::cout << j.dump(2) << "\n";
  return code;
}

// --name VALUE / --name=VALUE pairs; positional arguments in `positional`.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(int argc, char** argv, int first,
                                                              std::vector<std::string>* positional) {
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) {
      positional->push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = argv[++i];
    }
    if (flags.count(name)) return absl::InvalidArgumentError(absl::StrCat(arg, " given twice"));
    flags[name] = value;
  }
  return flags;
}

absl::StatusOr<absl::Time> TimeFlag(const std::map<std::string, std::string>& flags) {
  auto it = flags.find("at");
  if (it == flags.end()) return absl::Now();
  return ParseRfc3339(it->second, "--at");
}

// fetch --kds: the VCEK of the report's chip and TCB, the product's cert_chain and CRL, into
// DIR in the sidecar's disk cache layout (snp-*.json), which tee-verifierd reads with
// --collateral-cache-dir DIR. Everything written has verified.
int FetchKdsItems(std::map<std::string, std::string>& f) {
  if (!f.count("snp-report") || !f.count("out")) return Usage("--snp-report and --out are required");
  for (const char* intel : {"fmspc", "ca", "update", "root-ca-crl-url", "api-key-file"}) {
    if (f.count(intel)) return Usage(absl::StrCat("--", intel, " is for Intel sources, not --kds"));
  }
  absl::StatusOr<std::string> bytes = ReadFileBytes(f["snp-report"], 1 << 20);
  if (!bytes.ok()) return Usage(absl::StrCat("--snp-report: ", bytes.status().message()));
  absl::StatusOr<snp::SnpEvidence> evidence = snp::ParseEvidence(*bytes);
  if (!evidence.ok()) return Usage(absl::StrCat("--snp-report: ", evidence.status().message()));
  absl::StatusOr<absl::Time> now = TimeFlag(f);
  if (!now.ok()) return Usage(now.status().message());
  KdsSource source;
  source.base_url = f["kds"];
  while (absl::EndsWith(source.base_url, "/")) source.base_url.pop_back();
  source.name = source.base_url;
  source.ca_file = f["ca-file"];
  nlohmann::ordered_json out = {{"source", source.base_url}, {"out", f["out"]},
                                {"verified_at", FormatRfc3339(*now)}};
  absl::StatusOr<snp::Product> product = snp::ProductForFetch(evidence->report);
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
  if (!product.ok() || !roots.ok()) {
    out["verified"] = false;
    out["error"] = std::string((product.ok() ? roots.status() : product.status()).message());
    return Print(out, 1);
  }
  out["product"] = std::string(snp::ProductName(*product));
  static const RealClock clock;
  SnpCacheOptions options;
  options.cache.cache_dir = f["out"];
  std::error_code ec;
  fs::create_directories(f["out"], ec);
  std::vector<std::string> write_errors;  // the cache logs, and goes on, when it cannot write
  LiveSnpCollateral cache({source}, std::make_shared<CurlTransport>(), *roots, &clock, options,
                          [&](absl::string_view, absl::string_view event,
                              nlohmann::ordered_json fields) {
                            if (event == "collateral_cache_write_failed") {
                              write_errors.push_back(fields.dump());
                            }
                          });
  absl::StatusOr<std::string> vcek = cache.VcekFor(evidence->report, *product, *now);
  absl::StatusOr<std::shared_ptr<const snp::VerifiedAmdCrl>> crl =
      cache.CrlFor(*product, /*vlek=*/false, *now);
  bool ok = vcek.ok() && crl.ok();
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const SnpItemStatus& item : cache.Status()) {
    nlohmann::ordered_json j = {{"kind", item.kind}, {"state", ItemStateName(item.state)}};
    if (!item.hw_id.empty()) j["hw_id"] = item.hw_id;
    if (item.state == ItemState::kValid) {
      j["not_before"] = FormatRfc3339(item.not_before);
      j["not_after"] = FormatRfc3339(item.not_after);
    } else if (item.not_found) {
      j["not_found"] = true;  // every source answered 404 (no CRL published there)
    } else {
      j["error"] = item.last_error;
      ok = false;
    }
    items.push_back(std::move(j));
  }
  out["items"] = std::move(items);
  if (!write_errors.empty()) {
    ok = false;
    out["write_errors"] = write_errors;
  }
  out["verified"] = ok;
  if (!vcek.ok()) out["error"] = std::string(vcek.status().message());
  return Print(out, ok ? 0 : 1);
}

int Fetch(int argc, char** argv) {
  std::vector<std::string> positional;
  absl::StatusOr<std::map<std::string, std::string>> parsed = ParseFlags(argc, argv, 2, &positional);
  if (!parsed.ok()) return Usage(parsed.status().message());
  std::map<std::string, std::string>& f = *parsed;
  static const char* const kKnown[] = {"pccs",    "pcs", "fmspc",        "ca",
                                       "update",  "root-ca-crl-url", "ca-file",
                                       "api-key-file", "at", "out", "kds", "snp-report"};
  for (const auto& flag : f) {
    // Not a structured binding: clang 14 (the sanitizer build) cannot capture one in a lambda.
    const std::string& name = flag.first;
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return name == k; }) == std::end(kKnown)) {
      return Usage(absl::StrCat("unknown option --", name));
    }
  }
  if (!positional.empty()) return Usage(absl::StrCat("unexpected argument ", positional[0]));
  if (f.count("pccs") + f.count("pcs") + f.count("kds") != 1) {
    return Usage("give exactly one of --pccs URL, --pcs URL and --kds URL");
  }
  if (f.count("kds")) return FetchKdsItems(f);
  if (f.count("snp-report")) return Usage("--snp-report goes with --kds");
  if (!f.count("fmspc") || !f.count("out")) return Usage("--fmspc and --out are required");
  PcsSource source;
  source.kind = f.count("pcs") ? PcsKind::kPcs : PcsKind::kPccs;
  source.base_url = f.count("pcs") ? f["pcs"] : f["pccs"];
  while (absl::EndsWith(source.base_url, "/")) source.base_url.pop_back();
  source.name = source.base_url;
  const std::string update = f.count("update") ? f["update"] : "standard";
  if (update != "standard" && update != "early") return Usage("--update: standard or early");
  source.early_update = update == "early";
  source.root_ca_crl_url = f["root-ca-crl-url"];
  source.ca_file = f["ca-file"];
  if (f.count("api-key-file")) {
    absl::StatusOr<std::string> key = ReadFileBytes(f["api-key-file"], 4096);
    if (!key.ok()) return Usage(absl::StrCat("--api-key-file: ", key.status().message()));
    source.api_key = std::string(absl::StripAsciiWhitespace(*key));
  }
  const std::string ca_name = f.count("ca") ? f["ca"] : "platform";
  if (ca_name != "platform" && ca_name != "processor") return Usage("--ca: platform or processor");
  const PckCa ca = ca_name == "platform" ? PckCa::kPlatform : PckCa::kProcessor;
  absl::StatusOr<ByteArray<6>> fmspc = HexDecodeArray<6>(absl::AsciiStrToLower(f["fmspc"]), "--fmspc");
  if (!fmspc.ok()) return Usage(fmspc.status().message());
  absl::StatusOr<absl::Time> now = TimeFlag(f);
  if (!now.ok()) return Usage(now.status().message());

  nlohmann::ordered_json out = {{"source", source.base_url}, {"fmspc", HexEncode(*fmspc)},
                                {"pck_ca", ca_name}, {"out", f["out"]}};
  CurlTransport curl;
  FetchResult fetched = FetchTdxCollateral(curl, source, *fmspc, ca);
  out["requests"] = fetched.requests;
  if (fetched.failure) {
    out["verified"] = false;
    out["item"] = fetched.failure->item;
    out["error"] = std::string(fetched.failure->status.message());
    return Print(out, 1);
  }
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
  absl::StatusOr<X509*> root =
      roots.ok() ? (*roots)->Get(RootId::kIntelSgxRootCa) : absl::StatusOr<X509*>(roots.status());
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> verified =
      root.ok() ? VerifyBundleFor(*fetched.collateral, *root, *fmspc, ca, *now)
                : absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>>(root.status());
  out["verified_at"] = FormatRfc3339(*now);
  if (!verified.ok()) {
    // Nothing is written: the directory must only ever hold collateral that verified.
    out["verified"] = false;
    out["error"] = std::string(verified.status().message());
    return Print(out, 1);
  }
  std::error_code ec;
  fs::create_directories(f["out"], ec);
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    absl::Status s = WriteFileAtomically(absl::StrCat(f["out"], "/", item.file),
                                         (*fetched.collateral).*item.bytes);
    if (!s.ok()) {
      out["verified"] = true;
      out["error"] = std::string(s.message());
      return Print(out, 1);
    }
  }
  out["verified"] = true;
  out["tcb_evaluation_data_number"] = (*verified)->tcb_info.tcb_evaluation_data_number;
  out["tcb_info_issue_date"] = FormatRfc3339((*verified)->tcb_info.issue_date);
  out["tcb_info_next_update"] = FormatRfc3339((*verified)->tcb_info.next_update);
  out["next_update"] = FormatRfc3339((*verified)->window.not_after);
  return Print(out, 0);
}

int Status(int argc, char** argv) {
  std::vector<std::string> positional;
  absl::StatusOr<std::map<std::string, std::string>> parsed = ParseFlags(argc, argv, 2, &positional);
  if (!parsed.ok()) return Usage(parsed.status().message());
  if (positional.size() != 1) return Usage("status takes one directory");
  for (const auto& [name, value] : *parsed) {
    if (name != "at") return Usage(absl::StrCat("unknown option --", name));
  }
  absl::StatusOr<absl::Time> now = TimeFlag(*parsed);
  if (!now.ok()) return Usage(now.status().message());
  const std::string dir = positional[0];
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Usage(absl::StrCat(dir, " is not a directory"));
  std::vector<fs::path> candidates = {fs::path(dir)};
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) candidates.push_back(it->path());
  }
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
  if (!roots.ok()) return Print({{"error", std::string(roots.status().message())}}, 1);
  absl::StatusOr<X509*> root = (*roots)->Get(RootId::kIntelSgxRootCa);
  if (!root.ok()) return Print({{"error", std::string(root.status().message())}}, 1);
  nlohmann::ordered_json bundles = nlohmann::ordered_json::array();
  bool all_ok = true;
  absl::Time first_expiry = absl::InfiniteFuture();
  std::string first_expiring;
  for (const fs::path& path : candidates) {
    if (!fs::exists(path / std::string(tdx::kTcbInfoFile), ec)) continue;
    nlohmann::ordered_json b = {{"bundle", path.string()}};
    absl::StatusOr<tdx::TdxCollateral> raw = LoadTdxCollateralDir(path.string());
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> v =
        raw.ok() ? tdx::VerifyTdxCollateral(*raw, *root, *now)
                 : absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>>(raw.status());
    if (raw.ok()) {
      absl::StatusOr<tdx::SignedCollateral> signed_info =
          tdx::ParseSignedCollateral(raw->tcb_info_response, "tcbInfo", tdx::kTcbInfoFile);
      absl::StatusOr<tdx::TcbInfo> info =
          signed_info.ok() ? tdx::ParseTcbInfo(signed_info->body, tdx::kTcbInfoFile)
                           : absl::StatusOr<tdx::TcbInfo>(signed_info.status());
      if (info.ok()) {
        b["fmspc"] = HexEncode(info->fmspc);
        b["tcb_evaluation_data_number"] = info->tcb_evaluation_data_number;
        b["tcb_info_issue_date"] = FormatRfc3339(info->issue_date);
        b["tcb_info_next_update"] = FormatRfc3339(info->next_update);
      }
    }
    b["verified"] = v.ok();
    if (v.ok()) {
      b["next_update"] = FormatRfc3339((*v)->window.not_after);
      if ((*v)->window.not_after < first_expiry) {
        first_expiry = (*v)->window.not_after;
        first_expiring = path.string();
      }
    } else {
      all_ok = false;
      b["error"] = std::string(v.status().message());
    }
    bundles.push_back(std::move(b));
  }
  nlohmann::ordered_json out = {{"directory", dir}, {"at", FormatRfc3339(*now)}, {"bundles", bundles}};
  if (first_expiry != absl::InfiniteFuture()) {
    out["expires_first"] = {{"bundle", first_expiring}, {"next_update", FormatRfc3339(first_expiry)}};
  }
  return Print(out, all_ok && !bundles.empty() ? 0 : 1);
}

int Run(int argc, char** argv) {
  if (argc < 2) return Usage("a command is required");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "fetch") return Fetch(argc, argv);
  if (command == "status") return Status(argc, argv);
  return Usage(absl::StrCat("unknown command ", command));
}

}  // namespace
}  // namespace teeverify::collateral

int main(int argc, char** argv) { return teeverify::collateral::Run(argc, argv); }
