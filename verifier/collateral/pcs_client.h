// A client for the Intel PCS / PCCS v4 API: the four TDX collateral items for one platform (TCB
// info by FMSPC, QE identity, the PCK CRL of the CA that issued the platform's PCK, the Intel
// root CA CRL) with the issuer chains that PCS sends as URL-encoded PEM in response headers.
// Nothing here verifies anything: the caller hands the bundle to tdx::VerifyTdxCollateral.
#ifndef TEE_VERIFIER_COLLATERAL_PCS_CLIENT_H_
#define TEE_VERIFIER_COLLATERAL_PCS_CLIENT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/collateral/http.h"
#include "verifier/common/byte_reader.h"
#include "verifier/tdx/collateral.h"

namespace teeverify::collateral {

enum class PcsKind { kPcs, kPccs };

// One Intel collateral source of the ordered list (docs/collateral.md).
struct PcsSource {
  std::string name;      // for logs, Info and metrics; defaults to the URL
  PcsKind kind = PcsKind::kPccs;
  std::string base_url;  // e.g. https://api.trustedservices.intel.com (no trailing slash)
  bool early_update = false;  // update=early instead of update=standard
  // Also fetch the TCB info of the early channel (update=early) for the TCB recovery early
  // warning; decisions still follow the standard one. Defaults on for PCS (docs/collateral.md).
  bool fetch_early_tcb_info = false;
  // Where the root CA CRL comes from. PCS: the CRL distribution point of the Intel root; PCCS:
  // {base_url}/sgx/certification/v4/rootcacrl. Empty: that default.
  std::string root_ca_crl_url;
  std::string ca_file;   // TLS trust for this source; empty: the system bundle
  std::string api_key;   // Ocp-Apim-Subscription-Key, read from a file at start
  absl::Duration timeout = absl::Seconds(10);
};

// The Intel CA that issued a platform's PCK certificate; a PCK CRL is per CA.
enum class PckCa { kPlatform, kProcessor };
const char* PckCaName(PckCa ca);  // "platform" / "processor" (the PCS query value)

// Why a fetch failed, for backoff: the HTTP status (0: transport error) and Retry-After.
struct FetchFailure {
  absl::Status status;
  int http_status = 0;
  std::optional<absl::Duration> retry_after;
  std::string item;  // the collateral file name that failed
};

// The unverified bundle, or the first item that could not be fetched.
struct FetchResult {
  std::optional<tdx::TdxCollateral> collateral;
  std::optional<FetchFailure> failure;
  int requests = 0;
  // Why the early TCB info is absent although it was asked for (the bundle is complete anyway).
  std::string early_error;
};

FetchResult FetchTdxCollateral(HttpTransport& transport, const PcsSource& source,
                               const ByteArray<6>& fmspc, PckCa ca);

// "%2D%2D%2D%2DBEGIN..." -> PEM. Exposed for tests.
absl::StatusOr<std::string> UrlDecode(absl::string_view text);

// Retry-After as seconds or an HTTP date, relative to `now`; nullopt when absent or unreadable.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_PCS_CLIENT_H_
