#include "verifier/snp/snp_certificates.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/snp/amd_chain.h"

namespace teeverify::snp {
namespace {

absl::Status Conflict(absl::string_view role) {
  return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                   absl::StrCat("sev-snp: the ", role,
                                " given with --cert differs from the one in the evidence's "
                                "certificate table"));
}

// The --cert argument: [VCEK/VLEK, ASK/ASVK, ARK], the last two optional.
absl::StatusOr<std::vector<X509Ptr>> ParseArgument(absl::string_view certificate) {
  std::vector<X509Ptr> certs;
  if (certificate.empty()) return certs;
  if (absl::StrContains(certificate, "-----BEGIN")) {
    ASSIGN_OR_RETURN(certs, ParsePemCertificates(certificate, "sev-snp --cert"));
  } else {
    ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(certificate, "sev-snp --cert"));
    certs.push_back(std::move(cert));
  }
  if (certs.size() > 3) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("sev-snp --cert: ", certs.size(),
                                  " certificates; expected the VCEK/VLEK, optionally followed by "
                                  "the ASK/ASVK and the ARK"));
  }
  return certs;
}

absl::StatusOr<X509Ptr> FromTable(const SnpEvidence& evidence, const Guid& guid,
                                  absl::string_view role) {
  const std::string* der = evidence.Find(guid);
  if (der == nullptr) return X509Ptr();
  return ParseCertificate(*der, absl::StrCat("sev-snp certificate table ", role, " entry"));
}

// Puts `candidate` into `slot`, refusing a second, different copy.
absl::Status Merge(X509Ptr candidate, absl::string_view role, X509Ptr* slot) {
  if (candidate == nullptr) return absl::OkStatus();
  if (*slot != nullptr && X509_cmp(slot->get(), candidate.get()) != 0) return Conflict(role);
  if (*slot == nullptr) *slot = std::move(candidate);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SnpCertificates> CollectCertificates(const SnpEvidence& evidence,
                                                    absl::string_view certificate, bool vlek) {
  const absl::string_view leaf = LeafRole(vlek), ask = IntermediateRole(vlek);
  SnpCertificates out;
  ASSIGN_OR_RETURN(std::vector<X509Ptr> given, ParseArgument(certificate));
  if (!given.empty()) out.vek = std::move(given[0]);
  if (given.size() > 1) out.intermediate = std::move(given[1]);
  if (given.size() > 2) out.ark = std::move(given[2]);

  ASSIGN_OR_RETURN(X509Ptr table_leaf, FromTable(evidence, vlek ? kVlekGuid : kVcekGuid, leaf));
  RETURN_IF_ERROR(Merge(std::move(table_leaf), leaf, &out.vek));
  ASSIGN_OR_RETURN(X509Ptr table_ask, FromTable(evidence, kAskGuid, ask));
  RETURN_IF_ERROR(Merge(std::move(table_ask), ask, &out.intermediate));
  ASSIGN_OR_RETURN(X509Ptr table_ark, FromTable(evidence, kArkGuid, "ARK"));
  RETURN_IF_ERROR(Merge(std::move(table_ark), "ARK", &out.ark));

  if (out.vek == nullptr) {
    const bool other_key = evidence.Find(vlek ? kVcekGuid : kVlekGuid) != nullptr;
    return MakeError(
        v1::REASON_COLLATERAL_MISSING,
        absl::StrCat("sev-snp: the report is signed by the ", leaf, " (SIGNING_KEY ", vlek ? 1 : 0,
                     ") and no ", leaf, " certificate was given (tee-verify --cert, or a ", leaf,
                     " entry in the evidence's certificate table)",
                     other_key ? absl::StrCat("; the table carries a ", LeafRole(!vlek), " instead")
                               : ""));
  }
  // A KDS cert_chain (ASK, ARK) or a VCEK for a VLEK-signed report is named here, before its
  // missing extensions would be.
  const std::string expected = vlek ? "SEV-VLEK" : "SEV-VCEK";
  if (SubjectCommonName(out.vek.get()) != expected) {
    return MakeError(v1::REASON_CERT_CHAIN_INVALID,
                     absl::StrCat("sev-snp: the report is signed by the ", leaf,
                                  " but the certificate given for it is ",
                                  DescribeCertificate(out.vek.get()), ", not a '", expected, "'"));
  }
  return out;
}

}  // namespace teeverify::snp
