//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// The three-node cluster of the HA test (ha_test.go): raft storage, static-key auto-unseal, the
// plugin in its catalog, and the test sidecar of the stack.

type haNode struct {
	name      string
	apiAddr   string
	cmd       *exec.Cmd
	client    *api.Client // logins and polls: an answer within haRequestTimeout, or "unavailable"
	admin     *api.Client // admin calls: a deadline a busy machine meets (cluster init writes raft)
	killed    atomic.Bool
	logOutput *os.File
}

// A busy 2-core machine (CI, stress-ng beside the suite) can take many seconds for one request;
// these bound a wedged node, not a slow one. Waits for the cluster's state are readiness polls
// with deadlines of minutes.
const (
	haRequestTimeout = 30 * time.Second
	haAdminTimeout   = 3 * time.Minute
	haReady          = 3 * time.Minute
)

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
# Each node audits what it answers itself to its own log: the test tells a standby that serves
# a read from one that forwards it.
audit "file" "node-log" {
  options {
    file_path = "stdout"
  }
}
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
		cfg.Timeout = haRequestTimeout
		n.client, _ = api.NewClient(cfg)
		cfg.Timeout = haAdminTimeout
		n.admin, _ = api.NewClient(cfg)
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(func() {
		// Each node's group: the server and its plugin processes, also when the test failed.
		for _, n := range c.nodes {
			if !n.killed.Load() {
				stopGroup(n.cmd, 30*time.Second)
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
	if err := startGroup(c.nodes[0].cmd); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node1 to listen", haReady, func() error {
		_, err := c.nodes[0].client.Sys().InitStatus()
		return err
	})
	// Init is not idempotent (a second call cannot return the root token), so it is not retried:
	// it gets the admin deadline instead.
	init, err := c.nodes[0].admin.Sys().Init(&api.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	c.root = init.RootToken
	for _, n := range c.nodes {
		n.client.SetToken(c.root)
		n.admin.SetToken(c.root)
	}
	waitFor(t, "node1 to become active", haReady, func() error { return c.isActive(c.nodes[0]) })
	// Joining nodes start as non-voters; autopilot promotes them once stable (default 10 s).
	waitFor(t, "the autopilot configuration", haReady, func() error {
		_, err := c.nodes[0].admin.Logical().Write("sys/storage/raft/autopilot/configuration",
			map[string]interface{}{"server_stabilization_time": "2s", "cleanup_dead_servers": false})
		return err
	})
	for _, n := range c.nodes[1:] { // one at a time: raft adds one peer per configuration change
		if err := startGroup(n.cmd); err != nil {
			t.Fatal(err)
		}
		waitFor(t, n.name+" to join as a standby", haReady, func() error { return c.isStandby(n) })
	}
	// Only a cluster of three voters survives the loss of one.
	waitFor(t, "three raft voters", haReady, func() error { return c.threeVoters() })
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
		if !n.killed.Load() && c.isActive(n) == nil {
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
	if n == nil {
		t.Fatal("no active node to provision")
	}
	plugin, _ := os.ReadFile(filepath.Join(sys.build, "go", "vault-plugin-auth-tee"))
	sum := sha256Hex(plugin)
	hcl, _ := os.ReadFile(filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.policy.hcl"))
	// Each call is idempotent, or made so ("already in use" after a retry of one that had in fact
	// succeeded is success), so each is retried until the cluster has done it.
	adminCalls := []struct {
		what string
		call func() error
	}{
		{"register", func() error {
			return n.admin.Sys().RegisterPlugin(&api.RegisterPluginInput{
				Name: "vault-plugin-auth-tee", Type: api.PluginTypeCredential, Command: "vault-plugin-auth-tee", SHA256: sum,
			})
		}},
		{"enable", func() error {
			return alreadyDone(n.admin.Sys().EnableAuthWithOptions("tee", &api.EnableAuthOptions{Type: "vault-plugin-auth-tee"}))
		}},
		{"kv", func() error {
			return alreadyDone(n.admin.Sys().Mount("secret", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}))
		}},
		{"policy", func() error { return n.admin.Sys().PutPolicy("mcp-server-tdx", string(hcl)) }},
	}
	for _, a := range adminCalls {
		waitFor(t, a.what, haReady, a.call)
	}
	role := map[string]interface{}{}
	raw, _ := os.ReadFile(filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.role.json"))
	json.Unmarshal(raw, &role)
	writes := []struct {
		path string
		data map[string]interface{}
	}{
		{"auth/tee/config", map[string]interface{}{"sidecar_address": "unix://" + filepath.Join(sys.work, "sidecar-test.sock"),
			"allow_test_sidecar": true}},
		{"auth/tee/role/mcp-server-tdx", role},
	}
	for _, w := range writes {
		// A freshly mounted engine may need a moment on a new cluster.
		waitFor(t, w.path, haReady, func() error {
			_, err := n.admin.Logical().Write(w.path, w.data)
			return err
		})
	}
	waitFor(t, "the KV mount", haReady, func() error {
		_, err := n.admin.Logical().Write("secret/data/mcp/tdx/api-key",
			map[string]interface{}{"data": map[string]interface{}{"value": "ha-api-key"}})
		return err
	})
	// Standbys serve reads themselves once they have caught up with the new mounts.
	for _, s := range c.nodes {
		waitFor(t, s.name+" to read the secret", haReady, func() error {
			_, err := readSecret(s.client, c.root, "secret/data/mcp/tdx/api-key")
			return err
		})
	}
}

func (c *haCluster) aliveNodes() []*haNode {
	var out []*haNode
	for _, n := range c.nodes {
		if !n.killed.Load() {
			out = append(out, n)
		}
	}
	return out
}

// alreadyDone is nil for err == nil and for an answer that the mount exists: a retried call that
// had succeeded.
func alreadyDone(err error) error {
	if err != nil && strings.Contains(err.Error(), "already in use") {
		return nil
	}
	return err
}

// answeredNonceReads counts the GET auth/tee/nonce requests node n answered itself, by the
// responses its audit device (its own stdout, in its log) recorded.
func (c *haCluster) answeredNonceReads(t *testing.T, n *haNode) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.work, n.name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"type":"response"`) {
			continue
		}
		var entry struct {
			Request struct {
				Operation string `json:"operation"`
				Path      string `json:"path"`
			} `json:"request"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil &&
			entry.Request.Operation == "read" && entry.Request.Path == "auth/tee/nonce" {
			count++
		}
	}
	return count
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
