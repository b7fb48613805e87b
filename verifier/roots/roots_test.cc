#include <set>

#include "gtest/gtest.h"
#include "verifier/common/hex.h"
#include "verifier/crypto/chain.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/roots/builtin_roots.h"
#include "verifier/roots/known_intermediates.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify {
namespace {

TEST(BuiltInRootsTest, EveryRootLoadsAndMatchesItsPin) {
  absl::StatusOr<std::shared_ptr<const TrustRoots>> roots = TrustRoots::BuiltIn();
  ASSERT_TRUE(roots.ok()) << roots.status();
  EXPECT_TRUE((*roots)->built_in());
  for (RootId id : kAllRootIds) {
    absl::StatusOr<X509*> root = (*roots)->Get(id);
    ASSERT_TRUE(root.ok()) << RootDisplayName(id);
  }
  // The pins, written out from ../shared/vectors/MANIFEST.md.
  EXPECT_EQ(HexEncode(CertificateFingerprint(*(*roots)->Get(RootId::kIntelSgxRootCa))),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
  EXPECT_EQ(HexEncode(CertificateFingerprint(*(*roots)->Get(RootId::kAmdArkMilan))),
            "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd");
  EXPECT_EQ(HexEncode(CertificateFingerprint(*(*roots)->Get(RootId::kAmdArkGenoa))),
            "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1");
  EXPECT_EQ(HexEncode(CertificateFingerprint(*(*roots)->Get(RootId::kAmdArkTurin))),
            "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a");
  EXPECT_EQ(HexEncode(CertificateFingerprint(*(*roots)->Get(RootId::kAwsNitroEnclavesRootG1))),
            "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
}

TEST(BuiltInRootsTest, TestRootsReplaceOnlyWhatTheyName) {
  auto builtin = *TrustRoots::BuiltIn();
  auto test = TrustRoots::FromPem(
      {{RootId::kIntelSgxRootCa, testing::CertificatePem(*builtin->Get(RootId::kIntelSgxRootCa))}});
  ASSERT_TRUE(test.ok());
  EXPECT_FALSE((*test)->built_in());
  EXPECT_TRUE((*test)->Get(RootId::kIntelSgxRootCa).ok());
  absl::StatusOr<X509*> missing = (*test)->Get(RootId::kAmdArkMilan);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "no trusted root configured for AMD ARK-Milan");
}

TEST(KnownIntermediatesTest, AllMatchTheirPinsAndChainToTheIntelRoot) {
  // SHA-256 of each DER, from ../shared/vectors/MANIFEST.md and the SGX quotes under other/.
  const std::set<std::string> kPins = {
      "22eb770dca215b607b5ccfc21a672b1da5cc660b1ad0365020567979edcaa0e1",  // PCK Platform CA
      "13b2dccef8fc4ec977ee5249743b0f758ebd1e28d768b2e1e12bc348adaa09fb",  // PCK Processor CA
      "ec37d98107bfb7dab6ff8de4d4dda6fde30a6f50b0d7b03eefb5652f1e652969",  // TCB Signing 2018
      "c0575e76d0303b61d09cde8cbdb70db34a74f38318300d7c0e6ba8cf4bf45aea",  // TCB Signing 2025
  };
  auto roots = *TrustRoots::BuiltIn();
  X509* intel = *roots->Get(RootId::kIntelSgxRootCa);
  const std::vector<X509*> known = KnownIntermediates();
  ASSERT_EQ(known.size(), kPins.size());
  for (X509* cert : known) {
    EXPECT_EQ(kPins.count(HexEncode(CertificateFingerprint(cert))), 1u) << DescribeCertificate(cert);
    const ValidityWindow w = *CertificateValidity(cert);
    const absl::Time inside = w.not_before + (w.not_after - w.not_before) / 2;
    EXPECT_TRUE(VerifyChainToRoot(cert, {}, intel, inside, "known").ok()) << DescribeCertificate(cert);
    EXPECT_EQ(FindKnownIntermediate(CertificateDer(cert)), cert);
  }
  EXPECT_EQ(FindKnownIntermediate("not a certificate"), nullptr);
}

// The signature of a compiled-in intermediate is verified once per process and issuer
// (chain.cc): what was remembered under the real root must not count for a look-alike root with
// the same name and key identifier but another key.
TEST(KnownIntermediatesTest, RememberedSignatureHoldsOnlyForItsIssuersKey) {
  auto roots = *TrustRoots::BuiltIn();
  X509* intel = *roots->Get(RootId::kIntelSgxRootCa);
  X509Ptr look_alike(X509_dup(intel));
  EVP_PKEY* other_key = EVP_EC_gen("P-256");
  ASSERT_NE(other_key, nullptr);
  EvpPkeyPtr owned_key(other_key);
  ASSERT_EQ(X509_set_pubkey(look_alike.get(), other_key), 1);
  ASSERT_GT(X509_sign(look_alike.get(), other_key, EVP_sha256()), 0);
  for (X509* cert : KnownIntermediates()) {
    const ValidityWindow w = *CertificateValidity(cert);
    const absl::Time inside = w.not_before + (w.not_after - w.not_before) / 2;
    for (int round = 0; round < 2; ++round) {  // the second round meets the remembered link
      EXPECT_TRUE(VerifyChainToRoot(cert, {}, intel, inside, "known").ok());
      absl::Status fake = VerifyChainToRoot(cert, {}, look_alike.get(), inside, "known").status();
      EXPECT_FALSE(fake.ok()) << DescribeCertificate(cert);
      EXPECT_NE(fake.message().find("signature does not verify"), absl::string_view::npos) << fake;
    }
  }
}

}  // namespace
}  // namespace teeverify
