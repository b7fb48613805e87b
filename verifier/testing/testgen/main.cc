// tee-testgen: TEST-ONLY. Acts as a TEE on a machine that has none, for the plugin's integration
// tests and scripts/demo.sh: test roots, TDX collateral, evidence bound to given REPORT_DATA, and
// emulations of configfs-tsm and the Nitro Secure Module. Everything it makes chains to test
// roots built from checked-in keys; only verifiers given those roots accept it. docs/testgen.md.
//
// Exit status: 0 ok, 1 failure, 2 usage error.
#include <cstring>
#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "verifier/testing/testgen/commands.h"

namespace teeverify::testgen {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr absl::string_view kUsage =
    "usage: tee-testgen roots DIR\n"
    "       tee-testgen collateral DIR [--name NAME] [--tcb-recovery RFC3339]\n"
    "                                      [--early-tcb-recovery RFC3339]\n"
    "       tee-testgen evidence --tee tdx|sev-snp|nitro (--report-data HEX | --nonce HEX\n"
    "                            [--client-key FILE]) [--profile FILE] --out FILE [--cert-out FILE]\n"
    "       tee-testgen profile [--profile FILE]\n"
    "       tee-testgen serve-tsm DIR [--provider tdx_guest|sev_guest] [--profile FILE]\n"
    "       tee-testgen serve-nsm SOCKET [--profile FILE]\n"
    "       tee-testgen nsm-request SOCKET [--nonce HEX] [--user-data HEX] [--public-key HEX]\n"
    "                               [--raw HEX] [--out FILE] [--response-out FILE]\n"
    "       tee-testgen mint-certs\n"
    "\n"
    "TEST ONLY: makes TEE evidence from checked-in test keys (docs/testgen.md).\n"
    "  roots        write the test roots under the names tee-verify --roots and\n"
    "               tee-verifierd --test-roots read\n"
    "  collateral   write the test TDX platform's collateral into DIR/NAME/ (default testgen-tdx);\n"
    "               --tcb-recovery: the TCB info is the one after a recovery on that date\n"
    "               (evaluation number 19; the test platform becomes OutOfDate);\n"
    "               --early-tcb-recovery: that one as tcb_info_early_response.json instead\n"
    "  evidence     one piece of evidence made now; REPORT_DATA (TDX, SEV-SNP: 64 bytes) or the\n"
    "               Nitro nonce is --report-data, or the nonce binding of --nonce [--client-key]\n"
    "  profile      print the measurements the evidence carries (defaults, or --profile applied)\n"
    "  serve-tsm    emulate configfs-tsm reports in DIR until SIGTERM/SIGINT\n"
    "  serve-nsm    a fake Nitro Secure Module on a unix socket until SIGTERM/SIGINT\n"
    "  nsm-request  one request to serve-nsm; prints {\"document_bytes\": N} or {\"error\": CODE}\n"
    "  mint-certs   print fixed_certificates.cc with fresh certificates (maintenance)\n"
    "Exit status: 0 ok, 1 failure, 2 usage error.\n";

struct Subcommand {
  absl::string_view name;
  absl::Status (*run)(int argc, char** argv);
};

constexpr Subcommand kSubcommands[] = {
    {"roots", RunRoots},         {"collateral", RunCollateral}, {"evidence", RunEvidence},
    {"profile", RunProfile},     {"serve-tsm", RunServeTsm},    {"serve-nsm", RunServeNsm},
    {"nsm-request", RunNsmRequest}, {"mint-certs", RunMintCerts},
};

int Usage(absl::string_view problem) {
  std::cerr << "tee-testgen: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage("missing subcommand");
  const absl::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  for (const Subcommand& sub : kSubcommands) {
    if (sub.name != name) continue;
    std::cerr << "tee-testgen: TEST TEE - evidence from checked-in test keys, accepted only by "
                 "verifiers given the test roots. Never use it in production.\n";
    const absl::Status status = sub.run(argc - 2, argv + 2);
    if (status.ok()) return kExitOk;
    if (absl::IsInvalidArgument(status)) return Usage(absl::StrCat(name, ": ", status.message()));
    std::cerr << "tee-testgen " << name << ": " << status.message() << "\n";
    return kExitFailed;
  }
  return Usage(absl::StrCat("unknown subcommand \"", name, "\""));
}

}  // namespace
}  // namespace teeverify::testgen

int main(int argc, char** argv) { return teeverify::testgen::Main(argc, argv); }
