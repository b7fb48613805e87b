#include "verifier/io/files.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"

namespace teeverify {

absl::StatusOr<std::string> ReadFileBytes(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read (", ec.message(), ")"));
  }
  if (size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes is larger than the limit of ", max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

absl::StatusOr<tdx::TdxCollateral> LoadTdxCollateralDir(const std::string& dir) {
  tdx::TdxCollateral c;
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    const absl::string_view name = item.file;
    std::string* out = &(c.*item.bytes);
    const std::string path = (std::filesystem::path(dir) / std::string(name)).string();
    absl::StatusOr<std::string> bytes = ReadFileBytes(path);
    if (!bytes.ok()) {
      return MakeError(v1::REASON_COLLATERAL_MISSING,
                       absl::StrCat("tdx collateral: ", name, " is missing in ", dir));
    }
    *out = *std::move(bytes);
  }
  const std::string early = (std::filesystem::path(dir) / std::string(tdx::kTcbInfoEarlyFile)).string();
  if (std::filesystem::exists(early)) {
    ASSIGN_OR_RETURN(c.tcb_info_early_response, ReadFileBytes(early));
  }
  return c;
}

absl::StatusOr<std::shared_ptr<const TrustRoots>> LoadRootsDir(const std::string& dir) {
  std::map<RootId, std::string> pems;
  for (RootId id : kAllRootIds) {
    const std::string path = (std::filesystem::path(dir) / std::string(RootFileName(id))).string();
    if (!std::filesystem::exists(path)) continue;
    ASSIGN_OR_RETURN(pems[id], ReadFileBytes(path));
  }
  if (pems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": no root file found (expected e.g. ",
                                                   RootFileName(RootId::kIntelSgxRootCa), ")"));
  }
  return TrustRoots::FromPem(pems);
}

}  // namespace teeverify
