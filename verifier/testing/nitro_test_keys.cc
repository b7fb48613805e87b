// TEST-ONLY private keys (EC P-384) of the test Nitro platform (verifier/testing/nitro_test_tee.h):
// a root, regional, zonal and instance CAs and the per-document leaf, shaped like AWS's Nitro
// attestation PKI. They sign test certificates and test documents that only a verifier given the
// test root accepts. Never use them for anything else. Generated once with
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384`.
#include "verifier/testing/nitro_test_keys.h"

namespace teeverify::testing {

const char kNitroRootKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCK784N7att18nwUOMJ
ocz+gUv5czpdu/VD9oYiTObl6GBoKWgA0qy2lRA0kRTKuJyhZANiAASMpCQH6mDG
vkeKGqHv9xt5HIPv3oE7YnSHox2rtE7lX9U4QL+294sknrcxM71gudO4GFYoRL59
dSPmZFFTuDqvdwXSm6YtxQSFz2FgKNVBbL7QEd14wR1iwkQrYmH7mfs=
-----END PRIVATE KEY-----
)";

const char kNitroRegionalKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBJav1iNREXKm5zGmIw
eqyffj0CfakqLJflETYHN7M9uYRUMwAELKtgxfqplxe4kp6hZANiAAQdBLia4uKw
WuUlYR1pk8hs00NDDWzX2Rokol7+O+gJojPtB7YFcTe6bBVqH9e1EekCbKhku6hg
SZHTpR3Y5Mlj4A/+SKeRaoilpuV+ZIJItWHIa29mgTc2RxqyOz6TIQY=
-----END PRIVATE KEY-----
)";

const char kNitroZonalKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDkoWYeKm4F7LJHRgqF
6i4w3CdmrEh0sI/YCWHk0xUA3+HeYbJTcgDSlhKIp01t9W6hZANiAARfnonvU2P7
tHEtkclk9IQ+UkLJxfGa0VfczXAGCUf+3WSPdHJK1jvqmEsxYOKCUh6EpdJyGwYI
/wlumC3cPObNsQgJ3MWdlAUczH/0yJu4Mmh9TbgbAEWN5XKw63GFj/c=
-----END PRIVATE KEY-----
)";

const char kNitroInstanceKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBRCsFeFsQOf1OyEjbF
bDbWjrGOn/XhLrunkQ5nPdTAVDtrnOBzBiQvB4PHmKbv0zOhZANiAATMMSFjFX5s
H0i3oGMqU44ujjtU9xv0OyirGT/Vjg3wOVwBFXNMDS/ddwZJjK0PiDlq751fz3iB
kmDen4n/t2UCnk/zwjoR3m5oBp1SrFomsJnyEBwog7wQts8wywwz3BU=
-----END PRIVATE KEY-----
)";

const char kNitroLeafKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDLuzKJMo3bUPSI+bl9
LNszhnc3P7c0ijnDXTtTlnvdj7R8/QkjQAweL3DTCDHF7P2hZANiAARYpiRHWkZk
dswPYeN/2cDeRC5IG7XHPCEuOdJyV+3YmM1b8S8dA7KJRoO4mx9dIqlP9rWnOHJM
vPKci8plTsKS/gc3HIL5RAHRUQwHKbKwk54k4vywfBhHArcH044TBQg=
-----END PRIVATE KEY-----
)";

}  // namespace teeverify::testing
