//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `tee-login exec`: the nonce flow with the token in the command's environment only, renewed
// while the role admits the login, and the command stopped once the token is gone.

// teeLoginExec is the command line of `tee-login exec` for the test TEE behind tsm.
func teeLoginExec(tsm, role string, command ...string) *exec.Cmd {
	return exec.Command(sys.bin("tee-login"), append([]string{"exec", "-role=" + role, "-tee=tdx", "-tsm-path=" + tsm, "--"},
		command...)...)
}

func TestTeeLoginExecPassesTheTokenInTheEnvironmentOnly(t *testing.T) {
	tsm := t.TempDir()
	sys.serve(t, "serve-tsm", tsm, "--provider", "tdx_guest")
	home := t.TempDir()
	// The command prints its token, then reads the role's secret with it as any Vault client does.
	c := teeLoginExec(tsm, "mcp-server-tdx", "sh", "-c",
		`echo "token=$VAULT_TOKEN" && "$0" kv get -field=value secret/mcp/tdx/api-key`, sys.server)
	c.Env = append(os.Environ(), "HOME="+home, "VAULT_TOKEN=", "BAO_TOKEN=")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("tee-login exec: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	token, value, _ := strings.Cut(strings.TrimPrefix(stdout.String(), "token="), "\n")
	if token == "" || strings.TrimSpace(value) != "tdx-api-key-7f3c" {
		t.Fatalf("the command got no token or could not read its secret: %q", stdout.String())
	}
	// No token helper file, nothing in HOME; the token died with the command.
	if entries, _ := os.ReadDir(home); len(entries) > 0 {
		t.Fatalf("tee-login exec wrote to HOME: %v", entries)
	}
	if _, err := sys.client.Auth().Token().Lookup(token); err == nil {
		t.Fatal("the token outlived its command")
	}
	// The command's exit status is tee-login's.
	c = teeLoginExec(tsm, "mcp-server-tdx", "sh", "-c", "exit 7")
	c.Env = append(os.Environ(), "HOME="+home)
	var exitErr *exec.ExitError
	if err := c.Run(); !errors.As(err, &exitErr) || exitErr.ExitCode() != 7 {
		t.Fatalf("exit status: %v", err)
	}
}

func TestTeeLoginExecStopsTheCommandWhenAttestationFails(t *testing.T) {
	const role = "exec-short-ttl"
	if out, err := sys.cli("write", "auth/tee/role/"+role, "@"+filepath.Join(sys.root, "policy_examples", "mcp-server-tdx.role.json")); err != nil {
		t.Fatalf("role: %v\n%s", err, out)
	}
	// 6-second tokens: renewed every four seconds or so, for as long as the role admits the login.
	if out, err := sys.cli("write", "auth/tee/role/"+role, "token_ttl=6s", "token_max_ttl=1h"); err != nil {
		t.Fatalf("role TTLs: %v\n%s", err, out)
	}
	tsm := t.TempDir()
	sys.serve(t, "serve-tsm", tsm, "--provider", "tdx_guest")
	work := t.TempDir()
	state := filepath.Join(work, "command")
	c := teeLoginExec(tsm, role, "sh", "-c", `echo "$$ $VAULT_TOKEN" > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 600`, state)
	c.Env = append(os.Environ(), "HOME="+t.TempDir())
	exited := startLogged(t, c, filepath.Join(work, "tee-login.log"))

	var pid int
	var token string
	waitFor(t, "the command to start", 2*time.Minute, func() error {
		data, err := os.ReadFile(state)
		if err != nil {
			return err
		}
		fields := strings.Fields(string(data))
		if len(fields) != 2 {
			return fmt.Errorf("command state %q", data)
		}
		pid, _ = strconv.Atoi(fields[0])
		token = fields[1]
		return nil
	})
	issued := time.Now()
	// Renewed: the token is still valid at more than twice its TTL, the command still runs.
	waitFor(t, "renewals past two token TTLs", 2*time.Minute, func() error {
		if _, err := sys.client.Auth().Token().Lookup(token); err != nil {
			t.Fatalf("the token expired while the role admitted the login: %v", err)
		}
		if time.Since(issued) < 13*time.Second {
			return errors.New("not yet")
		}
		return nil
	})
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the command stopped while its token was renewed: %v", err)
	}

	// The role now expects other code: renewals are refused, the token expires, and the command
	// is stopped with it.
	if out, err := sys.cli("write", "auth/tee/role/"+role, "tdx_mrtd="+strings.Repeat("0e", 48)); err != nil {
		t.Fatalf("changing the role: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		t.Fatal("tee-login exec did not stop after its token was gone")
	}
	if code := c.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("tee-login exec exited with %d, want 1", code)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("the command (pid %d) still runs", pid)
	}
	log, _ := os.ReadFile(filepath.Join(work, "tee-login.log"))
	if !strings.Contains(string(log), "the token is gone") {
		t.Fatalf("tee-login exec's log:\n%s", log)
	}
	if _, err := sys.client.Auth().Token().Lookup(token); err == nil {
		t.Fatal("the token is still valid")
	}
}
