// libFuzzer target: the policy readers (the nested --policy JSON and the flat Vault role JSON),
// validation and evaluation. The first byte picks the reader. A policy that validates must be a
// fixed point: its normalized form, serialized and read back, validates to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/policy/role_json.h"

namespace {

teeverify::Claims SomeClaims(uint8_t selector) {
  teeverify::Claims c;
  c.tee = selector % 3 == 0   ? teeverify::TeeKind::kTdx
          : selector % 3 == 1 ? teeverify::TeeKind::kSevSnp
                              : teeverify::TeeKind::kNitro;
  c.report_data = std::string(64, '\x01');
  c.verified_at = absl::FromUnixSeconds(1700000000);
  c.valid_until = c.verified_at + absl::Hours(1);
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  absl::StatusOr<teeverify::v1::Policy> policy =
      data[0] % 2 == 0 ? teeverify::policy::PolicyFromJson(input)
                       : teeverify::policy::PolicyFromRoleJson(input);
  if (!policy.ok()) return 0;
  const teeverify::policy::PolicyValidation v = teeverify::policy::ValidatePolicy(*policy);
  if (!v.errors.empty()) return 0;

  absl::StatusOr<teeverify::v1::Policy> again =
      teeverify::policy::PolicyFromJson(teeverify::policy::PolicyToJson(v.normalized));
  if (!again.ok()) abort();
  const teeverify::policy::PolicyValidation v2 = teeverify::policy::ValidatePolicy(*again);
  if (!v2.errors.empty()) abort();
  if (!google::protobuf::util::MessageDifferencer::Equals(v.normalized, v2.normalized)) abort();

  // Evaluation of any valid policy: never allows claims that bind no nonce it was given.
  const teeverify::policy::Decision d = teeverify::policy::internal::EvaluateClaims(
      SomeClaims(data[0] >> 1), v.normalized, {"nonce", ""}, absl::FromUnixSeconds(1700000000));
  if (d.allow) abort();
  return 0;
}
