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
	"syscall"
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
			_, err := readSecret(s.client, c.root, "secret/data/mcp/tdx/api-key")
			return err
		})
	}
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

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
