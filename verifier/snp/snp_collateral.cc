#include "verifier/snp/snp_collateral.h"

#include <openssl/x509.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/chain.h"
#include "verifier/snp/amd_chain.h"
#include "verifier/snp/product.h"
#include "verifier/snp/vcek_extensions.h"
#include "verifier/snp/vek_checks.h"

namespace teeverify::snp {
namespace {

absl::Status Invalid(absl::string_view what, absl::string_view message) {
  return MakeError(v1::REASON_COLLATERAL_INVALID, absl::StrCat(what, ": ", message));
}

std::string CrlName(Product product, bool vlek) {
  return absl::StrCat("AMD KDS ", vlek ? "vlek" : "vcek", " CRL of ", ProductName(product));
}

}  // namespace

absl::StatusOr<Product> ProductForFetch(const Report& report) {
  if (!report.has_cpuid() || (report.cpuid_fam_id == 0 && report.cpuid_mod_id == 0)) {
    return Product::kMilan;
  }
  const std::optional<Product> product =
      ProductFromCpuid(report.cpuid_fam_id, report.cpuid_mod_id);
  if (!product) {
    return Unsupported(absl::StrCat("sev-snp report: CPUID family 0x",
                                    absl::Hex(report.cpuid_fam_id), " model 0x",
                                    absl::Hex(report.cpuid_mod_id),
                                    " is not a Milan, Genoa or Turin processor"));
  }
  return *product;
}

absl::StatusOr<std::shared_ptr<const VerifiedAmdCrl>> VerifyAmdCrl(const TrustRoots& roots,
                                                                   Product product, bool vlek,
                                                                   absl::string_view crl,
                                                                   absl::Time now) {
  const std::string what = CrlName(product, vlek);
  ASSIGN_OR_RETURN(X509CrlPtr parsed, ParseCrl(crl, what));
  ASSIGN_OR_RETURN(X509* ark, roots.Get(ArkRootId(product)));
  // The ARK issues the CRL: a CRL by anyone else (another product's ARK, a test CA under AMD's
  // roots) revokes nothing here and is refused.
  ASSIGN_OR_RETURN(ValidityWindow window, VerifyCrl(parsed.get(), ark, now, what));
  auto out = std::make_shared<VerifiedAmdCrl>();
  out->product = product;
  out->vlek = vlek;
  out->crl = std::move(parsed);
  out->window = window;
  return std::shared_ptr<const VerifiedAmdCrl>(std::move(out));
}

absl::Status CheckAmdRevocation(const VerifiedAmdCrl& crl, X509* intermediate) {
  return CheckNotRevoked(crl.crl.get(), intermediate, CrlName(crl.product, crl.vlek));
}

absl::StatusOr<X509Ptr> VerifyAmdCertChain(const TrustRoots& roots, Product product, bool vlek,
                                           absl::string_view pem, absl::Time now) {
  const std::string what =
      absl::StrCat("AMD KDS ", vlek ? "vlek" : "vcek", " cert_chain of ", ProductName(product));
  ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParsePemCertificates(pem, what));
  if (certs.size() != 2) {
    return Invalid(what, absl::StrCat(certs.size(), " certificates; expected the ",
                                      IntermediateRole(vlek), " and the ARK"));
  }
  ASSIGN_OR_RETURN(X509* root, roots.Get(ArkRootId(product)));
  if (X509_cmp(certs[1].get(), root) != 0) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": the ARK ", DescribeCertificate(certs[1].get()),
                                  " is not the trusted ", ProductName(product), " root '",
                                  SubjectCommonName(root), "'"));
  }
  X509* ask = certs[0].get();
  const std::string expected_cn = absl::StrCat(vlek ? "SEV-VLEK-" : "SEV-", ProductName(product));
  if (SubjectCommonName(ask) != expected_cn) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat(what, ": the ", IntermediateRole(vlek), " is ",
                                  DescribeCertificate(ask), ", expected '", expected_cn, "'"));
  }
  if (IsAmdArk(root, product)) {
    ASSIGN_OR_RETURN(X509Ptr builtin, BuiltInIntermediate(product, vlek));
    if (X509_cmp(ask, builtin.get()) != 0) {
      return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                       absl::StrCat(what, ": the ", IntermediateRole(vlek), " ",
                                    DescribeCertificate(ask), " is not AMD's pinned one"));
    }
  }
  RETURN_IF_ERROR(VerifyChainToRoot(ask, {}, root, now, what).status());
  return std::move(certs[0]);
}

absl::StatusOr<ValidityWindow> VerifyFetchedVcek(const TrustRoots& roots, const Report& report,
                                                 Product product, X509* vcek, X509* ask,
                                                 absl::Time now) {
  ASSIGN_OR_RETURN(const VekExtensions ext, ParseVekExtensions(vcek));
  ASSIGN_OR_RETURN(const Product named, ProductFromVekName(ext.product_name));
  if (named != product) {
    return MakeError(v1::REASON_PLATFORM_MISMATCH,
                     absl::StrCat("sev-snp: the VCEK fetched for a ", ProductName(product),
                                  " report is for ", ProductName(named), " (productName \"",
                                  ext.product_name, "\")"));
  }
  ASSIGN_OR_RETURN(ValidityWindow window,
                   VerifyAmdChain(roots, product, /*vlek=*/false, {vcek, ask, nullptr}, now));
  RETURN_IF_ERROR(CheckChipId(report, ext, product));
  RETURN_IF_ERROR(CheckTcb(report, ext, product, "VCEK"));
  return window;
}

}  // namespace teeverify::snp
