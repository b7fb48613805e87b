#include "verifier/snp/extended_evidence.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/snp/report_parser.h"

namespace teeverify::snp {
namespace {

constexpr absl::string_view kWhat = "sev-snp certificate table";

struct RawEntry {
  Guid guid;
  uint32_t offset;
  uint32_t length;
};

// The same GUID with its first three groups byte-swapped (the Microsoft/EFI "mixed-endian" form):
// used only to explain a table written in that form.
Guid MixedEndian(const Guid& g) {
  Guid out = g;
  std::reverse(out.begin(), out.begin() + 4);
  std::reverse(out.begin() + 4, out.begin() + 6);
  std::reverse(out.begin() + 6, out.begin() + 8);
  return out;
}

absl::Status CheckKnownOrder(const Guid& guid) {
  for (const Guid& known : {kVcekGuid, kVlekGuid, kAskGuid, kArkGuid}) {
    if (guid == MixedEndian(known) && guid != known) {
      return Malformed(absl::StrCat(kWhat, ": GUID bytes ", HexEncode(guid), " are ",
                                    GuidText(known),
                                    " in mixed-endian order; the table uses RFC 4122 byte order"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RawEntry>> ReadEntries(absl::string_view table) {
  ByteReader r(table, kWhat);
  std::vector<RawEntry> entries;
  while (true) {
    if (r.remaining() < kCertTableEntrySize) {
      return Malformed(absl::StrCat(kWhat, ": no terminating all-zero entry after ",
                                    entries.size(), " entries"));
    }
    RawEntry e;
    RETURN_IF_ERROR(r.Array("guid", &e.guid));
    ASSIGN_OR_RETURN(e.offset, r.U32("offset"));
    ASSIGN_OR_RETURN(e.length, r.U32("length"));
    if (IsAllZero(e.guid)) {
      if (e.offset != 0 || e.length != 0) {
        return Malformed(absl::StrCat(kWhat, ": entry ", entries.size(),
                                      " has a zero GUID but offset ", e.offset, " and length ",
                                      e.length, " (a terminator is all zero)"));
      }
      return entries;
    }
    if (entries.size() == kMaxCertTableEntries) {
      return Malformed(absl::StrCat(kWhat, ": more than ", kMaxCertTableEntries,
                                    " entries (a real table carries 3: VCEK or VLEK, ASK or "
                                    "ASVK, ARK)"));
    }
    RETURN_IF_ERROR(CheckKnownOrder(e.guid));
    entries.push_back(e);
  }
}

// Sorting, not comparing every pair: a table's cost stays linear in its size.
absl::Status CheckDistinctGuids(const std::vector<RawEntry>& entries) {
  std::vector<Guid> guids;
  guids.reserve(entries.size());
  for (const RawEntry& e : entries) guids.push_back(e.guid);
  std::sort(guids.begin(), guids.end());
  const auto twice = std::adjacent_find(guids.begin(), guids.end());
  if (twice != guids.end()) {
    return Malformed(absl::StrCat(kWhat, ": GUID ", GuidText(*twice), " appears twice"));
  }
  return absl::OkStatus();
}

}  // namespace

const std::string* SnpEvidence::Find(const Guid& guid) const {
  for (const CertTableEntry& e : certificates) {
    if (e.guid == guid) return &e.data;
  }
  return nullptr;
}

std::string GuidText(const Guid& g) {
  const std::string hex = HexEncode(g);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

absl::StatusOr<std::vector<CertTableEntry>> ParseCertTable(absl::string_view table) {
  if (table.size() > kMaxCertTableSize) {
    return Malformed(absl::StrCat(kWhat, ": ", table.size(), " bytes, more than the ",
                                  kMaxCertTableSize,
                                  " a guest receives (SEV_FW_BLOB_MAX_SIZE of the Linux driver)"));
  }
  ASSIGN_OR_RETURN(const std::vector<RawEntry> raw, ReadEntries(table));
  RETURN_IF_ERROR(CheckDistinctGuids(raw));
  const uint64_t header_end = (raw.size() + 1) * kCertTableEntrySize;
  struct Range {
    uint64_t begin, end;
    const Guid* guid;
  };
  std::vector<Range> ranges;
  std::vector<CertTableEntry> out;
  for (const RawEntry& e : raw) {
    const uint64_t begin = e.offset, end = uint64_t{e.offset} + e.length;
    if (e.length == 0) {
      return Malformed(absl::StrCat(kWhat, ": entry ", GuidText(e.guid), " is empty"));
    }
    if (begin < header_end || end > table.size()) {
      return Malformed(absl::StrCat(kWhat, ": entry ", GuidText(e.guid), " (offset ", e.offset,
                                    ", length ", e.length, ") is not inside the ",
                                    table.size() - header_end,
                                    " bytes that follow the entries (which end at ", header_end,
                                    ")"));
    }
    ranges.push_back({begin, end, &e.guid});
    out.push_back({e.guid, std::string(table.substr(begin, e.length))});
  }
  // In offset order, every byte after the entries is either inside exactly one certificate (a
  // range starting before the previous one ends overlaps it) or zero padding.
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const Range& a, const Range& b) { return a.begin < b.begin; });
  uint64_t pos = header_end;
  ranges.push_back({table.size(), table.size(), nullptr});
  for (const Range& range : ranges) {
    if (range.begin < pos) {
      return Malformed(absl::StrCat(kWhat, ": entry ", GuidText(*range.guid),
                                    " overlaps another certificate"));
    }
    const absl::string_view gap = table.substr(pos, range.begin - pos);
    const auto nonzero = std::find_if(gap.begin(), gap.end(), [](char c) { return c != 0; });
    if (nonzero != gap.end()) {
      return Malformed(absl::StrCat(kWhat, ": non-zero byte at offset ",
                                    pos + (nonzero - gap.begin()),
                                    " outside every certificate (only zero padding may be there)"));
    }
    pos = range.end;
  }
  return out;
}

std::string SerializeCertTable(const std::vector<CertTableEntry>& entries) {
  ByteWriter header, data;
  uint64_t offset = (entries.size() + 1) * kCertTableEntrySize;
  for (const CertTableEntry& e : entries) {
    header.Array(e.guid);
    header.U32(static_cast<uint32_t>(offset));
    header.U32(static_cast<uint32_t>(e.data.size()));
    data.Bytes(e.data);
    offset += e.data.size();
  }
  header.Bytes(std::string(kCertTableEntrySize, '\0'));
  return absl::StrCat(header.Take(), data.Take());
}

absl::StatusOr<SnpEvidence> ParseEvidence(absl::string_view bytes) {
  SnpEvidence out;
  if (bytes.substr(0, 4) == "HCLA") {
    return Unsupported(
        "sev-snp evidence: this is an Azure HCL report (\"HCLA\"), not an SNP report; the SNP "
        "report inside it is the 1184 bytes at offset 32");
  }
  if (bytes.size() <= kReportSize) {
    ASSIGN_OR_RETURN(out.report, ParseReport(bytes));
    return out;
  }
  ASSIGN_OR_RETURN(out.report, ParseReport(bytes.substr(0, kReportSize)));
  out.has_table = true;
  absl::StatusOr<std::vector<CertTableEntry>> table = ParseCertTable(bytes.substr(kReportSize));
  if (!table.ok()) {
    return WithContext(table.status(),
                       absl::StrCat("sev-snp evidence: the ", bytes.size() - kReportSize,
                                    " bytes after the 1184-byte report are not a certificate "
                                    "table"));
  }
  out.certificates = *std::move(table);
  return out;
}

std::string SerializeEvidence(const SnpEvidence& evidence) {
  std::string out = SerializeReport(evidence.report);
  if (evidence.has_table) out += SerializeCertTable(evidence.certificates);
  return out;
}

}  // namespace teeverify::snp
