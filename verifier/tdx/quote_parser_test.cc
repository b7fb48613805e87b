#include "verifier/tdx/quote_parser.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"

namespace teeverify::tdx {
namespace {

using ::teeverify::testing::ReadTestData;

// Expected values are the MANIFEST's (../shared/vectors/MANIFEST.md), written out by hand.
struct GoldenQuote {
  const char* file;
  uint16_t version;
  bool tdx15;
  const char* mrtd;
  const char* rtmr0;
  const char* rtmr2;
  const char* report_data_prefix;
  const char* td_attributes;
  size_t trailing;
};

const GoldenQuote kGolden[] = {
    {"dcap-qvl_tdx_quote.bin", 4, false,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
     "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
     "9a9d48e7f6799642", "0000001000000000", 70},
    {"dcap-qvl_tdx_quote_outdated_v5.bin", 5, true,
     "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "d2142b643598eb5f", "0000001000000000", 0},
    {"go-tdx-guest_quote_v5_sample.bin", 5, true,
     "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876",
     "5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619",
     "6369b9c9a3b791ebcbdc5a0bb9536cfb57f50df2b393b33c8b29616d3568baa61f4b59dc6092e31ea8764bcbdfc69f20",
     "945eaacf5abc1f71", "0000001000000000", 0},
    {"go-tdx-guest_cos-113-tdx-quote.bin", 4, false,
     "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a",
     "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6",
     "4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1",
     "0000000000000000", "0000001000000000", 3065},
    {"oasis_quote_v4_tdx_ecdsa_p256.bin", 4, false,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     "1a85265426a60c11b093382a7a2a0a5a18e242c0167891fd12bfa7badfa4c700bdc16fc0637b52f94dd76b063adb1072",
     "a61c9c6cb0ba45b154032befbb7778275f8bd9c35e8689fd88c711d44d2d379cb2aa83415cb9c2ee169fd456ddeed0b2",
     "cf83e1357eefb8bd", "0000001000000000", 0},
    {"oasis_quote_v4_tdx_ecdsa_p256_out_of_date.bin", 4, false,
     "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
     "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a",
     "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e",
     "6c62dec1b8191749", "0000004000000000", 0},
    {"oasis_quote_v4_tdx_ecdsa_p256_trailing.bin", 4, false,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     "2c7be151aad665e306bd23416b4d7d79c16133f12ad033ab2bd811e5ad0b8412f5c0ad9fd49e84749f53aa72c12ba119",
     "4b670cdd7ab7f8b49b2dbcc2c7fc5c3c7490937e133d93a05e4e88e90951fb4fa1556fd5171471426330cab51104a7f6",
     "89eef8aa67fe0f76", "0000001000000000", 70},
    {"trustee_tdx_quote_4_debug.bin", 4, false,
     "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
     "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "7c71fe2c86eff65a", "0100001000000000", 0},
    {"trustee_azure_td-quote.bin", 4, false,
     "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "9734504f161d104c", "0000000000000000", 70},
    {"dcap-qvl_tdx-quote.bin", 4, false,
     "7ba9e262ce6979087e34632603f354dd8f8a870f5947d116af8114db6c9d0d74c48bec4280e5b4f4a37025a10905bb29",
     "4574c098915caf3e82057817dbd135c1ed0ee1b39ac300c921479e2f5ebf5726a13ee0c8745ac891b6aee7c4f9664610",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "7148f47ef58b475f", "0000001000000000", 70},
    {"dcap-qvl_quote-from-tappd.bin", 4, false,
     "c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd",
     "274c2344116db7c663470693b5ba62b8621eac28cb41d2f816ddf188f9f423f900a1c44d32386fd3c993dc814e62af9d",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "7668c6b4eafb6230", "0000001000000000", 70},
};

class GoldenQuoteTest : public ::testing::TestWithParam<GoldenQuote> {};

TEST_P(GoldenQuoteTest, ParsesWithTheManifestValues) {
  const GoldenQuote& g = GetParam();
  const std::string bytes = ReadTestData(std::string("tdx/quotes/") + g.file);
  absl::StatusOr<Quote> q = ParseQuote(bytes);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->header.version, g.version);
  EXPECT_EQ(q->header.qe_vendor_id, kIntelQeVendorId);
  EXPECT_EQ(q->body.is_tdx15, g.tdx15);
  EXPECT_EQ(q->body_type, g.tdx15 ? kBodyTypeTdReport15 : kBodyTypeTdReport10);
  EXPECT_EQ(HexEncode(q->body.mr_td), g.mrtd);
  EXPECT_EQ(HexEncode(q->body.rtmr[0]), g.rtmr0);
  EXPECT_EQ(HexEncode(q->body.rtmr[2]), g.rtmr2);
  EXPECT_TRUE(absl::StartsWith(HexEncode(q->body.report_data), g.report_data_prefix));
  EXPECT_EQ(HexEncode(q->body.td_attributes), g.td_attributes);
  EXPECT_EQ(q->trailing_bytes, g.trailing);
  EXPECT_EQ(q->certification.pck_cert_data_type, kCertDataPckChain);
  EXPECT_TRUE(absl::StartsWith(q->certification.pck_chain_pem, "-----BEGIN CERTIFICATE-----"));
  // Signed region: header [+ v5 body descriptor] + body.
  EXPECT_EQ(q->signed_bytes.size(),
            kQuoteHeaderSize + (g.version == 5 ? kBodyDescriptorSize : 0) +
                (g.tdx15 ? kTdReport15Size : kTdReport10Size));
  EXPECT_EQ(q->signed_bytes, bytes.substr(0, q->signed_bytes.size()));
  EXPECT_EQ(q->certification.qe_report_bytes.size(), kSgxReportBodySize);

  // Serialize is the inverse of Parse, minus the zero padding.
  const std::string again = SerializeQuote(*q);
  EXPECT_EQ(again, bytes.substr(0, bytes.size() - g.trailing));
  EXPECT_TRUE(LooksLikeTdxQuote(bytes));
}

INSTANTIATE_TEST_SUITE_P(RealVectors, GoldenQuoteTest, ::testing::ValuesIn(kGolden),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return absl::StrCat(info.index, "_", name);
                         });

TEST(QuoteParserTest, TdxModuleFieldsOfTdx15Body) {
  absl::StatusOr<Quote> q = ParseQuote(ReadTestData("tdx/quotes/go-tdx-guest_quote_v5_sample.bin"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(HexEncode(q->body.tee_tcb_svn), "0b010400000000000000000000000000");
  EXPECT_EQ(HexEncode(q->body.tee_tcb_svn2), "0d010400000000000000000000000000");
  EXPECT_EQ(HexEncode(q->body.mr_service_td), std::string(96, '0'));
  EXPECT_EQ(HexEncode(q->certification.qe_report.mr_signer),
            "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  EXPECT_EQ(q->certification.qe_report.isv_svn, 7);
  EXPECT_EQ(q->certification.qe_report.isv_prod_id, 2);
}

TEST(QuoteParserTest, NonZeroTrailingBytesAreRejected) {
  // go-tdx-guest appended "\nextra bytes(only for testing purpose)\n" to a real quote.
  const std::string bytes = ReadTestData("tdx/quotes/go-tdx-guest_tdx_prod_quote_SPR_E4.bin");
  absl::StatusOr<Quote> q = ParseQuote(bytes);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(ReasonOf(q.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_EQ(q.status().message(),
            "tdx quote: 39 bytes follow the signature data and they are not zero padding (first "
            "non-zero byte at offset 4935)");
  // Without them it is oasis-core's quote_v4_tdx_ecdsa_p256_out_of_date.bin, byte for byte.
  EXPECT_EQ(bytes.substr(0, 4935),
            ReadTestData("tdx/quotes/oasis_quote_v4_tdx_ecdsa_p256_out_of_date.bin"));
  std::string problem;
  absl::StatusOr<Quote> inspected = ParseQuoteIgnoringTrailingBytes(bytes, &problem);
  ASSERT_TRUE(inspected.ok());
  EXPECT_EQ(problem, q.status().message());
}

TEST(QuoteParserTest, ZeroPaddingIsAcceptedButAnyNonZeroPaddingByteIsNot) {
  std::string bytes = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  ASSERT_TRUE(ParseQuote(bytes).ok());
  bytes.back() = '\x01';
  absl::StatusOr<Quote> q = ParseQuote(bytes);
  ASSERT_FALSE(q.ok());
  EXPECT_TRUE(absl::StrContains(q.status().message(), "not zero padding"));
}

// The bound is checked before anything is read: a quote grown past it (here with zero padding,
// which is otherwise accepted) is refused by its size.
TEST(QuoteParserTest, QuoteOverTheSizeBoundIsRefused) {
  const std::string bytes = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  EXPECT_TRUE(ParseQuote(bytes + std::string(kMaxQuoteSize - bytes.size(), '\0')).ok());
  const std::string over = bytes + std::string(kMaxQuoteSize + 1 - bytes.size(), '\0');
  absl::StatusOr<Quote> q = ParseQuote(over);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(ReasonOf(q.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_EQ(q.status().message(), "tdx quote: 16385 bytes, more than the 16384 a TD's quote buffer holds");
}

TEST(QuoteParserTest, EveryTruncationIsAnError) {
  const std::string bytes = ReadTestData("tdx/quotes/trustee_tdx_quote_4_debug.bin");
  ASSERT_TRUE(ParseQuote(bytes).ok());
  for (size_t len = 0; len < bytes.size(); ++len) {
    absl::StatusOr<Quote> q = ParseQuote(absl::string_view(bytes).substr(0, len));
    ASSERT_FALSE(q.ok()) << "truncated to " << len << " bytes";
    EXPECT_EQ(ReasonOf(q.status()), v1::REASON_MALFORMED_EVIDENCE) << len;
  }
}

// Offsets in a v4 quote (dcap-qvl tdx_quote): sizes are little-endian.
constexpr size_t kSigDataLenOffset = 632;
constexpr size_t kCertDataTypeOffset = 636 + 128;
constexpr size_t kCertDataSizeOffset = kCertDataTypeOffset + 2;
constexpr size_t kQeAuthSizeOffset = kCertDataSizeOffset + 4 + 384 + 64;

void Put32(std::string* b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void Put16(std::string* b, size_t off, uint16_t v) {
  (*b)[off] = static_cast<char>(v & 0xff);
  (*b)[off + 1] = static_cast<char>(v >> 8);
}

struct LengthCase {
  const char* name;
  size_t offset;
  int width;
  uint32_t value;
  const char* message_part;
};

class OutOfBoundsLengthTest : public ::testing::TestWithParam<LengthCase> {};

TEST_P(OutOfBoundsLengthTest, IsRejectedNamingTheField) {
  const LengthCase& c = GetParam();
  std::string bytes = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  if (c.width == 4) {
    Put32(&bytes, c.offset, c.value);
  } else {
    Put16(&bytes, c.offset, static_cast<uint16_t>(c.value));
  }
  absl::StatusOr<Quote> q = ParseQuote(bytes);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(ReasonOf(q.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_TRUE(absl::StrContains(q.status().message(), c.message_part)) << q.status();
}

INSTANTIATE_TEST_SUITE_P(
    Lengths, OutOfBoundsLengthTest,
    ::testing::Values(
        LengthCase{"sig_data_huge", kSigDataLenOffset, 4, 0xffffffffu,
                   "signature_data needs 4294967295 bytes at offset 636"},
        LengthCase{"cert_data_huge", kCertDataSizeOffset, 4, 0x7fffffffu,
                   "certification_data needs 2147483647 bytes"},
        LengthCase{"cert_data_short", kCertDataSizeOffset, 4, 100, "qe_report needs 384 bytes"},
        LengthCase{"qe_auth_huge", kQeAuthSizeOffset, 2, 0xffff, "qe_auth_data needs 65535 bytes"},
        LengthCase{"sig_data_long", kSigDataLenOffset, 4, 4301,
                   "unexpected bytes after certification_data"}),
    [](const auto& info) { return std::string(info.param.name); });

struct FormatCase {
  const char* name;
  size_t offset;
  int width;
  uint32_t value;
  Reason reason;
  const char* message_part;
};

class UnsupportedFormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(UnsupportedFormatTest, IsRejected) {
  const FormatCase& c = GetParam();
  std::string bytes = ReadTestData("tdx/quotes/go-tdx-guest_quote_v5_sample.bin");
  if (c.width == 4) {
    Put32(&bytes, c.offset, c.value);
  } else if (c.width == 2) {
    Put16(&bytes, c.offset, static_cast<uint16_t>(c.value));
  } else {
    bytes[c.offset] = static_cast<char>(c.value);
  }
  absl::StatusOr<Quote> q = ParseQuote(bytes);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(ReasonOf(q.status()), c.reason) << q.status();
  EXPECT_TRUE(absl::StrContains(q.status().message(), c.message_part)) << q.status();
}

// v5 layout: header 48, body descriptor 6 (type, size), TD 1.5 body 648, sig data length 4.
constexpr size_t kV5CertTypeOffset = 48 + 6 + 648 + 4 + 128;
constexpr size_t kV5InnerTypeOffset = kV5CertTypeOffset + 6 + 384 + 64 + 2 + 32;

INSTANTIATE_TEST_SUITE_P(
    Formats, UnsupportedFormatTest,
    ::testing::Values(
        FormatCase{"version3", 0, 2, 3, v1::REASON_UNSUPPORTED_FORMAT,
                   "header.version 3 is not supported"},
        FormatCase{"version6", 0, 2, 6, v1::REASON_UNSUPPORTED_FORMAT,
                   "header.version 6 is not supported"},
        FormatCase{"key_type3", 2, 2, 3, v1::REASON_UNSUPPORTED_FORMAT,
                   "attestation_key_type 3 is not supported"},
        FormatCase{"sgx_tee", 4, 4, 0, v1::REASON_UNSUPPORTED_FORMAT, "this is an SGX quote"},
        FormatCase{"qe_vendor", 12, 1, 0x94, v1::REASON_UNSUPPORTED_FORMAT,
                   "is not Intel's quoting enclave"},
        FormatCase{"body_type_sgx", 48, 2, 1, v1::REASON_UNSUPPORTED_FORMAT,
                   "body_descriptor.type 1 is not a TD report"},
        FormatCase{"body_type_9", 48, 2, 9, v1::REASON_UNSUPPORTED_FORMAT,
                   "body_descriptor.type 9"},
        FormatCase{"body_type_10_with_15_size", 48, 2, 2, v1::REASON_MALFORMED_EVIDENCE,
                   "body_descriptor.size 648 for body type 2, expected 584"},
        FormatCase{"body_size", 50, 4, 600, v1::REASON_MALFORMED_EVIDENCE,
                   "body_descriptor.size 600"},
        FormatCase{"cert_type5", kV5CertTypeOffset, 2, 5, v1::REASON_UNSUPPORTED_FORMAT,
                   "certification_data.type 5 is not supported"},
        FormatCase{"inner_type4", kV5InnerTypeOffset, 2, 4, v1::REASON_UNSUPPORTED_FORMAT,
                   "pck_cert_data.type 4 is not supported"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(QuoteParserTest, DetectionLooksAtVersionAndTeeType) {
  EXPECT_FALSE(LooksLikeTdxQuote(""));
  EXPECT_FALSE(LooksLikeTdxQuote(absl::string_view("\x04\x00\x02\x00\x00\x00\x00\x00", 8)));
  EXPECT_TRUE(LooksLikeTdxQuote(absl::string_view("\x05\x00\x02\x00\x81\x00\x00\x00", 8)));
  // An SEV-SNP report v5 with guest SVN 0x81: version 5, then zero bytes where a quote's key type is.
  EXPECT_FALSE(LooksLikeTdxQuote(absl::string_view("\x05\x00\x00\x00\x81\x00\x00\x00", 8)));
}

}  // namespace
}  // namespace teeverify::tdx
