//go:build integration

package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A TCB recovery seen from OpenBao (docs/tcb-recovery.md): the test platform's collateral is the
// TCB info published by a recovery (evaluation number 19), under which it is OutOfDate. A role
// with a 30-day tcb_grace_period admits it the day after the recovery, with the deadline on the
// token, and refuses it on day 31. Time is injected: a replay-mode sidecar with the test roots
// verifies at the login's verification_time.
func TestTcbRecoveryGraceWindow(t *testing.T) {
	dir, err := os.MkdirTemp("", "tee-recovery-") // short: a unix socket path lives here
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	recovery := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -60)
	gen := exec.Command(sys.bin("tee-testgen"), "collateral", filepath.Join(dir, "collateral"),
		"--tcb-recovery", recovery.Format(time.RFC3339))
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("tee-testgen collateral: %v\n%s", err, out)
	}

	socket := filepath.Join(dir, "sidecar.sock")
	sidecar := exec.Command(filepath.Join(sys.build, "verifier", "server", "tee-verifierd"), "--listen", "unix:"+socket,
		"--test-roots", filepath.Join(sys.work, "test-roots"), "--replay-recorded-evidence",
		"--collateral-dir", filepath.Join(dir, "collateral"), "--log-file", filepath.Join(dir, "decisions.log"))
	if err := startGroup(sidecar); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopGroup(sidecar, 10*time.Second) })
	waitFor(t, "the recovery sidecar", 30*time.Second, func() error {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
		}
		return err
	})

	mount := "tee-recovery"
	if out, err := sys.cli("auth", "enable", "-path="+mount, "vault-plugin-auth-tee"); err != nil {
		t.Fatalf("auth enable: %v\n%s", err, out)
	}
	t.Cleanup(func() { sys.cli("auth", "disable", mount) })
	if out, err := sys.cli("write", "auth/"+mount+"/config", "sidecar_address=unix://"+socket,
		"allow_test_sidecar=true"); err != nil {
		t.Fatalf("config: %v\n%s", err, out)
	}
	if out, err := sys.cli("write", "auth/"+mount+"/role/mcp-server-tdx",
		"@"+filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.role.json"),
		"allow_unbound_evidence=true", "tcb_grace_period=2592000"); err != nil {
		t.Fatalf("role: %v\n%s", err, out)
	}

	evidence, err := sys.evidence(t, "tdx", make([]byte, 32), nil, sys.testProfile())
	if err != nil {
		t.Fatal(err)
	}
	evidenceFile := filepath.Join(t.TempDir(), "quote.bin")
	if err := os.WriteFile(evidenceFile, evidence, 0o600); err != nil {
		t.Fatal(err)
	}
	loginAt := func(at time.Time) (string, string, error) {
		return sys.teeLogin(t, "-path="+mount, "-role=mcp-server-tdx", "-tee=tdx",
			"-evidence-file="+evidenceFile, "-verification-time="+at.Format(time.RFC3339))
	}

	// The day after the recovery: admitted, and the token says it relies on grace until when.
	token, stderr, err := loginAt(recovery.AddDate(0, 0, 1))
	if err != nil || token == "" {
		t.Fatalf("login the day after the recovery: %v\n%s", err, stderr)
	}
	secret, err := sys.client.Auth().Token().Lookup(token)
	if err != nil {
		t.Fatal(err)
	}
	meta := secret.Data["meta"].(map[string]interface{})
	deadline := recovery.AddDate(0, 0, 30).Format(time.RFC3339)
	if meta["tcb_status"] != "OutOfDate" || meta["tcb_grace_deadline"] != deadline ||
		meta["tcb_out_of_date_since"] != recovery.Format(time.RFC3339) {
		t.Fatalf("token metadata %v; want tcb_status OutOfDate, tcb_grace_deadline %s", meta, deadline)
	}

	// Day 31: refused; the caller learns only "permission denied", the server log names the grace
	// period (docs/plugin.md, "What a caller learns").
	_, stderr, err = loginAt(recovery.AddDate(0, 0, 31))
	if err == nil {
		t.Fatal("login on day 31 after the recovery succeeded")
	}
	if !strings.Contains(stderr, "Code: 403") || !strings.Contains(stderr, "permission denied") {
		t.Fatalf("day 31: want 403 permission denied, got %v\n%s", err, stderr)
	}
	requireServerLog(t, "field=tcb_grace_period")

	// The decision log records both: the grace deadline on the allow, the reason on the deny.
	waitFor(t, "two decisions in the log", 30*time.Second, func() error {
		log, err := os.ReadFile(filepath.Join(dir, "decisions.log"))
		if err != nil {
			return err
		}
		if !strings.Contains(string(log), `"tcb_grace_deadline":"`+deadline+`"`) ||
			!strings.Contains(string(log), `"field":"tcb_grace_period"`) {
			return fmt.Errorf("decision log lacks the grace deadline or the tcb_grace_period reason:\n%s", log)
		}
		return nil
	})
}
