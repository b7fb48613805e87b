// TEST-ONLY: an SEV-SNP platform built from checked-in test keys (snp_test_keys.h), shaped exactly
// like AMD's: per product a test ARK ("ARK-Milan", ...), ASK ("SEV-Milan") and ASVK
// ("SEV-VLEK-Milan"), all RSA-4096 signing with RSASSA-PSS SHA-384; a VCEK ("SEV-VCEK", serial 0,
// with productName, the SPLs and hwID) or a VLEK ("SEV-VLEK", with cspId) holding a P-384 key; and
// reports of version 2, 3 or 5 signed by it, little-endian R/S as the firmware writes them.
//
// Only a verifier whose TrustRoots hold the test ARK (Roots(), or ArkPem() in a tee-verify --roots
// directory) accepts what it makes; the ASK/ASVK must then travel with the evidence (MakeEvidence's
// certificate table, or CertificateBundlePem() as --cert).
#ifndef TEE_VERIFIER_TESTING_SNP_TEST_TEE_H_
#define TEE_VERIFIER_TESTING_SNP_TEST_TEE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/roots/trust_roots.h"
#include "verifier/snp/report.h"
#include "verifier/snp/snp_claims.h"

namespace teeverify::testing {

struct SnpTestOptions {
  snp::Product product = snp::Product::kMilan;
  bool vlek = false;  // sign with the VLEK (issued by the ASVK) instead of a VCEK
  int chip = 0;       // 0 or 1: which test chip (VCEK key and CHIP_ID)
  // Validity of the ARK, of the ASK/ASVK and of the VCEK/VLEK.
  ValidityWindow ark{absl::FromUnixSeconds(1577836800),    // 2020-01-01
                     absl::FromUnixSeconds(2524608000)};   // 2050-01-01
  ValidityWindow intermediate = ark;
  ValidityWindow vek{absl::FromUnixSeconds(1704067200),    // 2024-01-01
                     absl::FromUnixSeconds(1924992000)};   // 2031-01-01
  // The TCB the VCEK/VLEK is issued for; DefaultTcb(product) when unset.
  std::optional<snp::TcbVersion> tcb;
  std::string csp_id = "test-csp.example";  // VLEK cspId
  // Deviations for negative tests.
  bool vek_signed_with_pss = true;  // false: the ASK signs the VCEK with PKCS#1 v1.5 SHA-384
  bool der_wrapped_hw_id = false;   // hwID as a DER OCTET STRING rather than raw bytes
  // A pre-made ARK certificate (PEM) holding this product's test ARK key; empty: made afresh.
  // Processes that must agree on the root's bytes use the same one (RSASSA-PSS signatures, so
  // freshly made certificates, differ from run to run).
  std::string ark_pem;
};

// What the generator puts in the certificate table of MakeEvidence.
struct SnpTableContents {
  bool vek = true;
  bool intermediate = true;
  bool ark = false;
};

class SnpTestTee {
 public:
  static absl::StatusOr<std::unique_ptr<SnpTestTee>> Create(const SnpTestOptions& options = {});

  // A TCB with distinct non-zero components, in the product's layout (Turin has fmc).
  static snp::TcbVersion DefaultTcb(snp::Product product);
  // The test chip's CHIP_ID: 64 bytes (Milan, Genoa), or 8 bytes and 56 zeros (Turin).
  static ByteArray<64> ChipId(int chip, snp::Product product);

  // Roots with the test ARK as the ARK of this product (and nothing else).
  absl::StatusOr<std::shared_ptr<const TrustRoots>> Roots() const;
  RootId ark_root_id() const;

  std::string ArkPem() const;
  std::string IntermediatePem() const;  // the ASK, or the ASVK for a VLEK
  std::string VekPem() const;
  std::string VekDer() const;
  // VCEK/VLEK, ASK/ASVK, ARK: what tee-verify --cert accepts as a bundle.
  std::string CertificateBundlePem() const;

  // A version 3 (Milan, Genoa) or 5 (Turin) report for this chip and TCB, policy 0x30000, VMPL
  // 0, SIGNING_KEY set for the VCEK or VLEK, CHIP_ID zero for a VLEK; unsigned.
  snp::Report DefaultReport() const;

  // Signs `report` (bytes 0x000..0x29F, SHA-384, this VCEK/VLEK) and stores R and S.
  absl::Status Sign(snp::Report* report) const;
  // Signs and serializes: a bare 1184-byte report.
  absl::StatusOr<std::string> MakeReport(snp::Report report) const;
  // Signs and appends a certificate table (GUIDs of extended_evidence.h) with `contents`.
  absl::StatusOr<std::string> MakeEvidence(snp::Report report,
                                           const SnpTableContents& contents = {}) const;
  // The certificate table alone (what MakeEvidence appends).
  std::string CertTable(const SnpTableContents& contents = {}) const;

  const SnpTestOptions& options() const { return options_; }

 private:
  SnpTestTee() = default;
  absl::Status Init(const SnpTestOptions& options);

  SnpTestOptions options_;
  snp::TcbVersion tcb_;
  EvpPkeyPtr ark_key_, intermediate_key_, vek_key_;
  X509Ptr ark_, intermediate_, vek_;
};

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_SNP_TEST_TEE_H_
