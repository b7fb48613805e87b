//go:build integration

package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vault-plugin-auth-tee/plugin_shim/teeclient"
)

// tlsEnv is the environment of a CLI talking to the stack's TLS listener with no token.
func tlsEnv(t *testing.T) []string {
	return append(os.Environ(), "VAULT_ADDR="+os.Getenv("VAULT_TLS_ADDR"), "BAO_ADDR="+os.Getenv("VAULT_TLS_ADDR"),
		"VAULT_TOKEN=", "BAO_TOKEN=", "HOME="+t.TempDir())
}

// mintCert runs `tee-login cert` once against a test-TEE configfs-tsm provider; it returns the
// directory holding cert.pem and key.pem.
func mintCert(t *testing.T, role string) string {
	t.Helper()
	tsm := t.TempDir()
	sys.serve(t, "serve-tsm", tsm, "--provider", "tdx_guest")
	out := filepath.Join(t.TempDir(), "cert")
	c := exec.Command(sys.bin("tee-login"), "cert", "-role="+role, "-out="+out, "-tee=tdx", "-tsm-path="+tsm)
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("tee-login cert: %v\n%s", err, b)
	}
	return out
}

// stockCertLogin is `bao login -method=cert -path=tee` as a workload runs it.
func stockCertLogin(t *testing.T, dir, role string) (string, string, error) {
	t.Helper()
	c := exec.Command(sys.server, "login", "-method=cert", "-path=tee", "-client-cert="+filepath.Join(dir, "cert.pem"),
		"-client-key="+filepath.Join(dir, "key.pem"), "-token-only", "-no-store", "name="+role)
	c.Env = tlsEnv(t)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	return strings.TrimSpace(stdout.String()), stderr.String(), err
}

func TestStockCertLoginWithAnAttestedCertificate(t *testing.T) {
	dir := mintCert(t, "mcp-server-tdx")
	for _, name := range []string{"cert.pem", "key.pem"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, err, st)
		}
	}
	token, stderr, err := stockCertLogin(t, dir, "mcp-server-tdx")
	if err != nil || token == "" {
		t.Fatalf("bao login -method=cert: %v\n%s", err, stderr)
	}
	if _, err := readSecret(sys.client, token, "secret/data/mcp/tdx/api-key"); err != nil {
		t.Fatalf("reading the role's secret: %v", err)
	}
	if _, err := readSecret(sys.client, token, "secret/data/payments/db-password"); err == nil {
		t.Fatal("another secret was readable")
	}
	// The same certificate sent to the plain-HTTP listener (as behind a TLS-terminating proxy,
	// which strips client certificates) is no login at all: the nonce flow is the way in there.
	c, _ := sys.client.Clone()
	c.ClearToken()
	if _, err := c.Logical().Write("auth/tee/login", map[string]interface{}{"name": "mcp-server-tdx"}); err == nil ||
		!strings.Contains(err.Error(), "evidence: required") {
		t.Fatalf("login without a certificate: %v", err)
	}
}

// certFor mints a certificate for key at notBefore whose evidence (test TEE, profile) carries
// reportData(spki, notBefore); extra extensions replace the evidence when given.
func certFor(t *testing.T, key *ecdsa.PrivateKey, notBefore time.Time, profile string,
	reportData func(spki []byte, notBefore time.Time) [64]byte) []byte {
	t.Helper()
	der, err := teeclient.MintCertificate(teeclient.CertRequest{Key: key, NotBefore: notBefore, Lifetime: 10 * time.Minute,
		CommonName: "tee-auth test"}, func([64]byte) (*teeclient.Evidence, error) {
		spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		ev, err := sys.evidenceFor(t, "tdx", reportData(spki, notBefore.Truncate(time.Second)), profile)
		return &teeclient.Evidence{TeeType: "tdx", Bytes: ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// presentCert logs in to auth/tee over TLS with {"name": role} and the given client certificate
// and key; it returns the token, if any, and what the server (or the handshake) said.
func presentCert(t *testing.T, role string, der []byte, key *ecdsa.PrivateKey) (string, string) {
	t.Helper()
	ca, err := os.ReadFile(os.Getenv("VAULT_CACERT"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:              pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
	}}}
	resp, err := client.Post(os.Getenv("VAULT_TLS_ADDR")+"/v1/auth/tee/login", "application/json",
		strings.NewReader(`{"name":"`+role+`"}`))
	if err != nil {
		return "", err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Auth *struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
		Errors []string `json:"errors"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if body.Auth != nil {
		return body.Auth.ClientToken, resp.Status
	}
	return "", resp.Status + " " + strings.Join(body.Errors, "; ")
}

func TestAttestedCertificateRefusals(t *testing.T) {
	const role = "mcp-server-tdx"
	key, _ := teeclient.NewCertKey()
	other, _ := teeclient.NewCertKey()
	now := time.Now()
	good := certFor(t, key, now, sys.testProfile(), teeclient.CertificateReportData)

	// The positive control through the same client: the right certificate with its own key.
	if token, said := presentCert(t, role, good, key); token == "" {
		t.Fatalf("the good certificate was refused: %s", said)
	}

	wrongProfile := otherWorkloadProfile(t)
	otherSpki, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)

	// A captured certificate's evidence copied into a certificate for the thief's own key, with the
	// same validity: everything but the key binding is genuine.
	parsed, err := x509.ParseCertificate(good)
	if err != nil {
		t.Fatal(err)
	}
	var stolenEvidence []byte
	for _, e := range parsed.Extensions {
		if e.Id.Equal(teeclient.EvidenceOID) {
			stolenEvidence = e.Value
		}
	}
	replayed, err := teeclient.MintCertificate(teeclient.CertRequest{Key: other, NotBefore: parsed.NotBefore,
		Lifetime: parsed.NotAfter.Sub(parsed.NotBefore), CommonName: parsed.Subject.CommonName},
		func([64]byte) (*teeclient.Evidence, error) { return &teeclient.Evidence{Bytes: stolenEvidence}, nil })
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		der  []byte
		key  *ecdsa.PrivateKey
		want string // the field the server logs for the denial ("" for a handshake that fails)
	}{
		// The TLS handshake proves possession: a certificate presented with another key fails
		// there, before the server sees a request.
		{"certificate with a key that is not its own", good, other, ""},
		{"evidence binds another key", certFor(t, key, now, sys.testProfile(),
			func(_ []byte, nb time.Time) [64]byte { return teeclient.CertificateReportData(otherSpki, nb) }), key, "report_data"},
		{"expired certificate", certFor(t, key, now.Add(-20*time.Minute), sys.testProfile(), teeclient.CertificateReportData),
			key, "certificate_not_after"},
		{"another workload's evidence", certFor(t, key, now, wrongProfile, teeclient.CertificateReportData), key, "tdx.mrtd"},
		{"captured evidence replayed under the thief's key", replayed, other, "report_data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logged := serverLogCount("field=" + c.want)
			token, said := presentCert(t, role, c.der, c.key)
			if token != "" {
				t.Fatalf("got a token (%s)", said)
			}
			if c.want != "" {
				// The caller learns only "permission denied"; the server log names the check.
				if !strings.HasPrefix(said, "403") {
					t.Fatalf("want 403 permission denied, got %s", said)
				}
				requireServerLogMore(t, "field="+c.want, logged)
			}
			if c.want == "" && strings.HasPrefix(said, "200") {
				t.Fatalf("the handshake succeeded: %s", said)
			}
		})
	}
}
