// The policy engine on SEV-SNP claims: the guest policy the host chose at launch, the four TCBs,
// provisional firmware, the firmware version and the VMPL (docs/policy.md, "SEV-SNP"). The claims
// are written out here, one field changed per case, so that each rule is seen alone.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "verifier/common/hex.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"

namespace teeverify::policy {
namespace {

const std::string kMeasurement(48, '\x5a');
// Genoa TCB_VERSION: boot_loader 10, tee 0, snp 25, microcode 84 (as the Oak Genoa report).
constexpr uint64_t kTcb = 0x541900000000000a;

Claims GuestClaims() {
  Claims c;
  c.tee = TeeKind::kSevSnp;
  c.tcb_status = std::string(kTcbStatusNotApplicable);
  snp::SnpClaims s;
  s.product = snp::Product::kGenoa;
  s.policy = 0x30000;  // SMT allowed, reserved bit 17: what an ordinary guest reports
  std::copy(kMeasurement.begin(), kMeasurement.end(), s.measurement.begin());
  s.current_tcb = s.reported_tcb = s.committed_tcb = s.launch_tcb =
      snp::DecodeTcb(kTcb, snp::Product::kGenoa);
  s.current_version = s.committed_version = {21, 55, 1};
  s.current_firmware = s.committed_firmware = "1.55.21";
  c.sev_snp = s;
  return c;
}

// A role pinning the guest's measurement, with `extra` members in its sev_snp section.
v1::Policy Role(const std::string& extra = "") {
  absl::StatusOr<v1::Policy> p = PolicyFromJson(absl::StrCat(
      R"({"tee_types":["sev-snp"],"allow_unbound_evidence":true,"sev_snp":{"measurement":[")",
      HexEncode(kMeasurement), R"("])", extra.empty() ? "" : ",", extra, "}}"));
  EXPECT_TRUE(p.ok()) << p.status();
  PolicyValidation v = ValidatePolicy(*p);
  EXPECT_TRUE(v.errors.empty()) << v.errors.front();
  return v.normalized;
}

std::vector<std::string> Fields(const Decision& d) {
  std::vector<std::string> out;
  for (const Mismatch& m : d.mismatches) out.push_back(m.field);
  return out;
}

Decision Eval(const Claims& c, const v1::Policy& p) {
  return internal::EvaluateClaims(c, p, {}, absl::UnixEpoch());
}

TEST(PolicyEngineSnpTest, AnOrdinaryGuestPassesTheDefaults) {
  const Decision d = Eval(GuestClaims(), Role());
  EXPECT_TRUE(d.allow) << (d.mismatches.empty() ? "" : d.mismatches[0].field);
}

// The issue's reproduction: guest policy 0x70000 (MIGRATE_MA set) passed a role that did not
// mention the guest policy.
TEST(PolicyEngineSnpTest, MigrateMaIsRefusedUnlessAllowed) {
  Claims c = GuestClaims();
  c.sev_snp->policy = 0x70000;
  Decision d = Eval(c, Role());
  EXPECT_FALSE(d.allow);
  ASSERT_EQ(Fields(d), std::vector<std::string>({"sev_snp.policy.migrate_ma"}));
  EXPECT_EQ(d.mismatches[0].actual, "true");
  EXPECT_EQ(d.mismatches[0].expected[0], "false (unless sev_snp.allow_migrate_ma is true)");
  EXPECT_TRUE(Eval(c, Role(R"("allow_migrate_ma":true)")).allow);
}

TEST(PolicyEngineSnpTest, CxlIsRefusedUnlessAllowed) {
  Claims c = GuestClaims();
  c.sev_snp->policy |= uint64_t{1} << 21;
  EXPECT_EQ(Fields(Eval(c, Role())), std::vector<std::string>({"sev_snp.policy.cxl_allow"}));
  EXPECT_TRUE(Eval(c, Role(R"("allow_cxl":true)")).allow);
}

struct RequiredBit {
  const char* role_flag;
  int bit;
  const char* claim;
};

class RequiredBitTest : public ::testing::TestWithParam<RequiredBit> {};

TEST_P(RequiredBitTest, RefusesAGuestWithoutTheBitOnlyWhenRequired) {
  const RequiredBit& b = GetParam();
  const v1::Policy requiring = Role(absl::StrCat("\"", b.role_flag, "\":true"));
  Claims without = GuestClaims();
  without.sev_snp->policy &= ~(uint64_t{1} << b.bit);
  Claims with = GuestClaims();
  with.sev_snp->policy |= uint64_t{1} << b.bit;
  EXPECT_TRUE(Eval(without, Role()).allow);
  EXPECT_TRUE(Eval(with, Role()).allow);
  EXPECT_EQ(Fields(Eval(without, requiring)), std::vector<std::string>({b.claim}));
  EXPECT_TRUE(Eval(with, requiring).allow);
}

INSTANTIATE_TEST_SUITE_P(
    Bits, RequiredBitTest,
    ::testing::Values(RequiredBit{"require_single_socket", 20, "sev_snp.policy.single_socket"},
                      RequiredBit{"require_mem_aes_256_xts", 22, "sev_snp.policy.mem_aes_256_xts"},
                      RequiredBit{"require_rapl_dis", 23, "sev_snp.policy.rapl_dis"},
                      RequiredBit{"require_ciphertext_hiding", 24,
                                  "sev_snp.policy.ciphertext_hiding_dram"},
                      RequiredBit{"require_page_swap_disable", 25,
                                  "sev_snp.policy.page_swap_disable"}),
    [](const auto& info) { return std::string(info.param.role_flag); });

TEST(PolicyEngineSnpTest, SmtCanBeRequiredOff) {
  const v1::Policy p = Role(R"("require_smt_disabled":true)");
  EXPECT_EQ(Fields(Eval(GuestClaims(), p)), std::vector<std::string>({"sev_snp.policy.smt"}));
  Claims no_smt = GuestClaims();
  no_smt.sev_snp->policy = 0x20000;
  EXPECT_TRUE(Eval(no_smt, p).allow);
}

TEST(PolicyEngineSnpTest, AbiMinimumComparesMajorThenMinor) {
  Claims c = GuestClaims();
  c.sev_snp->policy = 0x3011f;  // ABI 1.31
  EXPECT_TRUE(Eval(c, Role(R"("min_abi_major":1,"min_abi_minor":31)")).allow);
  EXPECT_TRUE(Eval(c, Role(R"("min_abi_major":0,"min_abi_minor":200)")).allow);
  const Decision d = Eval(c, Role(R"("min_abi_major":1,"min_abi_minor":32)"));
  ASSERT_EQ(Fields(d), std::vector<std::string>({"sev_snp.policy.abi"}));
  EXPECT_EQ(d.mismatches[0].expected[0], ">= 1.32");
  EXPECT_EQ(d.mismatches[0].actual, "1.31");
  EXPECT_FALSE(Eval(c, Role(R"("min_abi_major":2)")).allow);
}

TEST(PolicyEngineSnpTest, EachTcbMinimumComparesItsOwnTcb) {
  Claims c = GuestClaims();
  c.sev_snp->launch_tcb.microcode = 80;
  // The other three TCBs still have microcode 84; only the launch minimum sees 80.
  for (const char* min : {"min_reported_tcb", "min_committed_tcb", "min_current_tcb"}) {
    EXPECT_TRUE(Eval(c, Role(absl::StrCat("\"", min, R"(":{"microcode":84})"))).allow) << min;
  }
  const Decision d = Eval(c, Role(R"("min_launch_tcb":{"microcode":84})"));
  ASSERT_EQ(Fields(d), std::vector<std::string>({"sev_snp.launch_tcb.microcode"}));
  EXPECT_EQ(d.mismatches[0].actual, "80");
  c = GuestClaims();
  c.sev_snp->committed_tcb.snp = 24;
  c.sev_snp->committed_tcb.raw = 0x541800000000000a;
  c.sev_snp->reported_tcb = c.sev_snp->launch_tcb = c.sev_snp->committed_tcb;
  c.sev_snp->current_tcb.snp = 24;  // keep current = committed: not provisional
  c.sev_snp->current_tcb.raw = c.sev_snp->committed_tcb.raw;
  EXPECT_EQ(Fields(Eval(c, Role(R"("min_committed_tcb":{"snp":25})"))),
            std::vector<std::string>({"sev_snp.committed_tcb.snp"}));
}

TEST(PolicyEngineSnpTest, ProvisionalFirmwareIsRefusedUnlessAllowed) {
  Claims c = GuestClaims();
  c.sev_snp->current_tcb = snp::DecodeTcb(0x551900000000000a, snp::Product::kGenoa);
  c.sev_snp->current_version = {22, 55, 1};
  c.sev_snp->current_firmware = "1.55.22";
  EXPECT_EQ(Fields(Eval(c, Role())),
            std::vector<std::string>({"sev_snp.current_tcb", "sev_snp.current_firmware"}));
  EXPECT_TRUE(Eval(c, Role(R"("allow_provisional_firmware":true)")).allow);
  // A minimum on the current TCB sees the provisional one; the committed minimum does not.
  EXPECT_TRUE(Eval(c, Role(R"("allow_provisional_firmware":true,"min_current_tcb":{"microcode":85})"))
                  .allow);
  EXPECT_FALSE(
      Eval(c, Role(R"("allow_provisional_firmware":true,"min_committed_tcb":{"microcode":85})"))
          .allow);
}

TEST(PolicyEngineSnpTest, MinimumFirmwareComparesTheCommittedVersion) {
  const Claims c = GuestClaims();  // committed 1.55.21
  for (const char* ok : {"1.55", "1.55.21", "1.54.200", "0.99"}) {
    EXPECT_TRUE(Eval(c, Role(absl::StrCat(R"("min_firmware":")", ok, "\""))).allow) << ok;
  }
  for (const char* bad : {"1.56", "1.55.22", "2.0"}) {
    const Decision d = Eval(c, Role(absl::StrCat(R"("min_firmware":")", bad, "\"")));
    ASSERT_EQ(Fields(d), std::vector<std::string>({"sev_snp.committed_firmware"})) << bad;
    EXPECT_EQ(d.mismatches[0].actual, "1.55.21");
  }
}

TEST(PolicyEngineSnpTest, MaxVmplIsZeroWhenUnset) {
  Claims c = GuestClaims();
  c.sev_snp->vmpl = 1;
  const Decision d = Eval(c, Role());
  ASSERT_EQ(Fields(d), std::vector<std::string>({"sev_snp.vmpl"}));
  EXPECT_EQ(d.mismatches[0].expected[0], "<= 0");
  EXPECT_TRUE(Eval(c, Role(R"("max_vmpl":1)")).allow);
}

TEST(PolicyEngineSnpTest, EveryMismatchIsListed) {
  Claims c = GuestClaims();
  c.sev_snp->policy = 0x70000 | (uint64_t{1} << 21);
  c.sev_snp->vmpl = 2;
  c.sev_snp->current_tcb.raw = 0;
  const Decision d = Eval(c, Role(R"("min_firmware":"2.0","require_rapl_dis":true)"));
  EXPECT_EQ(Fields(d), std::vector<std::string>({"sev_snp.current_tcb", "sev_snp.committed_firmware",
                                                 "sev_snp.policy.migrate_ma",
                                                 "sev_snp.policy.cxl_allow",
                                                 "sev_snp.policy.rapl_dis", "sev_snp.vmpl"}));
}

}  // namespace
}  // namespace teeverify::policy
