//go:build integration

// Package integration runs the whole system on loopback: an OpenBao dev server with the plugin
// registered in its catalog, tee-verifierd (test roots, and replay mode for recorded evidence),
// tee-login, and tee-testgen standing in for the TEE hardware. Run through scripts/test.sh, or:
//
//	go test -tags integration ./integration/ (after scripts/build.sh and scripts/build_go.sh)
package integration

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/vault-plugin-auth-tee/plugin_shim/teeclient"
)

// stack is the running system.
type stack struct {
	root, work, build string
	server            string // bao (or vault) binary
	client            *api.Client
}

var sys *stack

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, _ := filepath.Abs("../..")
	work, err := os.MkdirTemp("", "tee-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s := &stack{root: root, work: work, build: envOr("BUILD_DIR", filepath.Join(root, "build"))}
	if err := s.startWatchdog(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if out, err := s.script("start"); err != nil {
		fmt.Fprintf(os.Stderr, "starting the stack: %v\n%s\n", err, out)
		s.script("stop")
		return 1
	}
	// Stopped before the work directory (its pid files) is removed; a deferred stop after the
	// removal found nothing to stop and left the server and both sidecars running.
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			s.script("stop")
		}
	}
	defer stop()
	env, _ := os.ReadFile(filepath.Join(work, "env"))
	for _, line := range strings.Split(string(env), "\n") {
		for _, kv := range strings.Fields(strings.TrimPrefix(line, "export ")) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				os.Setenv(k, v)
			}
		}
	}
	s.server = os.Getenv("SERVER_BIN")
	cfg := api.DefaultConfig()
	cfg.Address = os.Getenv("VAULT_ADDR")
	cfg.MaxRetries = 0 // a retried login would only meet its spent nonce
	s.client, err = api.NewClient(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.client.SetToken("root")
	if err := s.provision(); err != nil {
		fmt.Fprintf(os.Stderr, "provisioning: %v\n", err)
		return 1
	}
	sys = s
	code := m.Run()
	stop()
	if code != 0 {
		for _, log := range []string{"sidecar-test.log", "sidecar-recorded.log", "server.out"} {
			data, _ := os.ReadFile(filepath.Join(work, log))
			fmt.Fprintf(os.Stderr, "==== %s (tail)\n%s\n", log, tail(string(data), 40))
		}
	} else {
		os.RemoveAll(work)
	}
	return code
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (s *stack) script(cmd string) ([]byte, error) {
	c := exec.Command(filepath.Join(s.root, "scripts", "stack.sh"), cmd, s.work)
	c.Env = append(os.Environ(), "BUILD_DIR="+s.build)
	return c.CombinedOutput()
}

func (s *stack) bin(name string) string {
	switch name {
	case "tee-login":
		return filepath.Join(s.build, "go", "tee-login")
	case "tee-testgen":
		return filepath.Join(s.build, "verifier", "tee-testgen")
	}
	return name
}

// provision writes what an admin would: secrets, policies, and the example roles (policy_examples)
// on both mounts; on auth/tee-recorded they also admit recorded (unbound) evidence.
func (s *stack) provision() error {
	logical := s.client.Logical()
	for path, value := range map[string]string{
		"secret/data/mcp/tdx/api-key":      "tdx-api-key-7f3c",
		"secret/data/mcp/snp/jwt-key":      "snp-jwt-signing-key-91ab",
		"secret/data/mcp/nitro/db-pass":    "nitro-db-password-55e0",
		"secret/data/payments/db-password": "payments-secret-not-for-mcp",
	} {
		if _, err := logical.Write(path, map[string]interface{}{"data": map[string]interface{}{"value": value}}); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	for _, name := range []string{"mcp-server-tdx", "mcp-server-snp", "mcp-server-nitro"} {
		hcl, err := os.ReadFile(filepath.Join(s.root, "policy_examples", name+".policy.hcl"))
		if err != nil {
			return err
		}
		if err := s.client.Sys().PutPolicy(name, string(hcl)); err != nil {
			return err
		}
		for _, mount := range []string{"tee", "tee-recorded"} {
			args := []string{"write", "auth/" + mount + "/role/" + name, "@" + filepath.Join(s.root, "policy_examples", name+".role.json")}
			if mount == "tee-recorded" {
				args = append(args, "allow_unbound_evidence=true")
			}
			if out, err := s.cli(args...); err != nil {
				return fmt.Errorf("role %s on %s: %v\n%s", name, mount, err, out)
			}
		}
	}
	return nil
}

// cli runs the server's CLI as root.
func (s *stack) cli(args ...string) ([]byte, error) {
	c := exec.Command(s.server, args...)
	c.Env = append(os.Environ(), "VAULT_TOKEN=root", "BAO_TOKEN=root")
	return c.CombinedOutput()
}

// teeLogin runs tee-login; the token goes to stdout (-field=token -no-store).
func (s *stack) teeLogin(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	c := exec.Command(s.bin("tee-login"), append([]string{"-token-only"}, args...)...)
	c.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	return strings.TrimSpace(stdout.String()), stderr.String(), err
}

// testProfile is the test TEE's profile whose measurements the example roles expect.
func (s *stack) testProfile() string {
	return filepath.Join(s.root, "policy_examples", "test-tee-profile.json")
}

// evidence makes fresh test-TEE evidence binding the nonce (and clientKey, when given), with the
// measurements of profile, as the hardware would. It reports failure as an error, so that
// goroutines can use it.
func (s *stack) evidence(t *testing.T, tee string, nonce, clientKey []byte, profile string) ([]byte, error) {
	reportData, err := teeclient.ReportData(nonce, clientKey)
	if err != nil {
		return nil, err
	}
	return s.evidenceFor(t, tee, reportData, profile)
}

// evidenceFor makes test-TEE evidence carrying reportData, with the measurements of profile.
func (s *stack) evidenceFor(t *testing.T, tee string, reportData [64]byte, profile string) ([]byte, error) {
	out := filepath.Join(t.TempDir(), "evidence.bin")
	c := exec.Command(s.bin("tee-testgen"), "evidence", "--tee", tee, "--report-data", hex.EncodeToString(reportData[:]),
		"--profile", profile, "--out", out)
	if b, err := c.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tee-testgen evidence: %v\n%s", err, b)
	}
	return os.ReadFile(out)
}

// requestNonce asks auth/tee/nonce for a nonce through client, as a workload does.
func requestNonce(client *api.Client, role string) ([]byte, error) {
	resp, err := client.Logical().Write("auth/tee/nonce", map[string]interface{}{"role": role})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, fmt.Errorf("auth/tee/nonce: empty answer")
	}
	hexNonce, _ := resp.Data["nonce"].(string)
	return hex.DecodeString(hexNonce)
}

// serve starts a tee-testgen provider (serve-tsm / serve-nsm) for the duration of the test.
func (s *stack) serve(t *testing.T, args ...string) {
	t.Helper()
	s.serveProfile(t, s.testProfile(), args...)
}

// serveProfile is serve for a TEE with the measurements of profile (another workload's).
func (s *stack) serveProfile(t *testing.T, profile string, args ...string) {
	t.Helper()
	c := exec.Command(s.bin("tee-testgen"), append(args, "--profile", profile)...)
	logFile := filepath.Join(t.TempDir(), "serve.log")
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	c.Stdout, c.Stderr = log, log
	if err := startGroup(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGroup(c, 5*time.Second) })
	// Ready once it says what it serves ("emulating configfs-tsm", "listening on").
	waitFor(t, args[0]+" to serve", 2*time.Minute, func() error {
		out, _ := os.ReadFile(logFile)
		if !strings.Contains(string(out), "emulating") && !strings.Contains(string(out), "listening") {
			return fmt.Errorf("%s not ready: %q", args[0], out)
		}
		return nil
	})
}

// readSecret reads the value of a KV v2 secret through client (a copy of it), with token.
func readSecret(client *api.Client, token, path string) (string, error) {
	c, err := client.Clone()
	if err != nil {
		return "", err
	}
	c.SetToken(token)
	secret, err := c.Logical().Read(path)
	if err != nil {
		return "", err
	}
	if secret == nil {
		return "", fmt.Errorf("%s: not found", path)
	}
	data, _ := secret.Data["data"].(map[string]interface{})
	value, ok := data["value"].(string)
	if !ok {
		return "", fmt.Errorf("%s: no value", path)
	}
	return value, nil
}
