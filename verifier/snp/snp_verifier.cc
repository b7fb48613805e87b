// SEV-SNP verification, in order (docs/sev-snp.md):
//   1. parse the evidence (report, optional certificate table);
//   2. the report must be signed (SIGNING_KEY VCEK or VLEK, MASK_CHIP_KEY clear);
//   3. collect the VCEK/VLEK (and ASK/ASVK, ARK) from --cert and the table, or the VCEK from the
//      collateral provider (AMD KDS); read its extensions;
//   4. the product from the report's CPUID fields and the certificate's productName (must agree);
//   5. the chain VCEK -> ASK -> ARK / VLEK -> ASVK -> ARK at `now`, and the ASK/ASVK not revoked
//      by the product's CRL when a collateral provider holds one;
//   6. the certificate is for this platform: hwID == CHIP_ID (VCEK), TCB == REPORTED_TCB;
//   7. the ECDSA P-384 signature over bytes 0x000..0x29F.
#include "verifier/snp/snp_verifier.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/common/openssl_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/amd_chain.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/product.h"
#include "verifier/snp/report_parser.h"
#include "verifier/snp/snp_certificates.h"
#include "verifier/snp/vcek_extensions.h"
#include "verifier/snp/vek_checks.h"

namespace teeverify {
namespace {

using snp::Product;
using snp::Report;
using snp::SigningKey;
using snp::VekExtensions;

absl::Status Mismatch(absl::string_view message) {
  return MakeError(v1::REASON_PLATFORM_MISMATCH, absl::StrCat("sev-snp: ", message));
}

// Reports with SIGNING_KEY 7 or MASK_CHIP_KEY set carry a zero signature: nothing to verify.
absl::Status CheckSigned(const Report& report) {
  if (report.signing_key() == SigningKey::kNone) {
    return Unsupported("sev-snp report: SIGNING_KEY is 7 (no key): the report is not signed");
  }
  if (report.mask_chip_key()) {
    return Unsupported("sev-snp report: MASK_CHIP_KEY is set: the firmware did not sign the report");
  }
  return absl::OkStatus();
}

std::string CpuidText(const Report& r) {
  return absl::StrCat("family 0x", absl::Hex(r.cpuid_fam_id), " model 0x",
                      absl::Hex(r.cpuid_mod_id));
}

// The product of the certificate, which for version >= 3 reports must be the CPU's too. All-zero
// CPUID fields say nothing and leave the certificate's product.
absl::StatusOr<Product> DetermineProduct(const Report& report, const VekExtensions& ext,
                                         absl::string_view leaf) {
  ASSIGN_OR_RETURN(const Product from_cert, snp::ProductFromVekName(ext.product_name));
  if (!report.has_cpuid() || (report.cpuid_fam_id == 0 && report.cpuid_mod_id == 0)) {
    return from_cert;
  }
  const std::optional<Product> from_cpu =
      snp::ProductFromCpuid(report.cpuid_fam_id, report.cpuid_mod_id);
  if (!from_cpu) {
    return Unsupported(absl::StrCat("sev-snp report: CPUID ", CpuidText(report),
                                    " is not a Milan, Genoa or Turin processor"));
  }
  if (*from_cpu != from_cert) {
    return Mismatch(absl::StrCat("the report comes from a ", snp::ProductName(*from_cpu),
                                 " processor (CPUID ", CpuidText(report), ") but the ", leaf,
                                 " is for ", snp::ProductName(from_cert), " (productName \"",
                                 ext.product_name, "\")"));
  }
  return from_cert;
}

absl::Status CheckSignature(const Report& report, X509* vek, absl::string_view leaf) {
  const std::string r_s = absl::StrCat(AsView(report.signature_r), AsView(report.signature_s));
  return VerifyEcdsaRaw(X509_get0_pubkey(vek), Sha384Md(), report.signed_bytes, r_s,
                        ByteOrder::kLittleEndian,
                        absl::StrCat("sev-snp report: signature by the ", leaf, " ",
                                     DescribeCertificate(vek)));
}

Claims ParsedClaims(const Report& report, Product product, absl::Time now) {
  Claims claims;
  claims.tee = TeeKind::kSevSnp;
  claims.verified_at = now;
  claims.debug = report.policy_bit(snp::kPolicyDebugBit);
  claims.report_data = std::string(AsView(report.report_data));
  claims.sev_snp = snp::SnpClaimsFromReport(report, product);
  return claims;
}

}  // namespace

SnpVerifier::SnpVerifier(std::shared_ptr<const TrustRoots> roots,
                         std::shared_ptr<SnpCaches> caches)
    : roots_(std::move(roots)), caches_(std::move(caches)) {}

// 3-5, once per certificate when cached: collect it, read its extensions, check the report's
// product against it, and verify its chain to the trusted ARK at `now`. Only a chain that verified
// is cached, and only for the window in which all of its certificates are valid.
absl::StatusOr<std::shared_ptr<const snp::VerifiedVek>> SnpVerifier::VerifiedCertificate(
    const snp::SnpEvidence& evidence, absl::string_view certificate, bool vlek,
    absl::Time now) const {
  std::string key;
  if (caches_) {
    key = snp::VekCacheKey(evidence, certificate, vlek);
    if (auto hit = caches_->veks.Get(key, now)) return hit;
  }
  const absl::string_view leaf = snp::LeafRole(vlek);
  ASSIGN_OR_RETURN(snp::SnpCertificates certs,
                   snp::CollectCertificates(evidence, certificate, vlek));
  auto vek = std::make_shared<snp::VerifiedVek>();
  ASSIGN_OR_RETURN(vek->extensions, snp::ParseVekExtensions(certs.vek.get()));
  // The product comes from the certificate; a report from another product's CPU is named as
  // such before the chain (which would fail under the other product's ARK) is looked at.
  ASSIGN_OR_RETURN(vek->product, DetermineProduct(evidence.report, vek->extensions, leaf));
  ASSIGN_OR_RETURN(vek->window,
                   snp::VerifyAmdChain(*roots_, vek->product, vlek,
                                       {certs.vek.get(), certs.intermediate.get(), certs.ark.get()},
                                       now));
  vek->certificate = std::move(certs.vek);
  // The ASK/ASVK the chain went through (AMD's pinned one when none came with the evidence), for
  // the revocation check on every call.
  if (certs.intermediate != nullptr) {
    vek->intermediate = std::move(certs.intermediate);
  } else {
    ASSIGN_OR_RETURN(vek->intermediate, snp::BuiltInIntermediate(vek->product, vlek));
  }
  if (caches_) caches_->veks.Put(key, vek, vek->window);
  return std::shared_ptr<const snp::VerifiedVek>(std::move(vek));
}

absl::StatusOr<VerifiedClaims> SnpVerifier::Verify(absl::string_view evidence,
                                                   absl::string_view certificate, absl::Time now,
                                                   const SnpCollateralProvider* provider) const {
  // 1-2. Layout, and a report that is signed at all.
  ASSIGN_OR_RETURN(const snp::SnpEvidence parsed, snp::ParseEvidence(evidence));
  const Report& report = parsed.report;
  RETURN_IF_ERROR(CheckSigned(report));
  const bool vlek = report.signing_key() == SigningKey::kVlek;
  const absl::string_view leaf = snp::LeafRole(vlek);

  // 3. A VCEK neither given nor carried comes from the provider (AMD KDS by CHIP_ID and
  // REPORTED_TCB), which hands over only a VCEK that chains to the trusted ARK; it is checked
  // below exactly like a carried one.
  std::string fetched;
  if (provider != nullptr && !vlek && certificate.empty() &&
      parsed.Find(snp::kVcekGuid) == nullptr) {
    ASSIGN_OR_RETURN(const Product fetch_product, snp::ProductForFetch(report));
    ASSIGN_OR_RETURN(fetched, provider->VcekFor(report, fetch_product, now));
    certificate = fetched;
  }

  // 3-5. The signing key's certificate, its chain to the trusted ARK of its product.
  ASSIGN_OR_RETURN(const std::shared_ptr<const snp::VerifiedVek> vek,
                   VerifiedCertificate(parsed, certificate, vlek, now));
  const VekExtensions& ext = vek->extensions;
  // Every call: the report's CPU is the certificate's product (cached chains included).
  ASSIGN_OR_RETURN(const Product product, DetermineProduct(report, ext, leaf));

  // 5b. Revocation of the ASK/ASVK by the product's CRL, on every call (cached chains included).
  if (provider != nullptr) {
    ASSIGN_OR_RETURN(const std::shared_ptr<const snp::VerifiedAmdCrl> crl,
                     provider->CrlFor(product, vlek, now));
    if (crl != nullptr) RETURN_IF_ERROR(snp::CheckAmdRevocation(*crl, vek->intermediate.get()));
  }

  // 6. The certificate is this platform's, at this TCB.
  if (!vlek) RETURN_IF_ERROR(CheckChipId(report, ext, product));
  RETURN_IF_ERROR(CheckTcb(report, ext, product, leaf));

  // 7. The report is what the key signed.
  RETURN_IF_ERROR(CheckSignature(report, vek->certificate.get(), leaf));

  Claims claims = ParsedClaims(report, product, now);
  claims.tcb_status = std::string(kTcbStatusNotApplicable);
  claims.valid_until = vek->window.not_after;
  if (vlek) claims.sev_snp->csp_id = ext.csp_id;
  return VerifiedClaims(std::move(claims));
}

absl::StatusOr<Claims> SnpVerifier::Inspect(absl::string_view evidence, absl::Time now) {
  ASSIGN_OR_RETURN(const snp::SnpEvidence parsed, snp::ParseEvidence(evidence));
  const Report& report = parsed.report;
  std::vector<std::string> warnings;
  if (absl::Status signed_status = CheckSigned(report); !signed_status.ok()) {
    warnings.emplace_back(signed_status.message());
  }
  // The product: the CPU's when the report says, else the carried certificate's, else Milan (the
  // TCB layout of Milan and Genoa is the same, and version 2 reports predate Turin).
  std::optional<Product> product;
  if (report.has_cpuid()) product = snp::ProductFromCpuid(report.cpuid_fam_id, report.cpuid_mod_id);
  const bool vlek = report.signing_key() == SigningKey::kVlek;
  absl::StatusOr<snp::SnpCertificates> certs = snp::CollectCertificates(parsed, "", vlek);
  std::optional<std::string> csp_id;
  if (certs.ok()) {
    absl::StatusOr<VekExtensions> ext = snp::ParseVekExtensions(certs->vek.get());
    absl::StatusOr<Product> from_cert =
        ext.ok() ? snp::ProductFromVekName(ext->product_name) : ext.status();
    if (from_cert.ok() && !product) product = *from_cert;
    if (!from_cert.ok()) warnings.emplace_back(from_cert.status().message());
    if (ext.ok() && vlek) csp_id = ext->csp_id;
  }
  if (!product) {
    warnings.emplace_back(
        "sev-snp: the product is not known without a CPUID field or a certificate; TCB values "
        "are decoded with the Milan/Genoa layout");
  }
  Claims claims = ParsedClaims(report, product.value_or(Product::kMilan), now);
  claims.sev_snp->csp_id = csp_id;
  claims.warnings = std::move(warnings);
  return claims;
}

bool LooksLikeSnpEvidence(absl::string_view bytes) { return snp::LooksLikeSnpReport(bytes); }

}  // namespace teeverify
