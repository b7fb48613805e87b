// TEST-ONLY: tee-testgen's three test TEEs, built on the fixed certificates (fixed_certificates.h)
// and dated around `now`, and the evidence they make for given REPORT_DATA or Nitro request
// fields. Only a verifier given the test roots (TestRootPems) accepts any of it.
#ifndef TEE_VERIFIER_TESTING_TESTGEN_TEST_PLATFORMS_H_
#define TEE_VERIFIER_TESTING_TESTGEN_TEST_PLATFORMS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/testing/nitro_test_tee.h"
#include "verifier/testing/snp_test_tee.h"
#include "verifier/testing/tdx_test_tee.h"
#include "verifier/testing/testgen/profile.h"

namespace teeverify::testgen {

// Every test root, by the file name tee-verify --roots and tee-verifierd --test-roots expect.
std::map<RootId, std::string> TestRootPems();

// The TDX platform; its collateral (TCB info, QE identity, both CRLs) is valid from a year
// before `now` to five years after it.
absl::StatusOr<std::unique_ptr<testing::TdxTestTee>> NewTdxTee(absl::Time now);
// The SEV-SNP platform of the profile's product and signing key; the VCEK/VLEK is valid from a
// day before `now` for seven years (as AMD's are).
absl::StatusOr<std::unique_ptr<testing::SnpTestTee>> NewSnpTee(const SnpProfile& profile,
                                                               absl::Time now);

// A version 4 quote over the default TD report with the profile applied.
absl::StatusOr<std::string> MakeTdxQuote(const testing::TdxTestTee& tee, const TdxProfile& profile,
                                         const ByteArray<64>& report_data);

struct SnpEvidenceParts {
  std::string report;       // 1184 bytes, signed
  std::string cert_table;   // the GUID table: VCEK/VLEK and ASK/ASVK
  std::string bundle_pem;   // VCEK/VLEK, ASK/ASVK, ARK (tee-verify --cert)
};
// `vmpl`, when set, overrides the profile's (configfs-tsm privlevel).
absl::StatusOr<SnpEvidenceParts> MakeSnpEvidence(const testing::SnpTestTee& tee,
                                                 const SnpProfile& profile,
                                                 const ByteArray<64>& report_data,
                                                 std::optional<uint32_t> vmpl = std::nullopt);

struct NitroRequestFields {
  std::optional<std::string> nonce, user_data, public_key;
};
// A COSE_Sign1 document with timestamp `now`, from a chain issued a minute before `now`.
absl::StatusOr<std::string> MakeNitroDocument(const NitroProfile& profile,
                                              const NitroRequestFields& fields, absl::Time now);

// The profile applied to every generator's defaults, as `tee-testgen profile` prints it.
absl::StatusOr<nlohmann::ordered_json> EffectiveProfile(const Profile& profile, absl::Time now);

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_TEST_PLATFORMS_H_
