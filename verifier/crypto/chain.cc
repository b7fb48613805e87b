#include "verifier/crypto/chain.h"

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"
#include "verifier/roots/known_intermediates.h"

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

namespace {

// Extensions that change what a path means, which this validator does not evaluate; a path that
// carries one is left to OpenSSL's full path validation.
bool NeedsFullPathValidation(X509* cert) {
  for (int nid : {NID_name_constraints, NID_policy_constraints, NID_inhibit_any_policy,
                  NID_proxyCertInfo}) {
    if (X509_get_ext_by_NID(cert, nid, -1) >= 0) return true;
  }
  return false;
}

absl::Status FullPathValidation(X509* leaf, absl::Span<X509* const> intermediates, X509* root,
                                absl::Time now, absl::string_view what) {
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
                                  " does not chain to the pinned root '", SubjectCommonName(root),
                                  "': ", X509_verify_cert_error_string(err)));
  }
  return absl::OkStatus();
}

absl::Status LinkError(absl::string_view what, X509* child, X509* issuer, absl::string_view why) {
  return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                   absl::StrCat(what, ": certificate ", DescribeCertificate(child),
                                " is not validly issued by ", DescribeCertificate(issuer), ": ",
                                why));
}

// Signatures over compiled-in intermediates (known_intermediates.h: Intel's PCK CAs and TCB
// Signing certificates) that verified in this process, by issuer. Such a certificate's bytes are
// fixed, so whether an issuer's key verifies its signature is the same fact on every call: it is
// verified the first time a verification meets the link and remembered (successes only), so a
// cold TDX verification does not repeat the root's signatures over the PCK CA and the TCB Signing
// certificate each time. Every other check of the link (names, key identifiers, CA flag, path
// length, critical extensions), the windows and the revocation checks still run on every call.
class KnownLinks {
 public:
  bool Contains(X509* child, X509* issuer) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    for (const auto& [known_child, known_issuer] : links_) {
      // X509_cmp compares the issuers' TBS bytes (which hold their keys): an issuer with the same
      // key and name verifies the same signature the same way.
      if (known_child == child && X509_cmp(known_issuer.get(), issuer) == 0) return true;
    }
    return false;
  }
  void Add(X509* child, X509* issuer) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (links_.size() < kMaxLinks) links_.emplace_back(child, Share(issuer));
  }

 private:
  // A few known intermediates times the roots a process is configured with.
  static constexpr size_t kMaxLinks = 64;
  mutable absl::Mutex mu_;
  std::vector<std::pair<X509*, X509Ptr>> links_ ABSL_GUARDED_BY(mu_);
};

KnownLinks& VerifiedKnownLinks() {
  static auto* links = new KnownLinks();
  return *links;
}

// `issuer`'s key verifies `child`'s signature.
bool SignatureVerifies(X509* child, X509* issuer) {
  const bool known = IsKnownIntermediate(child);
  if (known && VerifiedKnownLinks().Contains(child, issuer)) return true;
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_verify(child, key) != 1) return false;
  if (known) VerifiedKnownLinks().Add(child, issuer);
  return true;
}

// One link of the path: `issuer` may issue certificates and signed `child`.
absl::Status VerifyLink(X509* child, X509* issuer, int cas_below_issuer, absl::string_view what) {
  if ((X509_get_extension_flags(child) & EXFLAG_INVALID) ||
      (X509_get_extension_flags(issuer) & EXFLAG_INVALID)) {
    return LinkError(what, child, issuer, "malformed extensions");
  }
  for (X509* cert : {child, issuer}) {
    if (X509_get_extension_flags(cert) & EXFLAG_CRITICAL) {
      return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                       absl::StrCat(what, ": certificate ", DescribeCertificate(cert),
                                    " has a critical extension this verifier does not understand"));
    }
  }
  if (X509_check_ca(issuer) == 0) return LinkError(what, child, issuer, "the issuer is not a CA");
  const int issued = X509_check_issued(issuer, child);  // names, key identifiers, keyCertSign
  if (issued != X509_V_OK) {
    return LinkError(what, child, issuer, X509_verify_cert_error_string(issued));
  }
  const long pathlen = X509_get_pathlen(issuer);
  if (pathlen >= 0 && cas_below_issuer > pathlen) {
    return LinkError(what, child, issuer, "path length constraint exceeded");
  }
  if (!SignatureVerifies(child, issuer)) {
    ClearOpenSslErrors();
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": certificate ", DescribeCertificate(child),
                                  " signature does not verify under ", DescribeCertificate(issuer)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ValidityWindow> VerifyChainToRoot(X509* leaf, absl::Span<X509* const> intermediates,
                                                 X509* root, absl::Time now,
                                                 absl::string_view what, CertificatePool* pool) {
  // Time first, certificate by certificate, so that an expired item is named with its dates.
  ValidityWindow path_window;
  bool needs_full_validation = NeedsFullPathValidation(leaf) || NeedsFullPathValidation(root);
  for (X509* cert : intermediates) needs_full_validation |= NeedsFullPathValidation(cert);
  std::vector<X509*> all = {leaf, root};
  all.insert(all.end(), intermediates.begin(), intermediates.end());
  for (X509* cert : all) {
    ASSIGN_OR_RETURN(ValidityWindow w, CertificateValidity(cert));
    RETURN_IF_ERROR(
        CheckWindow(w, now, absl::StrCat(what, ": certificate ", DescribeCertificate(cert))));
    path_window.Intersect(w);
  }
  if (needs_full_validation) {
    RETURN_IF_ERROR(FullPathValidation(leaf, intermediates, root, now, what));
    return path_window;
  }

  // Walk up from the leaf: each step takes the root if it issued the current certificate, else
  // an unused intermediate that did. The root is the only anchor; its self-signature is not the
  // point (it is pinned by its bytes).
  std::vector<bool> used(intermediates.size(), false);
  std::vector<X509*> path = {leaf};
  X509* current = leaf;
  while (current != root) {
    X509* issuer = nullptr;
    if (X509_check_issued(root, current) == X509_V_OK) {
      issuer = root;
    } else {
      for (size_t i = 0; i < intermediates.size() && issuer == nullptr; ++i) {
        if (!used[i] && intermediates[i] != current &&
            X509_check_issued(intermediates[i], current) == X509_V_OK) {
          used[i] = true;
          issuer = intermediates[i];
        }
      }
    }
    if (issuer == nullptr) {
      return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                       absl::StrCat(what, ": certificate ", DescribeCertificate(current),
                                    " does not chain to the pinned root '",
                                    SubjectCommonName(root), "': no issuer in the chain"));
    }
    path.push_back(issuer);
    current = issuer;
  }
  // path = leaf, CA..., root. The CA certificates below issuer path[i] are path[1..i-1].
  for (size_t i = 1; i < path.size(); ++i) {
    if (pool != nullptr && pool->IsLinkVerified(path[i - 1], path[i])) continue;
    RETURN_IF_ERROR(VerifyLink(path[i - 1], path[i], static_cast<int>(i) - 1, what));
    if (pool != nullptr) pool->MarkLinkVerified(path[i - 1], path[i]);
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
