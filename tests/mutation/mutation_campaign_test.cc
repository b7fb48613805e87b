// The mutation campaign: every positive real vector, mutated many thousand times (bit and byte
// flips, truncations, extensions, insertions, deletions, swapped certificates, collateral of
// another platform, times outside every validity window), must never verify. Each test first
// checks that the unmutated vector verifies, so a refusal is the mutation's doing.
//
// Counts scale with TEE_MUTATION_SCALE (default 1: about 11,500 mutations over the three TEEs;
// the sanitizer build runs a smaller share). The generator is seeded, so a failure names a
// mutation that reproduces; TEE_MUTATION_SEED picks another sequence.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "verifier/azure/hcl_report.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/evidence.h"
#include "verifier/io/files.h"
#include "verifier/nitro/real_documents_testdata.h"
#include "tests/mutation/mutator.h"

namespace teeverify {
namespace {

using ::teeverify::testing::BuiltInRoots;
using ::teeverify::testing::TestTdxCollateral;
using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::mutation::kSnpVectors;
using ::teeverify::mutation::kTdxVectors;
using ::teeverify::mutation::Mutant;
using ::teeverify::mutation::Mutator;
using ::teeverify::mutation::SameUpToTrailingPadding;
using ::teeverify::mutation::SnpVector;
using ::teeverify::mutation::TdxVector;

double Scale() {
  const char* s = std::getenv("TEE_MUTATION_SCALE");
  double v = s != nullptr ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}

uint64_t Seed() {
  const char* s = std::getenv("TEE_MUTATION_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : 20261125;
}

int Scaled(int n) { return std::max(1, static_cast<int>(n * Scale())); }

// Tally of one TEE's campaign.
struct Tally {
  int tried = 0;
  int equivalent = 0;  // verified, but the same evidence (SameUpToTrailingPadding)
  std::vector<std::string> accepted;
  std::map<std::string, int> refused_by_reason;

  // A mutant that passed every check the recorded data allows (Azure TDX: no collateral).
  void Accept(absl::string_view what) {
    ++tried;
    accepted.push_back(std::string(what));
  }

  // `bytes`: the mutated input, written to $TEE_MUTATION_DUMP/<n>.bin when it verified.
  void Record(const absl::StatusOr<VerifiedClaims>& result, absl::string_view what,
              absl::string_view bytes = "") {
    ++tried;
    if (result.ok()) {
      accepted.push_back(std::string(what));
      if (const char* dir = std::getenv("TEE_MUTATION_DUMP"); dir != nullptr && !bytes.empty()) {
        std::string path = absl::StrCat(dir, "/", accepted.size(), ".bin");
        if (FILE* f = std::fopen(path.c_str(), "wb"); f != nullptr) {
          std::fwrite(bytes.data(), 1, bytes.size(), f);
          std::fclose(f);
        }
      }
    } else {
      ++refused_by_reason[std::string(ReasonName(ReasonOf(result.status())))];
    }
  }

  void Report(absl::string_view tee) const {
    std::vector<std::string> parts;
    for (const auto& [reason, count] : refused_by_reason) {
      parts.push_back(absl::StrCat(reason, "=", count));
    }
    std::printf("mutation campaign %s: %d mutations, %zu accepted, %d equivalent; refused: %s\n",
                std::string(tee).c_str(), tried, accepted.size(), equivalent,
                absl::StrJoin(parts, " ").c_str());
    ::testing::Test::RecordProperty(absl::StrCat(tee, "_mutations"), tried);
    EXPECT_TRUE(accepted.empty()) << accepted.size() << " mutants verified; first: "
                                  << absl::StrJoin(accepted, "\n");
  }
};

// A verifier as the sidecar runs it: with caches, so that a mutant must not slip through on an
// entry cached by the original.
EvidenceVerifier CachingVerifier() {
  return EvidenceVerifier(BuiltInRoots(), VerificationCaches::WithCapacity(64));
}

// ---- TDX ----

absl::StatusOr<VerifiedClaims> VerifyTdx(const EvidenceVerifier& verifier, absl::string_view quote,
                                         const tdx::TdxCollateral& collateral, absl::Time now) {
  EvidenceRequest request;
  request.evidence = quote;
  request.tee = TeeKind::kTdx;
  request.now = now;
  request.tdx_collateral = collateral;
  return verifier.Verify(request);
}

TEST(MutationCampaignTest, TdxQuotesAndCollateral) {
  EvidenceVerifier verifier = CachingVerifier();
  Mutator mutator(Seed());
  Tally tally;
  const int per_quote = Scaled(1200);
  const int per_collateral = Scaled(300);
  for (const TdxVector& v : kTdxVectors) {
    const std::string quote = ReadTestData(absl::StrCat("tdx/quotes/", v.quote));
    const tdx::TdxCollateral collateral = TestTdxCollateral(v.collateral);
    const absl::Time at = At(v.at);
    absl::StatusOr<VerifiedClaims> original = VerifyTdx(verifier, quote, collateral, at);
    ASSERT_TRUE(original.ok()) << v.quote << ": " << original.status();

    for (int i = 0; i < per_quote; ++i) {
      Mutant m = mutator.Mutate(quote);
      absl::StatusOr<VerifiedClaims> result = VerifyTdx(verifier, m.bytes, collateral, at);
      if (result.ok() && SameUpToTrailingPadding(m.bytes, quote)) {
        ++tally.equivalent;
        continue;
      }
      tally.Record(result, absl::StrCat(v.quote, ": ", m.description), m.bytes);
    }
    for (int i = 0; i < per_collateral; ++i) {
      const tdx::TdxCollateralItem& item =
          tdx::kTdxCollateralItems[static_cast<size_t>(i) % std::size(tdx::kTdxCollateralItems)];
      Mutant m = mutator.Mutate(collateral.*item.bytes);
      tdx::TdxCollateral mutated = collateral;
      mutated.*item.bytes = m.bytes;
      absl::StatusOr<VerifiedClaims> result = VerifyTdx(verifier, quote, mutated, at);
      if (result.ok() && SameUpToTrailingPadding(m.bytes, collateral.*item.bytes)) {
        ++tally.equivalent;
        continue;
      }
      tally.Record(result, absl::StrCat(v.quote, " with ", item.file, ": ", m.description), m.bytes);
    }
    // Collateral of another platform or time, whole and item by item.
    const tdx::TdxCollateral other = TestTdxCollateral(v.other_platform_collateral);
    tally.Record(VerifyTdx(verifier, quote, other, at), absl::StrCat(v.quote, " other collateral"));
    for (const tdx::TdxCollateralItem& item : tdx::kTdxCollateralItems) {
      if (collateral.*item.bytes == other.*item.bytes) continue;  // the same issuer chain serves both
      tdx::TdxCollateral mixed = collateral;
      mixed.*item.bytes = other.*item.bytes;
      tally.Record(VerifyTdx(verifier, quote, mixed, at),
                   absl::StrCat(v.quote, " with another ", item.file));
    }
    // Times outside the windows.
    for (const char* t : {v.before_every_window, v.after_every_window}) {
      tally.Record(VerifyTdx(verifier, quote, collateral, At(t)), absl::StrCat(v.quote, " at ", t));
    }
  }
  tally.Report("tdx");
}

// ---- SEV-SNP ----

absl::StatusOr<VerifiedClaims> VerifySnp(const EvidenceVerifier& verifier, absl::string_view report,
                                         absl::string_view cert, absl::Time now) {
  EvidenceRequest request;
  request.evidence = report;
  request.tee = TeeKind::kSevSnp;
  request.now = now;
  request.certificate = cert;
  return verifier.Verify(request);
}

TEST(MutationCampaignTest, SnpReportsAndCertificates) {
  EvidenceVerifier verifier = CachingVerifier();
  Mutator mutator(Seed() + 1);
  Tally tally;
  const int per_report = Scaled(350);
  const int per_cert = Scaled(100);
  std::vector<std::string> certs;
  for (const SnpVector& v : kSnpVectors) {
    certs.push_back(ReadTestData(absl::StrCat("sevsnp/certs/", v.cert)));
  }
  for (size_t k = 0; k < std::size(kSnpVectors); ++k) {
    const SnpVector& v = kSnpVectors[k];
    const std::string report = ReadTestData(absl::StrCat("sevsnp/reports/", v.report));
    const std::string& cert = certs[k];
    const absl::Time at = At(v.at);
    absl::StatusOr<VerifiedClaims> original = VerifySnp(verifier, report, cert, at);
    ASSERT_TRUE(original.ok()) << v.report << ": " << original.status();

    for (int i = 0; i < per_report; ++i) {
      Mutant m = mutator.Mutate(report);
      tally.Record(VerifySnp(verifier, m.bytes, cert, at),
                   absl::StrCat(v.report, ": ", m.description));
    }
    for (int i = 0; i < per_cert; ++i) {
      Mutant m = mutator.Mutate(cert);
      tally.Record(VerifySnp(verifier, report, m.bytes, at),
                   absl::StrCat(v.report, " with ", v.cert, ": ", m.description));
    }
    // Every other vector's certificate in place of this one's.
    for (size_t j = 0; j < certs.size(); ++j) {
      if (j == k || certs[j] == cert) continue;
      tally.Record(VerifySnp(verifier, report, certs[j], at),
                   absl::StrCat(v.report, " with ", kSnpVectors[j].cert));
    }
    tally.Record(VerifySnp(verifier, report, "", at), absl::StrCat(v.report, " without cert"));
    // Before AMD's chain existed, and after the signing key expired.
    for (const char* t : {"2010-01-01T00:00:00Z", v.after_cert}) {
      tally.Record(VerifySnp(verifier, report, cert, At(t)), absl::StrCat(v.report, " at ", t));
    }
  }
  tally.Report("sev_snp");
}

// ---- Nitro ----

absl::StatusOr<VerifiedClaims> VerifyNitro(const EvidenceVerifier& verifier,
                                           absl::string_view document, absl::Time now) {
  EvidenceRequest request;
  request.evidence = document;
  request.tee = TeeKind::kNitro;
  request.now = now;
  return verifier.Verify(request);
}

TEST(MutationCampaignTest, NitroDocuments) {
  EvidenceVerifier verifier = CachingVerifier();
  Mutator mutator(Seed() + 2);
  Tally tally;
  const int per_document = Scaled(500);
  for (const nitro::testdata::RealDocument& d : nitro::testdata::kRealDocuments) {
    const std::string document = ReadTestData(absl::StrCat("nitro/docs/", d.file));
    const absl::Time at = At(d.at);
    absl::StatusOr<VerifiedClaims> original = VerifyNitro(verifier, document, at);
    ASSERT_TRUE(original.ok()) << d.name << ": " << original.status();

    for (int i = 0; i < per_document; ++i) {
      Mutant m = mutator.Mutate(document);
      tally.Record(VerifyNitro(verifier, m.bytes, at), absl::StrCat(d.name, ": ", m.description));
    }
    // An hour after the leaf expired, and a day before the document's chain was issued.
    tally.Record(VerifyNitro(verifier, document, At(d.one_hour_after_leaf)),
                 absl::StrCat(d.name, " after the leaf expired"));
    tally.Record(VerifyNitro(verifier, document, At(d.at) - absl::Hours(24)),
                 absl::StrCat(d.name, " a day before"));
  }
  tally.Report("nitro");
}


// ---- Azure vTPM (az-snp-vtpm, az-tdx-vtpm) ----

// The evidence JSON split into its binary parts, mutated one part at a time and re-encoded, so
// that every mutant differs in what it attests (mutating the JSON text itself would mostly test
// the JSON parser, and hex case or whitespace changes are the same evidence).
struct AzureParts {
  nlohmann::json json;
  std::string hcl;
  std::string runtime_data;  // inside hcl
  std::string message;
  std::string signature;
  std::vector<std::string> pcrs;
  std::string hardware;  // "vcek" or "td_quote"
};

std::string Base64Url(absl::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string FromBase64Url(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(n - std::count(text.begin(), text.end(), '='));
  return out;
}

AzureParts SplitAzure(const std::string& evidence, const char* hardware) {
  AzureParts p;
  p.json = nlohmann::json::parse(evidence);
  p.hcl = FromBase64Url(p.json["hcl_report"]);
  const size_t offset = azure::kHclHeaderSize + azure::kHwReportSlotSize;
  uint32_t size = 0;
  std::memcpy(&size, p.hcl.data() + offset + 16, 4);
  p.runtime_data = p.hcl.substr(offset + azure::kRequestDataHeaderSize, size);
  p.message = *HexDecode(p.json["tpm_quote"]["message"].get<std::string>(), "message");
  p.signature = *HexDecode(p.json["tpm_quote"]["signature"].get<std::string>(), "signature");
  for (const auto& pcr : p.json["tpm_quote"]["pcrs"]) {
    p.pcrs.push_back(*HexDecode(pcr.get<std::string>(), "pcr"));
  }
  p.hardware = FromBase64Url(p.json[hardware]);
  return p;
}

// The HCL report with other runtime data: sizes rewritten, zero padded to the original length.
std::string WithRuntimeData(const std::string& hcl, const std::string& runtime) {
  const size_t offset = azure::kHclHeaderSize + azure::kHwReportSlotSize;
  std::string out = hcl.substr(0, offset + azure::kRequestDataHeaderSize) + runtime;
  auto put = [&](size_t at, uint32_t v) { std::memcpy(out.data() + at, &v, 4); };
  const uint32_t variable = static_cast<uint32_t>(runtime.size());
  put(8, static_cast<uint32_t>(offset + azure::kRequestDataHeaderSize + variable));
  put(offset, static_cast<uint32_t>(azure::kRequestDataHeaderSize + variable));
  put(offset + 16, variable);
  if (out.size() < hcl.size()) out.resize(hcl.size(), '\0');
  return out;
}

std::string JoinAzure(const AzureParts& p, const char* hardware) {
  nlohmann::json j = p.json;
  j["hcl_report"] = Base64Url(p.hcl);
  j["tpm_quote"]["message"] = HexEncode(p.message);
  j["tpm_quote"]["signature"] = HexEncode(p.signature);
  for (size_t i = 0; i < p.pcrs.size(); ++i) j["tpm_quote"]["pcrs"][i] = HexEncode(p.pcrs[i]);
  j[hardware] = Base64Url(p.hardware);
  return j.dump();
}

// The bytes of a TDREPORT the TD quote does not carry (REPORTMACSTRUCT but REPORTDATA, TEE_TCB_INFO's
// valid field and reserved bytes, TDINFO's SERVTD hash and reserved bytes): no one but the TDX
// module on that platform can authenticate them, the verifier ignores them and the claims come
// from the quote. A mutant changing only those is the same evidence.
bool OnlyUnquotedTdReportBytes(const std::string& mutant, const std::string& original) {
  if (mutant.size() != original.size()) return false;
  static constexpr std::pair<size_t, size_t> kQuoted[] = {{128, 192}, {264, 384}, {512, 912}};
  for (size_t i = 0; i < original.size(); ++i) {
    if (mutant[i] == original[i]) continue;
    if (i < azure::kHclHeaderSize || i >= azure::kHclHeaderSize + azure::kTdReportSize) return false;
    const size_t at = i - azure::kHclHeaderSize;
    for (const auto& [from, to] : kQuoted) {
      if (at >= from && at < to) return false;
    }
  }
  return true;
}

// A TDX collateral provider with nothing: the recorded Azure TDX vector has no collateral, so a
// mutant that gets as far as asking for it passed every check the recorded data allows.
class NoTdxCollateral : public TdxCollateralProvider {
 public:
  absl::StatusOr<std::shared_ptr<const tdx::VerifiedTdxCollateral>> ForPlatform(
      const ByteArray<6>&, absl::Time) const override {
    return MakeError(v1::REASON_COLLATERAL_MISSING, "no collateral recorded");
  }
};

struct AzureVector {
  const char* file;
  const char* hardware;  // the JSON member of the hardware evidence
  bool collateral_recorded;
};

const AzureVector kAzureVectors[] = {
    {"az-snp-vtpm-evidence-v1.json", "vcek", true},
    {"az-snp-vtpm-evidence-v2.json", "vcek", true},
    {"az-tdx-vtpm-evidence-v1.json", "td_quote", false},
};

TEST(MutationCampaignTest, AzureVtpmEvidenceParts) {
  EvidenceVerifier verifier = CachingVerifier();
  NoTdxCollateral no_collateral;
  Mutator mutator(Seed() + 3);
  Tally tally;
  const int per_part = Scaled(120);
  const absl::Time at = At("2025-10-01T08:00:00Z");
  for (const AzureVector& v : kAzureVectors) {
    const std::string evidence = ReadTestData(absl::StrCat("azure/", v.file));
    const AzureParts original = SplitAzure(evidence, v.hardware);
    auto verify = [&](const std::string& json) -> absl::StatusOr<VerifiedClaims> {
      EvidenceRequest request;
      request.evidence = json;
      request.now = at;
      request.tdx_collateral_provider = &no_collateral;
      absl::StatusOr<VerifiedClaims> r = verifier.Verify(request);
      if (!v.collateral_recorded && ReasonOf(r.status()) == v1::REASON_COLLATERAL_MISSING) {
        return MakeError(v1::REASON_INTERNAL, "passed every collateral-free check");
      }
      return r;
    };
    // The unmutated vector passes (up to the missing collateral), and re-encoding is lossless.
    const absl::StatusOr<VerifiedClaims> base = verify(JoinAzure(original, v.hardware));
    if (v.collateral_recorded) {
      ASSERT_TRUE(base.ok()) << v.file << ": " << base.status();
    } else {
      ASSERT_EQ(ReasonOf(base.status()), v1::REASON_INTERNAL) << v.file << ": " << base.status();
    }
    auto record = [&](const AzureParts& mutant, const std::string& what) {
      const absl::StatusOr<VerifiedClaims> r = verify(JoinAzure(mutant, v.hardware));
      if (!v.collateral_recorded && ReasonOf(r.status()) == v1::REASON_INTERNAL) {
        tally.Accept(absl::StrCat(v.file, " ", what));
      } else {
        tally.Record(r, absl::StrCat(v.file, " ", what));
      }
    };
    for (int i = 0; i < per_part; ++i) {
      AzureParts m = original;
      Mutant hcl = mutator.Mutate(original.hcl);
      if (SameUpToTrailingPadding(hcl.bytes, original.hcl) ||
          (!v.collateral_recorded && OnlyUnquotedTdReportBytes(hcl.bytes, original.hcl))) {
        ++tally.equivalent;  // zero padding after report_size; TDREPORT bytes no quote carries
      } else {
        m.hcl = hcl.bytes;
        record(m, absl::StrCat("hcl_report: ", hcl.description));
      }
      m = original;
      Mutant runtime = mutator.Mutate(original.runtime_data);
      m.hcl = WithRuntimeData(original.hcl, runtime.bytes);
      record(m, absl::StrCat("runtime data: ", runtime.description));
      m = original;
      Mutant message = mutator.Mutate(original.message);
      m.message = message.bytes;
      record(m, absl::StrCat("tpm_quote.message: ", message.description));
      m = original;
      Mutant signature = mutator.Mutate(original.signature);
      m.signature = signature.bytes;
      record(m, absl::StrCat("tpm_quote.signature: ", signature.description));
      m = original;
      const size_t index = mutator.Below(m.pcrs.size());
      const size_t byte = mutator.Below(32);
      m.pcrs[index][byte] = static_cast<char>(m.pcrs[index][byte] ^ (1 + mutator.Below(255)));
      record(m, absl::StrCat("pcrs[", index, "] byte ", byte));
      m = original;
      Mutant hardware = mutator.Mutate(original.hardware);
      if (SameUpToTrailingPadding(hardware.bytes, original.hardware)) {
        ++tally.equivalent;
        continue;
      }
      m.hardware = hardware.bytes;
      record(m, absl::StrCat(v.hardware, ": ", hardware.description));
    }
    // Another vector's parts swapped in: the attestation key's quote and PCRs of another VM.
    for (const AzureVector& other : kAzureVectors) {
      if (&other == &v) continue;
      const AzureParts o = SplitAzure(ReadTestData(absl::StrCat("azure/", other.file)), other.hardware);
      AzureParts m = original;
      m.message = o.message;
      m.signature = o.signature;
      m.pcrs = o.pcrs;
      record(m, absl::StrCat("tpm quote of ", other.file));
      m = original;
      m.hcl = o.hcl;
      record(m, absl::StrCat("hcl_report of ", other.file));
    }
  }
  tally.Report("azure");
}

}  // namespace
}  // namespace teeverify
