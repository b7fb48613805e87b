// The SGX extension of PCK certificates: a real one parses; SEQUENCEs with more elements than the
// extension can have are refused by their count, before OpenSSL decodes every element.
#include "verifier/tdx/pck_extensions.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"

namespace teeverify::tdx {
namespace {

using ::teeverify::testing::ReadTestData;

// DER: tag, length (short or two-byte long form), content.
std::string Tlv(char tag, const std::string& content) {
  const size_t n = content.size();
  const std::string length = n < 0x80 ? std::string(1, static_cast<char>(n))
                                      : absl::StrCat("\x82", std::string(1, static_cast<char>(n >> 8)),
                                                     std::string(1, static_cast<char>(n & 0xff)));
  return absl::StrCat(std::string(1, tag), length, content);
}

const std::string kSgxOid("\x2a\x86\x48\x86\xf8\x4d\x01\x0d\x01", 9);  // 1.2.840.113741.1.13.1

std::string Nulls(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += std::string("\x05\x00", 2);
  return out;
}

TEST(PckExtensionsTest, RealExtensionParses) {
  absl::StatusOr<Quote> q = ParseQuote(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"));
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<PckExtensions> ext = InspectPckChain(q->certification.pck_chain_pem);
  ASSERT_TRUE(ext.ok()) << ext.status();
  EXPECT_EQ(HexEncode(ext->fmspc), "b0c06f000000");
}

TEST(PckExtensionsTest, SequencesLongerThanTheExtensionAreRefusedByCount) {
  const absl::StatusOr<PckExtensions> top = ParsePckExtensionValue(Tlv(0x30, Nulls(3000)));
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(ReasonOf(top.status()), v1::REASON_CERT_CHAIN_INVALID);
  EXPECT_EQ(top.status().message(),
            "pck certificate sgx extension: extension value has more than 7 elements");

  const std::string tcb_entry =
      Tlv(0x30, Tlv(0x06, kSgxOid + "\x02") + Tlv(0x30, Nulls(3000)));
  const absl::StatusOr<PckExtensions> tcb = ParsePckExtensionValue(Tlv(0x30, tcb_entry));
  ASSERT_FALSE(tcb.ok());
  EXPECT_EQ(tcb.status().message(), "pck certificate sgx extension: TCB has more than 18 elements");

  const std::string long_entry =
      Tlv(0x30, Tlv(0x06, kSgxOid + "\x01") + Tlv(0x04, std::string(16, 'p')) + Nulls(1));
  const absl::StatusOr<PckExtensions> entry = ParsePckExtensionValue(Tlv(0x30, long_entry));
  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().message(),
            "pck certificate sgx extension: entry has more than 2 elements");
}

TEST(PckExtensionsTest, IndefiniteLengthIsNotDer) {
  const std::string indefinite = std::string("\x30\x80", 2) + Nulls(2) + std::string(2, '\0');
  const absl::StatusOr<PckExtensions> ext = ParsePckExtensionValue(indefinite);
  ASSERT_FALSE(ext.ok());
  EXPECT_EQ(ext.status().message(),
            "pck certificate sgx extension: extension value is not a well-formed DER SEQUENCE");
}

}  // namespace
}  // namespace teeverify::tdx
