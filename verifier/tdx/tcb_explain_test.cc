#include "verifier/tdx/tcb_explain.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/tdx/pck_chain.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/testing/tdx_tcb_levels.h"

namespace teeverify::tdx {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::TestTcbLevel;
using S = TcbStatus;

std::vector<std::string> Rendered(const std::vector<TcbExplanation::Entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(absl::StrCat(e.scope, " ", e.svn.component, " ", e.svn.have, "<", e.svn.need, " ",
                               TcbStatusName(e.level_status)));
  }
  return out;
}

// Three platform levels (a recovery on 2024-11-13 and one on 2024-03-13), a TDX_01 module
// identity and a QE identity with two levels each.
class TcbExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    info_.tcb_levels = {
        TestTcbLevel({3, 3}, 13, {5, 0, 4}, S::kUpToDate, {}, At("2024-11-13T00:00:00Z")),
        TestTcbLevel({3, 3}, 13, {5, 0, 3}, S::kOutOfDate, {"SA-A"}, At("2024-03-13T00:00:00Z")),
        TestTcbLevel({2, 2}, 11, {5, 0, 2}, S::kOutOfDate, {"SA-A", "SA-B"},
                     At("2023-08-09T00:00:00Z"))};
    info_.tdx_module_identities.push_back(TdxModuleIdentity{
        "TDX_01", {}, {}, {}, {TdxModuleTcbLevel{4, At("2024-03-13T00:00:00Z"), S::kUpToDate, {}},
         TdxModuleTcbLevel{2, At("2023-08-09T00:00:00Z"), S::kOutOfDate, {"SA-M"}}}});
    qe_.tcb_levels = {QeTcbLevel{8, At("2024-03-13T00:00:00Z"), S::kUpToDate, {}},
                      QeTcbLevel{4, At("2023-02-15T00:00:00Z"), S::kOutOfDate, {"SA-Q"}}};
    pck_.tcb_component_svns = {3, 3};
    pck_.pce_svn = 13;
    report_.tee_tcb_svn = {6, 1, 4};
  }
  TcbExplanation Explain(uint16_t qe_isvsvn = 8) {
    return ExplainTcb(info_, qe_, pck_, report_, qe_isvsvn);
  }

  TcbInfo info_;
  EnclaveIdentity qe_;
  PckExtensions pck_;
  TdReport report_;
};

TEST_F(TcbExplainTest, UpToDateHasNoShortfall) {
  const TcbExplanation e = Explain();
  ASSERT_EQ(e.scopes.size(), 3u);
  EXPECT_EQ(e.scopes[0].matched, 0u);
  EXPECT_TRUE(e.Shortfall().empty());
  EXPECT_FALSE(e.OutOfDateSince().has_value());
}

TEST_F(TcbExplainTest, OneRecoveryBehindNamesTheShortTdxComponent) {
  report_.tee_tcb_svn = {6, 1, 3};
  const TcbExplanation e = Explain();
  EXPECT_EQ(e.scopes[0].matched, 1u);
  EXPECT_EQ(Rendered(e.Shortfall()),
            std::vector<std::string>({"platform tee_tcb_svn[2] 3<4 UpToDate"}));
  EXPECT_EQ(e.Shortfall()[0].level_tcb_date, At("2024-11-13T00:00:00Z"));
  EXPECT_EQ(e.OutOfDateSince(), At("2024-11-13T00:00:00Z"));
}

TEST_F(TcbExplainTest, TwoRecoveriesBehindCountsFromTheFirstMissedLevel) {
  pck_.tcb_component_svns = {2, 2};
  pck_.pce_svn = 11;
  const TcbExplanation e = Explain();
  EXPECT_EQ(e.scopes[0].matched, 2u);
  // Short of the next higher level (1), not of the top one.
  EXPECT_EQ(Rendered(e.Shortfall()),
            std::vector<std::string>({"platform cpusvn[0] 2<3 OutOfDate",
                                      "platform cpusvn[1] 2<3 OutOfDate",
                                      "platform pcesvn 11<13 OutOfDate"}));
  EXPECT_EQ(e.Shortfall()[0].level_advisory_ids, std::vector<std::string>({"SA-A"}));
  EXPECT_EQ(e.OutOfDateSince(), At("2024-03-13T00:00:00Z"));
}

TEST_F(TcbExplainTest, ModuleAndQeScopesAndTheEarliestDate) {
  report_.tee_tcb_svn = {3, 1, 4};
  const TcbExplanation e = Explain(/*qe_isvsvn=*/5);
  EXPECT_EQ(Rendered(e.Shortfall()),
            std::vector<std::string>({"tdx_module tdx_module_svn 3<4 UpToDate",
                                      "qe qe_isvsvn 5<8 UpToDate"}));
  // Module became out of date 2024-03-13, the QE on 2024-03-13 too; the earliest counts.
  EXPECT_EQ(e.OutOfDateSince(), At("2024-03-13T00:00:00Z"));
}

TEST_F(TcbExplainTest, NoLevelMatchedNamesWhatRulesOutEachLevel) {
  pck_.tcb_component_svns = {1, 3};
  const TcbExplanation e = Explain();
  ASSERT_FALSE(e.scopes[0].matched.has_value());
  ASSERT_EQ(e.scopes[0].unmet.size(), 3u);
  EXPECT_EQ(e.scopes[0].unmet[2].short_components[0].component, "cpusvn[0]");
  EXPECT_TRUE(e.Shortfall().empty());  // no next higher level without a matched one
  const std::string text = ExplanationText(e, info_);
  EXPECT_TRUE(absl::StrContains(text, "platform: matches NO TCB level")) << text;
  EXPECT_TRUE(absl::StrContains(text, "level 2 (OutOfDate, tcbDate 2023-08-09T00:00:00Z): cpusvn[0] 1 < 2"))
      << text;
}

TEST_F(TcbExplainTest, OutOfDateTopLevelGivesNoDate) {
  info_.tcb_levels.erase(info_.tcb_levels.begin(), info_.tcb_levels.begin() + 2);
  pck_.tcb_component_svns = {2, 2};
  pck_.pce_svn = 11;
  report_.tee_tcb_svn = {6, 1, 2};
  EXPECT_FALSE(Explain().OutOfDateSince().has_value());
}

TEST_F(TcbExplainTest, MissingModuleIdentityIsAProblemNotAMatch) {
  report_.tee_tcb_svn = {6, 2, 4};
  const TcbExplanation e = Explain();
  ASSERT_EQ(e.scopes.size(), 3u);
  EXPECT_TRUE(absl::StrContains(e.scopes[1].problem, "TDX_02"));
}

// --- Real vectors (MANIFEST caveat 5: neither platform meets any TCB level of its collateral).
// The expected values were worked out by hand from the TCB info JSON, the quote's TEE_TCB_SVN
// bytes and the PCK certificate's SGX extension (openssl asn1parse), and are written out here. ---

struct RealVector {
  const char* quote;
  const char* collateral;
  std::vector<std::vector<std::string>> ruled_out_by;  // per platform level, in order
  std::vector<std::string> scopes;                    // "<scope> <matched level or none>"
};

std::vector<std::string> ShortList(const UnmetLevel& level) {
  std::vector<std::string> out;
  for (const SvnShortfall& s : level.short_components) {
    out.push_back(absl::StrCat(s.component, " ", s.have, "<", s.need));
  }
  return out;
}

template <typename T>
T ParseBody(const std::string& path, absl::string_view key,
            absl::StatusOr<T> (*parse)(absl::string_view, absl::string_view)) {
  absl::StatusOr<SignedCollateral> s = ParseSignedCollateral(ReadTestData(path), key, path);
  EXPECT_TRUE(s.ok()) << s.status();
  absl::StatusOr<T> parsed = parse(s->body, path);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *parsed;
}

TEST(TcbExplainRealTest, OutdatedQuotesNameWhatRulesOutEachLevel) {
  const RealVector vectors[] = {
      // dcap-qvl tdx_quote_outdated: PCK SGX components [3,3,2,2,4,1,0,3,0..], PCESVN 13,
      // TEE_TCB_SVN [7,1,3,0..] (TDX_01 SVN 7), QE ISVSVN 7; TCB info FMSPC 90C06F000000,
      // evaluation number 18, whose three levels all need SGX component 7 = 5.
      {"tdx/quotes/dcap-qvl_tdx_quote_outdated_v5.bin", "dcap-qvl-2026-02",
       {{"cpusvn[7] 3<5"}, {"cpusvn[7] 3<5"}, {"cpusvn[7] 3<5"}},
       {"platform none", "tdx_module 0", "qe 0"}},
      // oasis quote_v4_tdx_ecdsa_p256_out_of_date (= go-tdx-guest SPR_E4 without its trailing
      // bytes): PCK SGX components [3,3,2,2,2,1,0,2,0..], PCESVN 11, TEE_TCB_SVN [3,0,4,0..]
      // (TDX 1.0 module: all 16 bytes compared), QE ISVSVN 4; TCB info FMSPC 50806F000000,
      // evaluation number 15: both levels need SGX [5,5,2,2,3,1,0,3] and TDX [3,0,5].
      {"tdx/quotes/oasis_quote_v4_tdx_ecdsa_p256_out_of_date.bin", "go-tdx-guest-2023-06",
       {{"cpusvn[0] 3<5", "cpusvn[1] 3<5", "cpusvn[4] 2<3", "cpusvn[7] 2<3", "tee_tcb_svn[2] 4<5"},
        {"cpusvn[0] 3<5", "cpusvn[1] 3<5", "cpusvn[4] 2<3", "cpusvn[7] 2<3", "tee_tcb_svn[2] 4<5"}},
       {"platform none", "qe 0"}},
      {"tdx/quotes/go-tdx-guest_tdx_prod_quote_SPR_E4.bin", "go-tdx-guest-2023-06",
       {{"cpusvn[0] 3<5", "cpusvn[1] 3<5", "cpusvn[4] 2<3", "cpusvn[7] 2<3", "tee_tcb_svn[2] 4<5"},
        {"cpusvn[0] 3<5", "cpusvn[1] 3<5", "cpusvn[4] 2<3", "cpusvn[7] 2<3", "tee_tcb_svn[2] 4<5"}},
       {"platform none", "qe 0"}},
  };
  for (const RealVector& v : vectors) {
    SCOPED_TRACE(v.quote);
    std::string trailing;
    absl::StatusOr<Quote> quote = ParseQuoteIgnoringTrailingBytes(ReadTestData(v.quote), &trailing);
    ASSERT_TRUE(quote.ok()) << quote.status();
    absl::StatusOr<PckExtensions> pck = InspectPckChain(quote->certification.pck_chain_pem);
    ASSERT_TRUE(pck.ok());
    const std::string dir = absl::StrCat("tdx/collateral/", v.collateral, "/");
    const TcbInfo info = ParseBody<TcbInfo>(dir + "tcb_info_response.json", "tcbInfo", &ParseTcbInfo);
    const EnclaveIdentity qe = ParseBody<EnclaveIdentity>(dir + "qe_identity_response.json",
                                                          "enclaveIdentity", &ParseEnclaveIdentity);
    const TcbExplanation e =
        ExplainTcb(info, qe, *pck, quote->body, quote->certification.qe_report.isv_svn);
    std::vector<std::string> scopes;
    for (const ScopeExplanation& s : e.scopes) {
      scopes.push_back(absl::StrCat(s.scope, " ", s.matched ? absl::StrCat(*s.matched) : "none"));
    }
    EXPECT_EQ(scopes, v.scopes);
    const ScopeExplanation& platform = e.scopes[0];
    ASSERT_EQ(platform.unmet.size(), v.ruled_out_by.size());
    for (size_t i = 0; i < platform.unmet.size(); ++i) {
      EXPECT_EQ(ShortList(platform.unmet[i]), v.ruled_out_by[i]) << "level " << i;
    }
    EXPECT_TRUE(e.Shortfall().empty());
    EXPECT_TRUE(absl::StrContains(ExplanationText(e, info), "platform: matches NO TCB level"));
  }
}

}  // namespace
}  // namespace teeverify::tdx
