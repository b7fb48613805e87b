#include "verifier/snp/vek_checks.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"

namespace teeverify::snp {
namespace {

absl::Status Mismatch(absl::string_view message) {
  return MakeError(v1::REASON_PLATFORM_MISMATCH, absl::StrCat("sev-snp: ", message));
}

}  // namespace

std::string HwIdOf(const Report& report, Product product) {
  const size_t size = product == Product::kTurin ? kHwIdSizeTurin : kHwIdSizeMilanGenoa;
  return std::string(AsView(report.chip_id).substr(0, size));
}

// A VCEK is specific to one chip: its hwID is the report's CHIP_ID (Turin: the first 8 bytes,
// the other 56 zero). VLEKs are not chip-specific and have no hwID.
absl::Status CheckChipId(const Report& report, const VekExtensions& ext, Product product) {
  if (!ext.hw_id) return Mismatch("the VCEK has no hwID extension (1.3.6.1.4.1.3704.1.4)");
  const size_t size = product == Product::kTurin ? kHwIdSizeTurin : kHwIdSizeMilanGenoa;
  if (ext.hw_id->size() != size) {
    return Mismatch(absl::StrCat("the VCEK's hwID has ", ext.hw_id->size(), " bytes; a ",
                                 ProductName(product), " hwID has ", size));
  }
  const absl::string_view chip_id = AsView(report.chip_id);
  if (chip_id.substr(0, size) != *ext.hw_id ||
      chip_id.substr(size).find_first_not_of('\0') != absl::string_view::npos) {
    return Mismatch(absl::StrCat("the VCEK's hwID ", HexEncode(*ext.hw_id),
                                 " is not the report's CHIP_ID ", HexEncode(chip_id),
                                 IsAllZero(report.chip_id) ? " (masked: all zero)" : "",
                                 ": the VCEK belongs to another chip"));
  }
  return absl::OkStatus();
}

// The VCEK/VLEK is derived for one TCB: its SPL extensions must be the report's REPORTED_TCB,
// component by component and as a whole (so the reserved bytes are zero too).
absl::Status CheckTcb(const Report& report, const VekExtensions& ext, Product product,
                      absl::string_view leaf) {
  const TcbVersion reported = DecodeTcb(report.reported_tcb, product);
  if (product == Product::kTurin && !ext.fmc_spl) {
    return Mismatch(absl::StrCat("the Turin ", leaf, " has no fmcSPL extension"));
  }
  std::vector<std::string> diffs;
  auto compare = [&](absl::string_view name, uint8_t cert, uint8_t tcb) {
    if (cert != tcb) diffs.push_back(absl::StrCat(name, " ", cert, " vs ", tcb));
  };
  if (product == Product::kTurin) compare("fmcSPL/fmc", *ext.fmc_spl, *reported.fmc);
  compare("blSPL/boot_loader", ext.bl_spl, reported.boot_loader);
  compare("teeSPL/tee", ext.tee_spl, reported.tee);
  compare("snpSPL/snp", ext.snp_spl, reported.snp);
  compare("ucodeSPL/microcode", ext.ucode_spl, reported.microcode);
  if (!diffs.empty()) {
    return Mismatch(absl::StrCat("the ", leaf, "'s TCB is not the report's REPORTED_TCB 0x",
                                 absl::Hex(report.reported_tcb), " (", absl::StrJoin(diffs, ", "),
                                 ")"));
  }
  if (EncodeTcb(reported, product) != report.reported_tcb) {
    return Mismatch(absl::StrCat("REPORTED_TCB 0x", absl::Hex(report.reported_tcb),
                                 " sets reserved bits; the ", leaf, "'s TCB is 0x",
                                 absl::Hex(EncodeTcb(reported, product))));
  }
  return absl::OkStatus();
}

}  // namespace teeverify::snp
