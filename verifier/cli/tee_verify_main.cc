// tee-verify: prints the claims of an evidence file as JSON. Admins use it to write roles;
// tests and benchmarks use it too. Contract (other tools depend on it):
//
//   tee-verify [--tee auto|tdx|sev-snp|nitro] [--at RFC3339] [--collateral DIR] [--cert FILE]
//              [--roots DIR] [--inspect | --explain] [--nonce HEX [--client-key FILE]]
//              [--policy FILE | --role FILE] EVIDENCE
//
// Exit status: 0 verified (or, with --inspect, parsed; with --policy or --role, allowed); 1
// rejected or denied, with "error" or "reasons" in the JSON; 2 usage error or unreadable file.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "verifier/claims/claims.h"
#include "verifier/collateral/clock.h"
#include "verifier/collateral/snp_cache.h"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"
#include "verifier/evidence.h"
#include "verifier/io/files.h"
#include "verifier/policy/nonce_binding.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/policy/role_json.h"
#include "verifier/tdx/tcb_explain.h"

namespace teeverify {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

constexpr absl::string_view kUsage =
    "usage: tee-verify [--tee auto|tdx|sev-snp|nitro|az-snp-vtpm|az-tdx-vtpm] [--at RFC3339]\n"
    "                  [--collateral DIR]\n"
    "                  [--cert FILE] [--roots DIR] [--inspect | --explain]\n"
    "                  [--nonce HEX [--client-key FILE]]\n"
    "                  [--policy FILE | --role FILE [--role-name NAME]] EVIDENCE\n"
    "\n"
    "Verifies TEE evidence and prints its claims as JSON.\n"
    "  --tee         evidence format (default: auto, detected from the bytes)\n"
    "  --at          verification time, RFC 3339 (default: now)\n"
    "  --collateral  TDX (and az-tdx-vtpm): directory with the Intel PCS collateral files;\n"
    "                SEV-SNP: what `tee-collateral fetch --kds` wrote (the VCEK of a report\n"
    "                without certificates, the product's cert_chain and CRL), read offline\n"
    "                (Nitro needs neither --collateral nor --cert; its document may be raw\n"
    "                COSE_Sign1 bytes or their base64)\n"
    "  --cert        SEV-SNP: VCEK or VLEK, DER or PEM (PEM may append the ASK/ASVK and ARK);\n"
    "                az-snp-vtpm evidence JSON without a \"vcek\" member (docs/azure.md)\n"
    "  --roots       directory of test roots replacing the built-in vendor roots\n"
    "  --inspect     parse and print without verifying (verified: false)\n"
    "  --explain     TDX: why the platform is not UpToDate, for a person: the TCB level it\n"
    "                matches and what falls short of each level above (docs/tcb-recovery.md)\n"
    "  --nonce       the login nonce the evidence must bind (docs/policy.md)\n"
    "  --client-key  a public key bound together with the nonce\n"
    "  --policy      a role's policy (JSON); prints the decision and every reason\n"
    "  --role        the same from a role file as written to Vault (tdx_mrtd, ...; token_* ignored)\n"
    "  --role-name   the role's name in Vault: workload_identity is then the entity alias a login\n"
    "                to that role gets (docs/policy.md, \"Workload identity\")\n"
    "Exit status: 0 verified (parsed with --inspect, allowed with --policy or --role), 1 rejected\n"
    "or denied,\n"
    "2 usage error.\n";

struct Options {
  std::optional<TeeKind> tee;
  std::optional<std::string> at;
  std::optional<std::string> collateral_dir;
  std::optional<std::string> cert_file;
  std::optional<std::string> roots_dir;
  std::optional<std::string> nonce_hex;
  std::optional<std::string> client_key_file;
  std::optional<std::string> policy_file;
  bool policy_is_role = false;  // --role: the file is a Vault role (role_json.h)
  std::string role_name;        // --role-name: part of the workload identity
  bool inspect = false;
  bool explain = false;
  std::string evidence_path;
};

int Usage(absl::string_view problem) {
  std::cerr << "tee-verify: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

// Returns an exit status when parsing ends the program (usage error, --help).
std::optional<int> ParseArgs(int argc, char** argv, Options* out) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (arg == "--explain") {
      out->explain = true;
      continue;
    }
    if (arg == "--inspect") {
      out->inspect = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage(absl::StrCat(arg, " needs a value"));
    }
    if (name == "--tee") {
      if (value != "auto") {
        out->tee = ParseTeeKind(value);
        if (!out->tee) return Usage(absl::StrCat("unknown --tee value \"", value, "\""));
      }
    } else if (name == "--at") {
      out->at = value;
    } else if (name == "--collateral") {
      out->collateral_dir = value;
    } else if (name == "--cert") {
      out->cert_file = value;
    } else if (name == "--roots") {
      out->roots_dir = value;
    } else if (name == "--nonce") {
      out->nonce_hex = value;
    } else if (name == "--client-key") {
      out->client_key_file = value;
    } else if (name == "--role-name") {
      out->role_name = value;
    } else if (name == "--policy" || name == "--role") {
      if (out->policy_file) return Usage("give one of --policy and --role, once");
      out->policy_file = value;
      out->policy_is_role = name == "--role";
    } else {
      return Usage(absl::StrCat("unknown option ", name));
    }
  }
  if (positional.size() != 1) return Usage("expected exactly one EVIDENCE file");
  if (!out->role_name.empty() && !out->policy_file) return Usage("--role-name needs --policy or --role");
  if (out->client_key_file && !out->nonce_hex) return Usage("--client-key needs --nonce");
  if (out->explain && (out->inspect || out->policy_file)) {
    return Usage("--explain takes neither --inspect nor --policy/--role");
  }
  if (out->inspect && (out->nonce_hex || out->policy_file)) {
    return Usage("--inspect does not verify, so it takes neither --nonce nor --policy/--role");
  }
  out->evidence_path = positional[0];
  return std::nullopt;
}

void Print(const nlohmann::ordered_json& json) { std::cout << json.dump(2) << "\n"; }

// --explain: the verification outcome in one line, then the TCB explanation of the quote
// against the collateral (which must itself verify at the same time).
int Explain(const EvidenceRequest& request, const TrustRoots& roots,
            const absl::StatusOr<VerifiedClaims>& claims) {
  if (!request.tdx_collateral) return Usage("--explain needs TDX evidence and --collateral DIR");
  if (claims.ok()) {
    std::cout << "verification: verified at " << FormatRfc3339(request.now) << ", tcb_status "
              << claims->claims().tcb_status << "\n";
  } else {
    std::cout << "verification: REJECTED at " << FormatRfc3339(request.now) << ": "
              << ReasonName(ReasonOf(claims.status())) << ": " << claims.status().message()
              << "\n";
  }
  absl::StatusOr<X509*> root = roots.Get(RootId::kIntelSgxRootCa);
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> collateral =
      root.ok() ? tdx::VerifyTdxCollateral(*request.tdx_collateral, *root, request.now)
                : absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>>(root.status());
  if (!collateral.ok()) {
    std::cout << "no explanation: the collateral does not verify: " << collateral.status().message()
              << "\n";
    return kExitRejected;
  }
  absl::StatusOr<std::string> text = tdx::ExplainQuoteText(request.evidence, **collateral);
  if (!text.ok()) {
    std::cout << "no explanation: " << text.status().message() << "\n";
    return kExitRejected;
  }
  std::cout << *text;
  return claims.ok() ? kExitOk : kExitRejected;
}

int Run(int argc, char** argv) {
  Options opts;
  if (std::optional<int> exit = ParseArgs(argc, argv, &opts)) return *exit;

  absl::Time now = absl::Now();
  if (opts.at) {
    absl::StatusOr<absl::Time> at = ParseRfc3339(*opts.at, "--at");
    if (!at.ok()) return Usage(at.status().message());
    now = *at;
  }
  absl::StatusOr<std::string> evidence = ReadFileBytes(opts.evidence_path);
  if (!evidence.ok()) return Usage(evidence.status().message());

  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots =
      opts.roots_dir ? LoadRootsDir(*opts.roots_dir) : TrustRoots::BuiltIn();
  if (!roots.ok()) return Usage(roots.status().message());
  std::string certificate;
  if (opts.cert_file) {
    absl::StatusOr<std::string> cert = ReadFileBytes(*opts.cert_file);
    if (!cert.ok()) return Usage(cert.status().message());
    certificate = *std::move(cert);
  }

  std::string nonce, client_key;
  if (opts.nonce_hex) {
    absl::StatusOr<std::string> raw = HexDecode(*opts.nonce_hex, "--nonce");
    if (!raw.ok()) return Usage(raw.status().message());
    nonce = *std::move(raw);
  }
  if (opts.client_key_file) {
    absl::StatusOr<std::string> key = ReadFileBytes(*opts.client_key_file);
    if (!key.ok()) return Usage(key.status().message());
    client_key = *std::move(key);
  }
  std::optional<v1::Policy> role;
  if (opts.policy_file) {
    absl::StatusOr<std::string> text = ReadFileBytes(*opts.policy_file);
    if (!text.ok()) return Usage(text.status().message());
    absl::StatusOr<v1::Policy> parsed = opts.policy_is_role ? policy::PolicyFromRoleJson(*text)
                                                            : policy::PolicyFromJson(*text);
    policy::PolicyValidation validation;
    if (parsed.ok()) validation = policy::ValidatePolicy(*parsed);
    if (!parsed.ok() || !validation.errors.empty()) {
      nlohmann::ordered_json out = {{"decision", "invalid_policy"}};
      out["errors"] = parsed.ok() ? validation.errors
                                  : std::vector<std::string>{std::string(parsed.status().message())};
      Print(out);
      return kExitRejected;
    }
    role = std::move(validation.normalized);
  }

  EvidenceRequest request;
  request.evidence = *evidence;
  request.tee = opts.tee;
  request.now = now;
  request.certificate = certificate;
  EvidenceVerifier verifier(*roots);
  const absl::StatusOr<TeeKind> tee = EvidenceVerifier::ResolveTee(request);
  const std::optional<TeeKind> known_tee = tee.ok() ? std::optional(*tee) : std::nullopt;

  if (opts.inspect) {
    absl::StatusOr<Claims> claims = verifier.Inspect(request);
    if (!claims.ok()) {
      Print(RejectionToJson(known_tee, now, claims.status()));
      return kExitRejected;
    }
    Print(ClaimsToJson(*claims, /*verified=*/false));
    return kExitOk;
  }

  if (known_tee == TeeKind::kTdx || known_tee == TeeKind::kAzTdxVtpm) {
    if (!opts.collateral_dir) {
      Print(RejectionToJson(known_tee, now,
                            MakeError(v1::REASON_COLLATERAL_MISSING,
                                      "tdx collateral is missing (pass --collateral DIR)")));
      return kExitRejected;
    }
    absl::StatusOr<tdx::TdxCollateral> collateral = LoadTdxCollateralDir(*opts.collateral_dir);
    if (!collateral.ok()) {
      Print(RejectionToJson(known_tee, now, collateral.status()));
      return kExitRejected;
    }
    request.tdx_collateral = *std::move(collateral);
  }
  // SEV-SNP: the sidecar's disk-cache layout, as `tee-collateral fetch --kds` writes it, read
  // with no source to ask: every item is verified before use, as the sidecar does, and the
  // product's CRL held there is checked (docs/collateral.md).
  static const collateral::RealClock clock;
  std::unique_ptr<collateral::LiveSnpCollateral> snp_collateral;
  if (known_tee == TeeKind::kSevSnp && opts.collateral_dir) {
    collateral::SnpCacheOptions options;
    options.cache.cache_dir = *opts.collateral_dir;
    snp_collateral = std::make_unique<collateral::LiveSnpCollateral>(
        std::vector<collateral::KdsSource>(), /*transport=*/nullptr, *roots, &clock, options,
        [](absl::string_view, absl::string_view, nlohmann::ordered_json) {});
    snp_collateral->LoadDisk();
    request.snp_collateral_provider = snp_collateral.get();
  }
  if (!nonce.empty() && !role) {
    absl::StatusOr<std::string> expected = policy::ExpectedReportData(nonce, client_key);
    if (!expected.ok()) return Usage(expected.status().message());
    request.expected_report_data = *std::move(expected);
  }
  absl::StatusOr<VerifiedClaims> claims = verifier.Verify(request);
  if (opts.explain) return Explain(request, **roots, claims);
  if (!claims.ok()) {
    nlohmann::ordered_json out = RejectionToJson(known_tee, now, claims.status());
    if (role) out["decision"] = "deny";
    Print(out);
    return kExitRejected;
  }
  if (!role) {
    Print(ClaimsToJson(*claims));
    return kExitOk;
  }
  const policy::Decision decision =
      policy::Evaluate(*claims, *role, {nonce, client_key, opts.role_name}, now);
  nlohmann::ordered_json out;
  out["decision"] = decision.allow ? "allow" : "deny";
  out["reasons"] = policy::MismatchesToJson(decision.mismatches);
  out["workload_identity"] = decision.workload_identity;
  out["metadata"] = decision.metadata;
  out["claims"] = ClaimsToJson(*claims);
  Print(out);
  return decision.allow ? kExitOk : kExitRejected;
}

}  // namespace
}  // namespace teeverify

int main(int argc, char** argv) { return teeverify::Run(argc, argv); }
