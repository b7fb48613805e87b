// The NSM request and response messages against byte strings written out from the serde shapes
// of aws-nitro-enclaves-nsm-api (src/api/mod.rs), and the error code of each malformed request.
#include "verifier/testing/testgen/nsm_protocol.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "verifier/common/hex.h"

namespace teeverify::testgen {
namespace {

std::string Bytes(absl::string_view hex) { return *HexDecode(hex, "test bytes"); }

// {"Attestation": {"user_data": null, "nonce": h'0102', "public_key": null}}
const char kNonceRequest[] =
    "a1"                                    // map(1)
    "6b4174746573746174696f6e"              // "Attestation"
    "a3"                                    // map(3)
    "69757365725f64617461" "f6"             // "user_data": null
    "656e6f6e6365" "420102"                 // "nonce": h'0102'
    "6a7075626c69635f6b6579" "f6";          // "public_key": null

TEST(NsmProtocolTest, ParsesAnAttestationRequest) {
  absl::StatusOr<NsmAttestationRequest> r = ParseNsmRequest(Bytes(kNonceRequest));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nonce, std::string("\x01\x02", 2));
  EXPECT_FALSE(r->user_data.has_value());
  EXPECT_FALSE(r->public_key.has_value());
}

TEST(NsmProtocolTest, EncodesRequestsAsSerdeDoes) {
  NsmAttestationRequest r;
  r.nonce = std::string("\x01\x02", 2);
  EXPECT_EQ(HexEncode(EncodeNsmRequest(r)), kNonceRequest);
}

TEST(NsmProtocolTest, MissingFieldsAreNullAndAllThreeAreKept) {
  // {"Attestation": {}}
  absl::StatusOr<NsmAttestationRequest> empty =
      ParseNsmRequest(Bytes("a16b4174746573746174696f6ea0"));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_FALSE(empty->nonce || empty->user_data || empty->public_key);
  // {"Attestation": {"public_key": h'aa', "user_data": h'', "nonce": h'bb'}}
  absl::StatusOr<NsmAttestationRequest> all = ParseNsmRequest(
      Bytes("a16b4174746573746174696f6ea3" "6a7075626c69635f6b657941aa" "69757365725f6461746140"
            "656e6f6e636541bb"));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->public_key, "\xaa");
  EXPECT_EQ(all->user_data, "");
  EXPECT_EQ(all->nonce, "\xbb");
}

TEST(NsmProtocolTest, EncodesResponses) {
  // {"Attestation": {"document": h'aabbcc'}}
  EXPECT_EQ(HexEncode(EncodeNsmAttestationResponse(Bytes("aabbcc"))),
            "a16b4174746573746174696f6ea168646f63756d656e7443aabbcc");
  // {"Error": "InvalidArgument"}
  EXPECT_EQ(HexEncode(EncodeNsmErrorResponse("InvalidArgument")),
            "a1654572726f726f496e76616c6964417267756d656e74");
}

TEST(NsmProtocolTest, ParsesResponses) {
  absl::StatusOr<NsmResponse> doc =
      ParseNsmResponse(Bytes("a16b4174746573746174696f6ea168646f63756d656e7443aabbcc"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->document, Bytes("aabbcc"));
  absl::StatusOr<NsmResponse> error =
      ParseNsmResponse(Bytes("a1654572726f726f496e76616c6964417267756d656e74"));
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_FALSE(error->document.has_value());
  EXPECT_EQ(error->error, "InvalidArgument");
  EXPECT_FALSE(ParseNsmResponse(Bytes("a16b4174746573746174696f6ea0")).ok());  // no document
}

struct BadRequest {
  const char* name;
  std::string cbor;
  const char* code;
  const char* message;
};

class NsmBadRequestTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(NsmBadRequestTest, IsAnsweredWithItsErrorCode) {
  const BadRequest& c = GetParam();
  absl::StatusOr<NsmAttestationRequest> r = ParseNsmRequest(c.cbor);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(NsmErrorCode(r.status()), c.code);
  EXPECT_TRUE(absl::StrContains(r.status().message(), c.message)) << r.status();
}

const std::string kAttestationPrefix = "a16b4174746573746174696f6e";  // {"Attestation": ...

INSTANTIATE_TEST_SUITE_P(
    Requests, NsmBadRequestTest,
    ::testing::Values(
        BadRequest{"empty", "", "InvalidArgument", "nsm request"},
        BadRequest{"not_cbor", Bytes("ff"), "InvalidArgument", "nsm request"},
        BadRequest{"truncated", Bytes(kNonceRequest).substr(0, 20), "InvalidArgument", "nsm request"},
        BadRequest{"trailing_byte", Bytes(absl::StrCat(kNonceRequest, "00")), "InvalidArgument",
                   "nsm request"},
        BadRequest{"array", Bytes("80"), "InvalidArgument", "expected a map with one text key"},
        BadRequest{"two_requests", Bytes("a2" "6b4174746573746174696f6ea0" "63466f6fa0"),
                   "InvalidArgument", "expected a map with one text key"},
        BadRequest{"unknown_request", Bytes("a163466f6fa0"), "InvalidArgument",
                   "unknown request \"Foo\""},
        BadRequest{"fields_not_a_map", Bytes(kAttestationPrefix + "f6"), "InvalidArgument",
                   "Attestation is not a map"},
        BadRequest{"nonce_as_text", Bytes(kAttestationPrefix + "a1656e6f6e63656161"),
                   "InvalidArgument", "nonce is a text string"},
        BadRequest{"unknown_field", Bytes(kAttestationPrefix + "a1646e6f6e6340"),
                   "InvalidArgument", "unknown field \"nonc\""},
        BadRequest{"empty_public_key", Bytes(kAttestationPrefix + "a16a7075626c69635f6b657940"),
                   "InvalidArgument", "public_key is empty"},
        BadRequest{"nonce_too_large",
                   Bytes(absl::StrCat(kAttestationPrefix, "a1656e6f6e6365590201",
                                      std::string(2 * 513, 'a'))),
                   "InputTooLarge", "nonce has 513 bytes, at most 512 allowed"},
        BadRequest{"describe_nsm", Bytes("6b44657363726962654e534d"), "InvalidOperation",
                   "DescribeNSM is not served"},
        BadRequest{"describe_pcr", Bytes("a16b446573637269626550435" "2a165696e64657800"),
                   "InvalidOperation", "DescribePCR is not served"}),
    [](const ::testing::TestParamInfo<BadRequest>& info) { return info.param.name; });

}  // namespace
}  // namespace teeverify::testgen
