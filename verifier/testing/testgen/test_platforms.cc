#include "verifier/testing/testgen/test_platforms.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/common/status_macros.h"
#include "verifier/snp/report.h"
#include "verifier/testing/testgen/fixed_certificates.h"

namespace teeverify::testgen {
namespace {

constexpr absl::Duration kDay = absl::Hours(24);

// Whole seconds: certificates, CRLs and PCS JSON dates carry no fractions.
absl::Time WholeSeconds(absl::Time t) { return absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

}  // namespace

std::map<RootId, std::string> TestRootPems() {
  return {{RootId::kIntelSgxRootCa, kFixedTdxRootPem},
          {RootId::kAmdArkMilan, kFixedArkMilanPem},
          {RootId::kAmdArkGenoa, kFixedArkGenoaPem},
          {RootId::kAmdArkTurin, kFixedArkTurinPem},
          {RootId::kAwsNitroEnclavesRootG1, kFixedNitroRootPem}};
}

absl::StatusOr<std::unique_ptr<testing::TdxTestTee>> NewTdxTee(absl::Time now) {
  testing::TdxTestOptions o;
  o.root_pem = kFixedTdxRootPem;
  o.pck_ca_pem = kFixedTdxPckCaPem;
  const absl::Time t = WholeSeconds(now);
  o.tcb_info = {t - 365 * kDay, t + 5 * 365 * kDay};
  o.qe_identity = o.pck_crl = o.root_ca_crl = o.tcb_info;
  return testing::TdxTestTee::Create(o);
}

absl::StatusOr<std::unique_ptr<testing::SnpTestTee>> NewSnpTee(const SnpProfile& profile,
                                                               absl::Time now) {
  testing::SnpTestOptions o = SnpOptions(profile);
  o.ark_pem = FixedArkPem(o.product);
  const absl::Time t = WholeSeconds(now);
  o.vek = {t - kDay, t + 7 * 365 * kDay};
  return testing::SnpTestTee::Create(o);
}

absl::StatusOr<std::string> MakeTdxQuote(const testing::TdxTestTee& tee, const TdxProfile& profile,
                                         const ByteArray<64>& report_data) {
  tdx::TdReport report = tee.DefaultReport();
  ApplyProfile(profile, &report);
  report.report_data = report_data;
  return tee.MakeQuote(report);
}

absl::StatusOr<SnpEvidenceParts> MakeSnpEvidence(const testing::SnpTestTee& tee,
                                                 const SnpProfile& profile,
                                                 const ByteArray<64>& report_data,
                                                 std::optional<uint32_t> vmpl) {
  snp::Report report = tee.DefaultReport();
  ApplyProfile(profile, &report);
  report.report_data = report_data;
  if (vmpl) report.vmpl = *vmpl;
  SnpEvidenceParts parts;
  ASSIGN_OR_RETURN(parts.report, tee.MakeReport(report));
  parts.cert_table = tee.CertTable();
  parts.bundle_pem = tee.CertificateBundlePem();
  return parts;
}

absl::StatusOr<std::string> MakeNitroDocument(const NitroProfile& profile,
                                              const NitroRequestFields& fields, absl::Time now) {
  testing::NitroTestOptions o;
  o.root_pem = kFixedNitroRootPem;
  o.issued_at = WholeSeconds(now) - absl::Minutes(1);
  ASSIGN_OR_RETURN(auto tee, testing::NitroTestTee::Create(o));
  testing::NitroDocumentSpec spec = tee->DefaultSpec();
  ApplyProfile(profile, &spec);
  spec.timestamp_ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  spec.nonce = fields.nonce;
  spec.user_data = fields.user_data;
  spec.public_key = fields.public_key;
  return tee->MakeDocument(spec);
}

absl::StatusOr<nlohmann::ordered_json> EffectiveProfile(const Profile& profile, absl::Time now) {
  ASSIGN_OR_RETURN(auto tdx, NewTdxTee(now));
  tdx::TdReport tdx_report = tdx->DefaultReport();
  ApplyProfile(profile.tdx, &tdx_report);
  ASSIGN_OR_RETURN(auto snp, NewSnpTee(profile.sev_snp, now));
  snp::Report snp_report = snp->DefaultReport();
  ApplyProfile(profile.sev_snp, &snp_report);
  testing::NitroTestOptions nitro_options;
  nitro_options.root_pem = kFixedNitroRootPem;
  ASSIGN_OR_RETURN(auto nitro, testing::NitroTestTee::Create(nitro_options));
  testing::NitroDocumentSpec spec = nitro->DefaultSpec();
  ApplyProfile(profile.nitro, &spec);
  return ProfileJson(tdx_report, snp->options(), snp_report, spec);
}

}  // namespace teeverify::testgen
