// TEST-ONLY keys (P-256, PEM) of the test TEE. See test_keys.cc.
#ifndef TEE_VERIFIER_TESTING_TEST_KEYS_H_
#define TEE_VERIFIER_TESTING_TEST_KEYS_H_

namespace teeverify::testing {

extern const char kRootKeyPem[];
extern const char kPckCaKeyPem[];
extern const char kPckKeyPem[];
extern const char kTcbSigningKeyPem[];
extern const char kAttestationKeyPem[];

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_TEST_KEYS_H_
