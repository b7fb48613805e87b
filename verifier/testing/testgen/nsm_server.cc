// TEST-ONLY `tee-testgen serve-nsm SOCKET`: a fake AWS Nitro Secure Module on a unix socket. One
// request per connection: the client writes one CBOR request (nsm_protocol.h) and half-closes;
// the server answers with a document from the Nitro test platform, made now, or an error, and
// closes. docs/testgen.md describes the protocol.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "verifier/common/status_macros.h"
#include "verifier/testing/testgen/commands.h"
#include "verifier/testing/testgen/nsm_protocol.h"
#include "verifier/testing/testgen/socket_util.h"
#include "verifier/testing/testgen/stop_signal.h"
#include "verifier/testing/testgen/test_platforms.h"

namespace teeverify::testgen {
namespace {

constexpr absl::Duration kRequestTimeout = absl::Seconds(5);
constexpr size_t kMaxRequestBytes = 16 << 10;  // three fields of at most 1 KiB, and CBOR heads

// The response to one request: answered as soon as the bytes form a complete request, or at
// end of file, or when the client has sent nothing complete for kRequestTimeout.
std::string Respond(int fd, const NitroProfile& profile, std::string* log) {
  std::string request;
  // Only InvalidArgument can mean "not all bytes yet"; every other answer is final.
  const auto complete = [](absl::string_view bytes) {
    return !absl::IsInvalidArgument(ParseNsmRequest(bytes).status());
  };
  const absl::Status read =
      ReadUntil(fd, absl::Now() + kRequestTimeout, kMaxRequestBytes, complete, &request);
  absl::StatusOr<NsmAttestationRequest> parsed = ParseNsmRequest(request);
  if (!read.ok() && parsed.ok()) parsed = absl::InvalidArgumentError(read.message());
  if (!parsed.ok()) {
    *log = absl::StrCat("error ", NsmErrorCode(parsed.status()), " (", parsed.status().message(),
                        ")");
    return EncodeNsmErrorResponse(NsmErrorCode(parsed.status()));
  }
  absl::StatusOr<std::string> document = MakeNitroDocument(
      profile, {parsed->nonce, parsed->user_data, parsed->public_key}, absl::Now());
  if (!document.ok()) {
    *log = absl::StrCat("error InternalError (", document.status().message(), ")");
    return EncodeNsmErrorResponse("InternalError");
  }
  *log = absl::StrCat("document ", document->size(), " bytes, nonce ",
                      parsed->nonce ? absl::StrCat(parsed->nonce->size(), " bytes") : "null");
  return EncodeNsmAttestationResponse(*document);
}

}  // namespace

absl::Status RunServeNsm(int argc, char** argv) {
  InstallStopHandlers();  // before anything slow, so that an early SIGTERM still ends cleanly
  ASSIGN_OR_RETURN(const Args args, ParseArgs(argc, argv, {"--profile"}, 1));
  ASSIGN_OR_RETURN(const Profile profile, LoadProfileOption(args));
  const std::string& path = args.positional[0];
  ASSIGN_OR_RETURN(const Fd listener, ListenUnix(path));
  std::cerr << "serve-nsm: fake Nitro Secure Module listening on " << path << "\n";
  while (!StopRequested()) {
    pollfd p = {listener.get(), POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;  // timeout or EINTR: look at the stop flag again
    const Fd client(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client.get() < 0) continue;
    std::string log;
    const std::string response = Respond(client.get(), profile.nitro, &log);
    const absl::Status sent = WriteAllBytes(client.get(), response);
    std::cerr << "serve-nsm: " << log << (sent.ok() ? "" : absl::StrCat(" (", sent.message(), ")"))
              << "\n";
  }
  unlink(path.c_str());
  std::cerr << "serve-nsm: stopped\n";
  return absl::OkStatus();
}

}  // namespace teeverify::testgen
