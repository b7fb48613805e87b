// The subcommands of tee-testgen (docs/testgen.md). Each takes the arguments after its name and
// returns OK, InvalidArgument for a usage error (exit 2), or another error (exit 1).
#ifndef TEE_VERIFIER_TESTING_TESTGEN_COMMANDS_H_
#define TEE_VERIFIER_TESTING_TESTGEN_COMMANDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "verifier/testing/testgen/args.h"
#include "verifier/testing/testgen/profile.h"

namespace teeverify::testgen {

absl::Status RunRoots(int argc, char** argv);       // roots DIR
absl::Status RunCollateral(int argc, char** argv);  // collateral DIR [--name NAME]
absl::Status RunEvidence(int argc, char** argv);    // evidence --tee ... --out FILE
absl::Status RunProfile(int argc, char** argv);     // profile [--profile FILE]
absl::Status RunMintCerts(int argc, char** argv);   // mint-certs
absl::Status RunServeTsm(int argc, char** argv);    // serve-tsm DIR (tsm_server.cc)
absl::Status RunServeNsm(int argc, char** argv);    // serve-nsm SOCKET (nsm_server.cc)
absl::Status RunNsmRequest(int argc, char** argv);  // nsm-request SOCKET (nsm_client.cc)

// The --profile FILE of `args`, parsed; the empty profile (generator defaults) without one.
// A missing or malformed file is a usage error.
absl::StatusOr<Profile> LoadProfileOption(const Args& args);

// Decodes the hex value of option `name`; a usage error names the option.
absl::StatusOr<std::string> HexOption(const Args& args, absl::string_view name);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_COMMANDS_H_
