#include "verifier/snp/report_parser.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"

namespace teeverify::snp {
namespace {

constexpr absl::string_view kWhat = "sev-snp report";

std::string Offset(size_t offset) { return absl::StrCat("0x", absl::Hex(offset, absl::kZeroPad3)); }

// Reads `n` reserved bytes, which the ABI says must be zero: a non-zero byte means a layout we do
// not know (or a forged report), never data to ignore.
absl::Status ReadReserved(ByteReader& r, size_t n, absl::string_view field) {
  const size_t at = r.offset();
  ASSIGN_OR_RETURN(const absl::string_view bytes, r.Bytes(n, field));
  if (std::any_of(bytes.begin(), bytes.end(), [](char c) { return c != 0; })) {
    return Malformed(absl::StrCat(kWhat, ": ", field, " (bytes ", Offset(at), "..",
                                  Offset(at + n - 1), ") must be zero, found ",
                                  HexEncode(bytes)));
  }
  return absl::OkStatus();
}

absl::Status CheckHeader(const Report& r) {
  if (r.version != kReportVersion2 && r.version != kReportVersion3 &&
      r.version != kReportVersion5) {
    return Unsupported(absl::StrCat(kWhat, ": version ", r.version,
                                    " is not supported (supported: 2, 3, 5)"));
  }
  if (!r.policy_bit(kPolicyReservedOneBit)) {
    return Malformed(absl::StrCat(kWhat, ": policy 0x", absl::Hex(r.policy),
                                  " has reserved bit 17 clear (it must be one)"));
  }
  if ((r.policy & kPolicyReservedZeroMask) != 0) {
    return Malformed(absl::StrCat(kWhat, ": policy 0x", absl::Hex(r.policy),
                                  " sets reserved bits 63:26 (0x",
                                  absl::Hex(r.policy & kPolicyReservedZeroMask), ")"));
  }
  if (r.vmpl > kMaxVmpl) {
    return Malformed(absl::StrCat(kWhat, ": vmpl ", r.vmpl, " is not 0..3"));
  }
  if (r.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    return Unsupported(absl::StrCat(kWhat, ": signature_algo ", r.signature_algo,
                                    " is not supported (supported: 1, ECDSA P-384 with SHA-384)"));
  }
  if ((r.signer_info & kSignerInfoReservedMask) != 0) {
    return Malformed(absl::StrCat(kWhat, ": bits 31:5 of the word at 0x048 (0x",
                                  absl::Hex(r.signer_info), ") are reserved and must be zero"));
  }
  const auto key = static_cast<uint32_t>(r.signing_key());
  if (key != static_cast<uint32_t>(SigningKey::kVcek) &&
      key != static_cast<uint32_t>(SigningKey::kVlek) &&
      key != static_cast<uint32_t>(SigningKey::kNone)) {
    return Malformed(absl::StrCat(kWhat, ": signing_key ", key,
                                  " is reserved (0 VCEK, 1 VLEK, 7 none)"));
  }
  return absl::OkStatus();
}

absl::Status ReadTcbAndIds(ByteReader& r, Report* out) {
  RETURN_IF_ERROR(r.Array("report_data", &out->report_data));
  RETURN_IF_ERROR(r.Array("measurement", &out->measurement));
  RETURN_IF_ERROR(r.Array("host_data", &out->host_data));
  RETURN_IF_ERROR(r.Array("id_key_digest", &out->id_key_digest));
  RETURN_IF_ERROR(r.Array("author_key_digest", &out->author_key_digest));
  RETURN_IF_ERROR(r.Array("report_id", &out->report_id));
  RETURN_IF_ERROR(r.Array("report_id_ma", &out->report_id_ma));
  ASSIGN_OR_RETURN(out->reported_tcb, r.U64("reported_tcb"));
  if (out->has_cpuid()) {
    ASSIGN_OR_RETURN(out->cpuid_fam_id, r.U8("cpuid_fam_id"));
    ASSIGN_OR_RETURN(out->cpuid_mod_id, r.U8("cpuid_mod_id"));
    ASSIGN_OR_RETURN(out->cpuid_step, r.U8("cpuid_step"));
    RETURN_IF_ERROR(ReadReserved(r, 21, "reserved after cpuid_step"));
  } else {
    RETURN_IF_ERROR(ReadReserved(r, 24, "reserved after reported_tcb (version 2)"));
  }
  RETURN_IF_ERROR(r.Array("chip_id", &out->chip_id));
  ASSIGN_OR_RETURN(out->committed_tcb, r.U64("committed_tcb"));
  for (FirmwareVersion* v : {&out->current, &out->committed}) {
    const bool current = v == &out->current;
    ASSIGN_OR_RETURN(v->build, r.U8(current ? "current_build" : "committed_build"));
    ASSIGN_OR_RETURN(v->minor, r.U8(current ? "current_minor" : "committed_minor"));
    ASSIGN_OR_RETURN(v->major, r.U8(current ? "current_major" : "committed_major"));
    RETURN_IF_ERROR(
        ReadReserved(r, 1, current ? "reserved after current_major" : "reserved after committed_major"));
  }
  ASSIGN_OR_RETURN(out->launch_tcb, r.U64("launch_tcb"));
  if (out->has_mitigation_vectors()) {
    ASSIGN_OR_RETURN(out->launch_mit_vector, r.U64("launch_mit_vector"));
    ASSIGN_OR_RETURN(out->current_mit_vector, r.U64("current_mit_vector"));
    return ReadReserved(r, kSignedSize - 0x208, "reserved after current_mit_vector");
  }
  return ReadReserved(r, kSignedSize - 0x1F8, "reserved after launch_tcb");
}

absl::Status ReadSignature(ByteReader& r, Report* out) {
  RETURN_IF_ERROR(r.Array("signature.r", &out->signature_r));
  RETURN_IF_ERROR(ReadReserved(r, kSignatureComponentSize - kP384ScalarSize,
                               "signature.r zero extension"));
  RETURN_IF_ERROR(r.Array("signature.s", &out->signature_s));
  RETURN_IF_ERROR(ReadReserved(r, kSignatureComponentSize - kP384ScalarSize,
                               "signature.s zero extension"));
  return ReadReserved(r, kSignatureReservedSize, "reserved after the signature");
}

void WriteZeros(ByteWriter& w, size_t n) { w.Bytes(std::string(n, '\0')); }

}  // namespace

absl::StatusOr<Report> ParseReport(absl::string_view bytes) {
  if (bytes.size() != kReportSize) {
    return Malformed(absl::StrCat(kWhat, ": ", bytes.size(), " bytes, but a report is exactly ",
                                  kReportSize, " bytes",
                                  bytes.size() > kReportSize ? " (trailing bytes)" : ""));
  }
  Report out;
  ByteReader r(bytes, kWhat);
  ASSIGN_OR_RETURN(out.version, r.U32("version"));
  ASSIGN_OR_RETURN(out.guest_svn, r.U32("guest_svn"));
  ASSIGN_OR_RETURN(out.policy, r.U64("policy"));
  RETURN_IF_ERROR(r.Array("family_id", &out.family_id));
  RETURN_IF_ERROR(r.Array("image_id", &out.image_id));
  ASSIGN_OR_RETURN(out.vmpl, r.U32("vmpl"));
  ASSIGN_OR_RETURN(out.signature_algo, r.U32("signature_algo"));
  ASSIGN_OR_RETURN(out.current_tcb, r.U64("current_tcb"));
  ASSIGN_OR_RETURN(out.platform_info, r.U64("platform_info"));
  ASSIGN_OR_RETURN(out.signer_info, r.U32("signer_info"));
  RETURN_IF_ERROR(CheckHeader(out));
  RETURN_IF_ERROR(ReadReserved(r, 4, "reserved after signer_info"));
  RETURN_IF_ERROR(ReadTcbAndIds(r, &out));
  out.signed_bytes = std::string(bytes.substr(0, kSignedSize));
  RETURN_IF_ERROR(ReadSignature(r, &out));
  return out;
}

std::string SerializeReport(const Report& x) {
  ByteWriter w;
  w.U32(x.version);
  w.U32(x.guest_svn);
  w.U64(x.policy);
  w.Array(x.family_id);
  w.Array(x.image_id);
  w.U32(x.vmpl);
  w.U32(x.signature_algo);
  w.U64(x.current_tcb);
  w.U64(x.platform_info);
  w.U32(x.signer_info);
  WriteZeros(w, 4);
  w.Array(x.report_data);
  w.Array(x.measurement);
  w.Array(x.host_data);
  w.Array(x.id_key_digest);
  w.Array(x.author_key_digest);
  w.Array(x.report_id);
  w.Array(x.report_id_ma);
  w.U64(x.reported_tcb);
  if (x.has_cpuid()) {
    w.U8(x.cpuid_fam_id);
    w.U8(x.cpuid_mod_id);
    w.U8(x.cpuid_step);
    WriteZeros(w, 21);
  } else {
    WriteZeros(w, 24);
  }
  w.Array(x.chip_id);
  w.U64(x.committed_tcb);
  for (const FirmwareVersion* v : {&x.current, &x.committed}) {
    w.U8(v->build);
    w.U8(v->minor);
    w.U8(v->major);
    WriteZeros(w, 1);
  }
  w.U64(x.launch_tcb);
  if (x.has_mitigation_vectors()) {
    w.U64(x.launch_mit_vector);
    w.U64(x.current_mit_vector);
    WriteZeros(w, kSignedSize - 0x208);
  } else {
    WriteZeros(w, kSignedSize - 0x1F8);
  }
  w.Array(x.signature_r);
  WriteZeros(w, kSignatureComponentSize - kP384ScalarSize);
  w.Array(x.signature_s);
  WriteZeros(w, kSignatureComponentSize - kP384ScalarSize);
  WriteZeros(w, kSignatureReservedSize);
  return w.Take();
}

std::string SignedBytes(const Report& report) {
  return SerializeReport(report).substr(0, kSignedSize);
}

bool LooksLikeSnpReport(absl::string_view bytes) {
  if (bytes.size() < kReportSize) return false;
  ByteReader r(bytes, kWhat);
  auto version = r.U32("version");
  if (!version.ok() ||
      (*version != kReportVersion2 && *version != kReportVersion3 && *version != kReportVersion5)) {
    return false;
  }
  ByteReader at30(bytes.substr(0x30), kWhat);
  auto vmpl = at30.U32("vmpl");
  auto algo = at30.U32("signature_algo");
  const absl::string_view reserved = bytes.substr(0x4C, 4);
  return vmpl.ok() && algo.ok() && *vmpl <= kMaxVmpl && *algo == kSignatureAlgoEcdsaP384Sha384 &&
         reserved == absl::string_view("\0\0\0\0", 4);
}

}  // namespace teeverify::snp
