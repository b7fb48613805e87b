// libFuzzer target: AWS Nitro attestation document (raw COSE_Sign1 or base64). Any input must
// parse or fail cleanly; what parses must serialize and parse back to the same document (parse ->
// serialize -> parse stability), its payload map too; inspection and verification must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "verifier/nitro/document_input.h"
#include "verifier/nitro/document_parser.h"
#include "verifier/nitro/nitro_verifier.h"

namespace {

const teeverify::NitroVerifier& Verifier() {
  static const auto* verifier = new teeverify::NitroVerifier(*teeverify::TrustRoots::BuiltIn());
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teeverify::nitro;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  teeverify::LooksLikeNitroDocument(input);
  auto raw = DocumentBytes(input);
  if (!raw.ok()) return 0;
  auto doc = ParseDocument(*raw);
  // The GA document's time: mutations of the real seeds reach the chain and signature checks.
  const absl::Time at = absl::FromUnixSeconds(1695057480);  // 2023-09-18T17:18:00Z
  auto inspected = teeverify::NitroVerifier::Inspect(input, at);
  auto verified = Verifier().Verify(input, at);
  if (inspected.ok() != doc.ok() || (verified.ok() && !doc.ok())) abort();
  if (!doc.ok()) return 0;

  const std::string once = SerializeDocument(*doc);
  auto again = ParseDocument(once);
  if (!again.ok() || !(*again == *doc) || SerializeDocument(*again) != once) abort();

  const std::string payload = SerializePayload(doc->payload);
  auto reparsed = ParsePayload(payload);
  if (!reparsed.ok() || !(*reparsed == doc->payload) || SerializePayload(*reparsed) != payload) {
    abort();
  }
  return 0;
}
