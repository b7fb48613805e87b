// Google Benchmark of evidence verification, cold (nothing cached: every certificate, CRL and
// collateral signature checked) and warm (the platform seen before: collateral and the PCK chain
// verified and cached, so only the per-evidence signatures remain), plus the ECDSA verifications
// that bound them from below. scripts/bench.sh runs it next to `openssl speed`.
#include <string>

#include "benchmark/benchmark.h"
#include "tests/test_util.h"
#include "verifier/crypto/ecdsa.h"
#include "verifier/io/files.h"
#include "verifier/policy/policy_engine.h"
#include "verifier/policy/policy_validation.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/tdx/tdx_verifier.h"

namespace teeverify {
namespace {

using ::teeverify::testing::At;
using ::teeverify::testing::ReadTestData;
using ::teeverify::testing::TestDataPath;

struct TdxFixture {
  std::shared_ptr<const TrustRoots> roots = *TrustRoots::BuiltIn();
  std::string quote = ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin");
  tdx::TdxCollateral collateral = *LoadTdxCollateralDir(TestDataPath("tdx/collateral/dcap-qvl-2025-06"));
  absl::Time now = At("2025-07-19T10:00:34Z");
};

const TdxFixture& Tdx() {
  static const TdxFixture* f = new TdxFixture();
  return *f;
}

// Everything from bytes: 11 P-256 signatures (quote, QE report, PCK leaf, PCK CA, PCK CA again
// for the CRL issuer chain, PCK CRL, root CA CRL, TCB Signing twice, TCB info, QE identity).
void BM_TdxCold(benchmark::State& state) {
  const TdxFixture& f = Tdx();
  TdxVerifier verifier(f.roots);
  for (auto _ : state) {
    auto claims = verifier.Verify(f.quote, f.collateral, f.now);
    if (!claims.ok()) state.SkipWithError(std::string(claims.status().message()).c_str());
    benchmark::DoNotOptimize(claims);
  }
}
BENCHMARK(BM_TdxCold);

// Same platform seen before: 2 P-256 signatures (QE report, quote) plus parsing and lookups.
void BM_TdxWarm(benchmark::State& state) {
  const TdxFixture& f = Tdx();
  TdxVerifier verifier(f.roots, std::make_shared<TdxCaches>(64));
  auto collateral = *tdx::VerifyTdxCollateral(f.collateral, *f.roots->Get(RootId::kIntelSgxRootCa), f.now);
  for (auto _ : state) {
    auto claims = verifier.Verify(f.quote, *collateral, f.now);
    if (!claims.ok()) state.SkipWithError(std::string(claims.status().message()).c_str());
    benchmark::DoNotOptimize(claims);
  }
}
BENCHMARK(BM_TdxWarm);

// Warm verification plus the role's policy, as the sidecar's Evaluate does it.
void BM_TdxWarmEvaluate(benchmark::State& state) {
  const TdxFixture& f = Tdx();
  TdxVerifier verifier(f.roots, std::make_shared<TdxCaches>(64));
  auto collateral = *tdx::VerifyTdxCollateral(f.collateral, *f.roots->Get(RootId::kIntelSgxRootCa), f.now);
  v1::Policy role = *policy::PolicyFromJson(
      R"({"tee_types":["tdx"],"tdx":{"mrtd":["91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"]},"allow_unbound_evidence":true})");
  role = policy::ValidatePolicy(role).normalized;
  for (auto _ : state) {
    auto claims = verifier.Verify(f.quote, *collateral, f.now);
    auto decision = policy::Evaluate(*claims, role, {}, f.now);
    if (!decision.allow) state.SkipWithError("denied");
    benchmark::DoNotOptimize(decision);
  }
}
BENCHMARK(BM_TdxWarmEvaluate);

// One ECDSA P-256 verification of the quote signature through the same code path (key from
// X||Y, SHA-256 of the signed region, raw r||s), for comparison with `openssl speed`.
void BM_EcdsaP256QuoteSignature(benchmark::State& state) {
  const TdxFixture& f = Tdx();
  const tdx::Quote q = *tdx::ParseQuote(f.quote);
  for (auto _ : state) {
    auto key = EcPublicKeyFromXY(Curve::kP256, AsView(q.attestation_key), "key");
    absl::Status s = VerifyEcdsaRaw(key->get(), EVP_sha256(), q.signed_bytes, AsView(q.signature),
                                    ByteOrder::kBigEndian, "quote");
    if (!s.ok()) state.SkipWithError("bad signature");
  }
}
BENCHMARK(BM_EcdsaP256QuoteSignature);

void BM_TdxParseQuote(benchmark::State& state) {
  const TdxFixture& f = Tdx();
  for (auto _ : state) benchmark::DoNotOptimize(tdx::ParseQuote(f.quote));
}
BENCHMARK(BM_TdxParseQuote);

}  // namespace
}  // namespace teeverify

BENCHMARK_MAIN();
