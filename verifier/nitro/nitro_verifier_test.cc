// The real AWS Nitro documents (tests/data/nitro, facts from ../shared/vectors/MANIFEST.md).
#include "verifier/nitro/nitro_verifier.h"

#include <openssl/x509v3.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/evidence.h"
#include "verifier/nitro/real_documents_testdata.h"
#include "verifier/testing/nitro_test_tee.h"

namespace teeverify {
namespace {

using ::teeverify::nitro::testdata::kListedPcrs;
using ::teeverify::nitro::testdata::kRealDocuments;
using ::teeverify::nitro::testdata::RealDocument;
using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;

std::string Doc(const RealDocument& d) { return ReadTestData(absl::StrCat("nitro/docs/", d.file)); }

class RealDocumentVerifyTest : public ::testing::TestWithParam<RealDocument> {};

TEST_P(RealDocumentVerifyTest, VerifiesAtTheManifestTime) {
  const RealDocument& d = GetParam();
  NitroVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> verified = verifier.Verify(Doc(d), At(d.at));
  ASSERT_TRUE(verified.ok()) << verified.status();
  const Claims& c = verified->claims();
  EXPECT_EQ(c.tee, TeeKind::kNitro);
  EXPECT_EQ(c.verified_at, At(d.at));
  EXPECT_EQ(c.tcb_status, "NotApplicable");
  EXPECT_TRUE(c.advisory_ids.empty());
  EXPECT_EQ(c.debug, d.debug);
  EXPECT_EQ(HexEncode(c.report_data), d.nonce ? d.nonce : "");
  EXPECT_EQ(c.valid_until, At(d.valid_until));
  ASSERT_TRUE(c.nitro.has_value());
  EXPECT_EQ(c.nitro->module_id, d.module_id);
  EXPECT_EQ(c.nitro->digest, "SHA384");
  EXPECT_EQ(c.nitro->timestamp_ms, d.timestamp_ms);
  ASSERT_EQ(c.nitro->pcrs.size(), 16u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(HexEncode(c.nitro->pcrs.at(kListedPcrs[i])), d.pcrs[i]);
  EXPECT_EQ(HexEncode(c.nitro->certificate_fingerprint), d.certificate_fingerprint);

  const nlohmann::ordered_json j = ClaimsToJson(*verified);
  EXPECT_EQ(j["tee"], "nitro");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["verified_at"], d.at);
  EXPECT_EQ(j["tcb_status"], "NotApplicable");
  EXPECT_EQ(j["debug"], d.debug);
  EXPECT_EQ(j["valid_until"], d.valid_until);
  const auto& n = j["nitro"];
  EXPECT_EQ(n["module_id"], d.module_id);
  EXPECT_EQ(n["digest"], "SHA384");
  EXPECT_EQ(n["timestamp_ms"], d.timestamp_ms);
  EXPECT_EQ(n["timestamp"], d.timestamp);
  ASSERT_EQ(n["pcrs"].size(), 16u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(n["pcrs"][absl::StrCat(kListedPcrs[i])], d.pcrs[i]);
  const std::pair<const char*, const char*> optional[] = {
      {"public_key", d.public_key}, {"user_data", d.user_data}, {"nonce", d.nonce}};
  for (const auto& [key, want] : optional) {
    if (want == nullptr) {
      EXPECT_FALSE(n.contains(key)) << key;
    } else {
      EXPECT_EQ(n[key], want) << key;
    }
  }
  EXPECT_EQ(n["certificate_fingerprint"], d.certificate_fingerprint);
}

TEST_P(RealDocumentVerifyTest, IsRejectedAnHourAfterItsLeafExpiredNamingIt) {
  const RealDocument& d = GetParam();
  NitroVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> verified = verifier.Verify(Doc(d), At(d.one_hour_after_leaf));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StartsWith(
      verified.status().message(),
      absl::StrCat("nitro document certificate chain: certificate '", d.leaf_cn, "' (serial ")))
      << verified.status();
  EXPECT_TRUE(absl::EndsWith(verified.status().message(),
                             absl::StrCat(" expired at ", d.leaf_not_after, " (verification time ",
                                          d.one_hour_after_leaf, ")")))
      << verified.status();
}

TEST_P(RealDocumentVerifyTest, InspectsAtAnyTimeWithAWarning) {
  const RealDocument& d = GetParam();
  absl::StatusOr<Claims> claims = NitroVerifier::Inspect(Doc(d), At(d.one_hour_after_leaf));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->tee, TeeKind::kNitro);
  EXPECT_EQ(claims->debug, d.debug);
  EXPECT_TRUE(claims->tcb_status.empty());
  ASSERT_TRUE(claims->nitro.has_value());
  EXPECT_EQ(claims->nitro->module_id, d.module_id);
  ASSERT_EQ(claims->warnings.size(), 1u);
  EXPECT_TRUE(absl::EndsWith(claims->warnings[0],
                             absl::StrCat(" .. ", d.valid_until, "; verification at ",
                                          d.one_hour_after_leaf, " would fail")))
      << claims->warnings[0];
  claims = NitroVerifier::Inspect(Doc(d), At(d.at));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_TRUE(claims->warnings.empty());
}

TEST_P(RealDocumentVerifyTest, IsRejectedUnderAnotherRoot) {
  auto tee = testing::NitroTestTee::Create();
  ASSERT_TRUE(tee.ok()) << tee.status();
  NitroVerifier verifier(*(*tee)->Roots());
  absl::StatusOr<VerifiedClaims> verified = verifier.Verify(Doc(GetParam()), At(GetParam().at));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StrContains(
      verified.status().message(),
      "nitro document certificate chain: cabundle[0] 'aws.nitro-enclaves' (serial "))
      << verified.status();
  EXPECT_TRUE(absl::StrContains(verified.status().message(),
                                "(sha256 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79"
                                "bb5b) is not the pinned root 'test.nitro-enclaves'"))
      << verified.status();
}

INSTANTIATE_TEST_SUITE_P(Manifest, RealDocumentVerifyTest, ::testing::ValuesIn(kRealDocuments),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NitroRealDocumentTest, Base64TextVerifiesToTheSameClaims) {
  NitroVerifier verifier(BuiltInRoots());
  absl::StatusOr<VerifiedClaims> raw =
      verifier.Verify(ReadTestData("nitro/docs/ga_debug.bin"), At("2023-09-18T17:18:00Z"));
  absl::StatusOr<VerifiedClaims> text =
      verifier.Verify(ReadTestData("nitro/docs/ga_debug.base64"), At("2023-09-18T17:18:00Z"));
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(ClaimsToJson(*raw), ClaimsToJson(*text));
}

TEST(NitroRealDocumentTest, BeforeTheLeafIsValidTheLeafIsNamed) {
  NitroVerifier verifier(BuiltInRoots());
  // GA leaf: 2023-09-18T14:37:09Z .. 17:37:12Z.
  absl::StatusOr<VerifiedClaims> verified =
      verifier.Verify(ReadTestData("nitro/docs/ga_debug.bin"), At("2023-09-18T14:37:08Z"));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StrContains(verified.status().message(),
                                "certificate 'i-0918f6c55e3b61d89-enc018aa8b8e2285d13.us-east-1.aws' "
                                "(serial 018aa8b8e2285d130000000065086098) is not valid before "
                                "2023-09-18T14:37:09Z"))
      << verified.status();
  EXPECT_TRUE(
      verifier.Verify(ReadTestData("nitro/docs/ga_debug.bin"), At("2023-09-18T14:37:09Z")).ok());
  EXPECT_TRUE(
      verifier.Verify(ReadTestData("nitro/docs/ga_debug.bin"), At("2023-09-18T17:37:11Z")).ok());
}

// The Cage TLS certificates carry the document hex-encoded as the first label of their second DNS
// SAN; what they carry is the .cose.bin the MANIFEST lists.
absl::StatusOr<X509Ptr> FirstCertificate(absl::string_view file) {
  const std::string bytes = ReadTestData(file);
  if (!absl::EndsWith(file, ".pem")) return ParseCertificate(bytes, file);
  ASSIGN_OR_RETURN(std::vector<X509Ptr> all, ParsePemCertificates(bytes, file));
  return std::move(all.front());
}

std::string CoseFromCageCertificate(absl::string_view file) {
  absl::StatusOr<X509Ptr> cert = FirstCertificate(file);
  EXPECT_TRUE(cert.ok()) << cert.status();
  if (!cert.ok()) return "";
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  std::vector<std::string> dns;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_DNS) continue;
    dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                     ASN1_STRING_length(name->d.dNSName));
  }
  GENERAL_NAMES_free(names);
  EXPECT_GE(dns.size(), 2u);
  if (dns.size() < 2) return "";
  absl::StatusOr<std::string> cose = HexDecode(dns[1].substr(0, dns[1].find('.')), "SAN label");
  EXPECT_TRUE(cose.ok()) << cose.status();
  return cose.ok() ? *cose : "";
}

TEST(NitroRealDocumentTest, CageCertificatesCarryTheListedDocuments) {
  EXPECT_EQ(CoseFromCageCertificate("nitro/cage_certs/cage_nondebug.pem"),
            ReadTestData("nitro/docs/cage_nondebug.cose.bin"));
  EXPECT_EQ(CoseFromCageCertificate("nitro/cage_certs/cage_nondebug.der.crt"),
            ReadTestData("nitro/docs/cage_nondebug.cose.bin"));
  EXPECT_EQ(CoseFromCageCertificate("nitro/cage_certs/cage_debug.pem"),
            ReadTestData("nitro/docs/cage_debug.cose.bin"));
}

// Every byte of a real document, changed: refused, or (where the byte is not signed) giving the
// same claims. Nitro documents have no unsigned byte whose change still parses (the unprotected
// header must be empty), so in practice every change is refused.
TEST(NitroRealDocumentTest, OneByteFlipsAnywhereAreRejected) {
  NitroVerifier verifier(BuiltInRoots());
  const std::string original = ReadTestData("nitro/docs/ga_debug.bin");
  const absl::Time at = At("2023-09-18T17:18:00Z");
  absl::StatusOr<VerifiedClaims> good = verifier.Verify(original, at);
  ASSERT_TRUE(good.ok()) << good.status();
  const nlohmann::ordered_json want = ClaimsToJson(*good);
  int accepted = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    std::string flipped = original;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    absl::StatusOr<VerifiedClaims> got = verifier.Verify(flipped, at);
    if (got.ok()) {
      ++accepted;
      ASSERT_EQ(ClaimsToJson(*got), want) << "byte " << i;
      continue;
    }
    ASSERT_NE(ReasonOf(got.status()), v1::REASON_INTERNAL) << "byte " << i << ": " << got.status();
  }
  EXPECT_EQ(accepted, 0);
}

TEST(NitroRealDocumentTest, IsDetectedRawAndAsBase64) {
  EXPECT_TRUE(LooksLikeNitroDocument(ReadTestData("nitro/docs/ga_debug.bin")));
  EXPECT_TRUE(LooksLikeNitroDocument(ReadTestData("nitro/docs/ga_debug.base64")));
  EXPECT_EQ(*DetectTee(ReadTestData("nitro/docs/beta_debug.bin")), TeeKind::kNitro);
  EXPECT_EQ(*DetectTee(ReadTestData("nitro/docs/ga_debug.base64")), TeeKind::kNitro);
  EXPECT_FALSE(LooksLikeNitroDocument(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin")));
  EXPECT_FALSE(LooksLikeNitroDocument("aGVsbG8="));  // base64 of "hello"
  EXPECT_FALSE(LooksLikeNitroDocument(""));
}

TEST(NitroRealDocumentTest, EvidenceVerifierBindsTheNonce) {
  EvidenceVerifier verifier(BuiltInRoots());
  const std::string doc = ReadTestData("nitro/docs/ga_debug.base64");
  EvidenceRequest request;
  request.evidence = doc;
  request.now = At("2023-09-18T17:18:00Z");
  request.expected_report_data = *HexDecode(kRealDocuments[0].nonce, "nonce");
  absl::StatusOr<VerifiedClaims> verified = verifier.Verify(request);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->claims().tee, TeeKind::kNitro);
  request.expected_report_data = std::string(256, '\0');
  verified = verifier.Verify(request);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_NONCE_MISMATCH);
}

}  // namespace
}  // namespace teeverify
