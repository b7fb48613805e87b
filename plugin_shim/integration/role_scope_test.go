//go:build integration

package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// What a token stands for beyond one login (docs/policy.md, "Workload identity"; docs/plugin.md,
// "Renewal", "Test and replay sidecars", "What a caller learns").

// profileWith writes a copy of the test TEE profile whose tdx section has the fields in tdx.
func profileWith(t *testing.T, tdx map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile(sys.testProfile())
	if err != nil {
		t.Fatal(err)
	}
	var profile map[string]map[string]interface{}
	if err := json.Unmarshal(raw, &profile); err != nil {
		t.Fatal(err)
	}
	for k, v := range tdx {
		profile["tdx"][k] = v
	}
	out, _ := json.Marshal(profile)
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeExampleRole writes policy_examples/mcp-server-tdx.role.json as role name on mount, then
// the extra key=value arguments over it (given together, the file's values would win).
func writeExampleRole(t *testing.T, mount, name string, extra ...string) ([]byte, error) {
	t.Helper()
	path := "auth/" + mount + "/role/" + name
	out, err := sys.cli("write", path, "@"+filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.role.json"))
	if err != nil || len(extra) == 0 {
		return out, err
	}
	return sys.cli(append([]string{"write", path}, extra...)...)
}

func mustWriteExampleRole(t *testing.T, mount, name string, extra ...string) {
	t.Helper()
	if out, err := writeExampleRole(t, mount, name, extra...); err != nil {
		t.Fatalf("role %s on %s: %v\n%s", name, mount, err, out)
	}
}

// loginProfile logs in to role on auth/tee with fresh evidence of profile.
func loginProfile(t *testing.T, role, profile string) (*api.Secret, error) {
	t.Helper()
	nonce := nonceFor(t, role)
	evidence, err := sys.evidence(t, "tdx", nonce, nil, profile)
	if err != nil {
		t.Fatal(err)
	}
	return login(role, nonce, evidence)
}

func mustLoginProfile(t *testing.T, role, profile string) *api.Secret {
	t.Helper()
	secret, err := loginProfile(t, role, profile)
	if err != nil || secret == nil || secret.Auth == nil {
		t.Fatalf("login to %s: %v", role, err)
	}
	return secret
}

func tokenClient(t *testing.T, token string) *api.Client {
	t.Helper()
	c, err := sys.client.Clone()
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// requireServerLog waits for the server's log (which carries the plugin's) to contain part: what
// a denial's answer leaves out goes there.
func requireServerLog(t *testing.T, part string) {
	t.Helper()
	requireServerLogMore(t, part, 0)
}

// serverLogCount is how often part appears in the server's log so far.
func serverLogCount(part string) int {
	data, _ := os.ReadFile(filepath.Join(sys.work, "server.out"))
	return strings.Count(string(data), part)
}

// requireServerLogMore waits until part appears in the server's log more than `than` times: the
// log is shared by the whole suite, so a test that needs its own line counts before it acts.
func requireServerLogMore(t *testing.T, part string, than int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for serverLogCount(part) <= than {
		if time.Now().After(deadline) {
			t.Fatalf("the server log never showed %q (again)", part)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two apps that differ only in RTMR3, each in its own role: two entities, and an identity policy
// granted to the first's entity does not let the second read the first's secret.
func TestEachWorkloadAndRoleIsItsOwnEntity(t *testing.T) {
	rtmr3 := map[string]string{"a": strings.Repeat("a1", 48), "b": strings.Repeat("b2", 48)}
	profiles := map[string]string{}
	for app, value := range rtmr3 {
		profiles[app] = profileWith(t, map[string]string{"rtmr3": value})
		mustWriteExampleRole(t, "tee", "entity-app-"+app, "tdx_rtmr3="+value, "token_policies=default")
	}
	if _, err := sys.client.Logical().Write("secret/data/apps/a", map[string]interface{}{
		"data": map[string]interface{}{"value": "app-a-only"}}); err != nil {
		t.Fatal(err)
	}
	if err := sys.client.Sys().PutPolicy("app-a-secret", `path "secret/data/apps/a" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}

	a := mustLoginProfile(t, "entity-app-a", profiles["a"])
	b := mustLoginProfile(t, "entity-app-b", profiles["b"])
	if a.Auth.EntityID == "" || a.Auth.EntityID == b.Auth.EntityID {
		t.Fatalf("entities: a %q, b %q", a.Auth.EntityID, b.Auth.EntityID)
	}
	if _, err := sys.client.Logical().Write("identity/entity/id/"+a.Auth.EntityID,
		map[string]interface{}{"policies": []string{"app-a-secret"}}); err != nil {
		t.Fatal(err)
	}
	if v, err := readSecret(sys.client, a.Auth.ClientToken, "secret/data/apps/a"); err != nil || v != "app-a-only" {
		t.Fatalf("app a reading its secret: %q %v", v, err)
	}
	if _, err := readSecret(sys.client, b.Auth.ClientToken, "secret/data/apps/a"); err == nil ||
		!strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("app b read app a's secret: %v", err)
	}
	// The same app in the other role is another entity too, and a login again is the same one.
	mustWriteExampleRole(t, "tee", "entity-app-a2", "tdx_rtmr3="+rtmr3["a"], "token_policies=default")
	if again := mustLoginProfile(t, "entity-app-a2", profiles["a"]); again.Auth.EntityID == a.Auth.EntityID {
		t.Fatal("two roles share an entity")
	}
	if again := mustLoginProfile(t, "entity-app-a", profiles["a"]); again.Auth.EntityID != a.Auth.EntityID {
		t.Fatalf("the same workload and role got another entity: %s, %s", again.Auth.EntityID, a.Auth.EntityID)
	}
}

// Unbound evidence is honoured only by a replay-mode sidecar: an ordinary sidecar refuses the
// role when it is written, and refuses the login of a role stored while a replay sidecar answered
// (one captured quote, no nonce: no token).
func TestUnboundEvidenceNeedsAReplaySidecar(t *testing.T) {
	out, err := writeExampleRole(t, "tee", "unbound-live", "allow_unbound_evidence=true")
	if err == nil || !strings.Contains(string(out), "allow_unbound_evidence: honoured only by a sidecar started with --replay-recorded-evidence") {
		t.Fatalf("an ordinary sidecar accepted an unbound role: %v %s", err, out)
	}

	for _, args := range [][]string{
		{"auth", "enable", "-path=tee-swap", "vault-plugin-auth-tee"},
		{"write", "auth/tee-swap/config", "sidecar_address=unix://" + filepath.Join(sys.work, "sidecar-recorded.sock"), "allow_test_sidecar=true"},
	} {
		if out, err := sys.cli(args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() { sys.cli("auth", "disable", "tee-swap") })
	mustWriteExampleRole(t, "tee-swap", "captured", "allow_unbound_evidence=true")
	if out, err := sys.cli("write", "auth/tee-swap/config", "sidecar_address=unix://"+filepath.Join(sys.work, "sidecar-test.sock")); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	// A quote captured from a workload's earlier login.
	captured := boundEvidence(t, "tdx", nonceFor(t, "mcp-server-tdx"))
	c, _ := sys.client.Clone()
	c.ClearToken()
	for i := 0; i < 3; i++ {
		secret, err := c.Logical().Write("auth/tee-swap/login", map[string]interface{}{
			"role": "captured", "evidence": base64.StdEncoding.EncodeToString(captured)})
		if secret != nil && secret.Auth != nil {
			t.Fatal("a captured quote without a nonce got a token from an ordinary sidecar")
		}
		requireDenied(t, err, "400", "evidence rejected (BAD_REQUEST)")
	}
	requireServerLog(t, "allow_unbound_evidence: honoured only by a sidecar")
}

// A mount that does not allow a test sidecar refuses one (here: test roots) at login.
func TestTestSidecarNeedsAllowTestSidecar(t *testing.T) {
	for _, args := range [][]string{
		{"auth", "enable", "-path=tee-strict", "vault-plugin-auth-tee"},
		{"write", "auth/tee-strict/config", "sidecar_address=unix://" + filepath.Join(sys.work, "sidecar-test.sock")},
	} {
		if out, err := sys.cli(args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() { sys.cli("auth", "disable", "tee-strict") })
	mustWriteExampleRole(t, "tee-strict", "mcp-server-tdx")
	resp, err := sys.client.Logical().Write("auth/tee-strict/nonce", nil)
	if err != nil {
		t.Fatal(err)
	}
	nonce, _ := hex.DecodeString(resp.Data["nonce"].(string))
	c, _ := sys.client.Clone()
	c.ClearToken()
	secret, err := c.Logical().Write("auth/tee-strict/login", map[string]interface{}{"role": "mcp-server-tdx",
		"nonce": hex.EncodeToString(nonce), "evidence": base64.StdEncoding.EncodeToString(boundEvidence(t, "tdx", nonce))})
	if secret != nil && secret.Auth != nil {
		t.Fatal("a mount without allow_test_sidecar issued a token through a test-roots sidecar")
	}
	requireDenied(t, err, "500", "allow_test_sidecar")

	// The stack's mounts allow it, and mark their tokens.
	token := mustLoginProfile(t, "mcp-server-tdx", sys.testProfile())
	if token.Auth.Metadata["sidecar_mode"] != "test-roots" {
		t.Fatalf("metadata %v", token.Auth.Metadata)
	}
}

// Renewal: with the "default" policy (the normal case), while the role admits the build, and for
// periodic tokens; refused once the build is removed from the role.
func TestRenewalFollowsTheRole(t *testing.T) {
	mustWriteExampleRole(t, "tee", "renew-tdx")
	secret := mustLoginProfile(t, "renew-tdx", sys.testProfile())
	if !strings.Contains(strings.Join(secret.Auth.Policies, ","), "default") {
		t.Fatalf("policies %v", secret.Auth.Policies)
	}
	c := tokenClient(t, secret.Auth.ClientToken)
	if r, err := c.Auth().Token().RenewSelf(600); err != nil || r.Auth == nil {
		t.Fatalf("renewal with the default policy: %v", err)
	}
	// The build is removed from the role: no more renewals, the token stays as it was.
	if out, err := sys.cli("write", "auth/tee/role/renew-tdx", "tdx_mrtd="+strings.Repeat("0e", 48)); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := c.Auth().Token().RenewSelf(600); err == nil || !strings.Contains(err.Error(), "no longer admits") ||
		!strings.Contains(err.Error(), "tdx.mrtd") {
		t.Fatalf("renewal after the build left the role: %v", err)
	}
	// A deleted role renews nothing.
	mustWriteExampleRole(t, "tee", "renew-gone")
	gone := mustLoginProfile(t, "renew-gone", sys.testProfile())
	if out, err := sys.cli("delete", "auth/tee/role/renew-gone"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := tokenClient(t, gone.Auth.ClientToken).Auth().Token().RenewSelf(0); err == nil {
		t.Fatal("a token of a deleted role was renewed")
	}

	mustWriteExampleRole(t, "tee", "renew-periodic", "token_period=120s")
	periodic := mustLoginProfile(t, "renew-periodic", sys.testProfile())
	pc := tokenClient(t, periodic.Auth.ClientToken)
	for i := 0; i < 2; i++ {
		r, err := pc.Auth().Token().RenewSelf(0)
		if err != nil || r.Auth == nil || r.Auth.LeaseDuration != 120 {
			t.Fatalf("periodic renewal %d: %v %+v", i, err, r)
		}
	}
}

// post sends a request without a token and returns the status and the raw body.
func post(t *testing.T, path string, data map[string]interface{}) (int, string) {
	t.Helper()
	body, _ := json.Marshal(data)
	resp, err := http.Post(sys.client.Address()+"/v1/"+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(raw))
}

// One answer for an unknown role, a role the caller's evidence does not satisfy and a role bound
// to other networks; and no server paths, collateral or FMSPCs in any answer.
func TestUnauthenticatedAnswersRevealNothing(t *testing.T) {
	mustWriteExampleRole(t, "tee", "uniform-cidr", "token_bound_cidrs=10.11.12.0/24")
	mustWriteExampleRole(t, "tee", "uniform-other", "tdx_mrtd="+strings.Repeat("ab", 48))
	var answers []string
	for _, role := range []string{"uniform-nope", "uniform-cidr", "uniform-other"} {
		code, body := post(t, "auth/tee/nonce", map[string]interface{}{"role": role})
		if code != 200 {
			t.Fatalf("nonce for %s: %d %s", role, code, body)
		}
		var nonceResp struct {
			Data struct{ Nonce string } `json:"data"`
		}
		json.Unmarshal([]byte(body), &nonceResp)
		nonce, _ := hex.DecodeString(nonceResp.Data.Nonce)
		code, body = post(t, "auth/tee/login", map[string]interface{}{"role": role, "nonce": nonceResp.Data.Nonce,
			"evidence": base64.StdEncoding.EncodeToString(boundEvidence(t, "tdx", nonce))})
		answers = append(answers, strings.Join([]string{http.StatusText(code), body}, " "))
	}
	if answers[0] != answers[1] || answers[1] != answers[2] || !strings.HasPrefix(answers[0], "Forbidden") ||
		!strings.Contains(answers[0], `"permission denied"`) {
		t.Fatalf("answers differ or are not a plain denial: %q", answers)
	}
	requireServerLog(t, "no such role")

	// Recorded evidence of a platform the replay sidecar has no collateral for: the answer names
	// the reason only; the FMSPC, the collateral loaded and its directory are in the server log.
	code, body := post(t, "auth/tee-recorded/login", map[string]interface{}{"role": "mcp-server-tdx",
		"evidence":          base64.StdEncoding.EncodeToString(mustRead(t, "tests/data/tdx/quotes/trustee_azure_td-quote.bin")),
		"verification_time": "2025-07-19T09:00:00Z"})
	if code != http.StatusForbidden || !strings.Contains(body, "COLLATERAL_MISSING") {
		t.Fatalf("want a 403 naming COLLATERAL_MISSING, got %d %s", code, body)
	}
	for _, secret := range []string{"00806f050000", "fmspc", "FMSPC", sys.root, "/", "collateral/"} {
		if strings.Contains(strings.TrimPrefix(body, `{"errors":["`), secret) {
			t.Errorf("the answer %s carries %q", body, secret)
		}
	}
	requireServerLog(t, "00806f050000")
}

func mustRead(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sys.root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
