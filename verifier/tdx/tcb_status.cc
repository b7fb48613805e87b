#include "verifier/tdx/tcb_status.h"

#include <array>
#include <utility>

namespace teeverify::tdx {
namespace {

constexpr std::array<std::pair<TcbStatus, absl::string_view>, 7> kNames = {{
    {TcbStatus::kUpToDate, "UpToDate"},
    {TcbStatus::kSWHardeningNeeded, "SWHardeningNeeded"},
    {TcbStatus::kConfigurationNeeded, "ConfigurationNeeded"},
    {TcbStatus::kConfigurationAndSWHardeningNeeded, "ConfigurationAndSWHardeningNeeded"},
    {TcbStatus::kOutOfDate, "OutOfDate"},
    {TcbStatus::kOutOfDateConfigurationNeeded, "OutOfDateConfigurationNeeded"},
    {TcbStatus::kRevoked, "Revoked"},
}};

}  // namespace

absl::string_view TcbStatusName(TcbStatus status) {
  for (const auto& [value, name] : kNames) {
    if (value == status) return name;
  }
  return "Unknown";
}

std::optional<TcbStatus> ParseTcbStatus(absl::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

TcbStatus Converge(TcbStatus platform, TcbStatus component) {
  if (component == TcbStatus::kRevoked || platform == TcbStatus::kRevoked) {
    return TcbStatus::kRevoked;
  }
  if (component != TcbStatus::kOutOfDate) return platform;
  switch (platform) {
    case TcbStatus::kUpToDate:
    case TcbStatus::kSWHardeningNeeded:
    case TcbStatus::kOutOfDate:
      return TcbStatus::kOutOfDate;
    case TcbStatus::kConfigurationNeeded:
    case TcbStatus::kConfigurationAndSWHardeningNeeded:
    case TcbStatus::kOutOfDateConfigurationNeeded:
      return TcbStatus::kOutOfDateConfigurationNeeded;
    case TcbStatus::kRevoked:
      break;
  }
  return TcbStatus::kRevoked;
}

}  // namespace teeverify::tdx
