// TEST-ONLY: the certificates every tee-testgen process shares. Verifiers pin a root byte for byte
// (and the TDX verifier compares a quote's PCK Platform CA with the PCK CRL's issuer), but the
// generators sign with ECDSA and RSASSA-PSS, whose signatures differ from run to run; so the roots
// written by `tee-testgen roots`, the collateral written by `tee-testgen collateral` and evidence
// made later by another process agree only when all of them use these fixed certificates.
// They are the generators' own certificates with default options, minted once by
// `tee-testgen mint-certs` (which prints fixed_certificates.cc).
#ifndef TEE_VERIFIER_TESTING_TESTGEN_FIXED_CERTIFICATES_H_
#define TEE_VERIFIER_TESTING_TESTGEN_FIXED_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::testgen {

extern const char kFixedTdxRootPem[];   // "Test SGX Root CA", 2020-01-01 .. 2050-01-01
extern const char kFixedTdxPckCaPem[];  // "Test SGX PCK Platform CA", same window
extern const char kFixedArkMilanPem[];  // "ARK-Milan", 2020-01-01 .. 2050-01-01
extern const char kFixedArkGenoaPem[];
extern const char kFixedArkTurinPem[];
extern const char kFixedNitroRootPem[];  // "test.nitro-enclaves", 2023-05-02 .. 2054-04-24

const char* FixedArkPem(snp::Product product);

// The text of fixed_certificates.cc with freshly minted certificates (`tee-testgen mint-certs`).
absl::StatusOr<std::string> MintFixedCertificatesSource();

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_FIXED_CERTIFICATES_H_
