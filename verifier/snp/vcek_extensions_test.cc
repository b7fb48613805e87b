// VCEK/VLEK extensions of the real certificates (values from the MANIFEST, written out), the
// encodings each extension accepts, and the product mappings.
#include "verifier/snp/vcek_extensions.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/product.h"

namespace teeverify::snp {
namespace {

using ::teeverify::testing::ReadTestData;

VekExtensions Extensions(absl::string_view file) {
  absl::StatusOr<X509Ptr> cert =
      ParseCertificate(ReadTestData(absl::StrCat("sevsnp/certs/", file)), file);
  EXPECT_TRUE(cert.ok()) << cert.status();
  if (!cert.ok()) return {};
  absl::StatusOr<VekExtensions> ext = ParseVekExtensions(cert->get());
  EXPECT_TRUE(ext.ok()) << ext.status();
  return ext.ok() ? *ext : VekExtensions{};
}

TEST(SnpVekExtensionsTest, MilanVcek) {
  // MANIFEST: productName=Milan-B0 blSPL=2 teeSPL=0 snpSPL=5 ucodeSPL=68 hwID=3ac3fe21...
  const VekExtensions e = Extensions("go-sev-guest_vcek.der");
  EXPECT_EQ(e.struct_version, 0);
  EXPECT_EQ(e.product_name, "Milan-B0");
  EXPECT_EQ(e.bl_spl, 2);
  EXPECT_EQ(e.tee_spl, 0);
  EXPECT_EQ(e.snp_spl, 5);
  EXPECT_EQ(e.ucode_spl, 68);
  EXPECT_FALSE(e.fmc_spl.has_value());
  EXPECT_EQ(e.spl_4_to_7[0], 0);
  ASSERT_TRUE(e.hw_id.has_value());
  EXPECT_EQ(HexEncode(*e.hw_id),
            "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a19"
            "36776b564ea464cdce40c05f63c9b610c5068b006b5d");
  EXPECT_FALSE(e.csp_id.has_value());
}

TEST(SnpVekExtensionsTest, TurinVcekHasFmcAndEightByteHwId) {
  // MANIFEST: productName=Turin fmcSPL=0 blSPL=0 teeSPL=0 snpSPL=0 ucodeSPL=9 hwID=1e550a8ee5cf9f4d
  const VekExtensions e = Extensions("virtee-sev_vcek_turin.der");
  EXPECT_EQ(e.struct_version, 1);
  EXPECT_EQ(e.product_name, "Turin");
  EXPECT_EQ(e.fmc_spl, 0);
  EXPECT_EQ(e.bl_spl, 0);
  EXPECT_EQ(e.ucode_spl, 9);
  ASSERT_TRUE(e.hw_id.has_value());
  EXPECT_EQ(HexEncode(*e.hw_id), "1e550a8ee5cf9f4d");
  EXPECT_EQ(ProductFromVekName(e.product_name).value(), Product::kTurin);
}

TEST(SnpVekExtensionsTest, VlekHasCspIdAndNoHwId) {
  // MANIFEST: productName=Milan blSPL=4 teeSPL=0 snpSPL=24 ucodeSPL=217
  // csp_id=CN=cc-us-east-2.amazonaws.com
  const VekExtensions e = Extensions("trustee_test-vlek.der");
  EXPECT_EQ(e.product_name, "Milan");
  EXPECT_EQ(e.bl_spl, 4);
  EXPECT_EQ(e.snp_spl, 24);
  EXPECT_EQ(e.ucode_spl, 217);
  EXPECT_FALSE(e.hw_id.has_value());
  EXPECT_EQ(e.csp_id, "CN=cc-us-east-2.amazonaws.com");
}

TEST(SnpVekExtensionsTest, BothHwIdEncodingsOfTheTrusteeFixtures) {
  // test-vcek-invalid-legacy: raw 64 bytes 00 01 .. 3f; -new: the same DER-wrapped (04 40 ..).
  std::string expected;
  for (int i = 0; i < 64; ++i) expected.push_back(static_cast<char>(i));
  EXPECT_EQ(Extensions("trustee_test-vcek-invalid-legacy.der").hw_id, expected);
  EXPECT_EQ(Extensions("trustee_test-vcek-invalid-new.der").hw_id, expected);
  EXPECT_EQ(Extensions("trustee_test-vcek-invalid-legacy.der").ucode_spl, 169);
}

TEST(SnpVekExtensionsTest, SplEncodings) {
  EXPECT_EQ(ParseSplValue(std::string("\x02\x01\x05", 3), "x").value(), 5);
  EXPECT_EQ(ParseSplValue(std::string("\x02\x02\x00\xdb", 4), "x").value(), 219);
  const std::pair<std::string, const char*> kBad[] = {
      {std::string("\x02\x01\x80", 3), "020180"},            // -128
      {std::string("\x02\x02\x01\x00", 4), "02020100"},      // 256
      {std::string("\x02\x02\x00\x05", 4), "02020005"},      // not minimal
      {std::string("\x02\x01\x05\x00", 4), "02010500"},      // trailing byte
      {std::string("\x04\x01\x05", 3), "040105"},            // OCTET STRING
      {std::string("\x05", 1), "05"},                        // raw byte
      {"", ""},
  };
  for (const auto& [der, hex] : kBad) {
    absl::StatusOr<uint8_t> v = ParseSplValue(der, "blSPL");
    ASSERT_FALSE(v.ok()) << hex;
    EXPECT_EQ(ReasonOf(v.status()), v1::REASON_CERT_CHAIN_INVALID);
    EXPECT_EQ(v.status().message(), absl::StrCat("sev-snp certificate extension blSPL: is not a "
                                                 "DER INTEGER in 0..255 (",
                                                 hex, ")"));
  }
}

TEST(SnpVekExtensionsTest, HwIdSizes) {
  EXPECT_EQ(ParseHwIdValue(std::string(8, 'a')).value(), std::string(8, 'a'));
  EXPECT_EQ(ParseHwIdValue(absl::StrCat("\x04\x08", std::string(8, 'b'))).value(),
            std::string(8, 'b'));
  for (size_t size : {0, 7, 9, 63, 65, 67}) {
    absl::StatusOr<std::string> v = ParseHwIdValue(std::string(size, 'c'));
    ASSERT_FALSE(v.ok()) << size;
    EXPECT_TRUE(absl::StrContains(v.status().message(), absl::StrCat("has ", size, " bytes")));
  }
  // 66 bytes that are not a DER OCTET STRING of 64.
  EXPECT_FALSE(ParseHwIdValue(absl::StrCat("\x04\x41", std::string(64, 'd'))).ok());
}

TEST(SnpVekExtensionsTest, RequiredAndDuplicatedExtensions) {
  const std::string arc(kAmdExtensionArc);
  std::vector<std::pair<std::string, std::string>> values = {
      {arc + ".2", std::string("\x16\x05Genoa", 7)},
      {arc + ".3.1", std::string("\x02\x01\x0a", 3)},
      {arc + ".3.2", std::string("\x02\x01\x00", 3)},
      {arc + ".3.3", std::string("\x02\x01\x19", 3)},
      {"2.5.29.19", "ignored: not under the AMD arc"},
      {arc + ".99", "ignored: unknown under the arc"},
  };
  absl::StatusOr<VekExtensions> e = ParseVekExtensionValues(values);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "sev-snp certificate extension ucodeSPL: (1.3.6.1.4.1.3704.1.3.8) is missing");
  values.push_back({arc + ".3.8", std::string("\x02\x01\x54", 3)});
  e = ParseVekExtensionValues(values);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->ucode_spl, 84);
  values.push_back({arc + ".3.2", std::string("\x02\x01\x00", 3)});
  e = ParseVekExtensionValues(values);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "sev-snp certificate extension 1.3.6.1.4.1.3704.1.3.2: appears more than once");
  values.pop_back();
  values[0].second = std::string("\x0c\x05Genoa", 7);  // UTF8String, not IA5String
  EXPECT_FALSE(ParseVekExtensionValues(values).ok());
}

TEST(SnpProductTest, FromCpuidAndName) {
  EXPECT_EQ(ProductFromCpuid(0x19, 0x01), Product::kMilan);
  EXPECT_EQ(ProductFromCpuid(0x19, 0x11), Product::kGenoa);
  EXPECT_EQ(ProductFromCpuid(0x19, 0xa0), Product::kGenoa);  // Siena: Genoa's keys
  EXPECT_EQ(ProductFromCpuid(0x1a, 0x02), Product::kTurin);
  EXPECT_EQ(ProductFromCpuid(0x19, 0x21), std::nullopt);
  EXPECT_EQ(ProductFromCpuid(0x17, 0x01), std::nullopt);
  EXPECT_EQ(ProductFromVekName("Milan-B0").value(), Product::kMilan);
  EXPECT_EQ(ProductFromVekName("Genoa").value(), Product::kGenoa);
  absl::StatusOr<Product> bad = ProductFromVekName("Rome");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "sev-snp certificate: productName \"Rome\" is not Milan, Genoa or Turin");
}

}  // namespace
}  // namespace teeverify::snp
