#include "verifier/common/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace teeverify {
namespace {

constexpr absl::string_view kReasonPayloadUrl = "type.googleapis.com/teeverify.v1.Reason";

absl::StatusCode CodeFor(Reason reason) {
  switch (reason) {
    case v1::REASON_MALFORMED_EVIDENCE:
    case v1::REASON_UNSUPPORTED_FORMAT:
    case v1::REASON_BAD_REQUEST:
      return absl::StatusCode::kInvalidArgument;
    case v1::REASON_BAD_SIGNATURE:
    case v1::REASON_CERT_CHAIN_INVALID:
    case v1::REASON_IDENTITY_MISMATCH:
    case v1::REASON_PLATFORM_MISMATCH:
    case v1::REASON_NONCE_MISMATCH:
      return absl::StatusCode::kUnauthenticated;
    case v1::REASON_EXPIRED:
    case v1::REASON_REVOKED:
    case v1::REASON_TCB_LEVEL_NOT_SUPPORTED:
    case v1::REASON_COLLATERAL_INVALID:
      return absl::StatusCode::kFailedPrecondition;
    case v1::REASON_COLLATERAL_MISSING:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status MakeError(Reason reason, absl::string_view message) {
  absl::Status status(CodeFor(reason), message);
  status.SetPayload(kReasonPayloadUrl, absl::Cord(std::to_string(static_cast<int>(reason))));
  return status;
}

Reason ReasonOf(const absl::Status& status) {
  if (status.ok()) return v1::REASON_UNSPECIFIED;
  if (auto payload = status.GetPayload(kReasonPayloadUrl)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*payload), &value) && v1::Reason_IsValid(value)) {
      return static_cast<Reason>(value);
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return v1::REASON_MALFORMED_EVIDENCE;
    case absl::StatusCode::kUnauthenticated:
      return v1::REASON_BAD_SIGNATURE;
    case absl::StatusCode::kUnavailable:
      return v1::REASON_COLLATERAL_MISSING;
    default:
      return v1::REASON_INTERNAL;
  }
}

absl::string_view ReasonName(Reason reason) {
  const std::string& full = v1::Reason_Name(reason);
  absl::string_view name = full;
  if (name.substr(0, 7) == "REASON_") name.remove_prefix(7);
  return name;
}

absl::Status WithContext(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

}  // namespace teeverify
