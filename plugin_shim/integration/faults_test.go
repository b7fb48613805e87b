//go:build integration

package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
)

// loginWithKey logs in with evidence binding the nonce and a client public key.
func loginWithKey(t *testing.T, role string, nonce, key []byte, profile string) (string, []byte, error) {
	t.Helper()
	evidence, err := sys.evidence(t, "tdx", nonce, key, profile)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := sys.client.Clone()
	c.ClearToken()
	secret, err := c.Logical().Write("auth/tee/login", map[string]interface{}{
		"role": role, "nonce": hex.EncodeToString(nonce), "evidence": base64.StdEncoding.EncodeToString(evidence),
		"client_public_key": base64.StdEncoding.EncodeToString(key),
	})
	if err != nil {
		return "", evidence, err
	}
	return secret.Auth.ClientToken, evidence, nil
}

// The audit log, the server's log (with the plugin's) and the sidecars' logs never hold a token,
// a client key or the evidence: allowed, denied and malformed logins alike.
func TestLogsAndAuditNeverContainSecrets(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	profile := sys.testProfile()
	wrong := filepath.Join(t.TempDir(), "wrong.json")
	os.WriteFile(wrong, []byte(`{"tdx":{"mrtd":"`+strings.Repeat("0e", 48)+`"}}`), 0o600)

	token, allowed, err := loginWithKey(t, "mcp-server-tdx", nonceFor(t, "mcp-server-tdx"), key, profile)
	if err != nil || token == "" {
		t.Fatalf("allowed login: %v", err)
	}
	_, denied, err := loginWithKey(t, "mcp-server-tdx", nonceFor(t, "mcp-server-tdx"), key, wrong)
	requireDenied(t, err, "403", "permission denied")
	malformed := append([]byte{}, allowed[:len(allowed)/2]...)
	_, err = login("mcp-server-tdx", nonceFor(t, "mcp-server-tdx"), malformed)
	requireDenied(t, err, "400", "evidence rejected")
	// The token is used once, so that its requests reach the audit log too.
	if _, err := readSecret(sys.client, token, "secret/data/mcp/tdx/api-key"); err != nil {
		t.Fatal(err)
	}

	secrets := map[string]string{
		"the token":                 token,
		"the client key (base64)":   base64.StdEncoding.EncodeToString(key),
		"the client key (hex)":      hex.EncodeToString(key),
		"the client key (PEM body)": strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: key})), "\n")[1],
	}
	for name, evidence := range map[string][]byte{"allowed": allowed, "denied": denied, "malformed": malformed} {
		secrets["the "+name+" evidence (base64)"] = base64.StdEncoding.EncodeToString(evidence)
		// Any 48-byte piece of it (base64 of bytes 96..144: inside the TD report), in both encodings.
		secrets["a piece of the "+name+" evidence (base64)"] = base64.StdEncoding.EncodeToString(evidence[96:144])
		secrets["a piece of the "+name+" evidence (hex)"] = hex.EncodeToString(evidence[96:144])
	}
	logs := []string{"audit.log", "server.out", "sidecar-test.log", "sidecar-recorded.log"}
	audit, err := os.ReadFile(filepath.Join(sys.work, "audit.log"))
	if err != nil || !strings.Contains(string(audit), "auth/tee/login") {
		t.Fatalf("the audit log has no login: %v", err)
	}
	for _, name := range logs {
		data, err := os.ReadFile(filepath.Join(sys.work, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for what, secret := range secrets {
			if strings.Contains(string(data), secret) {
				t.Errorf("%s contains %s", name, what)
			}
		}
	}
}

// slowVerifier answers policy validation at once and every evaluation only after `delay`.
type slowVerifier struct {
	pb.UnimplementedVerifierServer
	delay time.Duration
}

func (s *slowVerifier) ValidatePolicy(_ context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error) {
	return &pb.ValidatePolicyResponse{Normalized: req.GetPolicy()}, nil
}

// Info answers at once: a production sidecar.
func (s *slowVerifier) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	return &pb.InfoResponse{Version: "slow"}, nil
}

func (s *slowVerifier) Evaluate(ctx context.Context, _ *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
	select {
	case <-time.After(s.delay):
		return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_ALLOW}, nil // never reached in time
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A sidecar that answers after the plugin's request_timeout: the login fails closed (500, no
// token, the nonce spent), and fast.
func TestSlowSidecarFailsClosed(t *testing.T) {
	dir, _ := os.MkdirTemp("", "slow-sidecar-")
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "slow.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterVerifierServer(server, &slowVerifier{delay: 30 * time.Second})
	go server.Serve(l)
	defer server.Stop()

	for _, args := range [][]string{
		{"auth", "enable", "-path=tee-slow", "vault-plugin-auth-tee"},
		{"write", "auth/tee-slow/config", "sidecar_address=unix://" + socket, "request_timeout=1"},
		{"write", "auth/tee-slow/role/r", "tee_types=tdx", "tdx_mrtd=" + strings.Repeat("ab", 48)},
	} {
		if out, err := sys.cli(args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	resp, err := sys.client.Logical().Write("auth/tee-slow/nonce", nil)
	if err != nil {
		t.Fatal(err)
	}
	nonce, _ := hex.DecodeString(resp.Data["nonce"].(string))
	c, _ := sys.client.Clone()
	c.ClearToken()
	data := map[string]interface{}{"role": "r", "nonce": hex.EncodeToString(nonce),
		"evidence": base64.StdEncoding.EncodeToString(boundEvidence(t, "tdx", nonce))}
	start := time.Now()
	secret, err := c.Logical().Write("auth/tee-slow/login", data)
	took := time.Since(start)
	if err == nil || (secret != nil && secret.Auth != nil) {
		t.Fatal("a token was issued although the sidecar never answered")
	}
	requireDenied(t, err, "500", "verifier sidecar unavailable")
	// The server log names the deadline; the caller learns no more than that the sidecar failed.
	if strings.Contains(err.Error(), "DeadlineExceeded") || strings.Contains(err.Error(), socket) {
		t.Errorf("the answer carries the sidecar's error: %v", err)
	}
	requireServerLog(t, "DeadlineExceeded")
	// Well under the sidecar's 30 s: the login gave up at its deadline (with room for a busy machine).
	if took > 20*time.Second {
		t.Errorf("the login took %s with request_timeout=1s", took)
	}
	_, err = c.Logical().Write("auth/tee-slow/login", data)
	requireDenied(t, err, "403", "already been used")
}

// The sidecar is killed (no clean shutdown) and restarted while logins stream in: every login
// either gets a token from a verified evidence or fails closed with a clear error; logins resume
// once it is back; a nonce spent on a failed login stays spent.
func TestSidecarKilledMidStream(t *testing.T) {
	type result struct {
		nonce, evidence []byte
		ok              bool
		err             error
		at              time.Time
	}
	var (
		mu       sync.Mutex
		results  []result
		wg       sync.WaitGroup
		stopping atomic.Bool
	)
	// The phases end on what happened, not on time: a token before the kill, a login failed
	// closed while the sidecar is down, a token after the restart.
	count := func(since time.Time, ok bool) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range results {
			if r.ok == ok && r.at.After(since) {
				n++
			}
		}
		return n
	}
	stopStream := func() {
		stopping.Store(true)
		wg.Wait()
	}
	defer stopStream()
	await := func(what string, since time.Time, ok bool) {
		deadline := time.Now().Add(3 * time.Minute)
		for count(since, ok) == 0 {
			if time.Now().After(deadline) || t.Failed() {
				stopStream()
				t.Fatalf("no %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	start := time.Now()
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopping.Load() {
				nonce, err := requestNonce(sys.client, "mcp-server-tdx")
				if err != nil {
					t.Error(err)
					return
				}
				evidence, err := sys.evidence(t, "tdx", nonce, nil, sys.testProfile())
				if err != nil {
					t.Error(err)
					return
				}
				secret, err := login("mcp-server-tdx", nonce, evidence)
				mu.Lock()
				results = append(results, result{nonce, evidence, err == nil && secret != nil && secret.Auth != nil, err, time.Now()})
				mu.Unlock()
			}
		}()
	}
	await("token before the kill", start, true)
	if out, err := sys.script("kill-sidecar"); err != nil {
		stopStream()
		t.Fatalf("%v %s", err, out)
	}
	killed := time.Now()
	await("login failed while the sidecar was down", killed, false)
	if out, err := sys.script("start-sidecar"); err != nil {
		stopStream()
		t.Fatalf("%v %s", err, out)
	}
	restarted := time.Now()
	await("token after the restart", restarted, true)
	stopStream()

	var tokens, failedClosed, afterRestart int
	var spent []byte
	var spentEvidence []byte
	for _, r := range results {
		switch {
		case r.ok:
			tokens++
			if r.at.After(restarted) {
				afterRestart++
			}
		case r.err != nil && strings.Contains(r.err.Error(), "Code: 500") &&
			strings.Contains(r.err.Error(), "verifier sidecar unavailable"):
			failedClosed++
			spent, spentEvidence = r.nonce, r.evidence
		default:
			t.Errorf("unexpected answer: %v", r.err)
		}
	}
	t.Logf("sidecar killed mid-stream: %d logins, %d tokens (%d after the restart), %d failed closed while it was down (%s)",
		len(results), tokens, afterRestart, failedClosed, restarted.Sub(killed).Round(time.Millisecond))
	if failedClosed == 0 || afterRestart == 0 {
		t.Fatalf("want failures while down and tokens after the restart: %d, %d", failedClosed, afterRestart)
	}
	_, err := login("mcp-server-tdx", spent, spentEvidence)
	requireDenied(t, err, "403", "already been used")
}
