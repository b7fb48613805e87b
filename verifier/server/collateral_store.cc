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
namespace {

// A directory is a bundle when it holds any collateral file: one with a file missing is reported
// (naming the file), not ignored.
bool LooksLikeBundle(const fs::path& dir) {
  std::error_code ec;
  for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
    if (fs::exists(dir / std::string(item.file), ec)) return true;
  }
  return false;
}

}  // namespace

absl::Status CollateralStore::Reload() {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     absl::StrCat("collateral directory ", dir_,
                                  fs::exists(dir_, ec) ? " is not a directory" : " does not exist"));
  }
  std::vector<fs::path> candidates = {fs::path(dir_)};
  fs::directory_iterator it(dir_, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) candidates.push_back(it->path());
  }
  if (ec) {
    return MakeError(v1::REASON_COLLATERAL_MISSING,
                     absl::StrCat("cannot read collateral directory ", dir_, ": ", ec.message()));
  }
  std::map<std::string, std::vector<std::shared_ptr<Bundle>>> loaded;
  std::vector<std::string> problems;
  for (const fs::path& path : candidates) {
    if (!LooksLikeBundle(path)) continue;
    const std::string name = path == fs::path(dir_) ? "." : path.filename().string();
    absl::StatusOr<std::pair<std::string, std::shared_ptr<Bundle>>> bundle =
        ReadBundle(path.string(), name);
    if (!bundle.ok()) {
      problems.push_back(absl::StrCat(name, ": ", bundle.status().message()));
      continue;
    }
    loaded[bundle->first].push_back(std::move(bundle->second));
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

absl::StatusOr<std::pair<std::string, std::shared_ptr<CollateralStore::Bundle>>>
CollateralStore::ReadBundle(const std::string& path, std::string name) {
  ASSIGN_OR_RETURN(tdx::TdxCollateral raw, LoadTdxCollateralDir(path));
  ASSIGN_OR_RETURN(const tdx::SignedCollateral signed_info,
                   tdx::ParseSignedCollateral(raw.tcb_info_response, "tcbInfo", tdx::kTcbInfoFile));
  ASSIGN_OR_RETURN(const tdx::TcbInfo info, tdx::ParseTcbInfo(signed_info.body, tdx::kTcbInfoFile));
  auto bundle = std::make_shared<Bundle>();
  bundle->name = std::move(name);
  bundle->raw = std::move(raw);
  bundle->next_update = info.next_update;
  return std::make_pair(HexEncode(info.fmspc), std::move(bundle));
}

absl::Status CollateralStore::NoBundleError(const std::string& fmspc) const {
  std::vector<std::string> known;
  for (const auto& [f, list] : bundles_) known.push_back(f);
  std::string message = absl::StrCat("no TDX collateral for FMSPC ", fmspc, " in ", dir_,
                                     known.empty() ? " (it holds none" : " (it holds: ",
                                     absl::StrJoin(known, ", "), ")");
  if (!problems_.empty()) {
    absl::StrAppend(&message, "; bundles skipped as unreadable: ", absl::StrJoin(problems_, "; "));
  }
  return MakeError(v1::REASON_COLLATERAL_MISSING, message);
}

absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> CollateralStore::ForPlatform(
    const ByteArray<6>& fmspc, absl::Time now) const {
  const std::string key = HexEncode(fmspc);
  std::vector<std::shared_ptr<Bundle>> candidates;  // newest first, all newer than `serving`
  std::shared_ptr<const tdx::VerifiedTdxCollateral> serving;
  {
    absl::MutexLock lock(&mu_);
    auto it = bundles_.find(key);
    if (it == bundles_.end()) return NoBundleError(key);  // a listed FMSPC has bundles
    for (const auto& bundle : it->second) {
      if (bundle->verified && bundle->verified->window.Contains(now)) {
        serving = bundle->verified;
        break;
      }
      candidates.push_back(bundle);
    }
    if (serving) {
      // A newer bundle that failed within the interval waits; the older one serves meanwhile.
      std::erase_if(candidates, [now](const std::shared_ptr<Bundle>& bundle) {
        return bundle->failed_at && now >= *bundle->failed_at &&
               now < *bundle->failed_at + kRecheckInterval;
      });
      if (candidates.empty()) return serving;
    }
  }
  ASSIGN_OR_RETURN(X509* root, roots_->Get(RootId::kIntelSgxRootCa));
  absl::Status first_error;
  for (const auto& bundle : candidates) {  // verified outside the lock
    absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> verified =
        tdx::VerifyTdxCollateral(bundle->raw, root, now);
    absl::MutexLock lock(&mu_);
    if (verified.ok()) {
      bundle->verified = *verified;
      bundle->failed_at.reset();
      return *verified;
    }
    bundle->failed_at = now;
    if (first_error.ok()) {
      first_error = WithContext(verified.status(), absl::StrCat("TDX collateral for FMSPC ", key,
                                                                " (bundle ", bundle->name, " in ",
                                                                dir_, ")"));
    }
  }
  if (serving) return serving;
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

std::map<std::string, absl::Time> CollateralStore::NextUpdates() const {
  std::map<std::string, absl::Time> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [fmspc, list] : bundles_) {
    if (list.empty()) continue;
    out[fmspc] = list.front()->next_update;
    for (const auto& bundle : list) {  // newest first: the newest verified one serves
      if (bundle->verified) {
        out[fmspc] = bundle->verified->window.not_after;
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> CollateralStore::LoadProblems() const {
  absl::MutexLock lock(&mu_);
  return problems_;
}

}  // namespace teeverify::server
