#include "verifier/server/collateral_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/io/files.h"
#include "verifier/tdx/tcb_info.h"

namespace teeverify::server {
namespace fs = std::filesystem;

absl::Status CollateralStore::Reload() {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     absl::StrCat("collateral directory ", dir_, " does not exist"));
  }
  std::vector<fs::path> candidates = {fs::path(dir_)};
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.is_directory()) candidates.push_back(entry.path());
  }
  std::map<std::string, std::vector<std::shared_ptr<Bundle>>> loaded;
  std::vector<std::string> problems;
  for (const fs::path& path : candidates) {
    if (!fs::exists(path / std::string(tdx::kTcbInfoFile))) continue;
    const std::string name = path == fs::path(dir_) ? "." : path.filename().string();
    absl::StatusOr<tdx::TdxCollateral> raw = LoadTdxCollateralDir(path.string());
    absl::StatusOr<tdx::SignedCollateral> signed_info =
        raw.ok() ? tdx::ParseSignedCollateral(raw->tcb_info_response, "tcbInfo", tdx::kTcbInfoFile)
                 : absl::StatusOr<tdx::SignedCollateral>(raw.status());
    absl::StatusOr<tdx::TcbInfo> info =
        signed_info.ok() ? tdx::ParseTcbInfo(signed_info->body, tdx::kTcbInfoFile)
                         : absl::StatusOr<tdx::TcbInfo>(signed_info.status());
    if (!info.ok()) {
      problems.push_back(absl::StrCat(name, ": ", info.status().message()));
      continue;
    }
    auto bundle = std::make_shared<Bundle>();
    bundle->name = name;
    bundle->raw = *std::move(raw);
    bundle->next_update = info->next_update;
    loaded[HexEncode(info->fmspc)].push_back(std::move(bundle));
  }
  for (auto& [fmspc, list] : loaded) {
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return a->next_update > b->next_update; });
  }
  absl::MutexLock lock(&mu_);
  bundles_ = std::move(loaded);
  problems_ = std::move(problems);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> CollateralStore::ForPlatform(
    const ByteArray<6>& fmspc, absl::Time now) const {
  const std::string key = HexEncode(fmspc);
  std::vector<std::shared_ptr<Bundle>> candidates;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = bundles_.find(key); it != bundles_.end()) candidates = it->second;
    for (const auto& bundle : candidates) {
      if (bundle->verified && bundle->verified->window.Contains(now)) return bundle->verified;
    }
  }
  if (candidates.empty()) {
    std::vector<std::string> known;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [f, list] : bundles_) known.push_back(f);
    }
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     absl::StrCat("no TDX collateral for FMSPC ", key, " in ", dir_,
                                  known.empty() ? " (it holds none)"
                                                : absl::StrCat(" (it holds: ", absl::StrJoin(known, ", "), ")")));
  }
  ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kIntelSgxRootCa));
  absl::Status first_error;
  for (const auto& bundle : candidates) {  // newest first
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> verified =
        tdx::VerifyTdxCollateral(bundle->raw, root, now);
    if (verified.ok()) {
      absl::MutexLock lock(&mu_);
      bundle->verified = *verified;
      return *verified;
    }
    if (first_error.ok()) {
      first_error = WithContext(verified.status(), absl::StrCat("collateral bundle ", bundle->name));
    }
  }
  return first_error;
}

std::vector<std::string> CollateralStore::Describe() const {
  std::vector<std::string> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [fmspc, list] : bundles_) {
    for (const auto& bundle : list) {
      out.push_back(absl::StrCat(fmspc, " (", bundle->name, ", TCB info nextUpdate ",
                                 FormatRfc3339(bundle->next_update), ")"));
    }
  }
  return out;
}

std::vector<std::string> CollateralStore::LoadProblems() const {
  absl::MutexLock lock(&mu_);
  return problems_;
}

}  // namespace teeverify::server
