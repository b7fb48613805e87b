// What a role can constrain, described once per TEE, so that validating a role (when it is
// written) and evaluating it (at login) read the same description.
#ifndef TEE_VERIFIER_POLICY_TEE_RULES_H_
#define TEE_VERIFIER_POLICY_TEE_RULES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "teeverify/v1/verifier.pb.h"
#include "verifier/claims/claims.h"

namespace teeverify::policy {

using StringList = google::protobuf::RepeatedPtrField<std::string>;

// One unmet constraint: the claim, the values the role allows, the value the evidence has.
struct Mismatch {
  std::string field;
  std::vector<std::string> expected;
  std::string actual;
};

// A measurement-like claim matched against a list of allowed hex values.
struct ValueField {
  absl::string_view name;  // "tdx.mrtd"
  size_t length;           // exact length in bytes of each allowed value
  // True when constraining this field says something about the workload (not only its host); a
  // role that allows a weak image anchor must still set one such field per TEE it admits.
  bool binds_workload;
  StringList* (*mutable_allowed)(v1::Policy*);
  const StringList& (*allowed)(const v1::Policy&);
  std::string (*actual)(const Claims&);  // the claim's raw bytes; empty when absent
};

// One way to pin the workload's image: every named value list set.
struct ImageAnchor {
  std::vector<absl::string_view> fields;  // "tdx.mrtd", ...
  // The fields are signer digests, all zero when nothing was signed (no SNP ID block, an unsigned
  // enclave image): then an all-zero value pins nothing and does not count.
  bool zero_means_unsigned = false;
};

struct TeeRules {
  TeeKind tee;
  absl::string_view policy_section;  // "tdx", "sev_snp", "nitro"
  bool (*section_set)(const v1::Policy&);
  absl::Span<const ValueField> fields;
  // Checks and normalizes constraints other than value lists (may be null).
  void (*validate_extras)(v1::Policy* policy, std::vector<std::string>* errors);
  // Evaluates constraints other than value lists (may be null).
  void (*check_extras)(const Claims& claims, const v1::Policy& policy, absl::Time now,
                       std::vector<Mismatch>* out);
  // The ways a role can pin the image (any one suffices); docs/policy.md, "Image anchors".
  absl::Span<const ImageAnchor> anchors;
  // A stable digest of the workload's image, the anchor of its identity (WorkloadIdentity,
  // policy_engine.h; docs/policy.md, "Workload identity").
  std::string (*workload_identity)(const Claims& claims);
  // Azure kinds: the rules of the hardware report under the vTPM evidence (SEV-SNP or TDX),
  // whose value fields are evaluated too but never anchor the workload (they measure the
  // paravisor); null otherwise.
  const TeeRules* underlying = nullptr;
};

const TeeRules& TdxRules();
const TeeRules& SnpRules();
const TeeRules& NitroRules();
const TeeRules& AzSnpRules();
const TeeRules& AzTdxRules();
const TeeRules& RulesOf(TeeKind tee);

// True when `policy` satisfies one of `tee`'s image anchors.
bool PinsImage(const TeeRules& tee, const v1::Policy& policy);

// "tdx.mrtd + tdx.rtmr1 + tdx.rtmr2, or ...": the anchors, for messages.
std::string DescribeAnchors(const TeeRules& tee);

// "<tee>:" followed by the hex SHA-256 of `parts` concatenated.
std::string IdentityDigest(TeeKind tee, std::initializer_list<std::string> parts);

}  // namespace teeverify::policy

#endif  // TEE_VERIFIER_POLICY_TEE_RULES_H_
