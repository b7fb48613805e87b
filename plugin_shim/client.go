// The shim's only view of verification: a gRPC client of tee-verifierd. No crypto and no claim
// matching happen in Go; the sidecar verifies evidence, checks the nonce binding and evaluates
// the role's policy, and the shim turns its decision into a token.
package teeauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"
)

// VerifierClient is what the backend needs from the sidecar. Tests inject fakes. The call
// options carry grpc.Peer, which tells which sidecar connection answered (connID).
type VerifierClient interface {
	Verify(ctx context.Context, req *pb.VerifyRequest, opts ...grpc.CallOption) (*pb.VerifyResponse, error)
	Evaluate(ctx context.Context, req *pb.EvaluateRequest, opts ...grpc.CallOption) (*pb.EvaluateResponse, error)
	ValidatePolicy(ctx context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error)
	Info(ctx context.Context, req *pb.InfoRequest, opts ...grpc.CallOption) (*pb.InfoResponse, error)
	Close() error
}

// connTracker is implemented by the gRPC client (not by test fakes): the number of the
// connection it dialed last while that connection is up, 0 otherwise (before the first, or once
// it broke: the next call will go over a new one).
type connTracker interface {
	lastConn() uint64
}

// ClientFactory builds a client from the mount's configuration. It is called lazily, on the
// first request that needs the sidecar, never by the plugin factory.
type ClientFactory func(cfg *pluginConfig) (VerifierClient, error)

type grpcClient struct {
	conn *grpc.ClientConn
	api  pb.VerifierClient
	last atomic.Uint64 // the connection dialed last
}

func (c *grpcClient) Verify(ctx context.Context, req *pb.VerifyRequest, opts ...grpc.CallOption) (*pb.VerifyResponse, error) {
	return c.api.Verify(ctx, req, opts...)
}

func (c *grpcClient) Evaluate(ctx context.Context, req *pb.EvaluateRequest, opts ...grpc.CallOption) (*pb.EvaluateResponse, error) {
	return c.api.Evaluate(ctx, req, opts...)
}

func (c *grpcClient) ValidatePolicy(ctx context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error) {
	return c.api.ValidatePolicy(ctx, req)
}

func (c *grpcClient) Info(ctx context.Context, req *pb.InfoRequest, opts ...grpc.CallOption) (*pb.InfoResponse, error) {
	return c.api.Info(ctx, req, opts...)
}

func (c *grpcClient) Close() error { return c.conn.Close() }

func (c *grpcClient) lastConn() uint64 {
	if c.conn.GetState() != connectivity.Ready {
		return 0
	}
	return c.last.Load()
}

// Sidecar connections are numbered (in this process, from 1). Whether a sidecar trusts test
// roots or replays recorded evidence is a property of the process at the other end of a
// connection, so the plugin asks it (Info) once per connection rather than once per login, and
// matches every answer it acts on to the connection it came over: gRPC reports the connection's
// remote address as the peer of each call (grpc.Peer), and ours carries the number.
var sidecarConnSeq atomic.Uint64

type connAddr struct {
	net.Addr
	id uint64
}

type numberedConn struct {
	net.Conn
	remote connAddr
}

func (c *numberedConn) RemoteAddr() net.Addr { return c.remote }

// connID is the number of the connection a call was answered over; 0 when unknown (a test
// fake, or a call that failed before reaching a connection).
func connID(p *peer.Peer) uint64 {
	if p == nil {
		return 0
	}
	if a, ok := p.Addr.(connAddr); ok {
		return a.id
	}
	return 0
}

// numbered wraps dial so that every connection it makes gets the next number, recorded as c's last.
func (c *grpcClient) numbered(dial func(context.Context, string) (net.Conn, error)) func(context.Context, string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		conn, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		id := sidecarConnSeq.Add(1)
		c.last.Store(id)
		return &numberedConn{Conn: conn, remote: connAddr{Addr: conn.RemoteAddr(), id: id}}, nil
	}
}

func tcpDialer(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// sidecarCredentials are the transport rules: a unix socket ("unix:///path", protected by its file
// mode, so TLS settings do not apply), or TCP with mutual TLS; plaintext TCP only to a loopback
// address and only when the configuration says so explicitly. validateConfig applies them when
// the configuration is written, dialSidecar when it is used.
func sidecarCredentials(cfg *pluginConfig) (credentials.TransportCredentials, error) {
	switch {
	case strings.HasPrefix(cfg.SidecarAddress, "unix:"):
		if cfg.SidecarCAPEM != "" || cfg.SidecarClientCertPEM != "" || cfg.SidecarClientKeyPEM != "" {
			return nil, errors.New("sidecar_ca_pem, sidecar_client_cert_pem, sidecar_client_key_pem: apply to TCP only; a unix socket is protected by its file mode")
		}
		return insecure.NewCredentials(), nil
	case cfg.SidecarInsecureLoopback:
		if !isLoopback(cfg.SidecarAddress) {
			return nil, fmt.Errorf("sidecar_insecure_loopback: %q is not a loopback address", cfg.SidecarAddress)
		}
		return insecure.NewCredentials(), nil
	}
	tlsConfig, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(tlsConfig), nil
}

// dialSidecar connects to the configured sidecar (sidecarCredentials).
func dialSidecar(cfg *pluginConfig) (VerifierClient, error) {
	creds, err := sidecarCredentials(cfg)
	if err != nil {
		return nil, err
	}
	target := cfg.SidecarAddress
	c := &grpcClient{}
	dial := tcpDialer
	if strings.HasPrefix(target, "unix:") {
		dial = unixDialer(cfg.sidecarUID())
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4<<20)), grpc.WithContextDialer(c.numbered(dial)))
	if err != nil {
		return nil, fmt.Errorf("sidecar %s: %w", target, err)
	}
	c.conn, c.api = conn, pb.NewVerifierClient(conn)
	return c, nil
}

func clientTLS(cfg *pluginConfig) (*tls.Config, error) {
	if cfg.SidecarCAPEM == "" || cfg.SidecarClientCertPEM == "" || cfg.SidecarClientKeyPEM == "" {
		return nil, errors.New("sidecar_address: a TCP sidecar needs mutual TLS: set sidecar_ca_pem, sidecar_client_cert_pem and sidecar_client_key_pem")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(cfg.SidecarCAPEM)) {
		return nil, errors.New("sidecar_ca_pem: no certificate")
	}
	pair, err := tls.X509KeyPair([]byte(cfg.SidecarClientCertPEM), []byte(cfg.SidecarClientKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("sidecar client certificate: %w", err)
	}
	return &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{pair},
		ServerName:   cfg.SidecarTLSServerName,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func isLoopback(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sidecarMode is the token metadata marker of a sidecar that described itself with info: "test-roots",
// "replay", both, or "" for a production one. A sidecar that trusts test roots or replays recorded
// evidence is refused unless the mount allows it (allow_test_sidecar).
func sidecarMode(info *pb.InfoResponse, cfg *pluginConfig) (string, error) {
	var modes []string
	if info.GetTestRoots() {
		modes = append(modes, "test-roots")
	}
	if info.GetReplayMode() {
		modes = append(modes, "replay")
	}
	mode := strings.Join(modes, ",")
	if mode != "" && !cfg.AllowTestSidecar {
		return "", fmt.Errorf("%w: the verifier sidecar runs with %s, which only a mount configured with "+
			"allow_test_sidecar=true accepts", errTestSidecar, mode)
	}
	return mode, nil
}

var errTestSidecar = errors.New("not a production sidecar")
