#include "verifier/collateral/pcs_client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"

namespace teeverify::collateral {
namespace {

// The CRL distribution point in Intel's SGX root CA certificate.
constexpr char kIntelRootCaCrlUrl[] =
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

struct Item {
  absl::string_view file;           // tdx::k*File, names the item in errors
  std::string path;                 // appended to the source's base URL (or a full URL)
  std::string tdx::TdxCollateral::*body;
  std::vector<const char*> chain_headers;  // the first present one is used
  std::string tdx::TdxCollateral::*chain;  // nullptr: no issuer chain header
};

bool IsHexText(absl::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

FetchFailure Failure(absl::Status status, absl::string_view file, int http_status = 0,
                     std::optional<absl::Duration> retry_after = std::nullopt) {
  return FetchFailure{std::move(status), http_status, retry_after, std::string(file)};
}

// GETs one item into `out` (its body, and its issuer chain from the response header); the
// failure naming the item otherwise.
std::optional<FetchFailure> FetchItem(HttpTransport& transport, const PcsSource& source,
                                      const Item& item, tdx::TdxCollateral& out) {
  using C = tdx::TdxCollateral;
  HttpRequest request;
  request.url = item.path;
  request.timeout = source.timeout;
  request.ca_file = source.ca_file;
  if (!source.api_key.empty()) {
    request.headers.push_back(absl::StrCat("Ocp-Apim-Subscription-Key: ", source.api_key));
  }
  absl::StatusOr<HttpResponse> response = transport.Get(request);
  if (!response.ok()) return Failure(response.status(), item.file);
  if (response->status != 200) {
    return Failure(MakeError(v1::REASON_COLLATERAL_MISSING,
                             absl::StrCat("GET ", request.url, ": HTTP ", response->status)),
                   item.file, response->status,
                   ParseRetryAfter(response->Header("retry-after"), absl::Now()));
  }
  std::string body = std::move(response->body);
  // PCCS answers the root CA CRL as hex text; PCS and encoding=der as DER.
  if (item.body == &C::root_ca_crl && IsHexText(body)) {
    absl::StatusOr<std::string> der = HexDecode(body, tdx::kRootCaCrlFile);
    if (der.ok()) body = *std::move(der);
  }
  out.*item.body = std::move(body);
  if (item.chain == nullptr) return std::nullopt;
  std::string header;
  for (const char* name : item.chain_headers) {
    header = response->Header(name);
    if (!header.empty()) break;
  }
  if (header.empty()) {
    return Failure(MakeError(v1::REASON_COLLATERAL_MISSING,
                             absl::StrCat("GET ", request.url, ": no ", item.chain_headers[0],
                                          " header")),
                   item.file, response->status);
  }
  absl::StatusOr<std::string> pem = UrlDecode(header);
  if (!pem.ok()) {
    return Failure(MakeError(v1::REASON_COLLATERAL_INVALID,
                             absl::StrCat("GET ", request.url, ": ", item.chain_headers[0], ": ",
                                          pem.status().message())),
                   item.file, response->status);
  }
  out.*item.chain = *std::move(pem);
  return std::nullopt;
}

}  // namespace

const char* PckCaName(PckCa ca) { return ca == PckCa::kPlatform ? "platform" : "processor"; }

absl::StatusOr<std::string> UrlDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      int value = 0;
      if (i + 2 >= text.size() ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2])) ||
          !absl::SimpleHexAtoi(text.substr(i + 1, 2), &value)) {
        return absl::InvalidArgumentError(absl::StrCat("bad %-escape at offset ", i));
      }
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    return seconds < 0 ? std::nullopt : std::optional<absl::Duration>(absl::Seconds(seconds));
  }
  absl::Time at;
  std::string err;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), &at, &err)) {
    return std::nullopt;
  }
  return at > now ? at - now : absl::ZeroDuration();
}

FetchResult FetchTdxCollateral(HttpTransport& transport, const PcsSource& source,
                               const ByteArray<6>& fmspc, PckCa ca) {
  const std::string update = source.early_update ? "early" : "standard";
  std::string root_crl = source.root_ca_crl_url;
  if (root_crl.empty()) {
    root_crl = source.kind == PcsKind::kPcs
                   ? kIntelRootCaCrlUrl
                   : absl::StrCat(source.base_url, "/sgx/certification/v4/rootcacrl");
  }
  using C = tdx::TdxCollateral;
  const Item items[] = {
      {tdx::kTcbInfoFile,
       absl::StrCat(source.base_url, "/tdx/certification/v4/tcb?fmspc=", HexEncode(fmspc),
                    "&update=", update),
       &C::tcb_info_response, {"tcb-info-issuer-chain", "sgx-tcb-info-issuer-chain"},
       &C::tcb_info_issuer_chain},
      {tdx::kQeIdentityFile,
       absl::StrCat(source.base_url, "/tdx/certification/v4/qe/identity?update=", update),
       &C::qe_identity_response, {"sgx-enclave-identity-issuer-chain"},
       &C::qe_identity_issuer_chain},
      {tdx::kPckCrlFile,
       absl::StrCat(source.base_url, "/sgx/certification/v4/pckcrl?ca=", PckCaName(ca),
                    "&encoding=der"),
       &C::pck_crl, {"sgx-pck-crl-issuer-chain"}, &C::pck_crl_issuer_chain},
      {tdx::kRootCaCrlFile, root_crl, &C::root_ca_crl, {}, nullptr},
  };
  FetchResult result;
  tdx::TdxCollateral out;
  for (const Item& item : items) {
    ++result.requests;
    if (std::optional<FetchFailure> failure = FetchItem(transport, source, item, out)) {
      result.failure = *std::move(failure);
      return result;
    }
  }
  // The early channel only feeds the early warning (docs/tcb-recovery.md): a source without it,
  // or any failure here, leaves the standard bundle complete and usable.
  if (source.fetch_early_tcb_info && !source.early_update) {
    const Item early = {
        tdx::kTcbInfoEarlyFile,
        absl::StrCat(source.base_url, "/tdx/certification/v4/tcb?fmspc=", HexEncode(fmspc),
                     "&update=early"),
        &C::tcb_info_early_response, {}, nullptr};
    ++result.requests;
    if (std::optional<FetchFailure> failure = FetchItem(transport, source, early, out)) {
      out.tcb_info_early_response.clear();
      result.early_error = std::string(failure->status.message());
    }
  }
  result.collateral = std::move(out);
  return result;
}

}  // namespace teeverify::collateral
