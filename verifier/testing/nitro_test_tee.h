// TEST-ONLY: an AWS Nitro platform built from checked-in test keys, shaped like AWS's attestation
// PKI: a root (EC P-384, the stand-in for the AWS Nitro Enclaves Root-G1), regional, zonal and
// instance CAs, and a per-document leaf, all ecdsa-with-SHA384, dated around `issued_at` as AWS
// dates them. It makes COSE_Sign1 documents (ES384) with chosen PCRs, nonce, user_data,
// public_key, module_id and timestamp, and negative documents for the parser. Only a verifier
// given RootPem() as its AWS Nitro root (Roots()) accepts what it makes.
#ifndef TEE_VERIFIER_TESTING_NITRO_TEST_TEE_H_
#define TEE_VERIFIER_TESTING_NITRO_TEST_TEE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/nitro/document.h"
#include "verifier/roots/trust_roots.h"

namespace teeverify::testing {

struct NitroTestOptions {
  // notBefore of the leaf. Root: issued_at - 1 year .. + 30 years; regional: -2 days .. +18 days;
  // zonal: -12 hours .. +5 days; instance: -4 hours .. +20 hours; leaf: +0 .. +3 hours.
  absl::Time issued_at = absl::FromUnixSeconds(1714564800);  // 2024-05-01T12:00:00Z
  // PEM private key of the leaf; nullptr: kNitroLeafKeyPem (P-384). Another curve makes
  // documents that ES384 must refuse.
  const char* leaf_key_pem = nullptr;
  // A pre-made root certificate (PEM) holding kNitroRootKeyPem's key, used instead of one dated
  // from issued_at; empty: made afresh. Verifiers pin the root byte for byte, and ECDSA
  // signatures (so freshly made certificates) differ from run to run.
  std::string root_pem;
};

// What a test chooses of a document. DefaultSpec() fills every field; an empty map or string
// here is put into the document as it is (and the parser will refuse it).
struct NitroDocumentSpec {
  std::string module_id;
  uint64_t timestamp_ms = 0;
  std::map<uint32_t, std::string> pcrs;
  std::optional<std::string> nonce;
  std::optional<std::string> user_data;
  std::optional<std::string> public_key;
  bool indefinite_map = false;  // the payload as an indefinite-length map (newer NSM versions)
  bool tagged = false;          // COSE_Sign1 with tag 18
};

// The encoding of the COSE_Sign1 around a payload; the defaults are what AWS sends.
struct CoseEncoding {
  bool tagged = false;
  std::string protected_header = std::string("\xa1\x01\x38\x22", 4);  // {1: -35}
  std::string unprotected_header = std::string("\xa0", 1);            // {}
  std::string trailing;  // appended after the COSE_Sign1
};

class NitroTestTee {
 public:
  static absl::StatusOr<std::unique_ptr<NitroTestTee>> Create(const NitroTestOptions& options = {});

  // The test root, to be used in place of the AWS Nitro Enclaves Root-G1.
  std::string RootPem() const;
  // Trust roots holding only the test root, as the AWS Nitro Enclaves Root-G1.
  absl::StatusOr<std::shared_ptr<const TrustRoots>> Roots() const;

  // module_id of the test instance, timestamp issued_at + 3 s, PCR0..4 and PCR8 set (not a
  // debug enclave), PCR5..7 and 9..15 zero, no nonce, user_data or public_key.
  NitroDocumentSpec DefaultSpec() const;

  // The payload of `spec`, with this platform's leaf certificate and cabundle.
  nitro::AttestationPayload Payload(const NitroDocumentSpec& spec) const;

  absl::StatusOr<std::string> MakeDocument(const NitroDocumentSpec& spec) const;
  absl::StatusOr<std::string> MakeDocument(const nitro::AttestationPayload& payload,
                                           const CoseEncoding& encoding = {}) const;
  // Signs any payload bytes with the leaf key: documents that only the parser can refuse.
  absl::StatusOr<std::string> SignPayloadBytes(absl::string_view payload,
                                               const CoseEncoding& encoding = {}) const;

  // The payload map of `payload` followed by `count` extra entries, given as CBOR (e.g. a second
  // "nonce" key, or an unknown field).
  static std::string PayloadWithExtraEntries(const nitro::AttestationPayload& payload,
                                             absl::string_view entries_cbor, size_t count);
  // A COSE_Sign1 whose payload byte string declares 2^63 - 1 bytes (and carries 16).
  static std::string HugeLengthDocument();

  X509* leaf() const { return leaf_.get(); }

 private:
  NitroTestTee() = default;
  absl::Status Init(const NitroTestOptions& options);

  NitroTestOptions options_;
  EvpPkeyPtr root_key_, regional_key_, zonal_key_, instance_key_, leaf_key_;
  X509Ptr root_, regional_, zonal_, instance_, leaf_;
};

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_NITRO_TEST_TEE_H_
