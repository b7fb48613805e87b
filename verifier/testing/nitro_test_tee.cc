#include "verifier/testing/nitro_test_tee.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/errors.h"
#include "verifier/common/status_macros.h"
#include "verifier/nitro/cbor_writer.h"
#include "verifier/nitro/cose.h"
#include "verifier/nitro/document_parser.h"
#include "verifier/testing/nitro_test_keys.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testing {
namespace {

constexpr absl::string_view kInstanceId = "i-0123456789abcdef0";
constexpr absl::string_view kModuleId = "i-0123456789abcdef0-enc0123456789abcdef";

// Nitro's chain signs with ECDSA over SHA-384.
CertSpec Sha384Spec(absl::string_view cn, long serial, absl::Time from, absl::Time to, bool ca) {
  CertSpec spec = Spec(std::string(cn), serial, from, to, ca);
  spec.digest = EVP_sha384();
  return spec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NitroTestTee>> NitroTestTee::Create(const NitroTestOptions& options) {
  std::unique_ptr<NitroTestTee> tee(new NitroTestTee());
  RETURN_IF_ERROR(tee->Init(options));
  return tee;
}

absl::Status NitroTestTee::Init(const NitroTestOptions& o) {
  options_ = o;
  ASSIGN_OR_RETURN(root_key_, LoadPrivateKey(kNitroRootKeyPem));
  ASSIGN_OR_RETURN(regional_key_, LoadPrivateKey(kNitroRegionalKeyPem));
  ASSIGN_OR_RETURN(zonal_key_, LoadPrivateKey(kNitroZonalKeyPem));
  ASSIGN_OR_RETURN(instance_key_, LoadPrivateKey(kNitroInstanceKeyPem));
  ASSIGN_OR_RETURN(leaf_key_, LoadPrivateKey(o.leaf_key_pem ? o.leaf_key_pem : kNitroLeafKeyPem));
  const absl::Time t = o.issued_at;
  const absl::Duration day = absl::Hours(24);
  if (!o.root_pem.empty()) {
    ASSIGN_OR_RETURN(root_, PremadeCertificate(o.root_pem, root_key_.get(), "root_pem",
                                               "the test Nitro root key"));
  } else {
    ASSIGN_OR_RETURN(root_, MakeCertificate(Sha384Spec("test.nitro-enclaves", 1, t - 365 * day,
                                                       t + 30 * 365 * day, true),
                                            root_key_.get(), nullptr, root_key_.get()));
  }
  ASSIGN_OR_RETURN(regional_,
                   MakeCertificate(Sha384Spec("0123456789abcdef.us-east-1.test.nitro-enclaves", 2,
                                              t - 2 * day, t + 18 * day, true),
                                   regional_key_.get(), root_.get(), root_key_.get()));
  ASSIGN_OR_RETURN(
      zonal_, MakeCertificate(Sha384Spec("fedcba9876543210.zonal.us-east-1.test.nitro-enclaves", 3,
                                         t - absl::Hours(12), t + 5 * day, true),
                              zonal_key_.get(), regional_.get(), regional_key_.get()));
  ASSIGN_OR_RETURN(
      instance_,
      MakeCertificate(Sha384Spec(absl::StrCat(kInstanceId, ".us-east-1.test.nitro-enclaves"), 4,
                                 t - absl::Hours(4), t + absl::Hours(20), true),
                      instance_key_.get(), zonal_.get(), zonal_key_.get()));
  ASSIGN_OR_RETURN(leaf_,
                   MakeCertificate(Sha384Spec(absl::StrCat(kModuleId, ".us-east-1.test"), 5, t,
                                              t + absl::Hours(3), false),
                                   leaf_key_.get(), instance_.get(), instance_key_.get()));
  return absl::OkStatus();
}

std::string NitroTestTee::RootPem() const { return CertificatePem(root_.get()); }

absl::StatusOr<std::shared_ptr<const TrustRoots>> NitroTestTee::Roots() const {
  return TrustRoots::FromPem({{RootId::kAwsNitroEnclavesRootG1, RootPem()}});
}

NitroDocumentSpec NitroTestTee::DefaultSpec() const {
  NitroDocumentSpec spec;
  spec.module_id = std::string(kModuleId);
  spec.timestamp_ms = static_cast<uint64_t>(absl::ToUnixMillis(options_.issued_at + absl::Seconds(3)));
  for (uint32_t i = 0; i < 16; ++i) spec.pcrs[i] = std::string(48, '\0');
  for (uint32_t i : {0u, 1u, 2u, 3u, 4u, 8u}) {
    spec.pcrs[i] = std::string(48, static_cast<char>(0xa0 + i));
  }
  return spec;
}

nitro::AttestationPayload NitroTestTee::Payload(const NitroDocumentSpec& spec) const {
  nitro::AttestationPayload p;
  p.module_id = spec.module_id;
  p.digest = std::string(nitro::kDigestSha384);
  p.timestamp_ms = spec.timestamp_ms;
  p.pcrs = spec.pcrs;
  p.certificate = CertificateDer(leaf_.get());
  for (X509* ca : {root_.get(), regional_.get(), zonal_.get(), instance_.get()}) {
    p.cabundle.push_back(CertificateDer(ca));
  }
  p.public_key = spec.public_key;
  p.user_data = spec.user_data;
  p.nonce = spec.nonce;
  p.indefinite_map = spec.indefinite_map;
  return p;
}

absl::StatusOr<std::string> NitroTestTee::MakeDocument(const NitroDocumentSpec& spec) const {
  CoseEncoding encoding;
  encoding.tagged = spec.tagged;
  return MakeDocument(Payload(spec), encoding);
}

absl::StatusOr<std::string> NitroTestTee::MakeDocument(const nitro::AttestationPayload& payload,
                                                       const CoseEncoding& encoding) const {
  return SignPayloadBytes(nitro::SerializePayload(payload), encoding);
}

absl::StatusOr<std::string> NitroTestTee::SignPayloadBytes(absl::string_view payload,
                                                           const CoseEncoding& encoding) const {
  ASSIGN_OR_RETURN(const std::string signature,
                   SignEcdsaRaw(leaf_key_.get(), EVP_sha384(),
                                nitro::SigStructure(encoding.protected_header, payload), 48));
  nitro::CborWriter w;
  if (encoding.tagged) w.Tag(nitro::kCoseSign1Tag);
  w.ArrayStart(4);
  w.Bytes(encoding.protected_header);
  w.Raw(encoding.unprotected_header);
  w.Bytes(payload);
  w.Bytes(signature);
  w.Raw(encoding.trailing);
  return w.Take();
}

std::string NitroTestTee::PayloadWithExtraEntries(const nitro::AttestationPayload& payload,
                                                  absl::string_view entries_cbor, size_t count) {
  nitro::AttestationPayload definite = payload;
  definite.indefinite_map = false;
  const std::string base = nitro::SerializePayload(definite);  // 0xa9: a map of 9 entries
  nitro::CborWriter w;
  if (payload.indefinite_map) {
    w.IndefiniteMapStart();
  } else {
    w.MapStart(9 + count);
  }
  w.Raw(absl::string_view(base).substr(1));
  w.Raw(entries_cbor);
  if (payload.indefinite_map) w.Break();
  return w.Take();
}

std::string NitroTestTee::HugeLengthDocument() {
  std::string doc("\x84\x44\xa1\x01\x38\x22\xa0", 7);
  doc += std::string("\x5b\x7f\xff\xff\xff\xff\xff\xff\xff", 9);
  doc += std::string(16, '\x42');
  return doc;
}

}  // namespace teeverify::testing
