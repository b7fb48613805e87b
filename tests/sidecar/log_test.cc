// tee-verifierd's log (docs/sidecar.md, "Logs"): for allow, deny, failed verification and
// invalid input, over Evaluate and Verify, it names the evidence by its SHA-256 only. No run of
// 32 bytes of the evidence, the nonce or the client public key appears in it, raw, in hex (either
// case) or in base64 (either alphabet, any alignment). Only the documented measurement fields
// (each one value of at most 64 bytes) may quote the evidence.
#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/testing/test_keys.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testing {
namespace {

// Every run of 32 bytes (raw, hex) and of 30 bytes (base64: 40 characters, no padding) of the
// secrets. Runs of one repeated byte (zero padding) carry nothing and are left out.
class SecretRuns {
 public:
  void Add(absl::string_view secret, absl::string_view name) {
    for (size_t n : {size_t{32}, size_t{30}}) {
      for (size_t i = 0; i + n <= secret.size(); ++i) {
        const absl::string_view run = secret.substr(i, n);
        if (run.find_first_not_of(run[0]) == absl::string_view::npos) continue;
        runs_.emplace(std::string(run), absl::StrCat(name, " bytes ", i, "..", i + n));
      }
    }
  }

  // Where `text` holds a secret run, or "" when it holds none.
  std::string Find(absl::string_view text) const {
    for (size_t i = 0; i < text.size(); ++i) {
      if (auto hit = Lookup(text.substr(i, 32)); !hit.empty()) return absl::StrCat(hit, " raw");
      const absl::string_view hex = text.substr(i, 64);
      if (hex.size() == 64 && std::all_of(hex.begin(), hex.end(), absl::ascii_isxdigit)) {
        if (auto hit = Lookup(*HexDecode(hex, "log")); !hit.empty()) return hit + " in hex";
      }
      const absl::string_view b64 = text.substr(i, 40);
      std::string bytes;
      if (b64.size() == 40 && (absl::Base64Unescape(b64, &bytes) || absl::WebSafeBase64Unescape(b64, &bytes))) {
        if (auto hit = Lookup(bytes); !hit.empty()) return hit + " in base64";
      }
    }
    return "";
  }

 private:
  std::string Lookup(absl::string_view run) const {
    auto it = runs_.find(std::string(run));
    return it == runs_.end() ? "" : it->second;
  }
  std::map<std::string, std::string> runs_;
};

std::string PublicKeyDer(absl::string_view private_key_pem) {
  EvpPkeyPtr key = *LoadPrivateKey(private_key_pem);
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key.get(), &der);
  std::string out(reinterpret_cast<char*>(der), n > 0 ? n : 0);
  OPENSSL_free(der);
  return out;
}

// The documented fields that quote measurements, each value one measurement at most.
constexpr const char* kMeasurementFields[] = {"measurements", "reasons", "workload_identity"};

void ExpectShortStrings(const nlohmann::json& value, const std::string& where) {
  if (value.is_string()) {
    EXPECT_LE(value.get<std::string>().size(), 128u) << where << ": " << value;
  } else if (value.is_structured()) {
    for (const auto& item : value) ExpectShortStrings(item, where);
  }
}

TEST(SidecarLogTest, NeverHoldsEvidenceNoncesOrClientKeys) {
  TestPlatform platform;
  std::unique_ptr<SidecarProcess> process = StartPlatformSidecar(platform);
  SidecarProcess& sidecar = *process;
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  auto stub = sidecar.Stub();

  const std::string nonce(AsView(Sha256("sidecar log test nonce")));
  const std::string client_key = PublicKeyDer(kAttestationKeyPem);
  ASSERT_GT(client_key.size(), 64u);
  const std::string quote = BoundQuote(*platform.tee, nonce, client_key);
  tdx::Quote tampered = *platform.tee->MakeQuoteStruct(platform.tee->DefaultReport());
  tampered.signature[3] ^= 1;
  const std::string bad_signature = tdx::SerializeQuote(tampered);
  const std::string truncated = quote.substr(0, 900);

  grpc::Status status;
  const v1::Policy role = platform.Role(platform.mrtd_hex);
  v1::EvaluateResponse resp = CallEvaluate(*stub, quote, role, nonce, &status, client_key);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(resp.decision(), v1::DECISION_ALLOW) << resp.error().message();
  resp = CallEvaluate(*stub, quote, platform.Role(std::string(96, 'e')), nonce, &status, client_key);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(resp.decision(), v1::DECISION_DENY);
  ASSERT_EQ(resp.mismatches_size(), 1);
  resp = CallEvaluate(*stub, bad_signature, role, nonce, &status, client_key);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(resp.error().reason(), v1::REASON_BAD_SIGNATURE);
  CallEvaluate(*stub, truncated, role, nonce, &status, client_key);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const std::string* evidence : {&quote, &truncated}) {
    v1::VerifyRequest req;
    req.set_evidence(*evidence);
    grpc::ClientContext ctx;
    v1::VerifyResponse verified;
    stub->Verify(&ctx, req, &verified);
  }
  stub.reset();  // an open channel would hold the shutdown for its whole grace period
  ASSERT_EQ(sidecar.Stop(), 0) << sidecar.Stderr();

  SecretRuns secrets;
  secrets.Add(nonce, "nonce");
  secrets.Add(client_key, "client public key");
  secrets.Add(quote, "quote");
  secrets.Add(bad_signature, "quote with a bad signature");
  // The detector itself: it finds what it must, wherever it sits.
  EXPECT_EQ(secrets.Find("x" + HexEncode(quote.substr(1001, 40))), "quote bytes 1001..1033 in hex");
  EXPECT_EQ(secrets.Find("x" + absl::AsciiStrToUpper(HexEncode(nonce)) + "y"), "nonce bytes 0..32 in hex");
  EXPECT_EQ(secrets.Find("\"" + absl::Base64Escape(client_key.substr(7, 33))),
            "client public key bytes 7..37 in base64");
  EXPECT_EQ(secrets.Find(absl::WebSafeBase64Escape(quote.substr(2000, 31))), "quote bytes 2000..2030 in base64");
  EXPECT_EQ(secrets.Find(quote.substr(2500, 32)), "quote bytes 2500..2532 raw");

  const std::set<std::string> sent = {HexEncode(Sha256(quote)), HexEncode(Sha256(bad_signature)),
                                      HexEncode(Sha256(truncated))};
  std::set<std::string> logged;
  std::map<std::string, int> decisions;
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(sidecar.Log(), '\n', absl::SkipEmpty())) {
    SCOPED_TRACE(line);
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(entry.is_object());
    ++lines;
    const std::string event = entry.value("event", "");
    if (event == "evaluate" || event == "verify" || event == "verify_invalid_input") {
      logged.insert(entry.value("evidence_sha256", ""));
      ++decisions[event == "evaluate" ? entry.value("decision", "") : event];
    }
    if (event == "evaluate" && entry.value("decision", "") == "allow") {
      EXPECT_EQ(entry["measurements"]["tdx.mrtd"], platform.mrtd_hex);
    }
    for (const char* field : kMeasurementFields) {
      if (!entry.contains(field)) continue;
      ExpectShortStrings(entry[field], field);
      entry.erase(field);
    }
    const std::string found = secrets.Find(entry.dump());
    EXPECT_EQ(found, "") << "the log holds " << found;
  }
  EXPECT_GT(lines, 8);
  EXPECT_EQ(logged, sent);
  EXPECT_EQ(decisions, (std::map<std::string, int>{{"allow", 1},
                                                   {"deny", 2},
                                                   {"invalid_input", 1},
                                                   {"verify", 1},
                                                   {"verify_invalid_input", 1}}));
}

}  // namespace
}  // namespace teeverify::testing
