// TEST-ONLY: a gtest fixture over the TDX test platform (tdx_test_tee.h) that the policy tests
// on test TDX evidence start from: the platform, a TdxVerifier trusting only its test root, its
// collateral (TCB info on which the default report is UpToDate) and its MRTD in hex.
#ifndef TEE_VERIFIER_TESTING_TDX_TEST_FIXTURE_H_
#define TEE_VERIFIER_TESTING_TDX_TEST_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "verifier/common/hex.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/tdx/tdx_verifier.h"
#include "verifier/testing/tdx_test_tee.h"

namespace teeverify::testing {

class TdxTestTeeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TdxTestTee>> tee = TdxTestTee::Create();
    ASSERT_TRUE(tee.ok()) << tee.status();
    tee_ = *std::move(tee);
    absl::StatusOr<std::shared_ptr<const TrustRoots>> roots =
        TrustRoots::FromPem({{RootId::kIntelSgxRootCa, tee_->RootPem()}});
    ASSERT_TRUE(roots.ok()) << roots.status();
    verifier_ = std::make_unique<TdxVerifier>(*roots);
    absl::StatusOr<tdx::TdxCollateral> collateral = tee_->MakeCollateral();
    ASSERT_TRUE(collateral.ok()) << collateral.status();
    collateral_ = *std::move(collateral);
    mrtd_ = HexEncode(tee_->DefaultReport().mr_td);
  }

  std::unique_ptr<TdxTestTee> tee_;
  std::unique_ptr<TdxVerifier> verifier_;
  tdx::TdxCollateral collateral_;
  std::string mrtd_;
};

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_TDX_TEST_FIXTURE_H_
