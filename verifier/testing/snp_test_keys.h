// TEST-ONLY keys of the SEV-SNP test platform (snp_test_tee.h): RSA-4096 for the test ARK, ASK
// and ASVK of each product, EC P-384 for two test VCEKs (two chips) and a test VLEK. Defined one
// file per product (snp_test_keys_milan.cc, _genoa.cc, _turin.cc) and snp_test_keys_chips.cc.
#ifndef TEE_VERIFIER_TESTING_SNP_TEST_KEYS_H_
#define TEE_VERIFIER_TESTING_SNP_TEST_KEYS_H_

namespace teeverify::testing {

extern const char kSnpArkMilanKeyPem[];
extern const char kSnpAskMilanKeyPem[];
extern const char kSnpAsvkMilanKeyPem[];
extern const char kSnpArkGenoaKeyPem[];
extern const char kSnpAskGenoaKeyPem[];
extern const char kSnpAsvkGenoaKeyPem[];
extern const char kSnpArkTurinKeyPem[];
extern const char kSnpAskTurinKeyPem[];
extern const char kSnpAsvkTurinKeyPem[];
extern const char kSnpVcekChip0KeyPem[];
extern const char kSnpVcekChip1KeyPem[];
extern const char kSnpVlekKeyPem[];

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_SNP_TEST_KEYS_H_
