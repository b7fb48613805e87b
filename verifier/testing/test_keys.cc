// TEST-ONLY private keys for the test TEE (verifier/testing). They sign test CAs, test
// collateral and test evidence that only a verifier given the test roots accepts. Never use
// them for anything else. Generated once with `openssl genpkey -algorithm EC`.
#include "verifier/testing/test_keys.h"

namespace teeverify::testing {

const char kRootKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaN4YCWxmskG6E2yg
Fqot0hzt3B5kFPO28MgIwT9Wi7OhRANCAAQzx3sCQeKve+oXtEisgKEK5s/KsS9D
34VzxC4Vik6EQZOlDPQaFfc0fNBzzTwsZqUCriFsCA6/Ma7fas7LfzXz
-----END PRIVATE KEY-----
)";

const char kPckCaKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgacK0uRZtnxYb9xg4
zJCfVRVqZBHN0QR9fbbjQQPBc9KhRANCAAQBcQRssAaOmS/QeM7s8Nf1xfR7iCpH
hnfsMcWBlW5jv0D09o8HJXhWflYN15Sh9pmyy6j7Hx2gFGAyij+V3bgk
-----END PRIVATE KEY-----
)";

const char kPckKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7nkAmpyA6QJ6brJr
QID9NkT4QMVGYXSUaETYQnYFekmhRANCAATl45Zzdt4P4REfJDzIf8vxYD40fsJf
GTdAcHTlF9xABnh8bPvUGkmvJOWx/e8DiivVyheu/nPzPv10tF2v+IoO
-----END PRIVATE KEY-----
)";

const char kTcbSigningKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUZZUN6eFyvgkiW6O
byB+2KMk14xTbTcMSfoEJDSWDNGhRANCAAQEPqEM4gcuS86vZEGs5nprZsxwDOMx
YQs96NO/+qnn0zUOt+ezWQ0pjOwxGb07H/2a6MwUYQ1Iyj+4D5amxzIO
-----END PRIVATE KEY-----
)";

const char kAttestationKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3aXHh7sqqF168Gtq
5Poz6Rt1nqr+hnZfJFIaLYIIQLuhRANCAASlokRyrTsxTEWkdqk8FhlMXtV7EIIR
tr8haJP5B13D9Ft5jLwiQ7V5YlHanzNVYSHyn4f4sTozsTHEcSgzRKCT
-----END PRIVATE KEY-----
)";

}  // namespace teeverify::testing
