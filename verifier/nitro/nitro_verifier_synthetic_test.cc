// The Nitro verifier on documents of the test platform (verifier/testing/nitro_test_tee.h): what
// no real vector covers (nonces, indefinite-length maps, tags, chain and signature faults).
#include <algorithm>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/evidence.h"
#include "verifier/nitro/document_parser.h"
#include "verifier/nitro/nitro_verifier.h"
#include "verifier/testing/nitro_test_tee.h"
#include "verifier/testing/test_keys.h"

namespace teeverify {
namespace {

using ::teeverify::nitro::AttestationDocument;
using ::teeverify::nitro::AttestationPayload;
using ::teeverify::testing::At;
using ::teeverify::testing::NitroDocumentSpec;
using ::teeverify::testing::NitroTestOptions;
using ::teeverify::testing::NitroTestTee;

std::string Repeat(absl::string_view hex, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, hex);
  return out;
}

constexpr char kLeafCn[] = "i-0123456789abcdef0-enc0123456789abcdef.us-east-1.test";

class NitroSyntheticTest : public ::testing::Test {
 protected:
  void SetUp() override { Init({}); }

  void Init(const NitroTestOptions& options) {
    auto tee = NitroTestTee::Create(options);
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    auto roots = tee_->Roots();
    ASSERT_TRUE(roots.ok()) << roots.status();
    verifier_ = std::make_unique<NitroVerifier>(*roots);
  }

  std::string Make(const NitroDocumentSpec& spec) {
    absl::StatusOr<std::string> doc = tee_->MakeDocument(spec);
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.ok() ? *doc : std::string();
  }
  std::string Make(const AttestationPayload& payload, const testing::CoseEncoding& e = {}) {
    absl::StatusOr<std::string> doc = tee_->MakeDocument(payload, e);
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.ok() ? *doc : std::string();
  }

  absl::StatusOr<VerifiedClaims> Verify(absl::string_view doc) { return verifier_->Verify(doc, now_); }

  // Within every window: the leaf is valid 2024-05-01T12:00:00Z .. 15:00:00Z.
  const absl::Time now_ = At("2024-05-01T12:30:00Z");
  std::unique_ptr<NitroTestTee> tee_;
  std::unique_ptr<NitroVerifier> verifier_;
};

TEST_F(NitroSyntheticTest, DefaultDocumentVerifies) {
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(tee_->DefaultSpec()));
  ASSERT_TRUE(verified.ok()) << verified.status();
  const Claims& c = verified->claims();
  EXPECT_EQ(c.tee, TeeKind::kNitro);
  EXPECT_FALSE(c.debug);
  EXPECT_EQ(c.report_data, "");
  EXPECT_EQ(c.tcb_status, "NotApplicable");
  EXPECT_EQ(c.valid_until, At("2024-05-01T15:00:00Z"));  // the leaf's notAfter, the earliest
  EXPECT_EQ(c.nitro->certificate_fingerprint, Sha256(CertificateDer(tee_->leaf())));

  const nlohmann::ordered_json n = ClaimsToJson(*verified)["nitro"];
  std::vector<std::string> keys;
  for (const auto& item : n.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"module_id", "digest", "timestamp_ms", "timestamp",
                                            "pcrs", "certificate_fingerprint"}));
  EXPECT_EQ(n["module_id"], "i-0123456789abcdef0-enc0123456789abcdef");
  EXPECT_EQ(n["digest"], "SHA384");
  EXPECT_EQ(n["timestamp_ms"], 1714564803000u);
  EXPECT_EQ(n["timestamp"], "2024-05-01T12:00:03.000Z");
  std::vector<std::string> indices;
  for (const auto& item : n["pcrs"].items()) indices.push_back(item.key());
  EXPECT_EQ(indices, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                                               "10", "11", "12", "13", "14", "15"}));
  EXPECT_EQ(n["pcrs"]["0"], Repeat("a0", 48));
  EXPECT_EQ(n["pcrs"]["8"], Repeat("a8", 48));
  EXPECT_EQ(n["pcrs"]["5"], std::string(96, '0'));
}

TEST_F(NitroSyntheticTest, NonceUserDataAndPublicKeyBecomeClaims) {
  NitroDocumentSpec spec = tee_->DefaultSpec();
  spec.nonce = std::string("\x00\x01\x02\xfe\xff", 5);
  spec.user_data = "user data";
  spec.public_key = std::string(91, '\x30');
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(spec));
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->claims().report_data, *spec.nonce);
  const nlohmann::ordered_json j = ClaimsToJson(*verified);
  EXPECT_EQ(j["report_data"], "000102feff");
  EXPECT_EQ(j["nitro"]["nonce"], "000102feff");
  EXPECT_EQ(j["nitro"]["user_data"], "757365722064617461");
  EXPECT_EQ(j["nitro"]["public_key"], Repeat("30", 91));
}

TEST_F(NitroSyntheticTest, EmptyNonceIsPresentAndEmpty) {
  NitroDocumentSpec spec = tee_->DefaultSpec();
  spec.nonce = "";
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(spec));
  ASSERT_TRUE(verified.ok()) << verified.status();
  ASSERT_TRUE(verified->claims().nitro->nonce.has_value());
  EXPECT_EQ(ClaimsToJson(*verified)["nitro"]["nonce"], "");
  EXPECT_FALSE(ClaimsToJson(*verified)["nitro"].contains("user_data"));
}

// Newer NSM versions encode the payload as an indefinite-length map; some SDKs tag the COSE_Sign1.
TEST_F(NitroSyntheticTest, IndefiniteLengthMapsAndTagsVerify) {
  for (bool indefinite : {false, true}) {
    for (bool tagged : {false, true}) {
      NitroDocumentSpec spec = tee_->DefaultSpec();
      spec.indefinite_map = indefinite;
      spec.tagged = tagged;
      spec.nonce = "nonce";
      const std::string doc = Make(spec);
      EXPECT_EQ(static_cast<uint8_t>(doc[0]), tagged ? 0xd2 : 0x84);
      absl::StatusOr<AttestationDocument> parsed = nitro::ParseDocument(doc);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(parsed->payload.indefinite_map, indefinite);
      EXPECT_EQ(parsed->tagged, tagged);
      EXPECT_EQ(static_cast<uint8_t>(parsed->payload_bytes[0]), indefinite ? 0xbf : 0xa9);
      absl::StatusOr<VerifiedClaims> verified = Verify(doc);
      ASSERT_TRUE(verified.ok()) << verified.status();
      EXPECT_EQ(verified->claims().report_data, "nonce");
    }
  }
}

TEST_F(NitroSyntheticTest, ZeroPcr0To2IsADebugEnclave) {
  NitroDocumentSpec spec = tee_->DefaultSpec();
  spec.pcrs[0] = spec.pcrs[1] = std::string(48, '\0');
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(spec));
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_FALSE(verified->claims().debug);  // PCR2 is still set
  spec.pcrs[2] = std::string(48, '\0');
  verified = Verify(Make(spec));
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_TRUE(verified->claims().debug);
  EXPECT_EQ(ClaimsToJson(*verified)["debug"], true);
}

TEST_F(NitroSyntheticTest, PcrsOf32And64BytesAreCarried) {
  NitroDocumentSpec spec = tee_->DefaultSpec();
  spec.pcrs = {{0, std::string(32, '\x01')}, {31, std::string(64, '\x02')}};
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(spec));
  ASSERT_TRUE(verified.ok()) << verified.status();
  const nlohmann::ordered_json pcrs = ClaimsToJson(*verified)["nitro"]["pcrs"];
  EXPECT_EQ(pcrs.size(), 2u);
  EXPECT_EQ(pcrs["0"], Repeat("01", 32));
  EXPECT_EQ(pcrs["31"], Repeat("02", 64));
}

TEST_F(NitroSyntheticTest, BuiltInRootsRefuseTestDocuments) {
  auto roots = TrustRoots::BuiltIn();
  ASSERT_TRUE(roots.ok());
  NitroVerifier production(*roots);
  absl::StatusOr<VerifiedClaims> verified = production.Verify(Make(tee_->DefaultSpec()), now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(verified.status().message(),
                                "cabundle[0] 'test.nitro-enclaves' (serial 01) (sha256 "))
      << verified.status();
  EXPECT_TRUE(absl::EndsWith(verified.status().message(),
                             "is not the pinned root 'aws.nitro-enclaves' (serial "
                             "f93175681b90afe11d46ccb4e4e7f856) (sha256 "
                             "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b)"))
      << verified.status();
}

TEST_F(NitroSyntheticTest, ExpiredLeafIsNamed) {
  absl::StatusOr<VerifiedClaims> verified =
      verifier_->Verify(Make(tee_->DefaultSpec()), At("2024-05-01T16:00:00Z"));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_EXPIRED);
  EXPECT_EQ(verified.status().message(),
            absl::StrCat("nitro document certificate chain: certificate '", kLeafCn,
                         "' (serial 05) expired at 2024-05-01T15:00:00Z (verification time "
                         "2024-05-01T16:00:00Z)"));
}

TEST_F(NitroSyntheticTest, TimestampOutsideTheLeafValidityIsRefused) {
  for (const auto& [ms, text] : {std::pair<uint64_t, const char*>{1714564799000, "2024-05-01T11:59:59Z"},
                                 {1714575601000, "2024-05-01T15:00:01Z"}}) {
    NitroDocumentSpec spec = tee_->DefaultSpec();
    spec.timestamp_ms = ms;
    absl::StatusOr<VerifiedClaims> verified = Verify(Make(spec));
    ASSERT_FALSE(verified.ok());
    EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_EXPIRED);
    EXPECT_EQ(verified.status().message(),
              absl::StrCat("nitro document: timestamp ", ms, " ms (", text,
                           ") lies outside the validity of its signing certificate '", kLeafCn,
                           "' (serial 05) (2024-05-01T12:00:00Z .. 2024-05-01T15:00:00Z)"));
  }
}

struct ChainFault {
  const char* name;
  void (*edit)(AttestationPayload* p, const NitroTestTee& tee);
  const char* message;  // the start of the error
};

const ChainFault kChainFaults[] = {
    {"root_left_out", [](AttestationPayload* p, const NitroTestTee&) { p->cabundle.erase(p->cabundle.begin()); },
     "nitro document certificate chain: cabundle[0] "
     "'0123456789abcdef.us-east-1.test.nitro-enclaves' (serial 02) (sha256 "},
    {"intermediates_swapped",
     [](AttestationPayload* p, const NitroTestTee&) { std::swap(p->cabundle[1], p->cabundle[2]); },
     "nitro document certificate chain: cabundle[1] "
     "'fedcba9876543210.zonal.us-east-1.test.nitro-enclaves' (serial 03) is not issued by "
     "cabundle[0] 'test.nitro-enclaves' (serial 01)"},
    {"zonal_left_out", [](AttestationPayload* p, const NitroTestTee&) { p->cabundle.erase(p->cabundle.begin() + 2); },
     "nitro document certificate chain: cabundle[2] "
     "'i-0123456789abcdef0.us-east-1.test.nitro-enclaves' (serial 04) is not issued by cabundle[1] "
     "'0123456789abcdef.us-east-1.test.nitro-enclaves' (serial 02)"},
    {"instance_left_out", [](AttestationPayload* p, const NitroTestTee&) { p->cabundle.pop_back(); },
     "nitro document certificate chain: certificate "
     "'i-0123456789abcdef0-enc0123456789abcdef.us-east-1.test' (serial 05) is not issued by "
     "cabundle[2] 'fedcba9876543210.zonal.us-east-1.test.nitro-enclaves' (serial 03)"},
    {"instance_twice", [](AttestationPayload* p, const NitroTestTee&) { p->cabundle.push_back(p->cabundle.back()); },
     "nitro document certificate chain: cabundle[4] "
     "'i-0123456789abcdef0.us-east-1.test.nitro-enclaves' (serial 04) is not issued by cabundle[3]"},
    {"instance_as_leaf",
     [](AttestationPayload* p, const NitroTestTee&) { p->certificate = p->cabundle.back(); },
     "nitro document certificate chain: certificate "
     "'i-0123456789abcdef0.us-east-1.test.nitro-enclaves' (serial 04) is not issued by cabundle[3]"},
    {"leaf_not_der", [](AttestationPayload* p, const NitroTestTee&) { p->certificate = "-----BEGIN"; },
     "nitro document certificate: not a DER certificate"},
    {"leaf_bad_der",
     [](AttestationPayload* p, const NitroTestTee&) { p->certificate = std::string("\x30\x03\x02\x01\x00", 5); },
     "nitro document certificate: not a DER certificate"},
    {"cabundle_entry_bad_der",
     [](AttestationPayload* p, const NitroTestTee&) { p->cabundle[2].resize(100); },
     "nitro document cabundle[2]: not a DER certificate"},
};

class NitroChainFaultTest : public NitroSyntheticTest,
                            public ::testing::WithParamInterface<ChainFault> {};

TEST_P(NitroChainFaultTest, IsRefused) {
  AttestationPayload payload = tee_->Payload(tee_->DefaultSpec());
  GetParam().edit(&payload, *tee_);
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(payload));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_CERT_CHAIN_INVALID) << verified.status();
  EXPECT_TRUE(absl::StartsWith(verified.status().message(), GetParam().message))
      << verified.status();
}

INSTANTIATE_TEST_SUITE_P(Chain, NitroChainFaultTest, ::testing::ValuesIn(kChainFaults),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(NitroSyntheticTest, LeafKeyMustBeP384) {
  NitroTestOptions options;
  options.leaf_key_pem = testing::kAttestationKeyPem;  // P-256
  Init(options);
  absl::StatusOr<VerifiedClaims> verified = Verify(Make(tee_->DefaultSpec()));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_EQ(verified.status().message(),
            absl::StrCat("nitro document: signing certificate '", kLeafCn,
                         "' (serial 05) does not hold an EC P-384 key, which ES384 requires"));
}

TEST_F(NitroSyntheticTest, TamperedSignatureIsRefused) {
  std::string doc = Make(tee_->DefaultSpec());
  doc.back() = static_cast<char>(doc.back() ^ 0x01);
  absl::StatusOr<VerifiedClaims> verified = Verify(doc);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_BAD_SIGNATURE);
  EXPECT_EQ(verified.status().message(),
            absl::StrCat("nitro document: COSE_Sign1 ES384 signature by certificate '", kLeafCn,
                         "' (serial 05): signature does not verify"));
}

TEST_F(NitroSyntheticTest, SignatureCoversThePayloadAndProtectedBytesAsCarried) {
  // A protected header with a longer encoding of -35 is the same header, but other bytes.
  testing::CoseEncoding long_form;
  long_form.protected_header = std::string("\xa1\x01\x39\x00\x22", 5);
  const AttestationPayload payload = tee_->Payload(tee_->DefaultSpec());
  const std::string doc = Make(payload, long_form);
  ASSERT_TRUE(Verify(doc).ok());

  absl::StatusOr<AttestationDocument> parsed = nitro::ParseDocument(doc);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  AttestationDocument reheadered = *parsed;
  reheadered.protected_header = std::string("\xa1\x01\x38\x22", 4);
  absl::StatusOr<VerifiedClaims> verified = Verify(nitro::SerializeDocument(reheadered));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_BAD_SIGNATURE);

  // Another payload under the same signature.
  NitroDocumentSpec other = tee_->DefaultSpec();
  other.nonce = "another nonce";
  AttestationDocument swapped = *parsed;
  swapped.payload_bytes = nitro::SerializePayload(tee_->Payload(other));
  verified = Verify(nitro::SerializeDocument(swapped));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_BAD_SIGNATURE);
}

// Every byte of a tagged, indefinite-length document with every optional field, changed.
TEST_F(NitroSyntheticTest, OneByteFlipsAnywhereAreRejected) {
  NitroDocumentSpec spec = tee_->DefaultSpec();
  spec.tagged = true;
  spec.indefinite_map = true;
  spec.nonce = std::string(32, '\x11');
  spec.user_data = "u";
  spec.public_key = "k";
  const std::string original = Make(spec);
  absl::StatusOr<VerifiedClaims> good = Verify(original);
  ASSERT_TRUE(good.ok()) << good.status();
  const nlohmann::ordered_json want = ClaimsToJson(*good);
  int accepted = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    std::string flipped = original;
    flipped[i] = static_cast<char>(flipped[i] ^ 0xff);
    absl::StatusOr<VerifiedClaims> got = Verify(flipped);
    if (got.ok()) {
      ++accepted;
      ASSERT_EQ(ClaimsToJson(*got), want) << "byte " << i;
      continue;
    }
    ASSERT_NE(ReasonOf(got.status()), v1::REASON_INTERNAL) << "byte " << i << ": " << got.status();
  }
  EXPECT_EQ(accepted, 0);
}

TEST_F(NitroSyntheticTest, Base64EvidenceIsDetectedAndItsNonceChecked) {
  NitroDocumentSpec spec = tee_->DefaultSpec();
  spec.nonce = "server nonce";
  const std::string text = absl::Base64Escape(Make(spec));
  EXPECT_EQ(*DetectTee(text), TeeKind::kNitro);
  EvidenceVerifier evidence(*tee_->Roots());
  EvidenceRequest request;
  request.evidence = text;
  request.now = now_;
  request.expected_report_data = "server nonce";
  EXPECT_TRUE(evidence.Verify(request).ok());
  request.expected_report_data = "other nonce";
  absl::StatusOr<VerifiedClaims> verified = evidence.Verify(request);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_NONCE_MISMATCH);
  EXPECT_EQ(verified.status().message(),
            "nitro evidence: report_data 736572766572206e6f6e6365 is not the expected "
            "6f74686572206e6f6e6365");
}

}  // namespace
}  // namespace teeverify
