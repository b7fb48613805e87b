// The certificate table of extended reports: GUID byte order, round trips, single mutations of
// a well-formed table, and the bounds that keep an unauthenticated caller's table cheap.
#include "verifier/snp/extended_evidence.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/snp/report_parser.h"

namespace teeverify::snp {
namespace {

using ::teeverify::testing::ReadTestData;

std::string U32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
  return out;
}

std::string Entry(const Guid& guid, uint32_t offset, uint32_t length) {
  return absl::StrCat(AsView(guid), U32(offset), U32(length));
}

const std::string kTerminator(24, '\0');

// Two entries (VCEK "AAAA", ASK "BBB") after a 72-byte header.
std::string GoodTable() {
  return absl::StrCat(Entry(kVcekGuid, 72, 4), Entry(kAskGuid, 76, 3), kTerminator, "AAAABBB");
}

absl::Status TableError(const std::string& table) {
  absl::StatusOr<std::vector<CertTableEntry>> t = ParseCertTable(table);
  return t.ok() ? absl::OkStatus() : t.status();
}

TEST(SnpCertTableTest, GuidBytesReadLikeTheirText) {
  // GHCB specification / AMD sev-guest tools: these four GUIDs, bytes in RFC 4122 order.
  EXPECT_EQ(GuidText(kVcekGuid), "63da758d-e664-4564-adc5-f4b93be8accd");
  EXPECT_EQ(GuidText(kVlekGuid), "a8074bc2-a25a-483e-aae6-39c045a0b8a1");
  EXPECT_EQ(GuidText(kAskGuid), "4ab7b379-bbac-4fe4-a02f-05aef327c782");
  EXPECT_EQ(GuidText(kArkGuid), "c0b406a4-a803-4952-9743-3fb6014cd0ae");
  EXPECT_EQ(HexEncode(kVcekGuid), "63da758de6644564adc5f4b93be8accd");
}

TEST(SnpCertTableTest, ParsesAndRoundTrips) {
  absl::StatusOr<std::vector<CertTableEntry>> t = ParseCertTable(GoodTable());
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].guid, kVcekGuid);
  EXPECT_EQ((*t)[0].data, "AAAA");
  EXPECT_EQ((*t)[1].guid, kAskGuid);
  EXPECT_EQ((*t)[1].data, "BBB");
  EXPECT_EQ(SerializeCertTable(*t), GoodTable());
}

TEST(SnpCertTableTest, RealReportWithRealCertificates) {
  const std::string report = ReadTestData("sevsnp/reports/oak_genoa_oc_report.bin");
  const std::string vcek = ReadTestData("sevsnp/certs/oak_genoa_oc_vcek.der");
  const std::string table = SerializeCertTable({{kVcekGuid, vcek}, {kArkGuid, "ark"}});
  absl::StatusOr<SnpEvidence> e = ParseEvidence(report + table);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->has_table);
  ASSERT_NE(e->Find(kVcekGuid), nullptr);
  EXPECT_EQ(*e->Find(kVcekGuid), vcek);
  EXPECT_EQ(e->Find(kAskGuid), nullptr);
  EXPECT_EQ(SerializeEvidence(*e), report + table);

  absl::StatusOr<SnpEvidence> bare = ParseEvidence(report);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_FALSE(bare->has_table);
  EXPECT_EQ(SerializeEvidence(*bare), report);
}

TEST(SnpCertTableTest, ZeroPaddingAndEmptyTablesAreAccepted) {
  absl::StatusOr<std::vector<CertTableEntry>> padded =
      ParseCertTable(GoodTable() + std::string(4000, '\0'));
  ASSERT_TRUE(padded.ok()) << padded.status();
  EXPECT_EQ(padded->size(), 2u);
  absl::StatusOr<std::vector<CertTableEntry>> empty = ParseCertTable(kTerminator);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  // A page of zeros, as a host without certificates returns it.
  EXPECT_TRUE(ParseCertTable(std::string(4096, '\0')).ok());
}

TEST(SnpCertTableTest, UnknownGuidsAreKept) {
  const Guid other = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  absl::StatusOr<std::vector<CertTableEntry>> t =
      ParseCertTable(absl::StrCat(Entry(other, 48, 2), kTerminator, "xy"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[0].guid, other);
}

struct BadTable {
  const char* name;
  std::string table;
  const char* expected;
};

std::vector<BadTable> BadTables() {
  const std::string good = GoodTable();
  std::string nonzero_padding = good + std::string(8, '\0');
  nonzero_padding[good.size() + 5] = 'x';
  std::string gap = absl::StrCat(Entry(kVcekGuid, 50, 2), kTerminator, "..AB");
  return {
      {"empty", "", "no terminating all-zero entry after 0 entries"},
      {"no_terminator", Entry(kVcekGuid, 24, 4) + "AAAA",
       "no terminating all-zero entry after 1 entries"},
      {"zero_guid_with_offset", absl::StrCat(Entry(Guid{}, 48, 1), kTerminator, "A"),
       "entry 0 has a zero GUID but offset 48 and length 1"},
      {"duplicate_guid",
       absl::StrCat(Entry(kVcekGuid, 72, 1), Entry(kVcekGuid, 73, 1), kTerminator, "AB"),
       "GUID 63da758d-e664-4564-adc5-f4b93be8accd appears twice"},
      {"empty_entry", absl::StrCat(Entry(kVcekGuid, 48, 0), kTerminator),
       "entry 63da758d-e664-4564-adc5-f4b93be8accd is empty"},
      {"offset_into_entries", absl::StrCat(Entry(kVcekGuid, 0, 24), kTerminator),
       "(offset 0, length 24) is not inside the 0 bytes that follow the entries"},
      {"beyond_end", absl::StrCat(Entry(kVcekGuid, 48, 5), kTerminator, "AAAA"),
       "(offset 48, length 5) is not inside the 4 bytes"},
      {"huge_length", absl::StrCat(Entry(kVcekGuid, 48, 0xffffffff), kTerminator, "AAAA"),
       "(offset 48, length 4294967295) is not inside"},
      {"overlap", absl::StrCat(Entry(kVcekGuid, 72, 4), Entry(kAskGuid, 74, 2), kTerminator, "AAAA"),
       "entry 4ab7b379-bbac-4fe4-a02f-05aef327c782 overlaps another certificate"},
      {"nonzero_padding", nonzero_padding, "non-zero byte at offset 84 outside every certificate"},
      {"nonzero_gap", gap, "non-zero byte at offset 48 outside every certificate"},
      {"mixed_endian_guid",
       absl::StrCat(Entry(Guid{0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45, 0xad, 0xc5, 0xf4,
                               0xb9, 0x3b, 0xe8, 0xac, 0xcd},
                          48, 1),
                    kTerminator, "A"),
       "are 63da758d-e664-4564-adc5-f4b93be8accd in mixed-endian order"},
  };
}

TEST(SnpCertTableTest, MalformedTablesAreNamed) {
  for (const BadTable& c : BadTables()) {
    const absl::Status status = TableError(c.table);
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_EQ(ReasonOf(status), v1::REASON_MALFORMED_EVIDENCE) << c.name;
    EXPECT_TRUE(absl::StrContains(status.message(), c.expected)) << c.name << ": " << status;
  }
}

TEST(SnpCertTableTest, OversizedEvidenceNamesTheTable) {
  const std::string report = ReadTestData("sevsnp/reports/trustee_test-report.bin");
  absl::StatusOr<SnpEvidence> e = ParseEvidence(report + "x");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(ReasonOf(e.status()), v1::REASON_MALFORMED_EVIDENCE);
  EXPECT_EQ(e.status().message(),
            "sev-snp evidence: the 1 bytes after the 1184-byte report are not a certificate "
            "table: sev-snp certificate table: no terminating all-zero entry after 0 entries");
  e = ParseEvidence(report.substr(0, 1000));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "sev-snp report: 1000 bytes, but a report is exactly 1184 bytes");
}

// `count` distinct unknown GUIDs, each pointing at one byte of its own.
std::string TinyEntries(size_t count) {
  std::string entries, data;
  const uint32_t header = static_cast<uint32_t>((count + 1) * kCertTableEntrySize);
  for (size_t i = 0; i < count; ++i) {
    Guid guid = {0x7e};
    guid[14] = static_cast<uint8_t>(i >> 8);
    guid[15] = static_cast<uint8_t>(i);
    entries += Entry(guid, header + static_cast<uint32_t>(i), 1);
    data += 'c';
  }
  return absl::StrCat(entries, kTerminator, data);
}

TEST(SnpCertTableTest, TableOverTheByteBoundIsRefusedBeforeItIsRead) {
  // At the bound: a real-shaped table padded to the 16 KiB the Linux guest driver hands out.
  const std::string at_bound =
      GoodTable() + std::string(kMaxCertTableSize - GoodTable().size(), '\0');
  ASSERT_EQ(at_bound.size(), 16384u);
  EXPECT_TRUE(ParseCertTable(at_bound).ok()) << TableError(at_bound);
  // One byte over, and a 1 MiB login: refused by size, whatever the bytes say.
  for (const size_t size : {kMaxCertTableSize + 1, size_t{1} << 20}) {
    const std::string over = GoodTable() + std::string(size - GoodTable().size(), '\0');
    const absl::Status status = TableError(over);
    EXPECT_EQ(ReasonOf(status), v1::REASON_MALFORMED_EVIDENCE);
    EXPECT_EQ(status.message(),
              absl::StrCat("sev-snp certificate table: ", size,
                           " bytes, more than the 16384 a guest receives (SEV_FW_BLOB_MAX_SIZE of "
                           "the Linux driver)"));
  }
  const std::string report = ReadTestData("sevsnp/reports/trustee_test-report.bin");
  absl::StatusOr<SnpEvidence> e = ParseEvidence(report + std::string(1 << 20, '\0'));
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(absl::StrContains(e.status().message(), "1048576 bytes, more than the 16384"))
      << e.status();
}

// A table of many tiny, distinct, well-placed entries is valid in every other respect: it is
// refused by its entry count, not scanned pair by pair.
TEST(SnpCertTableTest, TableOfManyTinyEntriesIsRefusedByCount) {
  absl::StatusOr<std::vector<CertTableEntry>> at_bound =
      ParseCertTable(TinyEntries(kMaxCertTableEntries));
  ASSERT_TRUE(at_bound.ok()) << at_bound.status();
  EXPECT_EQ(at_bound->size(), 16u);
  for (const size_t count : {kMaxCertTableEntries + 1, size_t{600}}) {
    const std::string table = TinyEntries(count);
    ASSERT_LE(table.size(), kMaxCertTableSize);
    const absl::Status status = TableError(table);
    EXPECT_EQ(ReasonOf(status), v1::REASON_MALFORMED_EVIDENCE);
    EXPECT_EQ(status.message(),
              "sev-snp certificate table: more than 16 entries (a real table carries 3: VCEK or "
              "VLEK, ASK or ASVK, ARK)");
  }
}

// The duplicate and overlap checks sort; they still name the entry at fault.
TEST(SnpCertTableTest, DuplicatesAndOverlapsAreFoundAnywhereInTheTable) {
  std::string table = TinyEntries(kMaxCertTableEntries);
  // The last entry takes the first one's GUID.
  table.replace((kMaxCertTableEntries - 1) * kCertTableEntrySize, 16, table.substr(0, 16));
  EXPECT_TRUE(absl::StrContains(TableError(table).message(),
                                "GUID 7e000000-0000-0000-0000-000000000000 appears twice"))
      << TableError(table);
  // The first entry's certificate grows over the second one's byte.
  table = TinyEntries(kMaxCertTableEntries);
  table.replace(20, 4, U32(2));
  EXPECT_TRUE(absl::StrContains(TableError(table).message(),
                                "entry 7e000000-0000-0000-0000-000000000001 overlaps another"))
      << TableError(table);
}

}  // namespace
}  // namespace teeverify::snp
