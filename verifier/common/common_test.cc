#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/json_util.h"
#include "verifier/common/time_util.h"

namespace teeverify {
namespace {

TEST(ByteReaderTest, ReadsLittleEndianAndNamesShortFields) {
  ByteReader r(absl::string_view("\x01\x02\x03\x04\x05\x06\x07", 7), "thing");
  EXPECT_EQ(*r.U16("a"), 0x0201);
  EXPECT_EQ(*r.U32("b"), 0x06050403u);
  EXPECT_EQ(r.offset(), 6u);
  absl::StatusOr<uint16_t> c = r.U16("field_c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "thing: field_c needs 2 bytes at offset 6, 1 remain");
  EXPECT_EQ(ReasonOf(c.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_FALSE(r.Bytes(2, "tail").ok());
  EXPECT_EQ(*r.Bytes(1, "tail"), "\x07");
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, WriterIsTheInverse) {
  ByteWriter w;
  w.U16(0xbeef);
  w.U32(0xdeadbeef);
  w.U64(0x0102030405060708ull);
  const std::string bytes = w.Take();
  ByteReader r(bytes, "x");
  EXPECT_EQ(*r.U16("a"), 0xbeef);
  EXPECT_EQ(*r.U32("b"), 0xdeadbeefu);
  EXPECT_EQ(*r.U64("c"), 0x0102030405060708ull);
}

TEST(HexTest, RoundTripsAndRejectsBadInput) {
  EXPECT_EQ(HexEncode(absl::string_view("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(*HexDecode("00ABff", "v"), absl::string_view("\x00\xab\xff", 3));
  EXPECT_FALSE(HexDecode("abc", "v").ok());
  absl::StatusOr<std::string> bad = HexDecode("zz", "field.x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "field.x: not hex at position 0");
  EXPECT_FALSE((HexDecodeArray<2>("aabbcc", "v").ok()));
  EXPECT_EQ((*HexDecodeArray<2>("aabb", "v"))[1], 0xbb);
}

TEST(TimeTest, ParsesAndFormatsRfc3339) {
  absl::StatusOr<absl::Time> t = ParseRfc3339("2025-07-19T10:00:34Z", "at");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(absl::ToUnixSeconds(*t), 1752919234);
  EXPECT_EQ(FormatRfc3339(*t), "2025-07-19T10:00:34Z");
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2025-07-19T12:00:34+02:00", "at")),
            "2025-07-19T10:00:34Z");
  EXPECT_FALSE(ParseRfc3339("yesterday", "at").ok());
}

using RawMembers = std::vector<std::pair<absl::string_view, absl::string_view>>;

TEST(RawJsonMembersTest, ReturnsExactBytesOfTheValues) {
  const std::string doc =
      R"({"tcbInfo":{"a":"x\"}y","b":[1,{"c":2}]} , "signature" : "abcd"})";
  absl::StatusOr<RawMembers> members = RawTopLevelMembers(doc, "doc");
  ASSERT_TRUE(members.ok()) << members.status();
  EXPECT_EQ(*members, (RawMembers{{"tcbInfo", R"({"a":"x\"}y","b":[1,{"c":2}]})"},
                                  {"signature", R"("abcd")"}}));
}

TEST(RawJsonMembersTest, HandlesScalarsAndNesting) {
  const std::string doc = R"({"n": 12 ,"t":true,"o":{"tcbInfo":1},"tcbInfo":null})";
  absl::StatusOr<RawMembers> members = RawTopLevelMembers(doc, "doc");
  ASSERT_TRUE(members.ok()) << members.status();
  // The nested "tcbInfo" is part of "o", not a member of its own.
  EXPECT_EQ(*members, (RawMembers{{"n", "12"}, {"t", "true"}, {"o", R"({"tcbInfo":1})"},
                                  {"tcbInfo", "null"}}));
}

TEST(RawJsonMembersTest, RefusesDuplicateAndInvalid) {
  absl::StatusOr<RawMembers> dup = RawTopLevelMembers(R"({"b":1,"b":2})", "f.json");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "f.json: top-level member \"b\" appears more than once");
  EXPECT_FALSE(RawTopLevelMembers(R"({"b":1)", "f.json").ok());
  EXPECT_FALSE(RawTopLevelMembers(R"({"b":1} x)", "f.json").ok());
  EXPECT_FALSE(RawTopLevelMembers("[1,2]", "f.json").ok());
  EXPECT_FALSE(RawTopLevelMembers("", "f.json").ok());
}

TEST(JsonFieldsTest, ErrorsCarryThePath) {
  Json doc = Json::parse(R"({"a":{"n":-1,"s":5,"big":70000}})");
  JsonFields a(doc["a"], "f.json: a", v1::REASON_COLLATERAL_INVALID);
  EXPECT_EQ(a.Uint("n", 10).status().message(), "f.json: a.n: expected a non-negative integer");
  EXPECT_EQ(a.String("s").status().message(), "f.json: a.s: expected a string");
  EXPECT_EQ(a.Uint("big", 0xffff).status().message(), "f.json: a.big: value 70000 exceeds 65535");
  EXPECT_EQ(a.Object("missing").status().message(), "f.json: a.missing: missing");
  EXPECT_EQ(ReasonOf(a.String("s").status()), v1::REASON_COLLATERAL_INVALID);
}

// Nesting is bounded before nlohmann builds anything: 64 KiB of '[' cost ten times a normal
// document of that size (tests/bench/parser_bench.cc).
TEST(ParseJsonTest, RefusesNestingDeeperThanTheLimitNamingMemberAndLimit) {
  EXPECT_TRUE(ParseJson(R"({"a":[[1]],"b":"[[[[{{"})", "f.json", v1::REASON_BAD_REQUEST, 3).ok());
  absl::StatusOr<Json> deep =
      ParseJson(R"({"a":[1],"b":[[[1]]]})", "f.json", v1::REASON_BAD_REQUEST, 3);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(),
            "f.json: b: nesting deeper than the 3 levels of arrays and objects accepted (at byte "
            "15)");
  EXPECT_EQ(ReasonOf(deep.status()), v1::REASON_BAD_REQUEST);
  // Without a member (a top-level array), and with the default limit.
  const std::string brackets(64 * 1024, '[');
  absl::StatusOr<Json> top = ParseJson(brackets, "g.json", v1::REASON_COLLATERAL_INVALID);
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(),
            absl::StrCat("g.json: nesting deeper than the ", kMaxJsonDepth,
                         " levels of arrays and objects accepted (at byte ", kMaxJsonDepth, ")"));
  EXPECT_EQ(ReasonOf(top.status()), v1::REASON_COLLATERAL_INVALID);
  // Brackets in strings, escaped quotes included, are not nesting.
  EXPECT_TRUE(CheckJsonDepth(R"({"k\"[[":"\"[[[[["})", "h", v1::REASON_BAD_REQUEST, 1).ok());
}

TEST(ErrorsTest, ReasonTravelsWithContext) {
  absl::Status s = MakeError(v1::REASON_REVOKED, "pck revoked");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  absl::Status wrapped = WithContext(s, "tdx");
  EXPECT_EQ(wrapped.message(), "tdx: pck revoked");
  EXPECT_EQ(ReasonOf(wrapped), v1::REASON_REVOKED);
  EXPECT_EQ(ReasonName(v1::REASON_BAD_SIGNATURE), "BAD_SIGNATURE");
  EXPECT_EQ(ReasonOf(absl::OkStatus()), v1::REASON_UNSPECIFIED);
}

}  // namespace
}  // namespace teeverify
