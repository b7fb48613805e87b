// TEST-ONLY EC P-384 keys (PEM) of the test Nitro platform. See nitro_test_keys.cc.
#ifndef TEE_VERIFIER_TESTING_NITRO_TEST_KEYS_H_
#define TEE_VERIFIER_TESTING_NITRO_TEST_KEYS_H_

namespace teeverify::testing {

extern const char kNitroRootKeyPem[];
extern const char kNitroRegionalKeyPem[];
extern const char kNitroZonalKeyPem[];
extern const char kNitroInstanceKeyPem[];
extern const char kNitroLeafKeyPem[];

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_NITRO_TEST_KEYS_H_
