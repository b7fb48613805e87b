// TEST-ONLY EC P-384 private keys of the test VCEKs (two chips) and the test VLEK
// (snp_test_keys.h): they sign test SEV-SNP reports that only a verifier given the test ARK
// accepts. Never use them for anything else. Generated once with
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384`.
#include "verifier/testing/snp_test_keys.h"

namespace teeverify::testing {

const char kSnpVcekChip0KeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDuMxpFxxIH/gTmZT7P
Dii+E6ANFqolJYy1kgNeylTs/CI4Gff2x1S4p2XawrK7EnChZANiAASzWoo8CVWN
51i4zJr65rYCl7N+SAhDC9M/Ii+CqqqVqGIaUJMl5ClURs91scADyepvxLZ5YD2x
+ysNEtum/sAd+s4UXk8qnjrsDaWlFzxiLK5UmkdIEjSd58fLPWn7j5s=
-----END PRIVATE KEY-----
)";

const char kSnpVcekChip1KeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAgJcCpvUoIiR0GI5te
ElMtuu2BjaFTcNvwtWxv45G/zbKiYiLOTq9mJ4OrLUp6jkahZANiAARFYhipFZUh
I6KPxM2qAoBAiMkmctlaOg14yV0VgV7/8lfpCDZy1xX3zW/CIp9GSRj9Y2egfULg
BKZpI+R3KZqp+EYjO5c/0olt2kxNWpbKwMjal1CxpBn6v3syS9fRm5A=
-----END PRIVATE KEY-----
)";

const char kSnpVlekKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDan7t59Li+W4zIalbV
V/bL1QkKXxLNKZgkB2WhYIl70RSp6Q2GE+D1g46xfXlWR9OhZANiAARtpw01pC97
VKg1mv4aVBsb41EJvm+Haxo9nhcjD9zKedpN3yPODD45cnRbpbG6Uosat6nsPxuz
L17Nwl45+GlDMd22Or7oCjggVHjIzTD6ahySnEGEVq6+o5rWEkAZKbQ=
-----END PRIVATE KEY-----
)";

}  // namespace teeverify::testing
