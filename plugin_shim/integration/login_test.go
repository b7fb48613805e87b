//go:build integration

package integration

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Fresh, nonce-bound logins from the test TEE through its configfs-tsm / NSM stand-ins, each
// reading the secret its role allows and refused another.
func TestFreshTeeLoginsReadTheirSecretOnly(t *testing.T) {
	cases := []struct {
		role, secret string
		serve        []string
		loginArgs    func(dir string) []string
	}{
		{"mcp-server-tdx", "secret/data/mcp/tdx/api-key",
			[]string{"serve-tsm", "%DIR%", "--provider", "tdx_guest"},
			func(dir string) []string { return []string{"-tee=tdx", "-tsm-path=" + dir} }},
		{"mcp-server-snp", "secret/data/mcp/snp/jwt-key",
			[]string{"serve-tsm", "%DIR%", "--provider", "sev_guest"},
			func(dir string) []string { return []string{"-tee=sev-snp", "-tsm-path=" + dir} }},
		{"mcp-server-nitro", "secret/data/mcp/nitro/db-pass",
			[]string{"serve-nsm", "%DIR%/nsm.sock"},
			func(dir string) []string { return []string{"-tee=nitro", "-nsm-device=" + dir + "/nsm.sock"} }},
	}
	for _, c := range cases {
		t.Run(c.role, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(c.serve))
			for i, a := range c.serve {
				args[i] = strings.ReplaceAll(a, "%DIR%", dir)
			}
			sys.serve(t, args...)
			token, stderr, err := sys.teeLogin(t, append(c.loginArgs(dir), "-role="+c.role)...)
			if err != nil || token == "" {
				t.Fatalf("tee-login: %v\n%s", err, stderr)
			}
			if _, err := readSecret(sys.client, token, c.secret); err != nil {
				t.Fatalf("reading %s: %v", c.secret, err)
			}
			if _, err := readSecret(sys.client, token, "secret/data/payments/db-password"); err == nil ||
				!strings.Contains(err.Error(), "permission denied") {
				t.Fatalf("another secret was readable: %v", err)
			}
		})
	}
}

// loginWith sends one login by hand: a nonce from the server, evidence bound to it.
// nonceFor and boundEvidence stop the test on failure: call them from the test's goroutine only.
func nonceFor(t *testing.T, role string) []byte {
	t.Helper()
	nonce, err := requestNonce(sys.client, role)
	if err != nil {
		t.Fatal(err)
	}
	return nonce
}

func boundEvidence(t *testing.T, tee string, nonce []byte) []byte {
	t.Helper()
	data, err := sys.evidence(t, tee, nonce, nil, sys.testProfile())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func login(role string, nonce, evidence []byte) (*api.Secret, error) {
	c, _ := sys.client.Clone()
	c.ClearToken()
	data := map[string]interface{}{"role": role, "evidence": base64.StdEncoding.EncodeToString(evidence)}
	if nonce != nil {
		data["nonce"] = hex.EncodeToString(nonce)
	}
	return c.Logical().Write("auth/tee/login", data)
}

func requireDenied(t *testing.T, err error, code string, part string) {
	t.Helper()
	if err == nil {
		t.Fatal("login succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "Code: "+code) || !strings.Contains(msg, part) {
		t.Fatalf("want %s with %q, got %v", code, part, err)
	}
}

func TestReplayedNonceIsRefused(t *testing.T) {
	nonce := nonceFor(t, "mcp-server-tdx")
	evidence := boundEvidence(t, "tdx", nonce)
	if secret, err := login("mcp-server-tdx", nonce, evidence); err != nil || secret.Auth == nil {
		t.Fatalf("first login: %v", err)
	}
	_, err := login("mcp-server-tdx", nonce, evidence)
	requireDenied(t, err, "403", "already been used")
}

func TestEvidenceBoundToAnotherNonceIsRefused(t *testing.T) {
	nonce := nonceFor(t, "mcp-server-tdx")
	other := nonceFor(t, "mcp-server-tdx")
	_, err := login("mcp-server-tdx", nonce, boundEvidence(t, "tdx", other))
	requireDenied(t, err, "403", "permission denied")
	requireServerLog(t, "field=report_data")
}

func TestWrongMeasurementIsRefused(t *testing.T) {
	// The test TD's RTMR1 and RTMR2 (policy_examples/test-tee-profile.json) with another MRTD: the
	// role pins an image (MRTD + RTMR1 + RTMR2), just not this one.
	if out, err := sys.cli("write", "auth/tee/role/other-tdx", "tee_types=tdx",
		"tdx_mrtd="+strings.Repeat("ab", 48),
		"tdx_rtmr1=0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378",
		"tdx_rtmr2=d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
		"token_policies=mcp-server-tdx"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	nonce := nonceFor(t, "other-tdx")
	_, err := login("other-tdx", nonce, boundEvidence(t, "tdx", nonce))
	requireDenied(t, err, "403", "permission denied")
	requireServerLog(t, "field=tdx.mrtd")
}

func TestExpiredNonceIsRefused(t *testing.T) {
	if out, err := sys.cli("write", "auth/tee/config", "nonce_ttl=1s"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	defer sys.cli("write", "auth/tee/config", "nonce_ttl=120s")
	nonce := nonceFor(t, "mcp-server-tdx")
	evidence := boundEvidence(t, "tdx", nonce)
	time.Sleep(2100 * time.Millisecond)
	_, err := login("mcp-server-tdx", nonce, evidence)
	requireDenied(t, err, "403", "expired")
}

func TestConcurrentLoginsOnOneNonceYieldExactlyOneToken(t *testing.T) {
	nonce := nonceFor(t, "mcp-server-tdx")
	evidence := boundEvidence(t, "tdx", nonce)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens, refused := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret, err := login("mcp-server-tdx", nonce, evidence)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && secret != nil && secret.Auth != nil && secret.Auth.ClientToken != "" {
				tokens++
			} else if err != nil && strings.Contains(err.Error(), "Code: 403") {
				refused++
			}
		}()
	}
	wg.Wait()
	if tokens != 1 || refused != 19 {
		t.Fatalf("tokens=%d refused=%d", tokens, refused)
	}
}

func TestSidecarDownFailsClosedAndRecovers(t *testing.T) {
	if out, err := sys.script("stop-sidecar"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	nonce := nonceFor(t, "mcp-server-tdx")
	evidence := boundEvidence(t, "tdx", nonce)
	secret, err := login("mcp-server-tdx", nonce, evidence)
	if err == nil || (secret != nil && secret.Auth != nil) {
		t.Fatal("a token was issued without the sidecar")
	}
	if !strings.Contains(err.Error(), "Code: 500") || !strings.Contains(err.Error(), "verifier sidecar unavailable") {
		t.Fatalf("want a 500 naming the sidecar, got %v", err)
	}
	if strings.Contains(err.Error(), sys.work) { // the sidecar's socket path
		t.Fatalf("the answer carries a server path: %v", err)
	}
	if out, err := sys.script("start-sidecar"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	// The plugin's connection backs off and reconnects.
	waitFor(t, "a login after the restart", 2*time.Minute, func() error {
		nonce := nonceFor(t, "mcp-server-tdx")
		secret, err := login("mcp-server-tdx", nonce, boundEvidence(t, "tdx", nonce))
		if err == nil && secret.Auth == nil {
			err = fmt.Errorf("no token")
		}
		return err
	})
}

func TestBadInputIsAClearError(t *testing.T) {
	nonce := nonceFor(t, "")
	c, _ := sys.client.Clone()
	c.ClearToken()
	cases := map[string]struct {
		data       map[string]interface{}
		code, want string
	}{
		"malformed evidence": {map[string]interface{}{"role": "mcp-server-tdx", "nonce": hex.EncodeToString(nonce),
			"evidence": base64.StdEncoding.EncodeToString([]byte("\x04\x00\x02\x00\x81\x00\x00\x00 truncated quote"))},
			"400", "MALFORMED_EVIDENCE"},
		"bad base64": {map[string]interface{}{"role": "mcp-server-tdx", "nonce": hex.EncodeToString(nonce), "evidence": "%%%"}, "400", "evidence: not base64"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.Logical().Write("auth/tee/login", tc.data)
			requireDenied(t, err, tc.code, tc.want)
		})
	}
}

// Recorded real evidence, replayed at a pinned time through the replay-mode sidecar
// (auth/tee-recorded; roles there allow unbound evidence). Clearly not a fresh login.
func TestRecordedRealEvidenceLogsIn(t *testing.T) {
	cases := []struct {
		role, evidence, at, tee string
		extra                   []string
	}{
		{"mcp-server-tdx", "tests/data/tdx/quotes/dcap-qvl_tdx_quote.bin", "2025-07-19T09:00:00Z", "tdx", nil},
		{"mcp-server-snp", "tests/data/sevsnp/reports/oak_genoa_oc_report.bin", "2025-10-01T08:00:00Z", "sev-snp",
			[]string{"-certificate=" + filepath.Join(sys.root, "tests/data/sevsnp/certs/oak_genoa_oc_vcek.der")}},
		// The same report without its VCEK: the sidecar fetches it from the stand-in's KDS paths.
		{"mcp-server-snp", "tests/data/sevsnp/reports/oak_genoa_oc_report.bin", "2025-10-01T08:00:00Z", "sev-snp", nil},
		{"mcp-server-nitro", "tests/data/nitro/docs/beta_nondebug.bin", "2022-10-13T09:00:00Z", "nitro", nil},
	}
	for _, c := range cases {
		t.Run(c.role, func(t *testing.T) {
			args := append([]string{"-path=tee-recorded", "-role=" + c.role, "-tee=" + c.tee,
				"-evidence-file=" + filepath.Join(sys.root, c.evidence), "-verification-time=" + c.at}, c.extra...)
			token, stderr, err := sys.teeLogin(t, args...)
			if err != nil || token == "" {
				t.Fatalf("tee-login: %v\n%s", err, stderr)
			}
			secret, err := sys.client.Auth().Token().Lookup(token)
			if err != nil {
				t.Fatal(err)
			}
			meta := secret.Data["meta"].(map[string]interface{})
			if !strings.HasPrefix(meta["nonce_binding"].(string), "unbound (recorded evidence") || meta["tee"] != c.tee {
				t.Fatalf("metadata %v", meta)
			}
		})
	}
}
