//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/vault-plugin-auth-tee/plugin_shim/teeclient"
)

// A three-node OpenBao cluster on integrated raft storage (static-key auto-unseal), the plugin in
// its catalog, and the test sidecar of the stack. Logins go to every node (standbys forward them
// to the active node); the active node is killed during a stream of logins. Afterwards: no nonce
// was accepted twice, every token issued is still valid on the new active node, and no login with
// evidence of the wrong workload got a token.

type haNode struct {
	name      string
	apiAddr   string
	cmd       *exec.Cmd
	client    *api.Client
	killed    bool
	logOutput *os.File
}

type haCluster struct {
	work  string
	nodes []*haNode
	root  string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startHACluster(t *testing.T) *haCluster {
	t.Helper()
	c := &haCluster{work: envOr("HA_WORK", t.TempDir())}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	keyFile := filepath.Join(c.work, "unseal.key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(c.work, "plugins")
	os.MkdirAll(plugins, 0o755)
	plugin, _ := os.ReadFile(filepath.Join(sys.build, "go", "vault-plugin-auth-tee"))
	if err := os.WriteFile(filepath.Join(plugins, "vault-plugin-auth-tee"), plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	type ports struct{ api, cluster int }
	p := make([]ports, 3)
	for i := range p {
		p[i] = ports{freePort(t), freePort(t)}
	}
	for i := range p {
		name := fmt.Sprintf("node%d", i+1)
		dir := filepath.Join(c.work, name)
		os.MkdirAll(dir, 0o700)
		var joins strings.Builder
		for j := range p {
			if j != i {
				fmt.Fprintf(&joins, "  retry_join { leader_api_addr = \"http://127.0.0.1:%d\" }\n", p[j].api)
			}
		}
		config := fmt.Sprintf(`storage "raft" {
  path    = %q
  node_id = %q
%s}
listener "tcp" {
  address         = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable     = true
}
seal "static" {
  current_key_id = "ha-test-1"
  current_key    = "file://%s"
}
api_addr         = "http://127.0.0.1:%d"
cluster_addr     = "https://127.0.0.1:%d"
plugin_directory = %q
disable_mlock    = true
`, dir, name, joins.String(), p[i].api, p[i].cluster, keyFile, p[i].api, p[i].cluster, plugins)
		configFile := filepath.Join(c.work, name+".hcl")
		if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		n := &haNode{name: name, apiAddr: fmt.Sprintf("http://127.0.0.1:%d", p[i].api)}
		n.logOutput, _ = os.Create(filepath.Join(c.work, name+".log"))
		n.cmd = exec.Command(sys.server, "server", "-config="+configFile)
		n.cmd.Stdout, n.cmd.Stderr = n.logOutput, n.logOutput
		cfg := api.DefaultConfig()
		cfg.Address = n.apiAddr
		cfg.MaxRetries = 0
		cfg.Timeout = 10 * time.Second
		n.client, _ = api.NewClient(cfg)
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			if !n.killed && n.cmd.Process != nil {
				n.cmd.Process.Signal(syscall.SIGTERM)
				n.cmd.Wait()
			}
			n.logOutput.Close()
		}
		if t.Failed() {
			for _, n := range c.nodes {
				data, _ := os.ReadFile(filepath.Join(c.work, n.name+".log"))
				t.Logf("==== %s (tail)\n%s", n.name, tail(string(data), 30))
			}
		}
	})

	// The first node is initialized alone; the others join it through retry_join.
	if err := c.nodes[0].cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node1 to listen", 30*time.Second, func() error {
		_, err := c.nodes[0].client.Sys().InitStatus()
		return err
	})
	init, err := c.nodes[0].client.Sys().Init(&api.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	c.root = init.RootToken
	for _, n := range c.nodes {
		n.client.SetToken(c.root)
	}
	waitFor(t, "node1 to become active", 60*time.Second, func() error { return c.isActive(c.nodes[0]) })
	// Joining nodes start as non-voters; autopilot promotes them once stable (default 10 s).
	if _, err := c.nodes[0].client.Logical().Write("sys/storage/raft/autopilot/configuration",
		map[string]interface{}{"server_stabilization_time": "2s", "cleanup_dead_servers": false}); err != nil {
		t.Fatalf("autopilot configuration: %v", err)
	}
	for _, n := range c.nodes[1:] { // one at a time: raft adds one peer per configuration change
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, n.name+" to join as a standby", 90*time.Second, func() error { return c.isStandby(n) })
	}
	// Only a cluster of three voters survives the loss of one.
	waitFor(t, "three raft voters", 60*time.Second, func() error { return c.threeVoters() })
	return c
}

func (c *haCluster) threeVoters() error {
	resp, err := c.nodes[0].client.Logical().Read("sys/storage/raft/configuration")
	if err != nil || resp == nil {
		return fmt.Errorf("raft configuration: %v", err)
	}
	config, _ := resp.Data["config"].(map[string]interface{})
	servers, _ := config["servers"].([]interface{})
	voters := 0
	for _, s := range servers {
		if m, _ := s.(map[string]interface{}); m != nil && m["voter"] == true {
			voters++
		}
	}
	if voters != 3 {
		return fmt.Errorf("%d voters of %d servers", voters, len(servers))
	}
	return nil
}

func waitFor(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %v", what, err)
}

func (c *haCluster) health(n *haNode) (*api.HealthResponse, error) {
	return n.client.Sys().Health()
}

func (c *haCluster) isActive(n *haNode) error {
	h, err := c.health(n)
	if err != nil {
		return err
	}
	if h.Sealed || h.Standby {
		return fmt.Errorf("%s: sealed=%v standby=%v", n.name, h.Sealed, h.Standby)
	}
	return nil
}

func (c *haCluster) isStandby(n *haNode) error {
	h, err := c.health(n)
	if err != nil {
		return err
	}
	if h.Sealed || !h.Standby {
		return fmt.Errorf("%s: sealed=%v standby=%v", n.name, h.Sealed, h.Standby)
	}
	return nil
}

func (c *haCluster) active() *haNode {
	for _, n := range c.nodes {
		if !n.killed && c.isActive(n) == nil {
			return n
		}
	}
	return nil
}

// provision: the plugin in the catalog, auth/tee on the stack's test sidecar, the TDX example
// role, its policy and secret.
func (c *haCluster) provision(t *testing.T) {
	t.Helper()
	n := c.active()
	plugin, _ := os.ReadFile(filepath.Join(sys.build, "go", "vault-plugin-auth-tee"))
	sum := sha256Hex(plugin)
	if err := n.client.Sys().RegisterPlugin(&api.RegisterPluginInput{
		Name: "vault-plugin-auth-tee", Type: api.PluginTypeCredential, Command: "vault-plugin-auth-tee", SHA256: sum,
	}); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := n.client.Sys().EnableAuthWithOptions("tee", &api.EnableAuthOptions{Type: "vault-plugin-auth-tee"}); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if err := n.client.Sys().Mount("secret", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("kv: %v", err)
	}
	hcl, _ := os.ReadFile(filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.policy.hcl"))
	if err := n.client.Sys().PutPolicy("mcp-server-tdx", string(hcl)); err != nil {
		t.Fatal(err)
	}
	role := map[string]interface{}{}
	raw, _ := os.ReadFile(filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.role.json"))
	json.Unmarshal(raw, &role)
	writes := []struct {
		path string
		data map[string]interface{}
	}{
		{"auth/tee/config", map[string]interface{}{"sidecar_address": "unix://" + filepath.Join(sys.work, "sidecar-test.sock")}},
		{"auth/tee/role/mcp-server-tdx", role},
	}
	for _, w := range writes {
		var err error
		// A freshly mounted secret engine may need a moment on a new cluster.
		for i := 0; i < 50; i++ {
			if _, err = n.client.Logical().Write(w.path, w.data); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v", w.path, err)
		}
	}
	waitFor(t, "the KV mount", 20*time.Second, func() error {
		_, err := n.client.Logical().Write("secret/data/mcp/tdx/api-key",
			map[string]interface{}{"data": map[string]interface{}{"value": "ha-api-key"}})
		return err
	})
	// Standbys serve reads themselves once they have caught up with the new mounts.
	for _, s := range c.nodes {
		waitFor(t, s.name+" to read the secret", 30*time.Second, func() error {
			_, err := readWith(s, c.root, "secret/data/mcp/tdx/api-key")
			return err
		})
	}
}

// haAttempt is one login of the stream.
type haAttempt struct {
	nonce, evidence []byte
	wrongWorkload   bool
	token           string
	outcome         string // "token", "refused", "unavailable"
	at              time.Time
}

// The evidence of the stream: made ahead by a pool of generators, bound to nonces fetched just
// before; a tenth of it from the wrong workload (another MRTD).
func haEvidence(t *testing.T, nonce []byte, profile string) []byte {
	rd, err := teeclient.ReportData(nonce, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	out := filepath.Join(t.TempDir(), "q.bin")
	c := exec.Command(sys.bin("tee-testgen"), "evidence", "--tee", "tdx", "--report-data", hex.EncodeToString(rd[:]),
		"--profile", profile, "--out", out)
	if b, err := c.CombinedOutput(); err != nil {
		t.Errorf("tee-testgen: %v %s", err, b)
		return nil
	}
	data, _ := os.ReadFile(out)
	return data
}

func TestHAClusterKeepsNoncesSingleUseAcrossLeaderLoss(t *testing.T) {
	c := startHACluster(t)
	c.provision(t)
	goodProfile := filepath.Join(sys.root, "policy_examples", "test-tee-profile.json")
	badProfile := filepath.Join(t.TempDir(), "wrong.json")
	os.WriteFile(badProfile, []byte(`{"tdx":{"mrtd":"`+strings.Repeat("ee", 48)+`"}}`), 0o600)

	// Logins to a standby are forwarded to the active node and succeed (once the standby has
	// loaded the new mount from the replicated mount table).
	for _, n := range c.nodes[1:] {
		var nonce []byte
		waitFor(t, n.name+" to serve auth/tee", 30*time.Second, func() error {
			resp, err := n.client.Logical().Write("auth/tee/nonce", map[string]interface{}{"role": "mcp-server-tdx"})
			if err != nil {
				return err
			}
			nonce, _ = hex.DecodeString(resp.Data["nonce"].(string))
			return nil
		})
		if tok, outcome, err := haLogin(n, nonce, haEvidence(t, nonce, goodProfile)); outcome != "token" {
			t.Fatalf("login through standby %s: %s %v", n.name, outcome, err)
		} else if _, err := readWith(n, tok, "secret/data/mcp/tdx/api-key"); err != nil {
			t.Fatalf("token from standby login: %v", err)
		}
	}

	// One nonce, nine concurrent logins spread over the three nodes: exactly one token.
	{
		nonce := haNonce(t, c.nodes[0])
		evidence := haEvidence(t, nonce, goodProfile)
		var wg sync.WaitGroup
		var won atomic.Int32
		for i := 0; i < 9; i++ {
			wg.Add(1)
			go func(n *haNode) {
				defer wg.Done()
				if _, outcome, _ := haLogin(n, nonce, evidence); outcome == "token" {
					won.Add(1)
				}
			}(c.nodes[i%3])
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("one nonce, nine logins over three nodes: %d tokens, want 1", won.Load())
		}
	}

	const workers = 4
	const duration = 24 * time.Second
	killAfter := 8 * time.Second
	var (
		mu       sync.Mutex
		attempts []*haAttempt
		counter  atomic.Int64
		noNonce  atomic.Int64 // nonce requests that found no active node
		killedAt time.Time
	)
	start := time.Now()
	stop := start.Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				i := counter.Add(1)
				alive := c.aliveNodes()
				nonceNode, loginNode := alive[int(i)%len(alive)], alive[int(i+1)%len(alive)]
				nonce := haNonce(t, nonceNode)
				if nonce == nil {
					noNonce.Add(1)
					time.Sleep(100 * time.Millisecond) // no active node yet
					continue
				}
				a := &haAttempt{nonce: nonce, wrongWorkload: i%10 == 0}
				profile := goodProfile
				if a.wrongWorkload {
					profile = badProfile
				}
				if a.evidence = haEvidence(t, nonce, profile); a.evidence == nil {
					return
				}
				var err error
				a.token, a.outcome, err = haLogin(loginNode, nonce, a.evidence)
				a.at = time.Now()
				if a.outcome == "refused" && !a.wrongWorkload && !strings.Contains(err.Error(), "nonce") {
					t.Errorf("a good login was refused for something other than its nonce: %v", err)
				}
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(killAfter)
	victim := c.active()
	if victim == nil {
		t.Fatal("no active node to kill")
	}
	victim.cmd.Process.Signal(syscall.SIGKILL)
	victim.cmd.Wait()
	victim.killed = true
	killedAt = time.Now()
	wg.Wait()

	// Tally.
	var tokens, refused, unavailable, wrongRefused, beforeKill, afterKill int
	var firstAfterKill time.Time
	for _, a := range attempts {
		switch a.outcome {
		case "token":
			tokens++
			if a.wrongWorkload {
				t.Errorf("evidence of the wrong workload got a token")
			}
			if a.at.Before(killedAt) {
				beforeKill++
			} else {
				afterKill++
				if firstAfterKill.IsZero() || a.at.Before(firstAfterKill) {
					firstAfterKill = a.at
				}
			}
		case "refused":
			refused++
			if a.wrongWorkload {
				wrongRefused++
			}
		default:
			unavailable++
		}
	}
	if afterKill == 0 {
		t.Fatal("no login succeeded after the active node was killed")
	}
	newActive := c.active()
	if newActive == nil {
		t.Fatal("no active node after the election")
	}

	// Every nonce that got a token, replayed on every surviving node: refused.
	replayRefused := 0
	for _, a := range attempts {
		if a.outcome != "token" {
			continue
		}
		for _, n := range c.aliveNodes() {
			if _, outcome, err := haLogin(n, a.nonce, a.evidence); outcome == "token" {
				t.Errorf("a nonce was accepted twice (replayed on %s)", n.name)
			} else if outcome == "refused" && strings.Contains(err.Error(), "nonce is unknown") {
				replayRefused++
			} else {
				t.Errorf("replay on %s: want refused for its nonce, got %s %v", n.name, outcome, err)
			}
		}
		// Nothing lost: every token issued, before or after the kill, works on the new active node.
		if _, err := readWith(newActive, a.token, "secret/data/mcp/tdx/api-key"); err != nil {
			t.Errorf("a token issued by the cluster no longer works: %v", err)
		}
	}
	report := fmt.Sprintf("HA: %d logins tried over %s (%d workers, active node %s killed at %s): "+
		"%d tokens (%d before, %d after the kill), %d refused (%d of %d wrong-workload), %d unavailable during "+
		"the election (and %d nonce requests without an active node); logins resumed %s after the kill; "+
		"%d replays of used nonces refused, 0 accepted; every token still valid on the new active node",
		len(attempts), duration, workers, victim.name, killedAt.Sub(start).Round(time.Millisecond),
		tokens, beforeKill, afterKill, refused, wrongRefused, countWrong(attempts), unavailable, noNonce.Load(),
		firstAfterKill.Sub(killedAt).Round(time.Millisecond), replayRefused)
	t.Log(report)
	fmt.Println(report)
	if wrongRefused != countWrong(attempts) {
		t.Errorf("every wrong-workload login must be refused: %d of %d", wrongRefused, countWrong(attempts))
	}
}

func countWrong(attempts []*haAttempt) int {
	n := 0
	for _, a := range attempts {
		if a.wrongWorkload {
			n++
		}
	}
	return n
}

func (c *haCluster) aliveNodes() []*haNode {
	var out []*haNode
	for _, n := range c.nodes {
		if !n.killed {
			out = append(out, n)
		}
	}
	return out
}

func haNonce(t *testing.T, n *haNode) []byte {
	resp, err := n.client.Logical().Write("auth/tee/nonce", map[string]interface{}{"role": "mcp-server-tdx"})
	if err != nil || resp == nil {
		return nil
	}
	nonce, _ := hex.DecodeString(resp.Data["nonce"].(string))
	return nonce
}

// haLogin logs in through node n: "token", "refused" (a 4xx answer) or "unavailable" (no answer,
// or a 5xx while the cluster has no active node).
func haLogin(n *haNode, nonce, evidence []byte) (string, string, error) {
	c, _ := n.client.Clone()
	c.ClearToken()
	secret, err := c.Logical().Write("auth/tee/login", map[string]interface{}{
		"role": "mcp-server-tdx", "nonce": hex.EncodeToString(nonce),
		"evidence": base64.StdEncoding.EncodeToString(evidence),
	})
	if err == nil && secret != nil && secret.Auth != nil {
		return secret.Auth.ClientToken, "token", nil
	}
	if err == nil {
		return "", "unavailable", fmt.Errorf("no auth in the answer")
	}
	if re, ok := err.(*api.ResponseError); ok && re.StatusCode >= 400 && re.StatusCode < 500 {
		return "", "refused", err
	}
	return "", "unavailable", err
}

func readWith(n *haNode, token, path string) (string, error) {
	c, _ := n.client.Clone()
	c.SetToken(token)
	s, err := c.Logical().Read(path)
	if err != nil {
		return "", err
	}
	if s == nil {
		return "", fmt.Errorf("%s: not found", path)
	}
	return fmt.Sprint(s.Data["data"]), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
