#include "verifier/collateral/kds_client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"

namespace teeverify::collateral {

std::string KdsVcekPath(snp::Product product, absl::string_view hw_id,
                        const snp::TcbVersion& tcb) {
  std::string path = absl::StrCat("/vcek/v1/", snp::ProductName(product), "/", HexEncode(hw_id), "?");
  if (product == snp::Product::kTurin) absl::StrAppend(&path, "fmcSPL=", tcb.fmc.value_or(0), "&");
  absl::StrAppend(&path, "blSPL=", tcb.boot_loader, "&teeSPL=", tcb.tee, "&snpSPL=", tcb.snp,
                  "&ucodeSPL=", tcb.microcode);
  return path;
}

std::string KdsCertChainPath(snp::Product product, bool vlek) {
  return absl::StrCat(vlek ? "/vlek/v1/" : "/vcek/v1/", snp::ProductName(product), "/cert_chain");
}

std::string KdsCrlPath(snp::Product product, bool vlek) {
  return absl::StrCat(vlek ? "/vlek/v1/" : "/vcek/v1/", snp::ProductName(product), "/crl");
}

KdsFetch FetchKds(HttpTransport& transport, const KdsSource& source, const std::string& path) {
  HttpRequest request;
  request.url = source.base_url + path;
  request.timeout = source.timeout;
  request.ca_file = source.ca_file;
  request.max_body_bytes = 1 << 20;  // a VCEK is ~1.4 KB, a chain ~5 KB, a CRL a few KB
  KdsFetch out;
  absl::StatusOr<HttpResponse> response = transport.Get(request);
  if (!response.ok()) {
    out.failure = FetchFailure{response.status(), 0, std::nullopt, path};
    return out;
  }
  if (response->status != 200) {
    out.failure = FetchFailure{
        MakeError(v1::REASON_COLLATERAL_MISSING,
                  absl::StrCat("GET ", request.url, ": HTTP ", response->status)),
        response->status, ParseRetryAfter(response->Header("retry-after"), absl::Now()), path};
    return out;
  }
  out.body = std::move(response->body);
  return out;
}

}  // namespace teeverify::collateral
