package teeauth

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// describedSidecar is a gRPC sidecar on a unix socket that allows every login and describes
// itself as info; it counts its Info and Evaluate calls.
type describedSidecar struct {
	pb.UnimplementedVerifierServer
	info               *pb.InfoResponse
	infos, evaluations atomic.Int32
}

func (s *describedSidecar) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	s.infos.Add(1)
	return s.info, nil
}

func (s *describedSidecar) Evaluate(_ context.Context, req *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
	s.evaluations.Add(1)
	return allow(time.Hour)(req)
}

func (s *describedSidecar) ValidatePolicy(ctx context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error) {
	return (&fakeVerifier{}).ValidatePolicy(ctx, req)
}

// serveDescribed serves s on socket until the returned function stops it (which closes its
// connections, as a sidecar that exits does).
func serveDescribed(t *testing.T, socket string, s *describedSidecar) func() {
	t.Helper()
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterVerifierServer(server, s)
	go server.Serve(l)
	t.Cleanup(server.Stop)
	return server.Stop
}

// The sidecar's mode is asked once per connection, not once per login; a sidecar that replaces it
// on the socket (a new connection) is asked again, and its answers are refused when it runs with
// test roots on a mount that does not allow them.
func TestSidecarModeAskedOncePerConnection(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "s.sock")
	production := &describedSidecar{info: &pb.InfoResponse{Version: "production"}}
	stop := serveDescribed(t, socket, production)

	h := newHarness(t)
	h.b.newClient = dialSidecar
	t.Cleanup(func() { h.b.resetClient(context.Background()) })
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"sidecar_address": "unix://" + socket})
	h.writeRole("mcp", nil)
	for i := 0; i < 5; i++ {
		resp, err := h.login("mcp", h.nonce(""))
		if err != nil || resp == nil || resp.Auth == nil {
			t.Fatalf("login %d: %v %v", i, err, resp)
		}
		if _, marked := resp.Auth.Metadata["sidecar_mode"]; marked {
			t.Fatalf("a production sidecar's token is marked: %v", resp.Auth.Metadata)
		}
	}
	if n := production.infos.Load(); n != 1 {
		t.Fatalf("5 logins over one connection asked the sidecar's mode %d times, want 1", n)
	}

	stop()
	// Once the client has seen its connection break, the next login asks the new sidecar first.
	client := h.b.client.(*grpcClient)
	for client.conn.GetState() == connectivity.Ready {
		time.Sleep(5 * time.Millisecond)
	}
	impostor := &describedSidecar{info: &pb.InfoResponse{Version: "test", TestRoots: true}}
	serveDescribed(t, socket, impostor)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := h.login("mcp", h.nonce(""))
		if err != nil && strings.Contains(err.Error(), "allow_test_sidecar") {
			break
		}
		if err == nil && resp != nil && resp.Auth != nil {
			t.Fatalf("a token from a test-roots sidecar on a production mount: %v", resp.Auth.Metadata)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replacing sidecar was never asked its mode: %v %v", err, resp)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if impostor.infos.Load() == 0 {
		t.Fatal("the new connection's sidecar was not asked its mode")
	}
	if impostor.evaluations.Load() != 0 {
		t.Fatal("the evidence was evaluated by a refused sidecar")
	}
}

// Over TCP (here plaintext loopback) the connections are numbered too: one Info for many logins.
func TestSidecarModeAskedOncePerTCPConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sidecar := &describedSidecar{info: &pb.InfoResponse{Version: "production"}}
	server := grpc.NewServer()
	pb.RegisterVerifierServer(server, sidecar)
	go server.Serve(l)
	t.Cleanup(server.Stop)

	h := newHarness(t)
	h.b.newClient = dialSidecar
	t.Cleanup(func() { h.b.resetClient(context.Background()) })
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{
		"sidecar_address": l.Addr().String(), "sidecar_insecure_loopback": true,
	})
	h.writeRole("mcp", nil)
	for i := 0; i < 3; i++ {
		if resp, err := h.login("mcp", h.nonce("")); err != nil || resp == nil || resp.Auth == nil {
			t.Fatalf("login %d: %v %v", i, err, resp)
		}
	}
	if n := sidecar.infos.Load(); n != 1 {
		t.Fatalf("3 logins over one TCP connection asked the sidecar's mode %d times, want 1", n)
	}
}
