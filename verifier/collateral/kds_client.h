// A client for AMD's Key Distribution Service (KDS) and anything serving its paths (a caching
// proxy, a mirror): the VCEK of a chip at a TCB, a product's cert_chain (ASK/ASVK + ARK) and
// its CRL. Nothing here verifies anything: the caller hands what it got to the core's checks
// (snp/snp_collateral.h) before using or caching it.
// Spec: AMD VCEK Certificate and KDS Interface Specification (57230), "KDS Interface".
#ifndef TEE_VERIFIER_COLLATERAL_KDS_CLIENT_H_
#define TEE_VERIFIER_COLLATERAL_KDS_CLIENT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/collateral/http.h"
#include "verifier/collateral/pcs_client.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::collateral {

// One AMD source of the ordered list (docs/collateral.md).
struct KdsSource {
  std::string name;      // for logs, Info and metrics; defaults to the URL
  std::string base_url;  // e.g. https://kdsintf.amd.com (no trailing slash)
  std::string ca_file;   // TLS trust for this source; empty: the system bundle
  absl::Duration timeout = absl::Seconds(10);
};

// GET /vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL= (Turin: fmcSPL= first and the
// 8-byte hwID), hwID in lower-case hex, SPLs in decimal.
std::string KdsVcekPath(snp::Product product, absl::string_view hw_id, const snp::TcbVersion& tcb);
// GET /vcek/v1/{product}/cert_chain, /vlek/v1/{product}/cert_chain.
std::string KdsCertChainPath(snp::Product product, bool vlek);
// GET /vcek/v1/{product}/crl, /vlek/v1/{product}/crl.
std::string KdsCrlPath(snp::Product product, bool vlek);

// The body of a 200 answer, or why there is none (the HTTP status and Retry-After, for backoff).
struct KdsFetch {
  std::optional<std::string> body;
  std::optional<FetchFailure> failure;
};

KdsFetch FetchKds(HttpTransport& transport, const KdsSource& source, const std::string& path);

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_KDS_CLIENT_H_
