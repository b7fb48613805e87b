// tee-verifierd under load (docs/sidecar.md, --max-concurrent and --max-call-seconds): calls
// beyond --max-concurrent wait for a slot and are served; a call that finds no slot within
// --max-call-seconds is refused RESOURCE_EXHAUSTED, never answered late; a stalled sidecar
// leaves its client with DEADLINE_EXCEEDED, never an answer.
#include <signal.h>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "verifier/common/openssl_util.h"
#include "verifier/crypto/x509_util.h"
#include "verifier/server/config.h"
#include "verifier/tdx/quote_parser.h"

namespace teeverify::testing {
namespace {

const std::string kNonce = "limits-test-nonce-0123456789abcd";

// Evaluates `quote` against `role` in statuses->size() concurrent calls, one channel each (so
// that they are concurrent calls, not one queue); waits for all.
void EvaluateConcurrently(const SidecarProcess& sidecar, const std::string& quote,
                          const v1::Policy& role, std::vector<grpc::Status>* statuses,
                          std::vector<v1::Decision>* decisions) {
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses->size(); ++i) {
    threads.emplace_back([&, i] {
      auto stub = sidecar.Stub();
      (*decisions)[i] = CallEvaluate(*stub, quote, role, kNonce, &(*statuses)[i]).decision();
    });
  }
  for (std::thread& t : threads) t.join();
}

TEST(SidecarLimitsTest, CallsBeyondMaxConcurrentWaitForASlotAndAreServed) {
  TestPlatform platform;
  std::unique_ptr<SidecarProcess> sidecar =
      StartPlatformSidecar(platform, "", {"--max-concurrent=1", "--max-call-seconds=10"});
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  EXPECT_TRUE(absl::StrContains(sidecar->Log(), R"("max_concurrent":1,"max_waiting":16)"));
  const std::string quote = platform.Quote(kNonce);
  const v1::Policy role = platform.Role(platform.mrtd_hex);
  constexpr int kCalls = 12;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::Decision> decisions(kCalls);
  EvaluateConcurrently(*sidecar, quote, role, &statuses, &decisions);
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_EQ(decisions[i], v1::DECISION_ALLOW) << i;
  }
  EXPECT_EQ(CountLines(sidecar->Log(), R"("decision":"allow")"), kCalls);
}

// Beyond the waiting room (max(16, 2 x N) calls) gRPC refuses at once: every call is served or
// refused RESOURCE_EXHAUSTED, nothing else.
TEST(SidecarLimitsTest, CallsBeyondTheWaitingRoomAreServedOrRefusedNothingElse) {
  TestPlatform platform;
  std::unique_ptr<SidecarProcess> sidecar =
      StartPlatformSidecar(platform, "", {"--max-concurrent=1", "--max-call-seconds=10"});
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  const std::string quote = platform.Quote(kNonce);
  const v1::Policy role = platform.Role(platform.mrtd_hex);
  constexpr int kCalls = 64;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::Decision> decisions(kCalls);
  EvaluateConcurrently(*sidecar, quote, role, &statuses, &decisions);
  int served = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (statuses[i].ok()) {
      ++served;
      EXPECT_EQ(decisions[i], v1::DECISION_ALLOW) << i;
    } else {
      EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << i << ": " << statuses[i].error_message();
    }
  }
  EXPECT_GE(served, 1);
  EXPECT_EQ(CountLines(sidecar->Log(), R"("decision":"allow")"), served);
}

// A PEM chain of `count` distinct certificates: copies of `der` differing in the last bytes of
// their signature value, in the strict form of a quote. Each must be parsed to be counted.
std::string CertificateFlood(const std::string& der, int count) {
  std::string pem;
  for (int i = 0; i < count; ++i) {
    std::string copy = der;
    for (int b = 0; b < 3; ++b) copy[copy.size() - 1 - b] = static_cast<char>((i >> (8 * b)) & 0xff);
    const std::string b64 = absl::Base64Escape(copy);
    pem += "-----BEGIN CERTIFICATE-----\n";
    for (size_t j = 0; j < b64.size(); j += 64) absl::StrAppend(&pem, b64.substr(j, 64), "\n");
    pem += "-----END CERTIFICATE-----\n";
  }
  return pem;
}

// The slow call: TDX collateral sent with the request (only the socket's owner can send it; a
// login cannot) whose TCB info issuer chain holds thousands of certificates, refused only once
// they are parsed; it keeps the only slot, and calls meanwhile wait --max-call-seconds and are
// refused. (Evidence itself has no such input: every evidence parser is bounded, see
// docs/performance.md, "Worst-case inputs".)
TEST(SidecarLimitsTest, ACallFindingNoSlotWithinMaxCallSecondsIsRefused) {
  TestPlatform platform;
  std::unique_ptr<SidecarProcess> sidecar =
      StartPlatformSidecar(platform, "", {"--max-concurrent=1", "--max-call-seconds=1",
                              absl::StrCat("--max-request-bytes=", 64 << 20)});
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  constexpr int kCertificates = 20000;
  const tdx::TdxCollateral c = *platform.tee->MakeCollateral();
  v1::VerifyRequest flood_req;
  flood_req.set_evidence(platform.Quote(kNonce));
  v1::TdxCollateral* pc = flood_req.mutable_tdx_collateral();
  pc->set_tcb_info_response(c.tcb_info_response);
  pc->set_qe_identity_response(c.qe_identity_response);
  pc->set_pck_crl(c.pck_crl);
  pc->set_root_ca_crl(c.root_ca_crl);
  pc->set_tcb_info_issuer_chain(
      CertificateFlood(CertificateDer(platform.tee->pck_certificate()), kCertificates));
  pc->set_qe_identity_issuer_chain(c.qe_identity_issuer_chain);
  pc->set_pck_crl_issuer_chain(c.pck_crl_issuer_chain);

  std::atomic<bool> flood_done{false};
  grpc::Status flood_status;
  v1::VerifyResponse flood_resp;
  std::thread slow([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    flood_status = sidecar->Stub()->Verify(&ctx, flood_req, &flood_resp);
    flood_done = true;
  });
  auto stub = sidecar->Stub();
  const std::string quote = platform.Quote(kNonce);
  int served = 0, refused = 0;
  while (!flood_done) {
    grpc::Status status;
    const absl::Time start = absl::Now();
    const v1::Decision decision =
        CallEvaluate(*stub, quote, platform.Role(platform.mrtd_hex), kNonce, &status).decision();
    const absl::Duration waited = absl::Now() - start;
    if (status.ok()) {
      ++served;
      EXPECT_EQ(decision, v1::DECISION_ALLOW);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    ++refused;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_EQ(status.error_message(), "sidecar busy");
    EXPECT_GE(waited, absl::Milliseconds(900));  // it waited --max-call-seconds for the slot
    EXPECT_LT(waited, absl::Seconds(5));         // and no longer
  }
  slow.join();
  ASSERT_TRUE(flood_status.ok()) << flood_status.error_message();
  EXPECT_FALSE(flood_resp.verified());
  EXPECT_EQ(flood_resp.error().reason(), v1::REASON_COLLATERAL_INVALID);
  EXPECT_TRUE(absl::StrContains(flood_resp.error().message(),
                                absl::StrCat("found ", kCertificates)))
      << flood_resp.error().message();
  if (refused > 0) return;
  // No call was refused: acceptable only if the slow call did not hold the slot for long.
  int64_t held_us = 0;
  for (absl::string_view line : absl::StrSplit(sidecar->Log(), '\n', absl::SkipEmpty())) {
    const nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.value("event", "") == "verify") held_us = std::max(held_us, entry.value("duration_us", int64_t{0}));
  }
  ASSERT_LT(held_us, 2000000) << "the slot was held " << held_us << " us, yet no call was refused";
  GTEST_SKIP() << "the slow call held its slot only " << held_us << " us on this machine ("
               << served << " calls served meanwhile)";
}

TEST(SidecarLimitsTest, AStalledSidecarLeavesTheClientDeadlineExceeded) {
  TestPlatform platform;
  std::unique_ptr<SidecarProcess> sidecar = StartPlatformSidecar(platform);
  ASSERT_TRUE(sidecar->WaitReady()) << sidecar->Log();
  auto stub = sidecar->Stub();
  const std::string quote = platform.Quote(kNonce);
  v1::EvaluateRequest req;
  req.mutable_evidence()->set_evidence(quote);
  req.set_nonce(kNonce);
  *req.mutable_policy() = platform.Role(platform.mrtd_hex);
  CallInfo(*stub);  // connected before the stall

  ASSERT_TRUE(sidecar->Stall());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  v1::EvaluateResponse resp;
  const absl::Time start = absl::Now();
  const grpc::Status status = stub->Evaluate(&ctx, req, &resp);
  const absl::Duration waited = absl::Now() - start;
  sidecar->Signal(SIGCONT);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_UNSPECIFIED);
  EXPECT_LT(waited, absl::Seconds(5));

  // Resumed, it serves again.
  grpc::Status after;
  EXPECT_EQ(CallEvaluate(*stub, quote, platform.Role(platform.mrtd_hex), kNonce, &after).decision(),
            v1::DECISION_ALLOW);
  EXPECT_TRUE(after.ok()) << after.error_message();
}

}  // namespace
}  // namespace teeverify::testing

// The config file (--config) is bounded before it is parsed: it nests 3 deep at most
// ({"collateral_sources": [{...}]}), and deeper input (here 1 MiB of '[' in a source) is refused
// by a linear scan, naming the file, the setting and the limit; a file over 1 MiB is not read.
TEST(SidecarLimitsTest, ConfigFileNestingAndSizeAreBoundedBeforeParsing) {
  char dir[] = "/tmp/tee-config-limits-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string config = absl::StrCat(dir, "/config.json");
  auto parse = [&]() {
    std::string flag = "--config=" + config;
    char name[] = "tee-verifierd";
    char* argv[] = {name, flag.data(), nullptr};
    return teeverify::server::ParseServerConfig(2, argv);
  };
  std::ofstream(config) << R"({"collateral_sources": [{"kind": "pcs", "url": "http://x"}]})";
  ASSERT_TRUE(parse().ok()) << parse().status();
  std::ofstream(config, std::ios::trunc)
      << R"({"collateral_sources": [{"kind": "pcs", "url": )" << std::string(500000, '[')
      << std::string(500000, ']') << "}]}";
  absl::StatusOr<teeverify::server::ServerConfig> c = parse();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            absl::StrCat(config, ": collateral_sources: nesting deeper than the 3 levels of arrays "
                                 "and objects accepted (at byte 47)"));
  std::ofstream(config, std::ios::trunc)
      << R"({"collateral_sources": [], "log_file": ")" << std::string(1 << 20, 'a') << "\"}";
  c = parse();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), config)) << c.status();
  std::filesystem::remove_all(dir);
}
