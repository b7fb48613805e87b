#include "verifier/tdx/tcb_evaluation.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/testing/tdx_tcb_levels.h"

namespace teeverify::tdx {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::TestTcbLevel;

// --- Convergence: QVL's tables, every platform status against every component status. ---

struct ConvergeCase {
  TcbStatus platform;
  TcbStatus component;
  TcbStatus expected;
};

class ConvergeTest : public ::testing::TestWithParam<ConvergeCase> {};

TEST_P(ConvergeTest, MatchesQvl) {
  EXPECT_EQ(Converge(GetParam().platform, GetParam().component), GetParam().expected)
      << TcbStatusName(GetParam().platform) << " + " << TcbStatusName(GetParam().component);
}

using S = TcbStatus;
INSTANTIATE_TEST_SUITE_P(
    Table, ConvergeTest,
    ::testing::Values(
        ConvergeCase{S::kUpToDate, S::kUpToDate, S::kUpToDate},
        ConvergeCase{S::kSWHardeningNeeded, S::kUpToDate, S::kSWHardeningNeeded},
        ConvergeCase{S::kConfigurationNeeded, S::kUpToDate, S::kConfigurationNeeded},
        ConvergeCase{S::kConfigurationAndSWHardeningNeeded, S::kUpToDate,
                     S::kConfigurationAndSWHardeningNeeded},
        ConvergeCase{S::kOutOfDate, S::kUpToDate, S::kOutOfDate},
        ConvergeCase{S::kOutOfDateConfigurationNeeded, S::kUpToDate,
                     S::kOutOfDateConfigurationNeeded},
        ConvergeCase{S::kRevoked, S::kUpToDate, S::kRevoked},
        ConvergeCase{S::kUpToDate, S::kOutOfDate, S::kOutOfDate},
        ConvergeCase{S::kSWHardeningNeeded, S::kOutOfDate, S::kOutOfDate},
        ConvergeCase{S::kConfigurationNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
        ConvergeCase{S::kConfigurationAndSWHardeningNeeded, S::kOutOfDate,
                     S::kOutOfDateConfigurationNeeded},
        ConvergeCase{S::kOutOfDate, S::kOutOfDate, S::kOutOfDate},
        ConvergeCase{S::kOutOfDateConfigurationNeeded, S::kOutOfDate,
                     S::kOutOfDateConfigurationNeeded},
        ConvergeCase{S::kRevoked, S::kOutOfDate, S::kRevoked},
        ConvergeCase{S::kUpToDate, S::kRevoked, S::kRevoked},
        ConvergeCase{S::kConfigurationNeeded, S::kRevoked, S::kRevoked},
        ConvergeCase{S::kOutOfDate, S::kRevoked, S::kRevoked}));

TEST(TcbStatusTest, NamesRoundTrip) {
  for (S s : {S::kUpToDate, S::kSWHardeningNeeded, S::kConfigurationNeeded,
              S::kConfigurationAndSWHardeningNeeded, S::kOutOfDate,
              S::kOutOfDateConfigurationNeeded, S::kRevoked}) {
    EXPECT_EQ(ParseTcbStatus(TcbStatusName(s)), s);
  }
  EXPECT_FALSE(ParseTcbStatus("uptodate").has_value());
}

// --- Real collateral that has no CRLs (oasis-core 2024; go-tdx-guest 2026 v5 TCB info): the
// TCB evaluation and the collateral signature are as far as it allows. ---

PckExtensions PckOf(const Quote& quote) {
  absl::StatusOr<PckExtensions> pck = InspectPckChain(quote.certification.pck_chain_pem);
  EXPECT_TRUE(pck.ok()) << pck.status();
  return pck.ok() ? *pck : PckExtensions{};
}

template <typename T>
T ParseSigned(const std::string& path, absl::string_view key,
              absl::StatusOr<T> (*parse)(absl::string_view, absl::string_view),
              SignedCollateral* out = nullptr) {
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(ReadTestData(path), key, path);
  EXPECT_TRUE(s.ok()) << s.status();
  if (out != nullptr && s.ok()) *out = *s;
  absl::StatusOr<T> parsed = parse(s->body, path);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : T{};
}

TEST(TcbEvaluationTest, OasisQuoteIsUpToDateUnderOasis2024Collateral) {
  absl::StatusOr<Quote> quote = ParseQuote(ReadTestData("tdx/quotes/oasis_quote_v4_tdx_ecdsa_p256.bin"));
  ASSERT_TRUE(quote.ok());
  SignedCollateral signed_tcb_info;
  const TcbInfo info = ParseSigned<TcbInfo>("tdx/extra/oasis_tcb_info_v3_tdx_fmspc_C0806F000000.json",
                                            "tcbInfo", &ParseTcbInfo, &signed_tcb_info);
  const EnclaveIdentity qe_identity = ParseSigned<EnclaveIdentity>(
      "tdx/extra/oasis_qe_identity_v2_tdx2.json", "enclaveIdentity", &ParseEnclaveIdentity);

  // The 2024 TCB info is signed by the (2018) TCB Signing key.
  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParsePemCertificates(ReadTestData("tdx/extra/oasis_tcb_signing_chain_2018.pem"), "chain");
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(VerifyEcdsaRaw(X509_get0_pubkey((*chain)[0].get()), EVP_sha256(),
                             signed_tcb_info.body, AsView(signed_tcb_info.signature),
                             ByteOrder::kBigEndian, "tcb info")
                  .ok());

  const PckExtensions pck = PckOf(*quote);
  EXPECT_EQ(pck.fmspc, info.fmspc);
  absl::StatusOr<QeEvaluation> qe = EvaluateQeIdentity(qe_identity, quote->certification.qe_report);
  ASSERT_TRUE(qe.ok()) << qe.status();
  absl::StatusOr<TcbEvaluation> tcb = EvaluateTcb(info, pck, quote->body, *qe);
  ASSERT_TRUE(tcb.ok()) << tcb.status();
  EXPECT_EQ(tcb->status, TcbStatus::kUpToDate);
  EXPECT_EQ(tcb->module_status, TcbStatus::kUpToDate);  // TDX_01, SVN 5 >= 4
  EXPECT_EQ(tcb->tcb_date, At("2024-03-13T00:00:00Z"));
  EXPECT_TRUE(tcb->advisory_ids.empty());
}

TEST(TcbEvaluationTest, V5SampleIsUpToDateUnderGoTdxGuestV5TcbInfo) {
  absl::StatusOr<Quote> quote = ParseQuote(ReadTestData("tdx/quotes/go-tdx-guest_quote_v5_sample.bin"));
  ASSERT_TRUE(quote.ok());
  const TcbInfo info = ParseSigned<TcbInfo>("tdx/extra/go-tdx-guest_sample_tcbinfo_response_v5.json",
                                            "tcbInfo", &ParseTcbInfo);
  absl::StatusOr<TcbEvaluation> tcb =
      EvaluateTcb(info, PckOf(*quote), quote->body, QeEvaluation{TcbStatus::kUpToDate, {}});
  ASSERT_TRUE(tcb.ok()) << tcb.status();
  EXPECT_EQ(tcb->status, TcbStatus::kUpToDate);
  EXPECT_EQ(tcb->tcb_date, At("2024-11-13T00:00:00Z"));
}

// --- Synthetic TCB info for the cases no real vector has. ---

class SyntheticTcbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    info_.tdx_module_identities.push_back(TdxModuleIdentity{
        "TDX_01", {}, {}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {TdxModuleTcbLevel{4, {}, S::kUpToDate, {}},
         TdxModuleTcbLevel{2, {}, S::kOutOfDate, {"SA-MODULE", "SA-SHARED"}}}});
    info_.tdx_module.attributes_mask = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    info_.tcb_levels = {
        TestTcbLevel({3, 3}, 13, {5, 0, 3}, S::kUpToDate),
        TestTcbLevel({2, 2}, 13, {5, 0, 2}, S::kConfigurationNeeded, {"SA-PLATFORM", "SA-SHARED"}),
        TestTcbLevel({2, 2}, 5, {5, 0, 2}, S::kOutOfDate, {"SA-OLD"})};
    pck_.tcb_component_svns = {3, 3};
    pck_.pce_svn = 13;
    report_.tee_tcb_svn = {6, 1, 3};
  }

  absl::StatusOr<TcbEvaluation> Evaluate(QeEvaluation qe = {S::kUpToDate, {}}) {
    return EvaluateTcb(info_, pck_, report_, qe);
  }

  TcbInfo info_;
  PckExtensions pck_;
  TdReport report_;
};

TEST_F(SyntheticTcbTest, PicksTheHighestReachedLevel) {
  absl::StatusOr<TcbEvaluation> tcb = Evaluate();
  ASSERT_TRUE(tcb.ok()) << tcb.status();
  EXPECT_EQ(tcb->status, S::kUpToDate);
  pck_.tcb_component_svns = {2, 9};
  tcb = Evaluate();
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ(tcb->platform_status, S::kConfigurationNeeded);
  pck_.pce_svn = 12;
  tcb = Evaluate();
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ(tcb->status, S::kOutOfDate);
  EXPECT_EQ(tcb->advisory_ids, std::vector<std::string>({"SA-OLD"}));
}

TEST_F(SyntheticTcbTest, ModuleVersionBytesAreSkippedWhenTheModuleHasAnIdentity) {
  // TEE_TCB_SVN[0]=6 is far above the level's 5 but bytes 0..1 belong to the module; byte 2
  // decides the platform level.
  report_.tee_tcb_svn = {6, 1, 2};
  absl::StatusOr<TcbEvaluation> tcb = Evaluate();
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ(tcb->platform_status, S::kConfigurationNeeded);
  // A TDX 1.0 module (version 0) compares all sixteen bytes: 4 < 5 at byte 0 reaches no level.
  report_.tee_tcb_svn = {4, 0, 9};
  tcb = Evaluate();
  ASSERT_FALSE(tcb.ok());
  EXPECT_EQ(ReasonOf(tcb.status()), v1::REASON_TCB_LEVEL_NOT_SUPPORTED);
  EXPECT_TRUE(absl::StrContains(tcb.status().message(), "TEE_TCB_SVN 04000900"));
}

TEST_F(SyntheticTcbTest, NoLevelIsTcbLevelNotSupported) {
  pck_.tcb_component_svns = {1, 1};
  absl::StatusOr<TcbEvaluation> tcb = Evaluate();
  ASSERT_FALSE(tcb.ok());
  EXPECT_EQ(ReasonOf(tcb.status()), v1::REASON_TCB_LEVEL_NOT_SUPPORTED);
  EXPECT_TRUE(absl::StrContains(tcb.status().message(),
                                "PCK SGX TCB components [1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0] with PCESVN 13"));
}

TEST_F(SyntheticTcbTest, OutOfDateModuleMakesTheWholeOutOfDateAndAddsItsAdvisories) {
  report_.tee_tcb_svn = {3, 1, 3};
  absl::StatusOr<TcbEvaluation> tcb = Evaluate();
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ(tcb->module_status, S::kOutOfDate);
  EXPECT_EQ(tcb->status, S::kOutOfDate);
  EXPECT_EQ(tcb->advisory_ids, std::vector<std::string>({"SA-MODULE", "SA-SHARED"}));
  // With a platform that needs configuration, advisories are merged without duplicates.
  pck_.tcb_component_svns = {2, 2};
  tcb = Evaluate({S::kOutOfDate, {"SA-QE"}});
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ(tcb->status, S::kOutOfDateConfigurationNeeded);
  EXPECT_EQ(tcb->advisory_ids,
            std::vector<std::string>({"SA-PLATFORM", "SA-SHARED", "SA-MODULE", "SA-QE"}));
}

TEST_F(SyntheticTcbTest, ModuleIdentityProblems) {
  report_.tee_tcb_svn = {6, 3, 3};  // TDX_03 is not listed
  absl::StatusOr<TcbEvaluation> tcb = Evaluate();
  ASSERT_FALSE(tcb.ok());
  EXPECT_EQ(ReasonOf(tcb.status()), v1::REASON_IDENTITY_MISMATCH);
  EXPECT_TRUE(absl::StrContains(tcb.status().message(), "TDX module identity TDX_03"));

  report_.tee_tcb_svn = {1, 1, 3};  // SVN below every TDX_01 level
  tcb = Evaluate();
  ASSERT_FALSE(tcb.ok());
  EXPECT_EQ(ReasonOf(tcb.status()), v1::REASON_TCB_LEVEL_NOT_SUPPORTED);

  report_.tee_tcb_svn = {6, 1, 3};
  report_.mr_signer_seam[0] = 1;
  tcb = Evaluate();
  ASSERT_FALSE(tcb.ok());
  EXPECT_TRUE(absl::StrContains(tcb.status().message(), "MRSIGNERSEAM"));

  report_.mr_signer_seam[0] = 0;
  report_.seam_attributes[7] = 0x80;
  tcb = Evaluate();
  ASSERT_FALSE(tcb.ok());
  EXPECT_TRUE(absl::StrContains(tcb.status().message(), "SEAM_ATTRIBUTES"));
}

TEST_F(SyntheticTcbTest, RevokedQeRevokesTheWhole) {
  absl::StatusOr<TcbEvaluation> tcb = Evaluate({S::kRevoked, {}});
  ASSERT_TRUE(tcb.ok());
  EXPECT_EQ(tcb->status, S::kRevoked);
}

class QeIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    identity_.mr_signer.fill(0xdc);
    identity_.isv_prod_id = 2;
    identity_.misc_select_mask = {0xff, 0xff, 0xff, 0xff};
    identity_.attributes = {0x11};
    identity_.attributes_mask = {0xfb, 0xff};
    identity_.tcb_levels = {QeTcbLevel{8, {}, S::kUpToDate, {}},
                            QeTcbLevel{6, {}, S::kSWHardeningNeeded, {"SA-QE6"}},
                            QeTcbLevel{4, {}, S::kRevoked, {}}};
    qe_.mr_signer.fill(0xdc);
    qe_.isv_prod_id = 2;
    qe_.attributes = {0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07};  // bit 2 masked out
    qe_.isv_svn = 9;
  }
  EnclaveIdentity identity_;
  SgxReportBody qe_;
};

TEST_F(QeIdentityTest, StatusComesFromTheFirstReachedLevel) {
  absl::StatusOr<QeEvaluation> e = EvaluateQeIdentity(identity_, qe_);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->status, S::kUpToDate);
  qe_.isv_svn = 7;
  e = EvaluateQeIdentity(identity_, qe_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->status, S::kOutOfDate);  // any non-UpToDate, non-Revoked QE level is OutOfDate
  EXPECT_EQ(e->advisory_ids, std::vector<std::string>({"SA-QE6"}));
  qe_.isv_svn = 4;
  EXPECT_EQ(EvaluateQeIdentity(identity_, qe_)->status, S::kRevoked);
  qe_.isv_svn = 3;
  e = EvaluateQeIdentity(identity_, qe_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(ReasonOf(e.status()), v1::REASON_TCB_LEVEL_NOT_SUPPORTED);
  EXPECT_TRUE(absl::StrContains(e.status().message(), "ISVSVN 3 is below every TD_QE"));
}

TEST_F(QeIdentityTest, EveryIdentityFieldIsChecked) {
  struct Edit {
    const char* field;
    void (*apply)(SgxReportBody*);
  };
  const Edit edits[] = {
      {"MRSIGNER", [](SgxReportBody* q) { q->mr_signer[31] ^= 1; }},
      {"ISVPRODID", [](SgxReportBody* q) { q->isv_prod_id = 3; }},
      {"MISCSELECT", [](SgxReportBody* q) { q->misc_select[0] = 1; }},
      {"ATTRIBUTES", [](SgxReportBody* q) { q->attributes[0] = 0x13; }},
  };
  for (const Edit& edit : edits) {
    SgxReportBody qe = qe_;
    edit.apply(&qe);
    absl::StatusOr<QeEvaluation> e = EvaluateQeIdentity(identity_, qe);
    ASSERT_FALSE(e.ok()) << edit.field;
    EXPECT_EQ(ReasonOf(e.status()), v1::REASON_IDENTITY_MISMATCH) << edit.field;
    EXPECT_TRUE(absl::StrContains(e.status().message(), edit.field)) << e.status();
  }
}

}  // namespace
}  // namespace teeverify::tdx
