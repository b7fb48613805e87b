#include "verifier/policy/role_json.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/policy/policy_validation.h"

namespace teeverify::policy {
namespace {

using ::teeverify::testing::ReadTestData;

const std::string kHex48(96, 'a');

TEST(RoleJsonTest, FlattenedFieldsFillTheNestedPolicy) {
  absl::StatusOr<v1::Policy> p = PolicyFromRoleJson(absl::StrCat(
      R"({"name":"r","tee_types":"sev-snp, tdx","sev_snp_measurement":[")", kHex48,
      R"("],"sev_snp_min_reported_tcb_tee":"3","sev_snp_max_vmpl":0,"tdx_mrtd":")", kHex48,
      R"(","allow_debug":"false","max_evidence_age_seconds":60,"token_ttl":"15m",)"
      R"("token_policies":["a"]})"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tee_types_size(), 2);
  EXPECT_EQ(p->tee_types(1), "tdx");
  EXPECT_EQ(p->sev_snp().measurement(0), kHex48);
  EXPECT_EQ(p->sev_snp().min_reported_tcb().tee(), 3u);
  EXPECT_TRUE(p->sev_snp().has_max_vmpl());
  EXPECT_EQ(p->tdx().mrtd(0), kHex48);
  EXPECT_FALSE(p->allow_debug());
  EXPECT_EQ(p->max_evidence_age_seconds(), 60);
}

TEST(RoleJsonTest, RefusesWhatVaultWouldRefuse) {
  struct Case {
    const char* json;
    const char* error;
  };
  const Case cases[] = {
      {R"([])", "role JSON: expected a JSON object"},
      {R"({"tdx_mrtdd":[]})", "role JSON: tdx_mrtdd: unknown role field"},
      {R"({"tdx":{"mrtd":[]}})", "role JSON: tdx: unknown role field"},
      {R"({"tee_types":[1]})", "role JSON: tee_types: expected a list of strings"},
      {R"({"allow_debug":"yes"})", "role JSON: allow_debug: expected true or false"},
      {R"({"sev_snp_max_vmpl":-1})", "role JSON: sev_snp_max_vmpl: -1 is out of range"},
      {R"({"sev_snp_min_guest_svn":4294967296})",
       "role JSON: sev_snp_min_guest_svn: 4294967296 is out of range"},
      {R"({"max_evidence_age_seconds":"5m"})",
       "role JSON: max_evidence_age_seconds: expected a whole number"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::Policy> p = PolicyFromRoleJson(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(ReasonOf(p.status()), v1::REASON_BAD_REQUEST);
    EXPECT_EQ(p.status().message(), c.error);
  }
}

// A role is flat; 64 KiB of nested arrays cost ten times a role of that size to parse
// (tests/bench/parser_bench.cc), so they are refused by a scan before parsing.
TEST(RoleJsonTest, DeepNestingIsRefusedNamingTheFieldAndTheLimit) {
  const std::string deep =
      absl::StrCat(R"({"tee_types":)", std::string(30000, '['), std::string(30000, ']'),
                   "}");
  ASSERT_LE(deep.size(), kMaxRoleJsonSize);
  absl::StatusOr<v1::Policy> p = PolicyFromRoleJson(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ReasonOf(p.status()), v1::REASON_BAD_REQUEST);
  EXPECT_EQ(p.status().message(),
            "role JSON: tee_types: nesting deeper than the 3 levels of arrays and objects accepted "
            "(at byte 15)");
}

TEST(RoleJsonTest, RoleOverTheSizeBoundIsRefusedUnparsed) {
  const std::string head = R"({"tee_types":["tdx"],"tdx_mrtd":[)";
  std::string list;
  while (head.size() + list.size() + 2 * (kHex48.size() + 4) <= kMaxRoleJsonSize) {
    list += absl::StrCat("\"", kHex48, "\",");
  }
  const std::string at_bound = absl::StrCat(head, list, "\"", kHex48, "\"]}");
  ASSERT_LE(at_bound.size(), kMaxRoleJsonSize);
  EXPECT_TRUE(PolicyFromRoleJson(at_bound).ok());
  const std::string over = at_bound + std::string(kMaxRoleJsonSize + 1 - at_bound.size(), ' ');
  absl::StatusOr<v1::Policy> p = PolicyFromRoleJson(over);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "role JSON: 65537 bytes, more than the 65536 accepted");
}

// The example roles an admin starts from are valid as written.
TEST(RoleJsonTest, PolicyExamplesAreValidRoles) {
  for (const char* tee : {"tdx", "snp", "nitro"}) {
    const std::string file = absl::StrCat("../../policy_examples/mcp-server-", tee, ".role.json");
    absl::StatusOr<v1::Policy> p = PolicyFromRoleJson(ReadTestData(file));
    ASSERT_TRUE(p.ok()) << file << ": " << p.status();
    const PolicyValidation v = ValidatePolicy(*p);
    EXPECT_TRUE(v.errors.empty()) << file << ": " << v.errors.front();
  }
}

}  // namespace
}  // namespace teeverify::policy
