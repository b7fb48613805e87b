// NitroCaches: a cached chain (or cabundle) is used only inside its window and only for the same
// certificate bytes; the COSE signature, the timestamp-within-the-leaf check and a new leaf's
// link are checked on every call, so a verifier with caches accepts and refuses exactly what one
// without accepts and refuses. Real documents (tests/data/nitro) for windows, the test platform
// (verifier/testing/nitro_test_tee.h) for a new leaf under a known cabundle and for forgeries.
#include "nlohmann/json.hpp"
#include "verifier/nitro/nitro_caches.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/nitro/nitro_verifier.h"
#include "verifier/nitro/real_documents_testdata.h"
#include "verifier/testing/nitro_test_keys.h"
#include "verifier/testing/nitro_test_tee.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify {
namespace {

using ::teeverify::nitro::AttestationPayload;
using ::teeverify::nitro::testdata::kRealDocuments;
using ::teeverify::testing::At;
using ::teeverify::testing::NitroTestTee;
using ::teeverify::testing::ExpectSameOutcome;
using ::teeverify::testing::ReadTestData;

// Verifies with both verifiers and checks that they give the same answer.
absl::StatusOr<VerifiedClaims> VerifyBoth(const NitroVerifier& warm, const NitroVerifier& cold,
                                          absl::string_view document, absl::Time at) {
  absl::StatusOr<VerifiedClaims> w = warm.Verify(document, at);
  absl::StatusOr<VerifiedClaims> c = cold.Verify(document, at);
  ExpectSameOutcome(w.status(), c.status());
  if (w.ok() && c.ok()) {
    EXPECT_EQ(ClaimsToJson(*w), ClaimsToJson(*c));
  }
  return w;
}

class NitroRealCachesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
    ASSERT_TRUE(roots.ok()) << roots.status();
    caches_ = std::make_shared<NitroCaches>(16);
    warm_ = std::make_unique<NitroVerifier>(*roots, caches_);
    cold_ = std::make_unique<NitroVerifier>(*roots);
  }
  std::shared_ptr<NitroCaches> caches_;
  std::unique_ptr<NitroVerifier> warm_, cold_;
};

TEST_F(NitroRealCachesTest, CachedChainIsNotUsedOutsideItsWindow) {
  for (const auto& d : kRealDocuments) {
    SCOPED_TRACE(d.name);
    const std::string doc = ReadTestData(absl::StrCat("nitro/docs/", d.file));
    ASSERT_TRUE(VerifyBoth(*warm_, *cold_, doc, At(d.at)).ok());
    // The chain's last valid second (the leaf's notAfter), from the cache.
    absl::StatusOr<VerifiedClaims> last = VerifyBoth(*warm_, *cold_, doc, At(d.valid_until));
    ASSERT_TRUE(last.ok()) << last.status();
    absl::StatusOr<VerifiedClaims> after =
        VerifyBoth(*warm_, *cold_, doc, At(d.one_hour_after_leaf));
    ASSERT_FALSE(after.ok());
    EXPECT_EQ(ReasonOf(after.status()), v1::REASON_EXPIRED);
    EXPECT_TRUE(absl::StrContains(after.status().message(), d.leaf_cn)) << after.status();
  }
  const size_t n = sizeof(kRealDocuments) / sizeof(kRealDocuments[0]);
  EXPECT_EQ(caches_->chains.size(), n);   // one per document: every leaf differs
  EXPECT_EQ(caches_->bundles.size(), n);  // so does every cabundle (other zonal, instance CAs)
}

TEST_F(NitroRealCachesTest, ChainCachedForOneDocumentIsNotAnother) {
  const auto& ga = kRealDocuments[0];
  ASSERT_TRUE(VerifyBoth(*warm_, *cold_, ReadTestData(absl::StrCat("nitro/docs/", ga.file)),
                         At(ga.at))
                  .ok());
  // Another document at the GA document's time: its own chain is checked, and is expired.
  const auto& beta = kRealDocuments[1];
  absl::StatusOr<VerifiedClaims> other = VerifyBoth(
      *warm_, *cold_, ReadTestData(absl::StrCat("nitro/docs/", beta.file)), At(ga.at));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(ReasonOf(other.status()), v1::REASON_EXPIRED);
  EXPECT_EQ(caches_->chains.size(), 1u);
}

TEST_F(NitroRealCachesTest, FlippedBytesAreRefusedWithACachedChain) {
  const auto& ga = kRealDocuments[0];
  const std::string doc = ReadTestData(absl::StrCat("nitro/docs/", ga.file));
  ASSERT_TRUE(warm_->Verify(doc, At(ga.at)).ok());
  // Every 7th byte: the payload (PCRs, nonce, ...) and the signature; never accepted.
  for (size_t i = 0; i < doc.size(); i += 7) {
    std::string bad = doc;
    bad[i] ^= 0x01;
    absl::StatusOr<VerifiedClaims> w = warm_->Verify(bad, At(ga.at));
    ASSERT_FALSE(w.ok()) << "byte " << i;
    SCOPED_TRACE(absl::StrCat("byte ", i));
    ExpectSameOutcome(w.status(), cold_->Verify(bad, At(ga.at)).status());
  }
}

constexpr char kLeafCn[] = "i-0123456789abcdef0-enc0123456789abcdef.us-east-1.test";

class NitroSyntheticCachesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NitroTestTee>> tee = NitroTestTee::Create();
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = tee_->Roots();
    ASSERT_TRUE(roots.ok()) << roots.status();
    caches_ = std::make_shared<NitroCaches>(16);
    warm_ = std::make_unique<NitroVerifier>(*roots, caches_);
    cold_ = std::make_unique<NitroVerifier>(*roots);
    now_ = At("2024-05-01T13:00:00Z");  // inside the test leaf's 12:00..15:00
  }

  std::string Make(const AttestationPayload& payload) {
    absl::StatusOr<std::string> doc = tee_->MakeDocument(payload);
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.value_or("");
  }

  // The payload with a new leaf (same key and name, serial 6) issued by the instance CA, or, with
  // `forge`, carrying the instance CA's name but signed by the zonal CA's key.
  AttestationPayload WithNewLeaf(bool forge) {
    AttestationPayload payload = tee_->Payload(tee_->DefaultSpec());
    absl::StatusOr<X509Ptr> instance = ParseCertificate(payload.cabundle.back(), "instance");
    absl::StatusOr<EvpPkeyPtr> leaf_key = testing::LoadPrivateKey(testing::kNitroLeafKeyPem);
    absl::StatusOr<EvpPkeyPtr> signer = testing::LoadPrivateKey(
        forge ? testing::kNitroZonalKeyPem : testing::kNitroInstanceKeyPem);
    EXPECT_TRUE(instance.ok() && leaf_key.ok() && signer.ok());
    testing::CertSpec spec;
    spec.common_name = kLeafCn;
    spec.serial = 6;
    spec.not_before = At("2024-05-01T12:00:00Z");
    spec.not_after = At("2024-05-01T15:00:00Z");
    spec.digest = EVP_sha384();
    absl::StatusOr<X509Ptr> leaf =
        testing::MakeCertificate(spec, leaf_key->get(), instance->get(), signer->get());
    EXPECT_TRUE(leaf.ok()) << leaf.status();
    payload.certificate = CertificateDer(leaf->get());
    return payload;
  }

  std::unique_ptr<NitroTestTee> tee_;
  std::shared_ptr<NitroCaches> caches_;
  std::unique_ptr<NitroVerifier> warm_, cold_;
  absl::Time now_;
};

TEST_F(NitroSyntheticCachesTest, NewLeafUnderAKnownCabundleReusesIt) {
  ASSERT_TRUE(VerifyBoth(*warm_, *cold_, Make(tee_->Payload(tee_->DefaultSpec())), now_).ok());
  ASSERT_TRUE(VerifyBoth(*warm_, *cold_, Make(WithNewLeaf(false)), now_).ok());
  EXPECT_EQ(caches_->chains.size(), 2u);
  EXPECT_EQ(caches_->bundles.size(), 1u);
}

TEST_F(NitroSyntheticCachesTest, ForgedLeafUnderAKnownCabundleIsRefused) {
  ASSERT_TRUE(warm_->Verify(Make(tee_->Payload(tee_->DefaultSpec())), now_).ok());
  absl::StatusOr<VerifiedClaims> forged = VerifyBoth(*warm_, *cold_, Make(WithNewLeaf(true)), now_);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(ReasonOf(forged.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_TRUE(absl::StartsWith(
      forged.status().message(),
      absl::StrCat("nitro document certificate chain: certificate '", kLeafCn,
                   "' (serial 06) signature does not verify under "
                   "'i-0123456789abcdef0.us-east-1.test.nitro-enclaves' (serial 04)")))
      << forged.status();
  EXPECT_EQ(caches_->chains.size(), 1u);
}

TEST_F(NitroSyntheticCachesTest, TimestampIsCheckedWithACachedChain) {
  ASSERT_TRUE(warm_->Verify(Make(tee_->Payload(tee_->DefaultSpec())), now_).ok());
  AttestationPayload late = tee_->Payload(tee_->DefaultSpec());
  late.timestamp_ms = 1714575601000;  // 2024-05-01T15:00:01Z, after the leaf's notAfter
  absl::StatusOr<VerifiedClaims> verified = VerifyBoth(*warm_, *cold_, Make(late), now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_EXPIRED);
  EXPECT_EQ(verified.status().message(),
            absl::StrCat("nitro document: timestamp 1714575601000 ms (2024-05-01T15:00:01Z) lies "
                         "outside the validity of its signing certificate '",
                         kLeafCn, "' (serial 05) (2024-05-01T12:00:00Z .. 2024-05-01T15:00:00Z)"));
}

TEST_F(NitroSyntheticCachesTest, CoseSignatureIsCheckedWithACachedChain) {
  const std::string doc = Make(tee_->Payload(tee_->DefaultSpec()));
  ASSERT_TRUE(warm_->Verify(doc, now_).ok());
  std::string bad = doc;
  bad.back() ^= 0x01;
  absl::StatusOr<VerifiedClaims> verified = VerifyBoth(*warm_, *cold_, bad, now_);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_BAD_SIGNATURE);
}

TEST_F(NitroSyntheticCachesTest, ChainFaultsAreRefusedWithACachedCabundle) {
  ASSERT_TRUE(warm_->Verify(Make(tee_->Payload(tee_->DefaultSpec())), now_).ok());
  // The instance CA as the leaf, the leaf left out of the cabundle order, the root left out.
  std::vector<AttestationPayload> faults(3, tee_->Payload(tee_->DefaultSpec()));
  faults[0].certificate = faults[0].cabundle.back();
  faults[1].cabundle.pop_back();
  faults[2].cabundle.erase(faults[2].cabundle.begin());
  for (const AttestationPayload& p : faults) {
    absl::StatusOr<VerifiedClaims> verified = VerifyBoth(*warm_, *cold_, Make(p), now_);
    ASSERT_FALSE(verified.ok());
    EXPECT_EQ(ReasonOf(verified.status()), v1::REASON_CERT_CHAIN_INVALID) << verified.status();
  }
}

TEST(NitroCacheKeyTest, TellsLeafAndBundleApart) {
  AttestationPayload a;
  a.certificate = "leaf";
  a.cabundle = {"root", "ca"};
  AttestationPayload b = a;
  b.certificate = "lea";
  b.cabundle = {"froot", "ca"};  // the same bytes in total, split differently
  EXPECT_NE(nitro::ChainCacheKey(a), nitro::ChainCacheKey(b));
  EXPECT_EQ(nitro::ChainCacheKey(a), nitro::ChainCacheKey(a));
  AttestationPayload c = a;
  c.certificate = "other leaf";
  EXPECT_EQ(nitro::BundleCacheKey(a), nitro::BundleCacheKey(c));
  EXPECT_NE(nitro::ChainCacheKey(a), nitro::ChainCacheKey(c));
}

}  // namespace
}  // namespace teeverify
