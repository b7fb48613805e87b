// TEST-ONLY `tee-testgen nsm-request SOCKET`: the client side of serve-nsm, for tests and the
// demo. Sends one Attestation request (or --raw bytes), half-closes, reads the response to end of
// file, prints {"document_bytes": N} or {"error": "CODE"} and writes the document to --out.
#include <sys/socket.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "verifier/common/status_macros.h"
#include "verifier/testing/testgen/commands.h"
#include "verifier/testing/testgen/file_util.h"
#include "verifier/testing/testgen/nsm_protocol.h"
#include "verifier/testing/testgen/socket_util.h"

namespace teeverify::testgen {
namespace {

constexpr absl::Duration kConnectWait = absl::Seconds(5);
constexpr absl::Duration kResponseTimeout = absl::Seconds(20);

absl::StatusOr<std::optional<std::string>> OptionalHex(const Args& args, absl::string_view name) {
  if (!args.Get(name)) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string bytes, HexOption(args, name));
  return std::optional<std::string>(std::move(bytes));
}

absl::StatusOr<std::string> RequestBytes(const Args& args) {
  if (args.Get("--raw")) {
    if (args.Get("--nonce") || args.Get("--user-data") || args.Get("--public-key")) {
      return absl::InvalidArgumentError("--raw sends its bytes as they are; it takes no fields");
    }
    return HexOption(args, "--raw");
  }
  NsmAttestationRequest request;
  ASSIGN_OR_RETURN(request.nonce, OptionalHex(args, "--nonce"));
  ASSIGN_OR_RETURN(request.user_data, OptionalHex(args, "--user-data"));
  ASSIGN_OR_RETURN(request.public_key, OptionalHex(args, "--public-key"));
  return EncodeNsmRequest(request);
}

}  // namespace

absl::Status RunNsmRequest(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Args args,
                   ParseArgs(argc, argv,
                             {"--nonce", "--user-data", "--public-key", "--raw", "--out",
                              "--response-out"},
                             1));
  ASSIGN_OR_RETURN(const std::string request, RequestBytes(args));
  ASSIGN_OR_RETURN(const Fd fd, ConnectUnix(args.positional[0], kConnectWait));
  RETURN_IF_ERROR(WriteAllBytes(fd.get(), request));
  shutdown(fd.get(), SHUT_WR);  // end of the request
  std::string response;
  RETURN_IF_ERROR(ReadUntil(fd.get(), absl::Now() + kResponseTimeout, 1 << 20, nullptr, &response));
  if (const auto file = args.Get("--response-out")) {
    RETURN_IF_ERROR(WriteFileAtomically(*file, response));
  }
  ASSIGN_OR_RETURN(const NsmResponse parsed, ParseNsmResponse(response));
  if (!parsed.document) {
    std::cout << nlohmann::json({{"error", parsed.error}}).dump() << "\n";
    return absl::FailedPreconditionError(absl::StrCat("the NSM answered Error ", parsed.error));
  }
  if (const auto file = args.Get("--out")) {
    RETURN_IF_ERROR(WriteFileAtomically(*file, *parsed.document));
  }
  std::cout << nlohmann::json({{"document_bytes", parsed.document->size()}}).dump() << "\n";
  return absl::OkStatus();
}

}  // namespace teeverify::testgen
