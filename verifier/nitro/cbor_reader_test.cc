#include "verifier/nitro/cbor_reader.h"

#include <cbor.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/nitro/cbor_writer.h"

namespace teeverify::nitro {
namespace {

std::string Cbor(absl::string_view hex) {
  absl::StatusOr<std::string> bytes = HexDecode(hex, "test cbor");
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

absl::StatusOr<CborItem> Parse(absl::string_view hex, const CborLimits& limits = {}) {
  return ParseCbor(Cbor(hex), "test", limits);
}

// Examples from RFC 8949 Appendix A, and the forms a Nitro document uses.
TEST(CborReaderTest, ParsesRfc8949Examples) {
  auto item = Parse("1bffffffffffffffff");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kUnsigned);
  EXPECT_EQ(item->value, UINT64_MAX);

  item = Parse("3bffffffffffffffff");  // -18446744073709551616
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kNegative);
  EXPECT_EQ(item->value, UINT64_MAX);

  item = Parse("6449455446");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kText);
  EXPECT_EQ(item->bytes, "IETF");

  item = Parse("5f42010243030405ff");  // (_ h'0102', h'030405')
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kBytes);
  EXPECT_TRUE(item->indefinite);
  EXPECT_EQ(HexEncode(item->bytes), "0102030405");

  item = Parse("7f657374726561646d696e67ff");  // (_ "strea", "ming")
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->bytes, "streaming");

  item = Parse("bf61610161629f0203ffff");  // {_ "a": 1, "b": [_ 2, 3]}
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kMap);
  EXPECT_TRUE(item->indefinite);
  ASSERT_EQ(item->map_size(), 2u);
  EXPECT_EQ(item->map_key(1).bytes, "b");
  EXPECT_EQ(item->map_value(1).type, CborType::kArray);
  EXPECT_TRUE(item->map_value(1).indefinite);
  EXPECT_EQ(item->map_value(1).items.size(), 2u);

  item = Parse("a201020304");  // {1: 2, 3: 4}
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_FALSE(item->indefinite);
  EXPECT_EQ(item->map_value(1).value, 4u);

  item = Parse("83f4f5f6");  // [false, true, null]
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->items[0].type, CborType::kFalse);
  EXPECT_EQ(item->items[1].type, CborType::kTrue);
  EXPECT_EQ(item->items[2].type, CborType::kNull);

  item = Parse("d82076687474703a2f2f7777772e6578616d706c652e636f6d");  // 32("http://...")
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kTag);
  EXPECT_EQ(item->value, 32u);
  EXPECT_EQ(item->items[0].bytes, "http://www.example.com");
}

// libcbor 0.8 refuses the one-byte heads of tags 6..20 as "unassigned"; tag 18 is COSE_Sign1.
TEST(CborReaderTest, LibcborRefusesOneByteTag18SoTheReaderDecodesIt) {
  const std::string tagged = Cbor("d2820102");  // 18([1, 2])
  const cbor_decoder_result raw = cbor_stream_decode(
      reinterpret_cast<const unsigned char*>(tagged.data()), tagged.size(), &cbor_empty_callbacks,
      nullptr);
  EXPECT_EQ(raw.status, CBOR_DECODER_ERROR);

  auto item = ParseCbor(tagged, "test");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->type, CborType::kTag);
  EXPECT_EQ(item->value, 18u);
  EXPECT_EQ(item->items[0].items.size(), 2u);
  for (const char* hex : {"c600", "cf00", "d400"}) EXPECT_TRUE(Parse(hex).ok()) << hex;
}

// What libcbor itself does with a hostile declared length: it reports missing data instead of
// reading or allocating, so the reader can turn that into an error.
TEST(CborReaderTest, LibcborReportsHugeDeclaredLengthsAsMissingData) {
  const std::string huge = Cbor("5b7fffffffffffffff00112233");
  const cbor_decoder_result r = cbor_stream_decode(
      reinterpret_cast<const unsigned char*>(huge.data()), huge.size(), &cbor_empty_callbacks,
      nullptr);
  EXPECT_EQ(r.status, CBOR_DECODER_NEDATA);
  EXPECT_EQ(r.read, 0u);
}

struct Rejection {
  const char* name;
  const char* hex;
  const char* message;  // the complete error
};

const Rejection kRejections[] = {
    {"trailing_bytes", "0000", "test: 1 trailing bytes after the CBOR item that ends at offset 1"},
    {"truncated_array", "830102",
     "test: truncated: the input ends after 3 bytes inside 1 unfinished item(s)"},
    {"truncated_bytes", "44010203",
     "test: truncated: the item at offset 0 (initial byte 0x44) needs more than the 4 bytes that "
     "remain"},
    {"huge_byte_string", "825b7fffffffffffffff00",
     "test: truncated: the item at offset 1 (initial byte 0x5b) needs more than the 10 bytes that "
     "remain"},
    {"huge_text_string", "7bffffffffffffffff61",
     "test: truncated: the item at offset 0 (initial byte 0x7b) needs more than the 10 bytes that "
     "remain"},
    {"huge_array", "9bffffffffffffffff00",
     "test: array declares 18446744073709551615 elements but only 10 bytes remain at offset 0"},
    {"huge_map", "81bb7fffffffffffffff0000",
     "test: map declares 9223372036854775807 entries but only 11 bytes remain at offset 1"},
    {"array_longer_than_input", "991388",
     "test: array declares 5000 elements but only 3 bytes remain at offset 0"},
    {"duplicate_text_key", "a2616101616102", "test: map has the key \"a\" twice at offset 0"},
    {"duplicate_key_other_encoding", "81a26161017f6161ff02",
     "test: map has the key \"a\" twice at offset 1"},
    {"duplicate_int_key_non_minimal", "a20100180100", "test: map has the key 1 twice at offset 0"},
    {"duplicate_key_indefinite_map", "bf2001200aff", "test: map has the key -1 twice at offset 0"},
    {"break_outside", "ff", "test: break (0xff) outside an indefinite-length item at offset 0"},
    {"break_in_definite_array", "8201ff",
     "test: break (0xff) outside an indefinite-length item at offset 2"},
    {"map_key_without_value", "bf01ff",
     "test: indefinite-length map ends after a key without a value at offset 2"},
    {"chunk_of_other_type", "5f6161ff",
     "test: indefinite-length byte string contains a chunk of type text string at offset 1"},
    {"nested_indefinite_string", "5f5fffff",
     "test: indefinite-length byte string holds an item of kind indefinite-length byte string "
     "where only definite-length chunks of its type are allowed at offset 1"},
    {"integer_in_indefinite_string", "7f01ff",
     "test: indefinite-length text string holds an item of kind unsigned integer where only "
     "definite-length chunks of its type are allowed at offset 1"},
    {"invalid_utf8", "62c328", "test: text string is not valid UTF-8 at offset 0"},
    {"overlong_utf8", "62c0af", "test: text string is not valid UTF-8 at offset 0"},
    {"surrogate_utf8", "63eda080", "test: text string is not valid UTF-8 at offset 0"},
    {"half_float", "f93c00",
     "test: a half-precision float is not accepted (a Nitro document contains none) at offset 0"},
    {"double_float", "fb3ff199999999999a",
     "test: a double-precision float is not accepted (a Nitro document contains none) at offset 0"},
    {"undefined", "f7", "test: undefined is not accepted (a Nitro document contains none) at offset 0"},
    {"reserved_additional_info", "1c",
     "test: initial byte 0x1c at offset 0 is not well-formed CBOR (reserved or unassigned)"},
    {"one_byte_simple_value", "f820",
     "test: initial byte 0xf8 at offset 0 is not well-formed CBOR (reserved or unassigned)"},
    {"nesting_9_deep", "81818181818181818100", "test: items nested deeper than 8 levels at offset 8"},
    {"tags_9_deep", "c6c6c6c6c6c6c6c6c600", "test: items nested deeper than 8 levels at offset 8"},
};

class CborRejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(CborRejectionTest, GivesAClearError) {
  auto item = Parse(GetParam().hex);
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(ReasonOf(item.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_EQ(item.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(Strict, CborRejectionTest, ::testing::ValuesIn(kRejections),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CborReaderTest, EmptyInputIsNamed) {
  auto item = ParseCbor("", "nitro document");
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(item.status().message(), "nitro document: empty");
}

TEST(CborReaderTest, DeepNestingAndManyItemsAreBoundedWithoutCrashing) {
  auto deep = ParseCbor(std::string(100000, '\x9f'), "test");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "test: items nested deeper than 8 levels at offset 8");

  std::string many = "\x9f" + std::string(5000, '\0') + "\xff";
  auto items = ParseCbor(many, "test");
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.status().message(), "test: more than 4096 items at offset 4096");

  auto declared = ParseCbor("\x99\x13\x88" + std::string(5000, '\0'), "test");
  ASSERT_FALSE(declared.ok());
  EXPECT_EQ(declared.status().message(),
            "test: array declares 5000 elements, more than the limit of 4096 items at offset 0");

  auto chunks = ParseCbor("\x5f" + std::string(5000, '\x40') + "\xff", "test");
  ASSERT_FALSE(chunks.ok());
  EXPECT_EQ(chunks.status().message(), "test: more than 4096 items at offset 4096");
}

TEST(CborReaderTest, LimitsAreParameters) {
  EXPECT_TRUE(Parse("818100", CborLimits{2, 10}).ok());
  auto deep = Parse("81818100", CborLimits{2, 10});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "test: items nested deeper than 2 levels at offset 2");
  auto many = Parse("83010203", CborLimits{2, 3});
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().message(),
            "test: array declares 3 elements, more than the limit of 3 items at offset 0");
}

TEST(CborReaderTest, SameValueIgnoresTheEncoding) {
  auto definite = Parse("a161614142");
  auto indefinite = Parse("bf7f6161ff5f4142ffff");
  ASSERT_TRUE(definite.ok() && indefinite.ok());
  EXPECT_TRUE(SameCborValue(*definite, *indefinite));
  auto other = Parse("a161614143");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(SameCborValue(*definite, *other));
}

TEST(CborWriterTest, WritesWhatTheReaderReadsBack) {
  for (const char* hex : {"bf61610161629f0203ffff", "d2820102", "a301020304a005",
                          "3bffffffffffffffff", "5f4101ff", "83f4f5f6", "7f6161ff"}) {
    auto item = Parse(hex);
    ASSERT_TRUE(item.ok()) << hex << ": " << item.status();
    CborWriter w;
    w.Item(*item);
    EXPECT_EQ(HexEncode(w.bytes()), hex);
  }
  CborWriter w;
  w.Int(-35);
  w.Int(24);
  w.Int(INT64_MIN);
  EXPECT_EQ(HexEncode(w.bytes()), "38221818" "3b7fffffffffffffff");
}

}  // namespace
}  // namespace teeverify::nitro
