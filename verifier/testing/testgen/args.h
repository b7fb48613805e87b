// The command line of one tee-testgen subcommand: positional arguments and "--name VALUE" (or
// "--name=VALUE") options, each option known to the subcommand and given at most once.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_ARGS_H_
#define TEE_VERIFIER_TESTING_TESTGEN_ARGS_H_

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace teeverify::testgen {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // "--name" -> value

  std::optional<std::string> Get(absl::string_view name) const;
};

// Parses argv[0..argc) (the arguments after the subcommand). Errors (InvalidArgument, a usage error) name the offending argument:
// an option not in `known`, one without a value, or one given twice. `positional_count` is the
// exact number of positional arguments the subcommand takes.
absl::StatusOr<Args> ParseArgs(int argc, char** argv,
                               std::initializer_list<absl::string_view> known,
                               size_t positional_count);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_ARGS_H_
