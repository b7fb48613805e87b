package teeauth

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
)

// allowAll is a fake sidecar that allows everything: what an impostor on the socket would be.
type allowAll struct {
	pb.UnimplementedVerifierServer
	calls chan struct{}
}

func (a *allowAll) Evaluate(ctx context.Context, _ *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
	a.calls <- struct{}{}
	return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_ALLOW}, nil
}

func serveFake(t *testing.T) (string, *allowAll) {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	fake := &allowAll{calls: make(chan struct{}, 10)}
	server := grpc.NewServer()
	pb.RegisterVerifierServer(server, fake)
	go server.Serve(l)
	t.Cleanup(server.Stop)
	return socket, fake
}

func evaluateVia(t *testing.T, cfg *pluginConfig) error {
	t.Helper()
	client, err := dialSidecar(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err = client.Evaluate(ctx, &pb.EvaluateRequest{})
	return err
}

// The sidecar runs as the server's user (the default sidecar_uid): answered. A sidecar_uid that
// the listening process does not have: refused before any request is sent.
func TestUnixSocketPeerMustRunAsSidecarUID(t *testing.T) {
	socket, fake := serveFake(t)
	cfg := &pluginConfig{SidecarAddress: "unix://" + socket}
	if err := evaluateVia(t, cfg); err != nil {
		t.Fatalf("own uid: %v", err)
	}
	<-fake.calls
	other := os.Getuid() + 1000
	cfg.SidecarUID = &other
	err := evaluateVia(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "not sidecar_uid") {
		t.Fatalf("want a refusal naming sidecar_uid, got %v", err)
	}
	if len(fake.calls) != 0 {
		t.Fatal("a request reached a sidecar of the wrong user")
	}
}

// A socket really held by another user (nobody), as a local user's impostor would be: refused
// under the default sidecar_uid. Needs root to start the listener as another user.
func TestUnixSocketOfAnotherUserIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to listen as another user")
	}
	const python = "/usr/bin/python3" // the system's, which the other user can run
	if _, err := os.Stat(python); err != nil {
		t.Skip("no /usr/bin/python3 for the listener")
	}
	dir, err := os.MkdirTemp("/tmp", "peercred-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777) // the impostor's writable directory
	socket := filepath.Join(dir, "s.sock")
	listener := exec.Command(python, "-c",
		"import socket, sys, time\ns = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(8)\ntime.sleep(600)", socket)
	listener.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, Setpgid: true}
	if err := listener.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Process.Kill(); listener.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	err = evaluateVia(t, &pluginConfig{SidecarAddress: "unix://" + socket})
	if err == nil || !strings.Contains(err.Error(), "runs as uid 65534, not sidecar_uid 0") {
		t.Fatalf("want a refusal of uid 65534, got %v", err)
	}
}

func TestSidecarUIDConfig(t *testing.T) {
	h := newHarness(t)
	h.configure()
	if got := h.mustOK(logical.ReadOperation, "config", nil).Data["sidecar_uid"]; got != os.Getuid() {
		t.Fatalf("default sidecar_uid %v, want the server's %d", got, os.Getuid())
	}
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"sidecar_uid": 998})
	if got := h.mustOK(logical.ReadOperation, "config", nil).Data["sidecar_uid"]; got != 998 {
		t.Fatalf("sidecar_uid %v", got)
	}
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"sidecar_uid": -1})
	if got := h.mustOK(logical.ReadOperation, "config", nil).Data["sidecar_uid"]; got != os.Getuid() {
		t.Fatalf("after -1: %v", got)
	}
	resp, _ := h.request(logical.UpdateOperation, "config", map[string]interface{}{"sidecar_uid": -5})
	if resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), "sidecar_uid:") {
		t.Fatalf("sidecar_uid -5: %v", resp)
	}
}
