// gRPC tests against a running tee-verifierd: unix socket and mutual TLS, allow and deny with
// every reason, malformed input, oversized requests, replay mode, logs, shutdown.
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/sidecar/sidecar_process.h"
#include "tests/sidecar/test_platform.h"
#include "tests/test_util.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"
#include "verifier/io/files.h"
#include "verifier/tdx/quote_parser.h"
#include "verifier/testing/tdx_test_tee.h"
#include "verifier/testing/test_keys.h"
#include "verifier/testing/x509_builder.h"

namespace teeverify::testing {
namespace {

namespace fs = std::filesystem;

const std::string kNonce(32, '\x5a');

class UnixSidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    socket_ = dir_ + "/run/tee-verifierd.sock";
    sidecar_ = std::make_unique<SidecarProcess>(
        std::vector<std::string>{"--listen=unix:" + socket_, "--test-roots=" + platform_.roots_dir,
                                 "--collateral-dir=" + platform_.collateral_dir},
        "unix:" + socket_);
    ASSERT_TRUE(sidecar_->WaitReady()) << sidecar_->Log();
    stub_ = sidecar_->Stub();
  }

  // A SIGTERM shutdown must exit 0: under LeakSanitizer a leak makes it non-zero. The channel
  // goes first: an open one would hold the shutdown for its whole grace period.
  void TearDown() override {
    stub_.reset();
    if (sidecar_) {
      EXPECT_EQ(sidecar_->Stop(), 0) << sidecar_->Stderr();
    }
  }

  v1::EvaluateResponse Evaluate(const std::string& evidence, const v1::Policy& policy,
                                const std::string& nonce, grpc::Status* status) {
    return CallEvaluate(*stub_, evidence, policy, nonce, status);
  }

  TestPlatform platform_;
  std::string dir_, socket_;
  std::unique_ptr<SidecarProcess> sidecar_;
  std::unique_ptr<v1::Verifier::Stub> stub_;
};

TEST_F(UnixSidecarTest, SocketIsOwnerOnlyAndInfoTellsTheMode) {
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  grpc::ClientContext ctx;
  v1::InfoResponse info;
  ASSERT_TRUE(stub_->Info(&ctx, v1::InfoRequest(), &info).ok());
  EXPECT_TRUE(info.test_roots());
  EXPECT_FALSE(info.replay_mode());
  ASSERT_EQ(info.tdx_collateral_size(), 1);
  EXPECT_TRUE(absl::StartsWith(info.tdx_collateral(0), "00906ed50000 (test-platform"));
  EXPECT_TRUE(absl::StrContains(sidecar_->Log(), "TEST_ROOTS_IN_USE"));
}

TEST_F(UnixSidecarTest, AllowsBoundEvidenceMatchingTheRole) {
  grpc::Status status;
  v1::EvaluateResponse resp =
      Evaluate(platform_.Quote(kNonce), platform_.Role(platform_.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(resp.tee_type(), v1::TEE_TYPE_TDX);
  EXPECT_EQ(resp.mismatches_size(), 0);
  EXPECT_EQ(resp.metadata().at("tdx.mrtd"), platform_.mrtd_hex);
  EXPECT_EQ(resp.metadata().at("nonce_binding"), "bound");
  EXPECT_TRUE(absl::StartsWith(resp.workload_identity(), "tdx:"));
  EXPECT_EQ(resp.valid_until_unix(), 2493072000);  // the test collateral's nextUpdate
  const nlohmann::json claims = nlohmann::json::parse(resp.claims_json());
  EXPECT_EQ(claims["tdx"]["mrtd"], platform_.mrtd_hex);
}

TEST_F(UnixSidecarTest, DeniesWithEveryReason) {
  v1::Policy role = platform_.Role(std::string(96, 'e'));
  role.mutable_tdx()->set_rtmr1(0, std::string(96, 'f'));
  role.add_allowed_tcb_statuses("OutOfDate");
  grpc::Status status;
  v1::EvaluateResponse resp = Evaluate(platform_.Quote(std::string(32, '\x01')), role, kNonce, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  ASSERT_EQ(resp.mismatches_size(), 4);
  EXPECT_EQ(resp.mismatches(0).field(), "tcb_status");
  EXPECT_EQ(resp.mismatches(1).field(), "tdx.mrtd");
  EXPECT_EQ(resp.mismatches(1).expected(0), std::string(96, 'e'));
  EXPECT_EQ(resp.mismatches(1).actual(), platform_.mrtd_hex);
  EXPECT_EQ(resp.mismatches(2).field(), "tdx.rtmr1");
  EXPECT_EQ(resp.mismatches(3).field(), "report_data");  // bound to another nonce
  const std::string log = sidecar_->Log();
  EXPECT_TRUE(absl::StrContains(log, R"("event":"evaluate")"));
  EXPECT_TRUE(absl::StrContains(log, R"("decision":"deny")"));
  EXPECT_TRUE(absl::StrContains(log, R"("role":"test-role")"));
}

TEST_F(UnixSidecarTest, NoNonceIsDenied) {
  grpc::Status status;
  v1::EvaluateResponse resp =
      Evaluate(platform_.Quote(kNonce), platform_.Role(platform_.mrtd_hex), "", &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  ASSERT_EQ(resp.mismatches_size(), 1);
  EXPECT_EQ(resp.mismatches(0).field(), "nonce");
}

TEST_F(UnixSidecarTest, MalformedEvidenceIsAnRpcErrorWithAStableReason) {
  struct Case {
    std::string evidence;
    v1::Reason reason;
  };
  const std::string quote = platform_.Quote(kNonce);
  for (const Case& c : {Case{"definitely not evidence", v1::REASON_UNSUPPORTED_FORMAT},
                        Case{quote.substr(0, 700), v1::REASON_MALFORMED_EVIDENCE},
                        Case{"", v1::REASON_BAD_REQUEST}}) {
    grpc::Status status;
    Evaluate(c.evidence, platform_.Role(platform_.mrtd_hex), kNonce, &status);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()));
    ASSERT_EQ(details.code(), grpc::StatusCode::INVALID_ARGUMENT);
    ASSERT_EQ(details.details_size(), 1);
    v1::Error error;
    ASSERT_TRUE(details.details(0).UnpackTo(&error));
    EXPECT_EQ(error.reason(), c.reason) << error.message();
    EXPECT_TRUE(absl::StartsWith(status.error_message(), ReasonName(c.reason)));
  }
}

TEST_F(UnixSidecarTest, VerificationFailureIsADenyNotAnRpcError) {
  tdx::TdReport report = platform_.tee->DefaultReport();
  absl::StatusOr<tdx::Quote> q = platform_.tee->MakeQuoteStruct(report);
  ASSERT_TRUE(q.ok());
  q->signature[10] ^= 1;
  grpc::Status status;
  v1::EvaluateResponse resp =
      Evaluate(tdx::SerializeQuote(*q), platform_.Role(platform_.mrtd_hex), kNonce, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
  EXPECT_EQ(resp.error().reason(), v1::REASON_BAD_SIGNATURE);
  EXPECT_TRUE(resp.claims_json().empty());
}

// The role's tee_types are checked on the detected type before the evidence is parsed: evidence
// that only looks like another TEE's (a header, then junk that would not parse) is denied as the
// wrong TEE, not parsed and refused as malformed.
TEST_F(UnixSidecarTest, EvidenceOfATeeTheRoleDoesNotAdmitIsDeniedUnparsed) {
  std::string snp(1184, '\0');
  snp[0] = 3;     // version 3
  snp[0x34] = 1;  // ECDSA P-384
  snp += std::string(512 * 1024, '\xff');  // no certificate table
  const std::string nitro = std::string("\xd2\x84\x40", 3) + std::string(4096, '\x01');
  for (const auto& [evidence, tee] :
       {std::pair<std::string, std::string>{snp, "sev-snp"}, {nitro, "nitro"}}) {
    SCOPED_TRACE(tee);
    grpc::Status status;
    v1::EvaluateResponse resp =
        Evaluate(evidence, platform_.Role(platform_.mrtd_hex), kNonce, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.decision(), v1::DECISION_DENY);
    EXPECT_FALSE(resp.has_error()) << resp.error().message();
    ASSERT_EQ(resp.mismatches_size(), 1);
    EXPECT_EQ(resp.mismatches(0).field(), "tee");
    EXPECT_EQ(resp.mismatches(0).actual(), tee);
    ASSERT_EQ(resp.mismatches(0).expected_size(), 1);
    EXPECT_EQ(resp.mismatches(0).expected(0), "tdx");
    EXPECT_TRUE(resp.claims_json().empty());
  }
  ASSERT_TRUE(sidecar_->WaitForLog(R"("tee":"nitro","decision":"deny")", 1, absl::Seconds(5)))
      << sidecar_->Log();
  EXPECT_EQ(CountLines(sidecar_->Log(), R"("tee":"sev-snp","decision":"deny","reasons":[{"field":"tee")"), 1)
      << sidecar_->Log();
  EXPECT_EQ(CountLines(sidecar_->Log(), "invalid_input"), 0) << sidecar_->Log();
}

TEST_F(UnixSidecarTest, InvalidPolicyIsRefused) {
  v1::Policy role;
  role.add_tee_types("tdx");  // constrains no measurement
  grpc::Status status;
  Evaluate(platform_.Quote(kNonce), role, kNonce, &status);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "does not pin its image"));

  grpc::ClientContext ctx;
  v1::ValidatePolicyRequest req;
  *req.mutable_policy() = role;
  v1::ValidatePolicyResponse resp;
  ASSERT_TRUE(stub_->ValidatePolicy(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.errors_size(), 1);
  EXPECT_FALSE(resp.has_normalized());
}

TEST_F(UnixSidecarTest, PinnedTimeNeedsReplayMode) {
  v1::VerifyRequest req;
  req.set_evidence(platform_.Quote(kNonce));
  req.set_verification_time_unix(1767225600);
  grpc::ClientContext ctx;
  v1::VerifyResponse resp;
  grpc::Status status = stub_->Verify(&ctx, req, &resp);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "--replay-recorded-evidence"));
  // The log names the same reason as the answer.
  ASSERT_TRUE(sidecar_->WaitForLog("verify_invalid_input", 1, absl::Seconds(5))) << sidecar_->Log();
  EXPECT_TRUE(absl::StrContains(sidecar_->Log(), R"("reason":"BAD_REQUEST")")) << sidecar_->Log();
}

TEST_F(UnixSidecarTest, CleanShutdownRemovesTheSocket) {
  EXPECT_EQ(sidecar_->Stop(), 0);
  EXPECT_FALSE(fs::exists(socket_));
  EXPECT_TRUE(absl::StrContains(sidecar_->Log(), R"("event":"stopped")"));
}

TEST(SidecarTest, OversizedRequestIsRejected) {
  const std::string dir = MakeTempDir();
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--max-request-bytes=4096"},
                         "unix:" + dir + "/s.sock");
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  v1::VerifyRequest req;
  req.set_evidence(std::string(8192, 'x'));
  grpc::ClientContext ctx;
  v1::VerifyResponse resp;
  EXPECT_EQ(sidecar.Stub()->Verify(&ctx, req, &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST(SidecarTest, ReplaysRecordedEvidenceAtAPinnedTimeOnlyInReplayMode) {
  const std::string dir = MakeTempDir();
  SidecarProcess sidecar({"--listen=unix:" + dir + "/s.sock", "--replay-recorded-evidence",
                          "--collateral-dir=" + TestDataPath("tdx/collateral")},
                         "unix:" + dir + "/s.sock");
  ASSERT_TRUE(sidecar.WaitReady()) << sidecar.Log();
  EXPECT_TRUE(absl::StrContains(sidecar.Log(), "REPLAY_MODE"));
  auto stub = sidecar.Stub();
  v1::VerifyRequest req;
  req.set_evidence(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin"));
  req.set_verification_time_unix(1752919234);  // 2025-07-19T10:00:34Z
  grpc::ClientContext ctx;
  v1::VerifyResponse resp;
  ASSERT_TRUE(stub->Verify(&ctx, req, &resp).ok());
  ASSERT_TRUE(resp.verified()) << resp.error().message();
  EXPECT_EQ(nlohmann::json::parse(resp.claims_json())["tdx"]["mrtd"],
            "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
  // Two seconds later the PCK CRL has expired: a verification failure, not an RPC error.
  req.set_verification_time_unix(1752919236);
  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub->Verify(&ctx2, req, &resp).ok());
  EXPECT_FALSE(resp.verified());
  EXPECT_EQ(resp.error().reason(), v1::REASON_EXPIRED);
  EXPECT_TRUE(absl::StrContains(resp.error().message(), "pck_crl.der expired"));
  // A platform the collateral directory does not cover.
  req.set_evidence(ReadTestData("tdx/quotes/trustee_azure_td-quote.bin"));
  grpc::ClientContext ctx3;
  ASSERT_TRUE(stub->Verify(&ctx3, req, &resp).ok());
  EXPECT_EQ(resp.error().reason(), v1::REASON_COLLATERAL_MISSING);
  EXPECT_TRUE(absl::StrContains(resp.error().message(), "no TDX collateral for FMSPC 00806f050000"));
  // The log names the evidence by digest only.
  const std::string log = sidecar.Log();
  EXPECT_TRUE(absl::StrContains(log, "evidence_sha256"));
  EXPECT_FALSE(absl::StrContains(log, HexEncode(ReadTestData("tdx/quotes/dcap-qvl_tdx_quote.bin").substr(636, 64))));
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(SidecarTest, UnsafeTransportsAreRefusedAtStartup) {
  const int port = FreePort();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{absl::StrCat("--listen=0.0.0.0:", port), "--insecure-loopback"},
        std::vector<std::string>{absl::StrCat("--listen=127.0.0.1:", port)},
        std::vector<std::string>{"--listen=unix:/tmp/x.sock", "--insecure-loopback"}}) {
    SidecarProcess sidecar(args, "unused");
    EXPECT_EQ(sidecar.WaitExit(), 2) << sidecar.Log();
  }
  SidecarProcess loopback({absl::StrCat("--listen=127.0.0.1:", port), "--insecure-loopback"},
                          absl::StrCat("127.0.0.1:", port));
  EXPECT_TRUE(loopback.WaitReady()) << loopback.Log();
}

struct TlsFiles {
  std::string dir, ca_pem, client_cert, client_key, rogue_cert, rogue_key;
};

TlsFiles MakeTlsFiles() {
  TlsFiles f;
  f.dir = MakeTempDir();
  const absl::Time nb = absl::Now() - absl::Hours(1), na = absl::Now() + absl::Hours(24);
  EvpPkeyPtr ca_key = *LoadPrivateKey(kRootKeyPem), server_key = *LoadPrivateKey(kPckCaKeyPem),
             client_key = *LoadPrivateKey(kPckKeyPem), rogue_ca_key = *LoadPrivateKey(kTcbSigningKeyPem),
             rogue_key = *LoadPrivateKey(kAttestationKeyPem);
  X509Ptr ca = *MakeCertificate(Spec("Test mTLS CA", 1, nb, na, true), ca_key.get(), nullptr, ca_key.get());
  CertSpec server_spec = Spec("localhost", 2, nb, na, false);
  server_spec.subject_alt_names = "DNS:localhost,IP:127.0.0.1";
  X509Ptr server = *MakeCertificate(server_spec, server_key.get(), ca.get(), ca_key.get());
  X509Ptr client = *MakeCertificate(Spec("vault-plugin-auth-tee", 3, nb, na, false), client_key.get(),
                                    ca.get(), ca_key.get());
  X509Ptr rogue_ca = *MakeCertificate(Spec("Rogue CA", 4, nb, na, true), rogue_ca_key.get(), nullptr,
                                      rogue_ca_key.get());
  X509Ptr rogue = *MakeCertificate(Spec("vault-plugin-auth-tee", 5, nb, na, false), rogue_key.get(),
                                   rogue_ca.get(), rogue_ca_key.get());
  f.ca_pem = CertificatePem(ca.get());
  WriteFile(f.dir + "/ca.pem", f.ca_pem);
  WriteFile(f.dir + "/server.pem", CertificatePem(server.get()));
  WriteFile(f.dir + "/server.key", PrivateKeyPem(server_key.get()));
  f.client_cert = CertificatePem(client.get());
  f.client_key = PrivateKeyPem(client_key.get());
  f.rogue_cert = CertificatePem(rogue.get());
  f.rogue_key = PrivateKeyPem(rogue_key.get());
  return f;
}

TEST(SidecarTest, MutualTlsAdmitsOnlyClientsOfTheConfiguredCa) {
  const TlsFiles tls = MakeTlsFiles();
  const int port = FreePort();
  const std::string target = absl::StrCat("localhost:", port);
  SidecarProcess sidecar({absl::StrCat("--listen=127.0.0.1:", port), "--tls-cert=" + tls.dir + "/server.pem",
                          "--tls-key=" + tls.dir + "/server.key", "--tls-client-ca=" + tls.dir + "/ca.pem"},
                         target);
  auto creds = [&](const std::string& cert, const std::string& key) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = tls.ca_pem;
    o.pem_cert_chain = cert;
    o.pem_private_key = key;
    return grpc::SslCredentials(o);
  };
  ASSERT_TRUE(sidecar.WaitReady(creds(tls.client_cert, tls.client_key))) << sidecar.Log();
  auto info = [&](std::shared_ptr<grpc::ChannelCredentials> c) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    v1::InfoResponse resp;
    return sidecar.Stub(c)->Info(&ctx, v1::InfoRequest(), &resp);
  };
  EXPECT_TRUE(info(creds(tls.client_cert, tls.client_key)).ok());
  EXPECT_FALSE(info(creds(tls.rogue_cert, tls.rogue_key)).ok());
  EXPECT_FALSE(info(creds("", "")).ok());
  EXPECT_FALSE(info(grpc::InsecureChannelCredentials()).ok());
}

}  // namespace
}  // namespace teeverify::testing
