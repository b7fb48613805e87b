#include "verifier/testing/snp_test_tee.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/snp/extended_evidence.h"
#include "verifier/snp/product.h"
#include "verifier/snp/report_parser.h"
#include "verifier/snp/vcek_extensions.h"
#include "verifier/testing/snp_test_keys.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testing {
namespace {

using snp::Product;

struct ProductKeys {
  const char* ark;
  const char* ask;
  const char* asvk;
};

ProductKeys KeysFor(Product p) {
  switch (p) {
    case Product::kMilan:
      return {kSnpArkMilanKeyPem, kSnpAskMilanKeyPem, kSnpAsvkMilanKeyPem};
    case Product::kGenoa:
      return {kSnpArkGenoaKeyPem, kSnpAskGenoaKeyPem, kSnpAsvkGenoaKeyPem};
    case Product::kTurin:
      return {kSnpArkTurinKeyPem, kSnpAskTurinKeyPem, kSnpAsvkTurinKeyPem};
  }
  return {};
}

std::string Oid(absl::string_view suffix) { return absl::StrCat(snp::kAmdExtensionArc, ".", suffix); }

// The AMD extensions as KDS writes them (57230): structVersion, productName, the SPLs, then hwID
// as raw bytes (VCEK) or cspId (VLEK).
std::vector<std::pair<std::string, std::string>> VekExtensions(const SnpTestOptions& o,
                                                               const snp::TcbVersion& tcb) {
  const bool turin = o.product == Product::kTurin;
  std::string name(snp::ProductName(o.product));
  if (!o.vlek && o.product == Product::kMilan) name += "-B0";
  std::vector<std::pair<std::string, std::string>> ext = {
      {Oid("1"), DerSmallInteger(0x02, turin ? 1 : 0)},
      {Oid("2"), DerTlv(0x16, name)},
  };
  if (turin) ext.emplace_back(Oid("3.9"), DerSmallInteger(0x02, *tcb.fmc));
  ext.emplace_back(Oid("3.1"), DerSmallInteger(0x02, tcb.boot_loader));
  ext.emplace_back(Oid("3.2"), DerSmallInteger(0x02, tcb.tee));
  for (int spl = turin ? 5 : 4; spl <= 7; ++spl) {
    ext.emplace_back(Oid(absl::StrCat("3.", spl)), DerSmallInteger(0x02, 0));
  }
  ext.emplace_back(Oid("3.3"), DerSmallInteger(0x02, tcb.snp));
  ext.emplace_back(Oid("3.8"), DerSmallInteger(0x02, tcb.microcode));
  if (o.vlek) {
    ext.emplace_back(Oid("5"), DerTlv(0x16, o.csp_id));
  } else {
    const ByteArray<64> chip = SnpTestTee::ChipId(o.chip, o.product);
    const std::string hw_id(AsView(chip).substr(0, turin ? snp::kHwIdSizeTurin
                                                         : snp::kHwIdSizeMilanGenoa));
    ext.emplace_back(Oid("4"), o.der_wrapped_hw_id ? DerTlv(0x04, hw_id) : hw_id);
  }
  return ext;
}

void ToLittleEndian(absl::string_view big_endian, ByteArray<snp::kP384ScalarSize>* out) {
  std::reverse_copy(big_endian.begin(), big_endian.end(), out->begin());
}

}  // namespace

snp::TcbVersion SnpTestTee::DefaultTcb(Product product) {
  snp::TcbVersion t;
  switch (product) {
    case Product::kMilan:
      t.boot_loader = 4, t.tee = 1, t.snp = 24, t.microcode = 219;
      break;
    case Product::kGenoa:
      t.boot_loader = 10, t.tee = 2, t.snp = 25, t.microcode = 84;
      break;
    case Product::kTurin:
      t.fmc = 1, t.boot_loader = 2, t.tee = 3, t.snp = 4, t.microcode = 5;
      break;
  }
  t.raw = snp::EncodeTcb(t, product);
  return t;
}

ByteArray<64> SnpTestTee::ChipId(int chip, Product product) {
  ByteArray<64> id = {};
  const size_t n = product == Product::kTurin ? snp::kHwIdSizeTurin : snp::kHwIdSizeMilanGenoa;
  for (size_t i = 0; i < n; ++i) id[i] = static_cast<uint8_t>(0xc0 + 0x10 * chip + i);
  return id;
}

absl::StatusOr<std::unique_ptr<SnpTestTee>> SnpTestTee::Create(const SnpTestOptions& options) {
  std::unique_ptr<SnpTestTee> tee(new SnpTestTee());
  RETURN_IF_ERROR(tee->Init(options));
  return tee;
}

absl::Status SnpTestTee::Init(const SnpTestOptions& o) {
  options_ = o;
  tcb_ = o.tcb.value_or(DefaultTcb(o.product));
  tcb_.raw = snp::EncodeTcb(tcb_, o.product);
  const ProductKeys keys = KeysFor(o.product);
  ASSIGN_OR_RETURN(ark_key_, LoadPrivateKey(keys.ark));
  ASSIGN_OR_RETURN(intermediate_key_, LoadPrivateKey(o.vlek ? keys.asvk : keys.ask));
  ASSIGN_OR_RETURN(vek_key_, LoadPrivateKey(o.vlek ? kSnpVlekKeyPem
                                                   : (o.chip == 0 ? kSnpVcekChip0KeyPem
                                                                  : kSnpVcekChip1KeyPem)));
  const std::string product(snp::ProductName(o.product));
  if (!o.ark_pem.empty()) {
    ASSIGN_OR_RETURN(ark_, PremadeCertificate(o.ark_pem, ark_key_.get(), "ark_pem",
                                              "the test ARK key of " + product));
  } else {
    CertSpec ark = Spec(absl::StrCat("ARK-", product), 1, o.ark.not_before, o.ark.not_after,
                        /*is_ca=*/true);
    ark.digest = EVP_sha384();
    ark.rsa_pss = true;
    ASSIGN_OR_RETURN(ark_, MakeCertificate(ark, ark_key_.get(), nullptr, ark_key_.get()));
  }
  CertSpec ask = Spec(absl::StrCat(o.vlek ? "SEV-VLEK-" : "SEV-", product), o.vlek ? 3 : 2,
                      o.intermediate.not_before, o.intermediate.not_after, /*is_ca=*/true);
  ask.digest = EVP_sha384();
  ask.rsa_pss = true;
  ASSIGN_OR_RETURN(intermediate_,
                   MakeCertificate(ask, intermediate_key_.get(), ark_.get(), ark_key_.get()));
  CertSpec vek = Spec(o.vlek ? "SEV-VLEK" : "SEV-VCEK", 0, o.vek.not_before, o.vek.not_after,
                      /*is_ca=*/false, VekExtensions(o, tcb_));
  vek.digest = EVP_sha384();
  vek.rsa_pss = o.vek_signed_with_pss;
  ASSIGN_OR_RETURN(vek_, MakeCertificate(vek, vek_key_.get(), intermediate_.get(),
                                         intermediate_key_.get()));
  return absl::OkStatus();
}

RootId SnpTestTee::ark_root_id() const { return snp::ArkRootId(options_.product); }

absl::StatusOr<std::shared_ptr<const TrustRoots>> SnpTestTee::Roots() const {
  return TrustRoots::FromPem({{ark_root_id(), ArkPem()}});
}

std::string SnpTestTee::ArkPem() const { return CertificatePem(ark_.get()); }
std::string SnpTestTee::IntermediatePem() const { return CertificatePem(intermediate_.get()); }
std::string SnpTestTee::VekPem() const { return CertificatePem(vek_.get()); }
std::string SnpTestTee::VekDer() const { return CertificateDer(vek_.get()); }

std::string SnpTestTee::CertificateBundlePem() const {
  return absl::StrCat(VekPem(), IntermediatePem(), ArkPem());
}

snp::Report SnpTestTee::DefaultReport() const {
  const Product p = options_.product;
  snp::Report r;
  r.version = p == Product::kTurin ? snp::kReportVersion5 : snp::kReportVersion3;
  r.guest_svn = 1;
  r.policy = 0x30000;  // SMT allowed, reserved bit 17
  r.family_id.fill(0xf1);
  r.image_id.fill(0x1d);
  r.vmpl = 0;
  r.signature_algo = snp::kSignatureAlgoEcdsaP384Sha384;
  r.current_tcb = r.reported_tcb = r.committed_tcb = r.launch_tcb = tcb_.raw;
  r.platform_info = 0x25;  // SMT, ECC, alias check complete
  r.signer_info = static_cast<uint32_t>(options_.vlek ? snp::SigningKey::kVlek
                                                      : snp::SigningKey::kVcek)
                  << snp::kSigningKeyShift;
  r.measurement.fill(0x3e);
  r.report_id.fill(0x1e);
  r.report_id_ma.fill(0xff);
  const struct { uint8_t family, model, stepping; } cpuid[] = {
      {0x19, 0x01, 0x01}, {0x19, 0x11, 0x01}, {0x1a, 0x02, 0x00}};
  const auto& c = cpuid[static_cast<int>(p)];
  r.cpuid_fam_id = c.family;
  r.cpuid_mod_id = c.model;
  r.cpuid_step = c.stepping;
  if (!options_.vlek) r.chip_id = ChipId(options_.chip, p);
  r.current = r.committed = snp::FirmwareVersion{29, 55, 1};
  if (r.has_mitigation_vectors()) r.launch_mit_vector = r.current_mit_vector = 1;
  return r;
}

absl::Status SnpTestTee::Sign(snp::Report* report) const {
  report->signed_bytes = snp::SignedBytes(*report);
  ASSIGN_OR_RETURN(const std::string sig, SignEcdsaRaw(vek_key_.get(), EVP_sha384(),
                                                       report->signed_bytes,
                                                       snp::kP384ScalarSize));
  ToLittleEndian(absl::string_view(sig).substr(0, snp::kP384ScalarSize), &report->signature_r);
  ToLittleEndian(absl::string_view(sig).substr(snp::kP384ScalarSize), &report->signature_s);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SnpTestTee::MakeReport(snp::Report report) const {
  RETURN_IF_ERROR(Sign(&report));
  return snp::SerializeReport(report);
}

absl::StatusOr<std::string> SnpTestTee::MakeEvidence(snp::Report report,
                                                     const SnpTableContents& contents) const {
  ASSIGN_OR_RETURN(const std::string signed_report, MakeReport(std::move(report)));
  return absl::StrCat(signed_report, CertTable(contents));
}

std::string SnpTestTee::CertTable(const SnpTableContents& contents) const {
  std::vector<snp::CertTableEntry> table;
  if (contents.vek) table.push_back({options_.vlek ? snp::kVlekGuid : snp::kVcekGuid, VekDer()});
  if (contents.intermediate) {
    table.push_back({snp::kAskGuid, CertificateDer(intermediate_.get())});
  }
  if (contents.ark) table.push_back({snp::kArkGuid, CertificateDer(ark_.get())});
  return snp::SerializeCertTable(table);
}

}  // namespace teeverify::testing
