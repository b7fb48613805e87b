#include "verifier/testing/testgen/args.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace teeverify::testgen {

std::optional<std::string> Args::Get(absl::string_view name) const {
  const auto it = options.find(std::string(name));
  if (it == options.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<Args> ParseArgs(int argc, char** argv,
                               std::initializer_list<absl::string_view> known,
                               size_t positional_count) {
  Args args;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) {
      args.positional.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", name));
    }
    if (!args.options.emplace(name, value).second) {
      return absl::InvalidArgumentError(absl::StrCat(name, " is given twice"));
    }
  }
  if (args.positional.size() != positional_count) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", positional_count,
                                                   " positional argument(s), got ",
                                                   args.positional.size()));
  }
  return args;
}

}  // namespace teeverify::testgen
