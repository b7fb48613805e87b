#include "verifier/nitro/document_parser.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/nitro/cbor_writer.h"
#include "verifier/nitro/document_input.h"
#include "verifier/nitro/real_documents_testdata.h"
#include "verifier/testing/nitro_test_tee.h"

namespace teeverify::nitro {
namespace {

using ::teeverify::testing::NitroTestTee;
using ::teeverify::testing::ReadTestData;
using testdata::kListedPcrs;
using testdata::kRealDocuments;
using testdata::RealDocument;

std::string Doc(const RealDocument& d) { return ReadTestData(absl::StrCat("nitro/docs/", d.file)); }

void ExpectOptionalHex(const std::optional<std::string>& got, const char* want,
                       absl::string_view field) {
  if (want == nullptr) {
    EXPECT_FALSE(got.has_value()) << field;
  } else {
    ASSERT_TRUE(got.has_value()) << field;
    EXPECT_EQ(HexEncode(*got), want) << field;
  }
}

class RealDocumentParseTest : public ::testing::TestWithParam<RealDocument> {};

TEST_P(RealDocumentParseTest, ParsesToTheManifestFacts) {
  const RealDocument& d = GetParam();
  absl::StatusOr<AttestationDocument> doc = ParseDocument(Doc(d));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_FALSE(doc->tagged);  // MANIFEST: COSE_Sign1 (untagged), protected={1: -35}
  EXPECT_EQ(HexEncode(doc->protected_header), "a1013822");
  EXPECT_EQ(doc->alg, -35);
  EXPECT_EQ(doc->signature.size(), 96u);
  const AttestationPayload& p = doc->payload;
  EXPECT_FALSE(p.indefinite_map);  // MANIFEST: definite-length map
  EXPECT_EQ(p.module_id, d.module_id);
  EXPECT_EQ(p.digest, "SHA384");
  EXPECT_EQ(p.timestamp_ms, d.timestamp_ms);
  ASSERT_EQ(p.pcrs.size(), 16u);
  for (const auto& [index, value] : p.pcrs) EXPECT_EQ(value.size(), 48u) << index;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(HexEncode(p.pcrs.at(kListedPcrs[i])), d.pcrs[i]);
  EXPECT_EQ(p.cabundle.size(), 4u);  // MANIFEST: 4 chain links per document
  ExpectOptionalHex(p.public_key, d.public_key, "public_key");
  ExpectOptionalHex(p.user_data, d.user_data, "user_data");
  ExpectOptionalHex(p.nonce, d.nonce, "nonce");
}

// AWS's encoder and ours agree byte for byte: the serializers rebuild the signed bytes.
TEST_P(RealDocumentParseTest, SerializesBackToTheSignedBytes) {
  const std::string bytes = Doc(GetParam());
  absl::StatusOr<AttestationDocument> doc = ParseDocument(bytes);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(SerializePayload(doc->payload), doc->payload_bytes);
  EXPECT_EQ(SerializeDocument(*doc), bytes);
  absl::StatusOr<AttestationDocument> again = ParseDocument(SerializeDocument(*doc));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *doc);
}

TEST_P(RealDocumentParseTest, EveryTruncationIsAClearError) {
  const std::string bytes = Doc(GetParam());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<AttestationDocument> doc = ParseDocument(bytes.substr(0, n));
    ASSERT_FALSE(doc.ok()) << n;
    ASSERT_EQ(ReasonOf(doc.status()), v1::REASON_MALFORMED_EVIDENCE) << n << doc.status();
    ASSERT_TRUE(absl::StartsWith(doc.status().message(), "nitro document")) << doc.status();
  }
}

INSTANTIATE_TEST_SUITE_P(Manifest, RealDocumentParseTest, ::testing::ValuesIn(kRealDocuments),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DocumentInputTest, Base64TextIsTheSameDocument) {
  const std::string text = ReadTestData("nitro/docs/ga_debug.base64");
  EXPECT_TRUE(LooksLikeBase64(text));
  absl::StatusOr<std::string> decoded = DocumentBytes(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, ReadTestData("nitro/docs/ga_debug.bin"));
  // Line-wrapped as many tools print it.
  std::string wrapped;
  for (size_t i = 0; i < text.size(); i += 76) absl::StrAppend(&wrapped, text.substr(i, 76), "\r\n");
  decoded = DocumentBytes(wrapped);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, ReadTestData("nitro/docs/ga_debug.bin"));
  // Raw documents pass through unchanged.
  EXPECT_FALSE(LooksLikeBase64(ReadTestData("nitro/docs/ga_debug.bin")));
}

TEST(DocumentInputTest, Base64IsDecodedStrictly) {
  EXPECT_EQ(*DecodeBase64Strict("QUJD REVG\n", "t"), "ABCDEF");
  EXPECT_EQ(*DecodeBase64Strict("QQ==", "t"), "A");
  EXPECT_EQ(*DecodeBase64Strict("QUI=", "t"), "AB");
  const std::pair<const char*, const char*> kBad[] = {
      {"QQ", "t: base64 text of 2 characters is not a non-empty multiple of 4 (padding is required)"},
      {"QR==", "t: base64 has non-zero padding bits"},
      {"QUJ=", "t: base64 has non-zero padding bits"},
      {"Q=Q=", "t: character '=' at base64 position 1 is not in the base64 alphabet"},
      {"Q===", "t: character '=' at base64 position 1 is not in the base64 alphabet"},
      {"QU-D", "t: character '-' at base64 position 2 is not in the base64 alphabet"},
      {" \n", "t: base64 text of 0 characters is not a non-empty multiple of 4 (padding is required)"},
  };
  for (const auto& [text, message] : kBad) {
    absl::StatusOr<std::string> out = DecodeBase64Strict(text, "t");
    ASSERT_FALSE(out.ok()) << text;
    EXPECT_EQ(out.status().message(), message);
  }
  // Text that is not base64 at all is handed to the CBOR parser as it is, and refused there.
  EXPECT_EQ(*DocumentBytes("hello, world!"), "hello, world!");
  EXPECT_FALSE(LooksLikeBase64(" \n\t"));
}

// The decoder, which reads the text once, against the definition read the simple way (whitespace
// removed, then the count, the alphabet before the padding, the padding bits), on every text of
// up to 6 characters over an alphabet that reaches each rule: the same bytes or the same error;
// and DocumentBytes takes exactly the texts LooksLikeBase64 accepts as base64.
absl::StatusOr<std::string> DefinedDecode(absl::string_view text) {
  static constexpr absl::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact.push_back(c);
  }
  if (compact.empty() || compact.size() % 4 != 0) {
    return Malformed(absl::StrCat("t: base64 text of ", compact.size(),
                                  " characters is not a non-empty multiple of 4 (padding is "
                                  "required)"));
  }
  size_t padding = 0;
  while (padding < 2 && compact[compact.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i + padding < compact.size(); ++i) {
    if (kAlphabet.find(compact[i]) == absl::string_view::npos) {
      return Malformed(absl::StrCat("t: character '", std::string(1, compact[i]),
                                    "' at base64 position ", i, " is not in the base64 alphabet"));
    }
  }
  const size_t last = kAlphabet.find(compact[compact.size() - 1 - padding]);
  if ((padding == 1 && (last & 0x3)) || (padding == 2 && (last & 0xf))) {
    return Malformed("t: base64 has non-zero padding bits");
  }
  std::string out;
  EXPECT_TRUE(absl::Base64Unescape(compact, &out)) << compact;
  return out;
}

TEST(DocumentInputTest, OnePassDecoderMatchesTheDefinition) {
  const std::string kChars = "AQR= -";  // R leaves padding bits set; '-' is not base64
  size_t texts = 0;
  for (size_t length = 0; length <= 6; ++length) {
    std::vector<size_t> digits(length, 0);
    for (bool more = true; more; ++texts) {
      std::string text;
      for (size_t d : digits) text.push_back(kChars[d]);
      const absl::StatusOr<std::string> want = DefinedDecode(text);
      const absl::StatusOr<std::string> got = DecodeBase64Strict(text, "t");
      ASSERT_EQ(got.ok(), want.ok()) << "\"" << text << "\": " << got.status();
      if (want.ok()) {
        ASSERT_EQ(*got, *want) << "\"" << text << "\"";
      } else {
        ASSERT_EQ(got.status().message(), want.status().message()) << "\"" << text << "\"";
      }
      if (!text.empty()) {
        const absl::StatusOr<std::string> doc = DocumentBytes(text);
        const absl::StatusOr<std::string> expected =
            LooksLikeBase64(text) ? DecodeBase64Strict(text, "nitro document") : text;
        ASSERT_EQ(doc.ok(), expected.ok()) << "\"" << text << "\"";
        if (doc.ok()) {
          ASSERT_EQ(*doc, *expected) << "\"" << text << "\"";
        }
      }
      more = false;
      for (size_t i = 0; i < length && !more; ++i) {
        more = ++digits[i] < kChars.size();
        if (!more) digits[i] = 0;
      }
    }
  }
  EXPECT_EQ(texts, 1u + 6 + 36 + 216 + 1296 + 7776 + 46656);
}

// Base64 text is bounded before it is decoded: decoding costs several times parsing the decoded
// bytes (tests/bench/parser_bench.cc), and text longer than the base64 of the largest document,
// line breaks included, could only decode to a document the parser refuses.
TEST(DocumentInputTest, Base64OverTheBoundIsRefusedBeforeDecoding) {
  // The largest document, base64 wrapped with CRLF every 64 characters, is decoded.
  std::string bytes(kMaxDocumentSize, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  const std::string text = absl::Base64Escape(bytes);
  ASSERT_EQ(text.size(), kMaxBase64DocumentChars);
  std::string wrapped;
  for (size_t i = 0; i < text.size(); i += 64) absl::StrAppend(&wrapped, text.substr(i, 64), "\r\n");
  ASSERT_LE(wrapped.size(), kMaxBase64DocumentSize);
  absl::StatusOr<std::string> decoded = DocumentBytes(wrapped);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, bytes);
  // One character more is refused by its length; it is not decoded (or the misplaced '=' would
  // be named).
  const std::string over = absl::StrCat("=", std::string(kMaxBase64DocumentSize, 'A'));
  absl::StatusOr<std::string> refused = DocumentBytes(over);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ReasonOf(refused.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_EQ(refused.status().message(),
            absl::StrCat("nitro document: base64 text of ", kMaxBase64DocumentSize + 1,
                         " bytes, more than the ", kMaxBase64DocumentSize,
                         " accepted (the base64 of a ", kMaxDocumentSize,
                         "-byte document with line breaks)"));
}

// Documents the parser must refuse, built and signed by the test platform (the signature is good,
// so the refusal is the parser's).
struct Negative {
  const char* name;
  std::string (*make)(const NitroTestTee& tee);
  Reason reason;
  const char* message;
};

std::string Signed(const NitroTestTee& tee, absl::string_view payload,
                   const testing::CoseEncoding& encoding = {}) {
  absl::StatusOr<std::string> doc = tee.SignPayloadBytes(payload, encoding);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *doc : std::string();
}

AttestationPayload DefaultPayload(const NitroTestTee& tee) { return tee.Payload(tee.DefaultSpec()); }

std::string WithPayload(const NitroTestTee& tee, void (*edit)(AttestationPayload*)) {
  AttestationPayload p = DefaultPayload(tee);
  edit(&p);
  return Signed(tee, SerializePayload(p));
}

std::string WithHeader(const NitroTestTee& tee, absl::string_view protected_header) {
  testing::CoseEncoding e;
  e.protected_header = std::string(protected_header);
  return Signed(tee, SerializePayload(DefaultPayload(tee)), e);
}

// The default payload with the value of `field` replaced by `value_cbor`.
std::string Replacing(const NitroTestTee& t, absl::string_view field, absl::string_view value_cbor) {
  absl::StatusOr<CborItem> map = ParseCbor(SerializePayload(DefaultPayload(t)), "payload");
  absl::StatusOr<CborItem> value = ParseCbor(value_cbor, "value");
  EXPECT_TRUE(map.ok() && value.ok());
  for (size_t i = 0; i < map->map_size(); ++i) {
    if (map->map_key(i).bytes == field) map->items[2 * i + 1] = *value;
  }
  CborWriter w;
  w.Item(*map);
  return Signed(t, w.Take());
}

std::string Entry(absl::string_view key, absl::string_view value_cbor) {
  CborWriter w;
  w.Text(key);
  w.Raw(value_cbor);
  return w.Take();
}

const Negative kNegatives[] = {
    {"duplicate_nonce_key",
     [](const NitroTestTee& t) {
       AttestationPayload p = DefaultPayload(t);
       p.nonce = "first";
       return Signed(t, NitroTestTee::PayloadWithExtraEntries(p, Entry("nonce", "\x46second"), 1));
     },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: map has the key \"nonce\" twice at offset 0"},
    {"duplicate_key_in_indefinite_map",
     [](const NitroTestTee& t) {
       AttestationPayload p = DefaultPayload(t);
       p.indefinite_map = true;
       return Signed(t, NitroTestTee::PayloadWithExtraEntries(p, Entry("module_id", "\x61x"), 1));
     },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: map has the key \"module_id\" twice at offset 0"},
    {"unknown_field",
     [](const NitroTestTee& t) {
       return Signed(t, NitroTestTee::PayloadWithExtraEntries(DefaultPayload(t),
                                                              Entry("extra", "\x01"), 1));
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: unknown field \"extra\""},
    {"alg_es256", [](const NitroTestTee& t) { return WithHeader(t, "\xa1\x01\x26"); },
     v1::REASON_UNSUPPORTED_FORMAT,
     "nitro document protected header: alg -7 is not supported (only ES384, -35)"},
    {"alg_as_text", [](const NitroTestTee& t) { return WithHeader(t, "\xa1\x01\x65""ES384"); },
     v1::REASON_UNSUPPORTED_FORMAT,
     "nitro document protected header: alg is a text string, expected the integer -35 (ES384)"},
    {"extra_protected_parameter",
     [](const NitroTestTee& t) { return WithHeader(t, "\xa2\x01\x38\x22\x04\x41\x01"); },
     v1::REASON_UNSUPPORTED_FORMAT,
     "nitro document protected header: parameter 4 is not supported (only alg, label 1)"},
    {"empty_protected_header", [](const NitroTestTee& t) { return WithHeader(t, ""); },
     v1::REASON_UNSUPPORTED_FORMAT,
     "nitro document protected header: empty; alg ES384 (-35) must be protected"},
    {"unprotected_parameter",
     [](const NitroTestTee& t) {
       testing::CoseEncoding e;
       e.unprotected_header = std::string("\xa1\x04\x41\x01", 4);
       return Signed(t, SerializePayload(DefaultPayload(t)), e);
     },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document: the unprotected header has 1 parameter(s); Nitro documents have none and "
     "unsigned parameters are not accepted"},
    {"trailing_byte",
     [](const NitroTestTee& t) {
       testing::CoseEncoding e;
       e.trailing = std::string(1, '\0');
       return Signed(t, SerializePayload(DefaultPayload(t)), e);
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document: 1 trailing bytes after the CBOR item"},
    {"huge_length", [](const NitroTestTee&) { return NitroTestTee::HugeLengthDocument(); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document: truncated: the item at offset 7 (initial byte 0x5b) needs more than the 25 "
     "bytes that remain"},
    {"other_tag",
     [](const NitroTestTee& t) {
       testing::CoseEncoding e;
       e.tagged = true;
       std::string doc = Signed(t, SerializePayload(DefaultPayload(t)), e);
       doc[0] = '\xd1';  // tag 17, COSE_Mac0
       return doc;
     },
     v1::REASON_UNSUPPORTED_FORMAT, "nitro document: tag 17 is not COSE_Sign1 (18)"},
    {"payload_not_a_map", [](const NitroTestTee& t) { return Signed(t, "\x80"); },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: the payload must be a map, got an array"},
    {"payload_trailing_bytes",
     [](const NitroTestTee& t) { return Signed(t, SerializePayload(DefaultPayload(t)) + "\xf6"); },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: 1 trailing bytes after the CBOR item"},
    {"only_module_id",
     [](const NitroTestTee& t) {
       CborWriter w;
       w.MapStart(1);
       w.Text("module_id");
       w.Text("i-0");
       return Signed(t, w.Take());
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: required field \"digest\" is missing"},
    {"digest_sha256",
     [](const NitroTestTee& t) { return WithPayload(t, [](AttestationPayload* p) { p->digest = "SHA256"; }); },
     v1::REASON_UNSUPPORTED_FORMAT,
     "nitro document payload: digest \"SHA256\" is not supported (only SHA384)"},
    {"empty_module_id",
     [](const NitroTestTee& t) { return WithPayload(t, [](AttestationPayload* p) { p->module_id = ""; }); },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: module_id is 0 bytes, allowed 1..256"},
    {"zero_timestamp",
     [](const NitroTestTee& t) { return WithPayload(t, [](AttestationPayload* p) { p->timestamp_ms = 0; }); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: timestamp 0 ms is not a time (allowed 1..253402300799999)"},
    {"pcr_index_32",
     [](const NitroTestTee& t) {
       return WithPayload(t, [](AttestationPayload* p) { p->pcrs[32] = std::string(48, '\0'); });
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: pcrs index 32 is out of range 0..31"},
    {"pcr_47_bytes",
     [](const NitroTestTee& t) {
       return WithPayload(t, [](AttestationPayload* p) { p->pcrs[5] = std::string(47, '\0'); });
     },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: pcrs[5] is 47 bytes, expected 32, 48 or 64"},
    {"no_pcrs",
     [](const NitroTestTee& t) { return WithPayload(t, [](AttestationPayload* p) { p->pcrs.clear(); }); },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: pcrs has 0 entries, allowed 1..32"},
    {"empty_cabundle",
     [](const NitroTestTee& t) { return WithPayload(t, [](AttestationPayload* p) { p->cabundle.clear(); }); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: cabundle has 0 certificates, allowed 1..16"},
    {"certificate_1025_bytes",
     [](const NitroTestTee& t) {
       return WithPayload(t, [](AttestationPayload* p) { p->certificate = std::string(1025, '\x30'); });
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: certificate is 1025 bytes, allowed 1..1024"},
    {"user_data_513_bytes",
     [](const NitroTestTee& t) {
       return WithPayload(t, [](AttestationPayload* p) { p->user_data = std::string(513, 'u'); });
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: user_data is 513 bytes, allowed 0..512"},
    {"nonce_513_bytes",
     [](const NitroTestTee& t) {
       return WithPayload(t, [](AttestationPayload* p) { p->nonce = std::string(513, 'n'); });
     },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: nonce is 513 bytes, allowed 0..512"},
    {"public_key_1025_bytes",
     [](const NitroTestTee& t) {
       return WithPayload(t, [](AttestationPayload* p) { p->public_key = std::string(1025, 'k'); });
     },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: public_key is 1025 bytes, allowed 0..1024"},
    {"timestamp_as_text",
     [](const NitroTestTee& t) { return Replacing(t, "timestamp", "\x63now"); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: timestamp must be an unsigned integer, got a text string"},
    {"module_id_as_bytes",
     [](const NitroTestTee& t) { return Replacing(t, "module_id", "\x41x"); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: module_id must be a text string, got a byte string"},
    {"pcrs_as_array", [](const NitroTestTee& t) { return Replacing(t, "pcrs", "\x80"); },
     v1::REASON_MALFORMED_EVIDENCE, "nitro document payload: pcrs must be a map, got an array"},
    {"negative_pcr_index",
     [](const NitroTestTee& t) { return Replacing(t, "pcrs", "\xa1\x20\x40"); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: a pcrs index must be an unsigned integer, got a negative integer"},
    {"cabundle_entry_as_text",
     [](const NitroTestTee& t) { return Replacing(t, "cabundle", "\x81\x61x"); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: cabundle[0] must be a byte string, got a text string"},
    {"nonce_as_text", [](const NitroTestTee& t) { return Replacing(t, "nonce", "\x61n"); },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: nonce must be a byte string, got a text string"},
    {"integer_key",
     [](const NitroTestTee& t) {
       return Signed(t, NitroTestTee::PayloadWithExtraEntries(DefaultPayload(t), "\x01\x02", 1));
     },
     v1::REASON_MALFORMED_EVIDENCE,
     "nitro document payload: key 9 is an unsigned integer, expected a text string"},
};

class NegativeDocumentTest : public ::testing::TestWithParam<Negative> {
 protected:
  static void SetUpTestSuite() { tee_ = NitroTestTee::Create()->release(); }
  static void TearDownTestSuite() { delete tee_; }
  static NitroTestTee* tee_;
};
NitroTestTee* NegativeDocumentTest::tee_ = nullptr;

TEST_P(NegativeDocumentTest, IsRefusedByTheParser) {
  const Negative& n = GetParam();
  absl::StatusOr<AttestationDocument> doc = ParseDocument(n.make(*tee_));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(ReasonOf(doc.status()), n.reason) << doc.status();
  EXPECT_TRUE(absl::StartsWith(doc.status().message(), n.message)) << doc.status();
}

INSTANTIATE_TEST_SUITE_P(Generated, NegativeDocumentTest, ::testing::ValuesIn(kNegatives),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace teeverify::nitro
