#include "verifier/crypto/chain.h"

#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"

namespace teeverify {
namespace {

Reason ReasonForX509Error(int err) {
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return v1::REASON_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
      return v1::REASON_REVOKED;
    default:
      return v1::REASON_CERT_CHAIN_INVALID;
  }
}

}  // namespace

absl::Status CheckWindow(const ValidityWindow& window, absl::Time now, absl::string_view item) {
  if (now < window.not_before) {
    return MakeError(v1::REASON_EXPIRED,
                     absl::StrCat(item, " is not valid before ", FormatRfc3339(window.not_before),
                                  " (verification time ", FormatRfc3339(now), ")"));
  }
  if (now > window.not_after) {
    return MakeError(v1::REASON_EXPIRED,
                     absl::StrCat(item, " expired at ", FormatRfc3339(window.not_after),
                                  " (verification time ", FormatRfc3339(now), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidityWindow> VerifyChainToRoot(X509* leaf, absl::Span<X509* const> intermediates,
                                                 X509* root, absl::Time now,
                                                 absl::string_view what) {
  // Time first, certificate by certificate, so that an expired item is named with its dates
  // rather than reported as OpenSSL's generic "certificate has expired".
  ValidityWindow path_window;
  for (X509* cert : {leaf, root}) {
    ASSIGN_OR_RETURN(ValidityWindow w, CertificateValidity(cert));
    RETURN_IF_ERROR(CheckWindow(w, now, absl::StrCat(what, ": certificate ", DescribeCertificate(cert))));
    path_window.Intersect(w);
  }
  for (X509* cert : intermediates) {
    ASSIGN_OR_RETURN(ValidityWindow w, CertificateValidity(cert));
    RETURN_IF_ERROR(CheckWindow(w, now, absl::StrCat(what, ": certificate ", DescribeCertificate(cert))));
    path_window.Intersect(w);
  }

  X509StorePtr store(X509_STORE_new());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  using StackPtr = std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)>;
  StackPtr untrusted(sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_free(s); });
  if (!store || !ctx || !untrusted || X509_STORE_add_cert(store.get(), root) != 1) {
    return OpenSslError(v1::REASON_INTERNAL, absl::StrCat(what, ": setting up the trust store"));
  }
  for (X509* cert : intermediates) sk_X509_push(untrusted.get(), cert);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return OpenSslError(v1::REASON_INTERNAL, absl::StrCat(what, ": initialising verification"));
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(now));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
    ClearOpenSslErrors();
    return MakeError(ReasonForX509Error(err),
                     absl::StrCat(what, ": certificate ", at ? DescribeCertificate(at) : "?",
                                  " does not chain to the pinned root '",
                                  SubjectCommonName(root), "': ", X509_verify_cert_error_string(err)));
  }
  return path_window;
}

absl::StatusOr<ValidityWindow> VerifyCrl(X509_CRL* crl, X509* issuer, absl::Time now,
                                         absl::string_view what) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(what, ": issued by a different CA than ",
                                  DescribeCertificate(issuer)));
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl, key) != 1) {
    ClearOpenSslErrors();
    return MakeError(v1::REASON_BAD_SIGNATURE,
                     absl::StrCat(what, ": signature does not verify under ",
                                  DescribeCertificate(issuer)));
  }
  ValidityWindow window;
  if (!Asn1TimeToAbsl(X509_CRL_get0_lastUpdate(crl), &window.not_before)) {
    return MakeError(v1::REASON_COLLATERAL_INVALID, absl::StrCat(what, ": unreadable thisUpdate"));
  }
  if (!Asn1TimeToAbsl(X509_CRL_get0_nextUpdate(crl), &window.not_after)) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(what, ": no nextUpdate, so its freshness cannot be judged"));
  }
  RETURN_IF_ERROR(CheckWindow(window, now, what));
  return window;
}

absl::Status CheckNotRevoked(X509_CRL* crl, X509* cert, absl::string_view crl_name) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) != 0) {
    return MakeError(v1::REASON_COLLATERAL_INVALID,
                     absl::StrCat(crl_name, " is not from the issuer of certificate ",
                                  DescribeCertificate(cert)));
  }
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_serial(crl, &entry, X509_get0_serialNumber(cert)) == 1) {
    return MakeError(v1::REASON_REVOKED, absl::StrCat("certificate ", DescribeCertificate(cert),
                                                      " is revoked by ", crl_name));
  }
  return absl::OkStatus();
}

}  // namespace teeverify
