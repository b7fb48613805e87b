package teeauth

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestConfigWriteReadNeverReturnsTheKey(t *testing.T) {
	h := newHarness(t)
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{
		"sidecar_address": "unix:///run/tee-verifierd/s.sock",
		"request_timeout": "5s",
		"nonce_ttl":       "90s",
	})
	data := h.mustOK(logical.ReadOperation, "config", nil).Data
	if data["sidecar_address"] != "unix:///run/tee-verifierd/s.sock" || data["request_timeout"] != int64(5) ||
		data["nonce_ttl"] != int64(90) {
		t.Fatalf("config read: %v", data)
	}
	if _, ok := data["sidecar_client_key_pem"]; ok {
		t.Fatal("the client key was returned")
	}
	// A partial update keeps what it does not name.
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"request_timeout": "7s"})
	data = h.mustOK(logical.ReadOperation, "config", nil).Data
	if data["nonce_ttl"] != int64(90) || data["request_timeout"] != int64(7) {
		t.Fatalf("after partial update: %v", data)
	}
}

func TestConfigRefusesUnsafeOrIncompleteSettings(t *testing.T) {
	cases := map[string]struct {
		data map[string]interface{}
		want string
	}{
		"no address":         {map[string]interface{}{}, "sidecar_address: required"},
		"tcp without mtls":   {map[string]interface{}{"sidecar_address": "10.0.0.5:7443"}, "needs mutual TLS"},
		"plaintext off loop": {map[string]interface{}{"sidecar_address": "10.0.0.5:7443", "sidecar_insecure_loopback": true}, "is not a loopback address"},
		"tls on unix":        {map[string]interface{}{"sidecar_address": "unix:///x.sock", "sidecar_ca_pem": "x"}, "apply to TCP only"},
		"nonce ttl too long": {map[string]interface{}{"sidecar_address": "unix:///x.sock", "nonce_ttl": "11m"}, "nonce_ttl: must be between"},
		"bad client pem":     {map[string]interface{}{"sidecar_address": "10.0.0.5:7443", "sidecar_ca_pem": "x", "sidecar_client_cert_pem": "y", "sidecar_client_key_pem": "z"}, "sidecar_ca_pem: no certificate"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			resp, err := h.request(logical.UpdateOperation, "config", c.data)
			if err != nil || resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), c.want) {
				t.Fatalf("want error %q, got err=%v resp=%v", c.want, err, resp)
			}
		})
	}
	h := newHarness(t)
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"sidecar_address": "127.0.0.1:7443", "sidecar_insecure_loopback": true})
}

// getCounter counts the reads of one storage key.
type getCounter struct {
	logical.Storage
	key  string
	gets int
}

func (s *getCounter) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if key == s.key {
		s.gets++
	}
	return s.Storage.Get(ctx, key)
}

// Logins and nonces use the decoded configuration from memory; a write on this node, or an
// invalidation from another, makes the next request read it again.
func TestConfigIsReadOnceUntilItChanges(t *testing.T) {
	h := setup(t)
	counter := &getCounter{Storage: h.storage, key: configStoragePath}
	h.storage = counter
	for i := 0; i < 3; i++ {
		if resp, err := h.login("mcp", h.nonce("mcp")); err != nil || resp.IsError() {
			t.Fatal(err, resp)
		}
	}
	if counter.gets > 1 {
		t.Fatalf("3 nonces and logins read the configuration %d times", counter.gets)
	}
	before := counter.gets
	h.b.invalidate(t.Context(), configStoragePath)
	h.nonce("mcp")
	h.nonce("mcp")
	if counter.gets != before+1 {
		t.Fatalf("after invalidation: %d reads, want 1", counter.gets-before)
	}
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"nonce_ttl": "30s"})
	if ttl := h.mustOK(logical.UpdateOperation, "nonce", nil).Data["ttl"]; ttl != int64(30) {
		t.Fatalf("after a config write the nonce ttl is %v", ttl)
	}
}
