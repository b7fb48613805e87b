// Google Benchmark of evidence verification for each TEE, on real vectors at the times their tests
// use. Cold: a verifier without caches, so every certificate, CRL, collateral and evidence
// signature is checked from bytes. Warm: the platform seen before (chains and collateral verified
// and cached), so only the per-evidence signatures and cross-checks remain. Floors: one ECDSA
// P-256, one ECDSA P-384 and one RSA-4096 PSS verification through our code paths, next to which
// scripts/bench.sh puts `openssl speed`. docs/performance.md explains the method and the numbers.
//
// Everything a benchmark needs (files, verifiers, caches, policies) is prepared in Prepare() before
// any benchmark runs, so that a benchmark function contains its measured loop only: callgrind
// (scripts/bench.sh) counts the instructions of one function and divides by the iterations,
// which TEE_BENCH_ITERATIONS fixes.
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "tests/bench/bench_main.h"
#include "tests/test_util.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/io/files.h"
#include "verifier/nitro/document_input.h"
#include "verifier/nitro/document_parser.h"
#include "verifier/nitro/nitro_chain.h"
#include "verifier/nitro/nitro_verifier.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/snp/amd_chain.h"
#include "verifier/snp/report_parser.h"
#include "verifier/snp/snp_verifier.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::TestDataPath;

[[noreturn]] void Die(absl::string_view what, const absl::Status& status) {
  fprintf(stderr, "verify_bench setup: %s: %s\n", std::string(what).c_str(),
          status.ToString().c_str());
  std::exit(2);
}

template <typename T>
T Must(absl::StatusOr<T> v, absl::string_view what) {
  if (!v.ok()) Die(what, v.status());
  return *std::move(v);
}

v1::Policy Role(absl::string_view json) {
  v1::Policy role = Must(policy::PolicyFromJson(json), "role");
  policy::PolicyValidation validated = policy::ValidatePolicy(role);
  if (!validated.errors.empty()) Die("role", absl::InvalidArgumentError(validated.errors[0]));
  return validated.normalized;
}

// TDX: dcap-qvl's sample quote (UpToDate at this time) with its full PCS collateral.
struct TdxFixture {
  std::shared_ptr<const TrustRoots> roots = Must(TrustRoots::BuiltIn(), "roots");
  std::string quote = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  tdx::TdxCollateral collateral =
      Must(LoadTdxCollateralDir(TestDataPath("tdx/collateral/dcap-qvl-2025-06")), "collateral");
  absl::Time now = At("2025-07-19T10:00:34Z");
  TdxVerifier cold{roots};
  TdxVerifier warm{roots, std::make_shared<TdxCaches>(64)};
  std::shared_ptr<const tdx::VerifiedTdxCollateral> verified = Must(
      tdx::VerifyTdxCollateral(collateral, Must(roots->Get(RootId::kIntelSgxRootCa), "root"), now),
      "tdx collateral");
  tdx::Quote parsed = Must(tdx::ParseQuote(quote), "tdx quote");
  EvpPkeyPtr attestation_key =
      Must(EcPublicKeyFromXY(Curve::kP256, AsView(parsed.attestation_key), "key"), "key");
  v1::Policy role = Role(
      R"({"tee_types":["tdx"],"tdx":{"mrtd":["91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"],)"
      R"("rtmr1":["0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378"],)"
      R"("rtmr2":["d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132"]},"allow_unbound_evidence":true})");
};

// SEV-SNP: Oak's Milan (v3) and Genoa (v5) reports with their VCEKs, at Oak's pinned time.
struct SnpCase {
  std::string report;
  std::string vcek;
};

struct SnpFixture {
  std::shared_ptr<const TrustRoots> roots = Must(TrustRoots::BuiltIn(), "roots");
  SnpCase milan{ReadTestData("sevsnp/reports/oak_milan_oc_release_report.bin"),
                ReadTestData("sevsnp/certs/oak_milan_oc_release_vcek.der")};
  SnpCase genoa{ReadTestData("sevsnp/reports/oak_genoa_oc_report.bin"),
                ReadTestData("sevsnp/certs/oak_genoa_oc_vcek.der")};
  absl::Time now = At("2025-10-01T08:00:00Z");
  SnpVerifier cold{roots};
  SnpVerifier warm{roots, std::make_shared<SnpCaches>(64)};
  snp::Report genoa_report = Must(snp::ParseReport(genoa.report), "genoa report");
  X509Ptr genoa_vcek = Must(ParseCertificate(genoa.vcek, "genoa vcek"), "genoa vcek");
  X509Ptr genoa_ask = Must(snp::BuiltInIntermediate(snp::Product::kGenoa, false), "genoa ask");
  v1::Policy role = Role(
      R"({"tee_types":["sev-snp"],"sev_snp":{"measurement":["c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc"]},"allow_unbound_evidence":true})");
};

// Nitro: the GA-era document (debug enclave) at the time its upstream test pins.
struct NitroFixture {
  std::shared_ptr<const TrustRoots> roots = Must(TrustRoots::BuiltIn(), "roots");
  std::string document = ReadTestData("nitro/docs/ga_debug.bin");
  absl::Time now = At("2023-09-18T17:18:00Z");
  NitroVerifier cold{roots};
  NitroVerifier warm{roots, std::make_shared<NitroCaches>(64)};
  nitro::AttestationDocument parsed = Must(nitro::ParseDocument(document), "nitro document");
  std::shared_ptr<const nitro::VerifiedNitroBundle> bundle =
      Must(nitro::VerifyNitroChain(parsed.payload,
                                   Must(roots->Get(RootId::kAwsNitroEnclavesRootG1), "root"), now),
           "nitro chain")
          .bundle;
  std::string bundle_key = nitro::BundleCacheKey(parsed.payload);
  // A debug enclave's image PCRs are zero, so nothing pins its image: the role must opt out.
  v1::Policy role = Role(
      R"({"tee_types":["nitro"],"allow_weak_image_anchor":true,"nitro":{"pcr3":["4a9329d69c836267b18abbf9f4a38889124490453419e426818626348d21f989dc930b1562682a9082887454e53425aa"]},"allow_debug":true,"max_evidence_age_seconds":86400,"allow_unbound_evidence":true})");
};

TdxFixture* tdx_fixture = nullptr;
SnpFixture* snp_fixture = nullptr;
NitroFixture* nitro_fixture = nullptr;

// Builds the fixtures and runs every path once: files, parsers, OpenSSL's lazily loaded
// algorithms and the warm caches are ready before anything is measured.
void PrepareFixtures() {
  tdx_fixture = new TdxFixture();
  snp_fixture = new SnpFixture();
  nitro_fixture = new NitroFixture();
  const TdxFixture& t = *tdx_fixture;
  Must(t.cold.Verify(t.quote, t.collateral, t.now), "tdx cold");
  Must(t.warm.Verify(t.quote, *t.verified, t.now), "tdx warm");
  const SnpFixture& s = *snp_fixture;
  for (const SnpCase* c : {&s.milan, &s.genoa}) {
    Must(s.cold.Verify(c->report, c->vcek, s.now), "snp cold");
    Must(s.warm.Verify(c->report, c->vcek, s.now), "snp warm");
  }
  const NitroFixture& n = *nitro_fixture;
  Must(n.cold.Verify(n.document, n.now), "nitro cold");
  Must(n.warm.Verify(n.document, n.now), "nitro warm");
  if (n.bundle == nullptr) Die("nitro bundle", absl::InternalError("not reusable"));
}

void Check(benchmark::State& state, const absl::StatusOr<VerifiedClaims>& claims) {
  if (!claims.ok()) state.SkipWithError(std::string(claims.status().message()).c_str());
}

void Check(benchmark::State& state, const policy::Decision& decision) {
  if (!decision.allow) state.SkipWithError("denied");
}

// With TEE_BENCH_ITERATIONS=N every benchmark runs exactly N iterations, once (callgrind).
void FixedIterationsFromEnv(benchmark::internal::Benchmark* b) {
  if (const char* n = std::getenv("TEE_BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
}

#define TEE_BENCHMARK(fn) BENCHMARK(fn)->Apply(FixedIterationsFromEnv)

// ---- TDX ----

// Everything from bytes: the quote, its PCK chain and the raw PCS collateral (TCB info, QE
// identity, PCK CRL, root CA CRL and their issuer chains) parsed and verified on each call, nothing
// kept between calls. 11 P-256 signatures are presented (quote, QE report, PCK leaf, PCK CA, PCK CA
// again in the CRL issuer chain, PCK CRL, root CA CRL, TCB Signing twice, TCB info, QE identity),
// 9 distinct; 7 are verified per call. The other 2 are the root's signatures over Intel's PCK CA
// and TCB Signing certificates, which are compiled in (known_intermediates.cc): verified once per
// process (in Prepare()) and remembered by the certificate and the issuer's key (chain.cc), while
// their windows, names and the root CA CRL are checked on every call.
void BM_TdxCold(benchmark::State& state) {
  const TdxFixture& f = *tdx_fixture;
  for (auto _ : state) {
    auto claims = f.cold.Verify(f.quote, f.collateral, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_TdxCold);

// Same platform seen before: 2 P-256 signatures (QE report, quote) plus parsing and lookups.
void BM_TdxWarm(benchmark::State& state) {
  const TdxFixture& f = *tdx_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.quote, *f.verified, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_TdxWarm);

// A new host joins: the collateral verified and cached (as the sidecar's collateral store keeps
// it), the platform never seen. Each iteration starts from empty caches, so the PCK chain (PCK
// leaf, revocation against the verified CRLs; the PCK CA's signature by the root is verified once
// per process, see BM_TdxCold), the QE report and the quote are verified from bytes: 3 P-256
// signatures.
void BM_TdxNewPlatform(benchmark::State& state) {
  const TdxFixture& f = *tdx_fixture;
  for (auto _ : state) {
    TdxVerifier verifier(f.roots, std::make_shared<TdxCaches>(4));
    auto claims = verifier.Verify(f.quote, *f.verified, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_TdxNewPlatform);

// Warm verification plus the role's policy, as the sidecar's Evaluate does it.
void BM_TdxWarmEvaluate(benchmark::State& state) {
  const TdxFixture& f = *tdx_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.quote, *f.verified, f.now);
    Check(state, claims);
    if (!claims.ok()) break;
    auto decision = policy::Evaluate(*claims, f.role, {}, f.now);
    Check(state, decision);
    benchmark::DoNotOptimize(decision);
  }
}
TEE_BENCHMARK(BM_TdxWarmEvaluate);

void BM_TdxParseQuote(benchmark::State& state) {
  const TdxFixture& f = *tdx_fixture;
  for (auto _ : state) benchmark::DoNotOptimize(tdx::ParseQuote(f.quote));
}
TEE_BENCHMARK(BM_TdxParseQuote);

// ---- SEV-SNP ----

// Everything from bytes: the VCEK parsed, VCEK <- ASK and ASK <- ARK (RSA-4096 PSS), the report
// (ECDSA P-384). The ASK is compiled in and parsed once per process.
void BM_SnpMilanCold(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  for (auto _ : state) {
    auto claims = f.cold.Verify(f.milan.report, f.milan.vcek, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_SnpMilanCold);

void BM_SnpGenoaCold(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  for (auto _ : state) {
    auto claims = f.cold.Verify(f.genoa.report, f.genoa.vcek, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_SnpGenoaCold);

// A new host joins: nothing of this chip seen before (SEV-SNP has no per-platform collateral
// besides the VCEK; AMD's ASK and ARK are compiled in). Each iteration starts from empty caches:
// the VCEK parsed, VCEK <- ASK and ASK <- ARK (RSA-4096 PSS), the report (P-384), and the VCEK
// entered in the cache, as the sidecar does for a chip it has not seen.
void BM_SnpGenoaNewPlatform(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  for (auto _ : state) {
    SnpVerifier verifier(f.roots, std::make_shared<SnpCaches>(4));
    auto claims = verifier.Verify(f.genoa.report, f.genoa.vcek, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_SnpGenoaNewPlatform);

// The VCEK's chain cached: the report signature (1 P-384) and the cross-checks.
void BM_SnpMilanWarm(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.milan.report, f.milan.vcek, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_SnpMilanWarm);

void BM_SnpGenoaWarm(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.genoa.report, f.genoa.vcek, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_SnpGenoaWarm);

void BM_SnpGenoaWarmEvaluate(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.genoa.report, f.genoa.vcek, f.now);
    Check(state, claims);
    if (!claims.ok()) break;
    auto decision = policy::Evaluate(*claims, f.role, {}, f.now);
    Check(state, decision);
    benchmark::DoNotOptimize(decision);
  }
}
TEE_BENCHMARK(BM_SnpGenoaWarmEvaluate);

// ---- Nitro ----

// Everything from bytes: five certificates, four chain links and the COSE signature (5 P-384).
void BM_NitroCold(benchmark::State& state) {
  const NitroFixture& f = *nitro_fixture;
  for (auto _ : state) {
    auto claims = f.cold.Verify(f.document, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_NitroCold);

// The whole chain seen before: the COSE signature (1 P-384) and the timestamp check.
void BM_NitroWarm(benchmark::State& state) {
  const NitroFixture& f = *nitro_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.document, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_NitroWarm);

// A leaf not seen before under a cabundle seen before (the NSM's usual fresh leaf): the leaf is
// parsed and its link verified, then the COSE signature (2 P-384). Each iteration starts from a
// cache that holds the cabundle only; filling it costs a few allocations.
void BM_NitroWarmNewLeaf(benchmark::State& state) {
  const NitroFixture& f = *nitro_fixture;
  for (auto _ : state) {
    auto caches = std::make_shared<NitroCaches>(4);
    caches->bundles.Put(f.bundle_key, f.bundle, f.bundle->window);
    NitroVerifier verifier(f.roots, caches);
    auto claims = verifier.Verify(f.document, f.now);
    Check(state, claims);
    benchmark::DoNotOptimize(claims);
  }
}
TEE_BENCHMARK(BM_NitroWarmNewLeaf);

void BM_NitroWarmEvaluate(benchmark::State& state) {
  const NitroFixture& f = *nitro_fixture;
  for (auto _ : state) {
    auto claims = f.warm.Verify(f.document, f.now);
    Check(state, claims);
    if (!claims.ok()) break;
    auto decision = policy::Evaluate(*claims, f.role, {}, f.now);
    Check(state, decision);
    benchmark::DoNotOptimize(decision);
  }
}
TEE_BENCHMARK(BM_NitroWarmEvaluate);

// ---- Floors: one signature through our code paths ----

// ECDSA P-256 of the TDX quote signature (SHA-256 of the signed region, r||s), with the key
// built once, as the warm path holds it.
void BM_EcdsaP256QuoteSignature(benchmark::State& state) {
  const TdxFixture& f = *tdx_fixture;
  for (auto _ : state) {
    absl::Status s = VerifyEcdsaRaw(f.attestation_key.get(), EVP_sha256(), f.parsed.signed_bytes,
                                    AsView(f.parsed.signature), ByteOrder::kBigEndian, "quote");
    if (!s.ok()) state.SkipWithError("bad signature");
  }
}
TEE_BENCHMARK(BM_EcdsaP256QuoteSignature);

// ECDSA P-384 of the SNP Genoa report signature by its VCEK (SHA-384, little-endian r and s).
void BM_EcdsaP384ReportSignature(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  const std::string r_s =
      absl::StrCat(AsView(f.genoa_report.signature_r), AsView(f.genoa_report.signature_s));
  EVP_PKEY* key = X509_get0_pubkey(f.genoa_vcek.get());
  for (auto _ : state) {
    absl::Status s = VerifyEcdsaRaw(key, EVP_sha384(), f.genoa_report.signed_bytes, r_s,
                                    ByteOrder::kLittleEndian, "report");
    if (!s.ok()) state.SkipWithError("bad signature");
  }
}
TEE_BENCHMARK(BM_EcdsaP384ReportSignature);

// RSA-4096 PSS (SHA-384) of the Genoa VCEK by the Genoa ASK, as the chain check does it.
void BM_RsaPss4096VcekSignature(benchmark::State& state) {
  const SnpFixture& f = *snp_fixture;
  EVP_PKEY* key = X509_get0_pubkey(f.genoa_ask.get());
  for (auto _ : state) {
    if (X509_verify(f.genoa_vcek.get(), key) != 1) state.SkipWithError("bad signature");
  }
}
TEE_BENCHMARK(BM_RsaPss4096VcekSignature);

}  // namespace

void bench::Prepare() { PrepareFixtures(); }

}  // namespace teeverify
