// roots, collateral, evidence, profile and mint-certs: the one-shot subcommands of tee-testgen.
#include "verifier/testing/testgen/commands.h"

#include <cstring>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "verifier/claims/claims.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/io/files.h"
#include "verifier/policy/nonce_binding.h"
#include "verifier/tdx/collateral.h"
#include "verifier/testing/testgen/file_util.h"
#include "verifier/testing/testgen/fixed_certificates.h"
#include "verifier/testing/testgen/test_platforms.h"

namespace teeverify::testgen {
namespace {

// The 64 bytes for REPORT_DATA or the Nitro nonce: --report-data HEX, or the nonce binding of
// --nonce HEX [--client-key FILE] (verifier/policy/nonce_binding.h).
absl::StatusOr<std::string> ReportDataOption(const Args& args) {
  const bool has_report_data = args.Get("--report-data").has_value();
  if (has_report_data == args.Get("--nonce").has_value()) {
    return absl::InvalidArgumentError("give exactly one of --report-data HEX and --nonce HEX");
  }
  if (has_report_data) {
    if (args.Get("--client-key")) return absl::InvalidArgumentError("--client-key needs --nonce");
    return HexOption(args, "--report-data");
  }
  ASSIGN_OR_RETURN(const std::string nonce, HexOption(args, "--nonce"));
  std::string client_key;
  if (const auto file = args.Get("--client-key")) {
    absl::StatusOr<std::string> key = ReadFileBytes(*file);
    if (!key.ok()) return absl::InvalidArgumentError(key.status().message());
    client_key = *std::move(key);
  }
  absl::StatusOr<std::string> bound = policy::ExpectedReportData(nonce, client_key);
  if (!bound.ok()) return absl::InvalidArgumentError(bound.status().message());
  return bound;
}

absl::StatusOr<ByteArray<64>> ReportData64(absl::string_view bytes, absl::string_view tee) {
  if (bytes.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--report-data: ", tee, " REPORT_DATA is 64 bytes (128 hex digits), got ", bytes.size()));
  }
  ByteArray<64> out;
  std::memcpy(out.data(), bytes.data(), 64);
  return out;
}

}  // namespace

absl::StatusOr<Profile> LoadProfileOption(const Args& args) {
  const auto file = args.Get("--profile");
  if (!file) return Profile{};
  absl::StatusOr<std::string> text = ReadFileBytes(*file);
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  return ParseProfile(*text, *file);
}

absl::StatusOr<std::string> HexOption(const Args& args, absl::string_view name) {
  absl::StatusOr<std::string> bytes = HexDecode(args.Get(name).value_or(""), name);
  if (!bytes.ok()) return absl::InvalidArgumentError(bytes.status().message());
  return bytes;
}

absl::Status RunRoots(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Args args, ParseArgs(argc, argv, {}, 1));
  const std::string& dir = args.positional[0];
  RETURN_IF_ERROR(MakeDirectories(dir));
  for (const auto& [id, pem] : TestRootPems()) {
    RETURN_IF_ERROR(WriteFileAtomically(Join(dir, RootFileName(id)), pem));
  }
  return absl::OkStatus();
}

absl::Status RunCollateral(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Args args,
                   ParseArgs(argc, argv, {"--name", "--tcb-recovery", "--early-tcb-recovery"}, 1));
  const std::string name = args.Get("--name").value_or("testgen-tdx");
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("--name \"", name, "\" is not a plain directory name"));
  }
  const std::string dir = Join(args.positional[0], name);
  ASSIGN_OR_RETURN(auto tee, NewTdxTee(absl::Now()));
  ASSIGN_OR_RETURN(tdx::TdxCollateral c, tee->MakeCollateral());
  // After a recovery: the standard TCB info is the recovered one; before it: the recovered one
  // is only published on the early channel.
  for (const char* option : {"--tcb-recovery", "--early-tcb-recovery"}) {
    const std::optional<std::string> recovery = args.Get(option);
    if (!recovery) continue;
    ASSIGN_OR_RETURN(const absl::Time at, ParseRfc3339(*recovery, option));
    ASSIGN_OR_RETURN(std::string recovered, tee->SignTcbInfo(tee->RecoveredTcbInfoBody(at)));
    (absl::string_view(option) == "--tcb-recovery" ? c.tcb_info_response
                                                    : c.tcb_info_early_response) =
        std::move(recovered);
  }
  RETURN_IF_ERROR(MakeDirectories(dir));
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    const absl::string_view file = item.file;
    const std::string* bytes = &(c.*item.bytes);
    RETURN_IF_ERROR(WriteFileAtomically(Join(dir, file), *bytes));
  }
  if (!c.tcb_info_early_response.empty()) {
    RETURN_IF_ERROR(
        WriteFileAtomically(Join(dir, tdx::kTcbInfoEarlyFile), c.tcb_info_early_response));
  }
  return absl::OkStatus();
}

absl::Status RunEvidence(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Args args,
                   ParseArgs(argc, argv,
                             {"--tee", "--report-data", "--nonce", "--client-key", "--profile",
                              "--out", "--cert-out"},
                             0));
  const std::optional<TeeKind> tee = ParseTeeKind(args.Get("--tee").value_or(""));
  if (!tee) return absl::InvalidArgumentError("--tee must be tdx, sev-snp or nitro");
  const auto out = args.Get("--out");
  if (!out) return absl::InvalidArgumentError("--out FILE is required");
  if (args.Get("--cert-out") && *tee != TeeKind::kSevSnp) {
    return absl::InvalidArgumentError("--cert-out is for --tee sev-snp only");
  }
  ASSIGN_OR_RETURN(const std::string report_data, ReportDataOption(args));
  ASSIGN_OR_RETURN(const Profile profile, LoadProfileOption(args));
  const absl::Time now = absl::Now();
  std::string evidence;
  switch (*tee) {
    case TeeKind::kTdx: {
      ASSIGN_OR_RETURN(const ByteArray<64> rd, ReportData64(report_data, "tdx"));
      ASSIGN_OR_RETURN(auto platform, NewTdxTee(now));
      ASSIGN_OR_RETURN(evidence, MakeTdxQuote(*platform, profile.tdx, rd));
      break;
    }
    case TeeKind::kSevSnp: {
      ASSIGN_OR_RETURN(const ByteArray<64> rd, ReportData64(report_data, "sev-snp"));
      ASSIGN_OR_RETURN(auto platform, NewSnpTee(profile.sev_snp, now));
      ASSIGN_OR_RETURN(const SnpEvidenceParts parts, MakeSnpEvidence(*platform, profile.sev_snp, rd));
      evidence = absl::StrCat(parts.report, parts.cert_table);
      if (const auto cert_out = args.Get("--cert-out")) {
        RETURN_IF_ERROR(WriteFileAtomically(*cert_out, parts.bundle_pem));
      }
      break;
    }
    case TeeKind::kNitro: {
      if (report_data.size() > 512) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--report-data: a Nitro nonce is at most 512 bytes, got ", report_data.size()));
      }
      ASSIGN_OR_RETURN(evidence, MakeNitroDocument(profile.nitro, {report_data, {}, {}}, now));
      break;
    }
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm:
      return absl::InvalidArgumentError("--tee must be tdx, sev-snp or nitro");
  }
  return WriteFileAtomically(*out, evidence);
}

absl::Status RunProfile(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Args args, ParseArgs(argc, argv, {"--profile"}, 0));
  ASSIGN_OR_RETURN(const Profile profile, LoadProfileOption(args));
  ASSIGN_OR_RETURN(const nlohmann::ordered_json json, EffectiveProfile(profile, absl::Now()));
  std::cout << json.dump(2) << "\n";
  return absl::OkStatus();
}

absl::Status RunMintCerts(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Args args, ParseArgs(argc, argv, {}, 0));
  ASSIGN_OR_RETURN(const std::string source, MintFixedCertificatesSource());
  std::cout << source;
  return absl::OkStatus();
}

}  // namespace teeverify::testgen
