//go:build integration

package integration

import (
	"net/http"
	"testing"

	"github.com/hashicorp/vault/api"
)

// The operator's answer to a flood on the unauthenticated paths (docs/plugin.md, "Rate limits"):
// rate-limit quotas on auth/<mount>/nonce and auth/<mount>/login, exactly as documented. A mount
// of its own, so that the quotas touch no other test.
func TestRateLimitQuotasOnNonceAndLogin(t *testing.T) {
	for _, args := range [][]string{
		{"auth", "enable", "-path=tee-quota", "vault-plugin-auth-tee"},
		{"write", "auth/tee-quota/config", "sidecar_address=unix://" + sys.work + "/sidecar-test.sock"},
		// The documented commands (docs/plugin.md), with a small rate and a long interval so
		// that the test does not depend on the machine's speed.
		{"write", "sys/quotas/rate-limit/tee-quota-nonce", "path=auth/tee-quota/nonce", "rate=5", "interval=1h"},
		{"write", "sys/quotas/rate-limit/tee-quota-login", "path=auth/tee-quota/login", "rate=3", "interval=1h"},
	} {
		if out, err := sys.cli(args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() {
		sys.cli("delete", "sys/quotas/rate-limit/tee-quota-nonce")
		sys.cli("delete", "sys/quotas/rate-limit/tee-quota-login")
		sys.cli("auth", "disable", "tee-quota")
	})
	c, _ := sys.client.Clone()
	c.ClearToken()
	count := func(path string, data map[string]interface{}, n int) (ok, limited int) {
		for i := 0; i < n; i++ {
			_, err := c.Logical().Write(path, data)
			if re, isResp := err.(*api.ResponseError); isResp && re.StatusCode == http.StatusTooManyRequests {
				limited++
			} else if err == nil || isResp {
				ok++ // answered by the plugin (a login with bad evidence is a 400: still counted)
			} else {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return ok, limited
	}
	if ok, limited := count("auth/tee-quota/nonce", nil, 12); ok != 5 || limited != 7 {
		t.Fatalf("nonce: %d answered, %d limited; want 5 and 7", ok, limited)
	}
	login := map[string]interface{}{"role": "nope", "nonce": "00", "evidence": "cXVvdGU="}
	if ok, limited := count("auth/tee-quota/login", login, 8); ok != 3 || limited != 5 {
		t.Fatalf("login: %d answered, %d limited; want 3 and 5", ok, limited)
	}
	// The other mount is not limited.
	for i := 0; i < 10; i++ {
		if _, err := requestNonce(sys.client, ""); err != nil {
			t.Fatalf("auth/tee/nonce is limited too: %v", err)
		}
	}
}
