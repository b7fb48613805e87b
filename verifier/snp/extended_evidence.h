// SEV-SNP evidence that carries its own certificates: the 1184-byte report followed by the
// certificate table that SNP_GET_EXT_REPORT / the GHCB "SNP Extended Guest Request" returns.
//
// Table (AMD GHCB specification 56421, "SNP Extended Guest Request"; Linux sev-guest ABI): entries
// of 24 bytes { GUID (16 bytes), offset (u32 LE), length (u32 LE) }, ended by an all-zero entry;
// offsets count from the start of the table; the certificates (DER or PEM) follow the entries.
// The GUID bytes are in RFC 4122 order, i.e. in the order the text form reads ("63da758d-..." is
// 63 da 75 8d ...), as AMD's sev-guest tools, virtee/sev and go-sev-guest write them.
// Parsing only; docs/sev-snp.md describes the accepted form and snp_verifier.cc how it is used.
#ifndef TEE_VERIFIER_SNP_EXTENDED_EVIDENCE_H_
#define TEE_VERIFIER_SNP_EXTENDED_EVIDENCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "verifier/common/byte_reader.h"
#include "verifier/snp/report.h"

namespace teeverify::snp {

using Guid = ByteArray<16>;

// 63da758d-e664-4564-adc5-f4b93be8accd
inline constexpr Guid kVcekGuid = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
// a8074bc2-a25a-483e-aae6-39c045a0b8a1
inline constexpr Guid kVlekGuid = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                   0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
// 4ab7b379-bbac-4fe4-a02f-05aef327c782 (the ASK, or the ASVK for a VLEK)
inline constexpr Guid kAskGuid = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
// c0b406a4-a803-4952-9743-3fb6014cd0ae
inline constexpr Guid kArkGuid = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

inline constexpr size_t kCertTableEntrySize = 24;

// Bounds on a certificate table, checked before anything else of it is read: whoever calls the
// login endpoint (unauthenticated) chooses these bytes. A real table carries 3 entries (VCEK or
// VLEK, ASK or ASVK, ARK) of about 1.3-1.7 KB each; the Linux guest driver hands out at most
// SEV_FW_BLOB_MAX_SIZE = 16 KiB of certificates (include/linux/psp-sev.h; the certs_len of
// SNP_GET_EXT_REPORT and configfs-tsm's auxblob), zero-padded to whole pages. 16 entries leave
// room for GUIDs a host may add (kept and ignored) without letting a table of tiny entries in.
inline constexpr size_t kMaxCertTableSize = 16 * 1024;
inline constexpr size_t kMaxCertTableEntries = 16;

struct CertTableEntry {
  Guid guid = {};
  std::string data;  // the certificate bytes the entry points at

  bool operator==(const CertTableEntry& other) const {
    return guid == other.guid && data == other.data;
  }
};

struct SnpEvidence {
  Report report;
  bool has_table = false;  // whether bytes followed the report
  std::vector<CertTableEntry> certificates;

  // The entry with `guid`, or null.
  const std::string* Find(const Guid& guid) const;
};

// The text form, "63da758d-e664-4564-adc5-f4b93be8accd", as errors show GUIDs.
std::string GuidText(const Guid& guid);

// Parses a certificate table. Refused: more than kMaxCertTableSize bytes or kMaxCertTableEntries
// entries, no terminating all-zero entry, an entry with a zero GUID but a non-zero offset or
// length, a duplicated GUID, an empty entry, an entry pointing into the entries or beyond the end,
// overlapping entries, and any non-zero byte outside the entries and the certificates (zero
// padding, e.g. to a page, is accepted). Unknown GUIDs are kept. The work is linear in the size
// of the table (the duplicate and overlap checks sort).
absl::StatusOr<std::vector<CertTableEntry>> ParseCertTable(absl::string_view table);

// Entries, terminator, then the certificates in entry order, without padding.
std::string SerializeCertTable(const std::vector<CertTableEntry>& entries);

// A bare report (exactly 1184 bytes), or a report followed by a certificate table.
absl::StatusOr<SnpEvidence> ParseEvidence(absl::string_view bytes);

// The report, then the table when `evidence.has_table`.
std::string SerializeEvidence(const SnpEvidence& evidence);

}  // namespace teeverify::snp

#endif  // TEE_VERIFIER_SNP_EXTENDED_EVIDENCE_H_
