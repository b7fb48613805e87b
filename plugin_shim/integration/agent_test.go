//go:build integration

package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The attested MCP server example (policy_examples/mcp-server): the stock `bao agent` logs in
// with the certificate `tee-login cert` keeps fresh and runs the MCP server with its key in its
// environment; the SDK's client (client.py) calls it.

type agentRun struct {
	role, secret  string
	certDir, work string
	port          int
	url, agentLog string
	agent         *exec.Cmd
	exited        <-chan struct{}
	started       time.Time
}

type agentOptions struct {
	profile                   string // the test TEE's measurements (default: the ones the role expects)
	tokenTTL, tokenMaxTTL     string // default: the example role's
	certLifetime, certRefresh time.Duration
	renderInterval            string
}

// The secret the example's agent config releases to the server.
const signerSecretPath = "secret/data/mcp/signer/jwt-key"

func (s *stack) example(name string) string {
	return filepath.Join(s.root, "policy_examples", "mcp-server", name)
}

func (s *stack) python() string { return filepath.Join(s.root, ".venv", "bin", "python") }

func randomSecret(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "jwt-key-" + hex.EncodeToString(b)
}

// otherWorkloadProfile is a test-TEE profile whose MRTD no example role admits.
func otherWorkloadProfile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "other-workload.json")
	if err := os.WriteFile(p, []byte(`{"tdx":{"mrtd":"`+strings.Repeat("0e", 48)+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startLogged starts c in a process group of its own (startGroup) with its output in logPath;
// the returned channel is closed when it has exited. Cleanup stops the group (what the agent
// started included): SIGTERM, and SIGKILL for whatever is left after a grace period.
func startLogged(t *testing.T, c *exec.Cmd, logPath string) <-chan struct{} {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout, c.Stderr = f, f
	if err := startGroup(c); err != nil {
		f.Close()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { c.Wait(); f.Close(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
		}
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	return exited
}

// startAgent provisions a role of its own (the example's, with o's token TTLs), the policy and a
// fresh secret; starts the test TEE's configfs-tsm provider, `tee-login cert -refresh` and the
// agent with the example's config.
func startAgent(t *testing.T, o agentOptions) *agentRun {
	t.Helper()
	r := &agentRun{role: "mcp-signer-" + strings.ToLower(t.Name()), secret: randomSecret(t), work: t.TempDir(),
		started: time.Now()}
	hcl, err := os.ReadFile(sys.example("mcp-signer.policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.client.Sys().PutPolicy("mcp-signer", string(hcl)); err != nil {
		t.Fatal(err)
	}
	writeSignerSecret(t, r.secret)
	if out, err := sys.cli("write", "auth/tee/role/"+r.role, "@"+sys.example("mcp-signer.role.json")); err != nil {
		t.Fatalf("role: %v\n%s", err, out)
	}
	if o.tokenTTL != "" {
		if out, err := sys.cli("write", "auth/tee/role/"+r.role, "token_ttl="+o.tokenTTL, "token_max_ttl="+o.tokenMaxTTL); err != nil {
			t.Fatalf("role TTLs: %v\n%s", err, out)
		}
	}

	tsm := t.TempDir()
	profile := o.profile
	if profile == "" {
		profile = sys.testProfile()
	}
	sys.serveProfile(t, profile, "serve-tsm", tsm, "--provider", "tdx_guest")
	r.certDir = filepath.Join(t.TempDir(), "cert")
	lifetime, refresh := o.certLifetime, o.certRefresh
	if lifetime == 0 {
		lifetime, refresh = 10*time.Minute, 5*time.Minute
	}
	minter := exec.Command(sys.bin("tee-login"), "cert", "-role="+r.role, "-out="+r.certDir, "-tee=tdx", "-tsm-path="+tsm,
		"-lifetime="+lifetime.String(), "-refresh="+refresh.String())
	startLogged(t, minter, filepath.Join(r.work, "tee-login-cert.log"))
	waitFor(t, "the first attested certificate", 2*time.Minute, func() error {
		_, err := os.Stat(filepath.Join(r.certDir, "cert.pem"))
		return err
	})

	r.port = freePort(t)
	r.url = fmt.Sprintf("http://127.0.0.1:%d/mcp", r.port)
	render := o.renderInterval
	if render == "" {
		render = "2s"
	}
	tmpl, err := os.ReadFile(sys.example("agent.hcl.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer("@VAULT_TLS_ADDR@", os.Getenv("VAULT_TLS_ADDR"), "@VAULT_CACERT@", os.Getenv("VAULT_CACERT"),
		"@CERT_DIR@", r.certDir, "@ROLE@", r.role, "@RENDER_INTERVAL@", render, "@PYTHON@", sys.python(),
		"@EXAMPLE_DIR@", sys.example(""), "@MCP_PORT@", strconv.Itoa(r.port)).Replace(string(tmpl))
	configPath := filepath.Join(r.work, "agent.hcl")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r.agent = exec.Command(sys.server, "agent", "-config="+configPath)
	r.agent.Env = tlsEnv(t) // no token, no address but the config's
	r.agentLog = filepath.Join(r.work, "agent.log")
	r.exited = startLogged(t, r.agent, r.agentLog)
	// The MCP server, should it outlive the agent, is stopped too.
	t.Cleanup(func() {
		for _, pid := range r.serverPids() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(r.agentLog)
			t.Logf("agent log (tail):\n%s", tail(string(log), 60))
		}
	})
	return r
}

func writeSignerSecret(t *testing.T, value string) {
	t.Helper()
	if _, err := sys.client.Logical().Write(signerSecretPath, map[string]interface{}{"data": map[string]interface{}{"value": value}}); err != nil {
		t.Fatal(err)
	}
}

// serverPids lists the running processes of this run's MCP server (server.py on its port), from
// /proc: whoever started them.
func (r *agentRun) serverPids() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	want := []byte("\x00--port\x00" + strconv.Itoa(r.port) + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte("server.py")) && bytes.Contains(cmdline, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

type serverInfo struct {
	Pid       int    `json:"pid"`
	KeyPrefix string `json:"key_sha256_prefix"`
}

// mcpCall runs the example's SDK client: it lists the tools and calls one.
func (r *agentRun) mcpCall(tool, arguments string) (tools []string, result json.RawMessage, err error) {
	c := exec.Command(sys.python(), sys.example("client.py"), r.url, tool, arguments)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return nil, nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	var out struct {
		Tools  []string        `json:"tools"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, nil, fmt.Errorf("client output %q: %v", stdout.String(), err)
	}
	return out.Tools, out.Result, nil
}

func (r *agentRun) info() (serverInfo, error) {
	var info serverInfo
	_, result, err := r.mcpCall("server_info", "{}")
	if err == nil {
		err = json.Unmarshal(result, &info)
	}
	return info, err
}

func keyPrefix(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])[:16]
}

// waitForServer polls until the MCP server answers with the given key.
func (r *agentRun) waitForServer(t *testing.T, secret string) serverInfo {
	t.Helper()
	var info serverInfo
	waitFor(t, "the MCP server with the key", 3*time.Minute, func() error {
		select {
		case <-r.exited:
			t.Fatalf("the agent exited: %v", r.agent.ProcessState)
		default:
		}
		var err error
		if info, err = r.info(); err != nil {
			return err
		}
		if info.KeyPrefix != keyPrefix(secret) {
			return fmt.Errorf("server has key %s", info.KeyPrefix)
		}
		return nil
	})
	return info
}

// waitForExit waits for the agent to exit on its own.
func (r *agentRun) waitForExit(t *testing.T, why string) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the agent did not exit %s", why)
	}
}

func (r *agentRun) log() string {
	log, _ := os.ReadFile(r.agentLog)
	return string(log)
}

func (r *agentRun) logins() int {
	return strings.Count(r.log(), "authentication successful")
}

// spawns counts the MCP server processes the agent's exec server started.
func (r *agentRun) spawns() int {
	return strings.Count(r.log(), "(child) spawning: ")
}

func signWith(t *testing.T, r *agentRun, subject, key string) {
	t.Helper()
	_, result, err := r.mcpCall("sign_jwt", `{"subject": "`+subject+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	var jwt string
	if err := json.Unmarshal(result, &jwt); err != nil {
		t.Fatalf("sign_jwt result %s: %v", result, err)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] {
		t.Fatal("the JWT is not signed with the released key")
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if !strings.Contains(string(claims), `"sub":"`+subject+`"`) {
		t.Fatalf("claims %s", claims)
	}
}

// filesHolding lists the regular files under roots, written since the run started, that contain
// secret. Older files cannot hold a secret made by this run; skipping them keeps the scan of the
// work tree (build outputs included) cheap.
func filesHolding(roots []string, since time.Time, secret string) []string {
	var found []string
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if fi, err := d.Info(); err != nil || fi.ModTime().Before(since) {
				return nil
			}
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(secret)) {
				found = append(found, path)
			}
			return nil
		})
	}
	return found
}

func TestAgentRunsTheMCPServerWithItsSecretAndRestartsItOnRotation(t *testing.T) {
	r := startAgent(t, agentOptions{})
	info := r.waitForServer(t, r.secret)

	tools, _, err := r.mcpCall("server_info", "{}")
	if err != nil || strings.Join(tools, ",") != "server_info,sign_jwt" {
		t.Fatalf("tools %v: %v", tools, err)
	}
	signWith(t, r, "alice", r.secret)

	// The secret lives in the server's environment, and in no file: not in the work tree, the
	// stack's directory, or what the agent, tee-login cert and this test wrote.
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", info.Pid))
	if err != nil || !bytes.Contains(environ, []byte("\x00MCP_JWT_SIGNING_KEY="+r.secret+"\x00")) &&
		!bytes.HasPrefix(environ, []byte("MCP_JWT_SIGNING_KEY="+r.secret+"\x00")) {
		t.Fatalf("the key is not in the server's environment (/proc/%d/environ): %v", info.Pid, err)
	}
	if found := filesHolding([]string{sys.root, sys.work, filepath.Dir(r.work), filepath.Dir(r.certDir)}, r.started, r.secret); len(found) > 0 {
		t.Fatalf("files hold the secret: %v", found)
	}

	// A rotated key reaches the server: the agent re-renders and restarts it.
	rotated := randomSecret(t)
	writeSignerSecret(t, rotated)
	after := r.waitForServer(t, rotated)
	if after.Pid == info.Pid {
		t.Fatalf("the server was not restarted (pid %d)", after.Pid)
	}
	signWith(t, r, "bob", rotated)
	if r.spawns() != 2 {
		t.Fatalf("%d spawns of the server, want 2", r.spawns())
	}
	if pids := r.serverPids(); len(pids) != 1 || pids[0] != after.Pid {
		t.Fatalf("MCP server processes %v, want only %d", pids, after.Pid)
	}
}

func TestAgentKeepsTheServerAcrossReloginsAndStopsItWhenAttestationFails(t *testing.T) {
	// Tokens live 4 s at most: the agent re-authenticates every few seconds, with certificates
	// tee-login re-mints every 5 s (reload = true reads the newest).
	r := startAgent(t, agentOptions{tokenTTL: "2s", tokenMaxTTL: "4s", certLifetime: 2 * time.Minute,
		certRefresh: 5 * time.Second, renderInterval: "1m"})
	info := r.waitForServer(t, r.secret)
	first := r.logins()
	waitFor(t, "three more logins", 3*time.Minute, func() error {
		if n := r.logins(); n < first+3 {
			return fmt.Errorf("%d logins", n)
		}
		return nil
	})
	if n := strings.Count(r.log(), "renewed auth token"); n == 0 {
		t.Fatal("the agent never renewed its token")
	}
	if now, err := r.info(); err != nil || now.Pid != info.Pid || r.spawns() != 1 {
		t.Fatalf("the server did not keep running across re-logins: %v %+v (was pid %d), %d spawns", err, now, info.Pid, r.spawns())
	}
	signWith(t, r, "carol", r.secret)

	// The role now expects other code: renewal and the next re-login are refused, the agent
	// exits and stops the server.
	if out, err := sys.cli("write", "auth/tee/role/"+r.role, "tdx_mrtd="+strings.Repeat("0e", 48)); err != nil {
		t.Fatalf("changing the role: %v\n%s", err, out)
	}
	r.waitForExit(t, "after its re-login was refused")
	waitFor(t, "the MCP server to be stopped", time.Minute, func() error {
		if pids := r.serverPids(); len(pids) > 0 {
			return fmt.Errorf("MCP server processes %v still run", pids)
		}
		return nil
	})
	if _, _, err := r.mcpCall("sign_jwt", `{"subject": "mallory"}`); err == nil {
		t.Fatal("a tool call succeeded after attestation failed")
	}
	if !strings.Contains(r.log(), "permission denied") {
		t.Fatalf("the agent's log shows no refused login:\n%s", tail(r.log(), 30))
	}
}

func TestAgentWithAnotherWorkloadsEvidenceNeverStartsTheServer(t *testing.T) {
	r := startAgent(t, agentOptions{profile: otherWorkloadProfile(t)})
	r.waitForExit(t, "after its login was refused")
	if !strings.Contains(r.log(), "permission denied") {
		t.Fatalf("the agent's log shows no refused login:\n%s", tail(r.log(), 30))
	}
	if r.logins() != 0 || r.spawns() != 0 {
		t.Fatalf("the agent logged in (%d) or started the server (%d)", r.logins(), r.spawns())
	}
	if pids := r.serverPids(); len(pids) > 0 {
		t.Fatalf("MCP server processes %v run", pids)
	}
	if _, _, err := r.mcpCall("sign_jwt", `{"subject": "mallory"}`); err == nil {
		t.Fatal("a tool call succeeded")
	}
}
