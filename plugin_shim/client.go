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

	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// VerifierClient is what the backend needs from the sidecar. Tests inject fakes.
type VerifierClient interface {
	Verify(ctx context.Context, req *pb.VerifyRequest) (*pb.VerifyResponse, error)
	Evaluate(ctx context.Context, req *pb.EvaluateRequest) (*pb.EvaluateResponse, error)
	ValidatePolicy(ctx context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error)
	Info(ctx context.Context, req *pb.InfoRequest) (*pb.InfoResponse, error)
	Close() error
}

// ClientFactory builds a client from the mount's configuration. It is called lazily, on the
// first request that needs the sidecar, never by the plugin factory.
type ClientFactory func(cfg *pluginConfig) (VerifierClient, error)

type grpcClient struct {
	conn *grpc.ClientConn
	api  pb.VerifierClient
}

func (c *grpcClient) Verify(ctx context.Context, req *pb.VerifyRequest) (*pb.VerifyResponse, error) {
	return c.api.Verify(ctx, req)
}

func (c *grpcClient) Evaluate(ctx context.Context, req *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
	return c.api.Evaluate(ctx, req)
}

func (c *grpcClient) ValidatePolicy(ctx context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error) {
	return c.api.ValidatePolicy(ctx, req)
}

func (c *grpcClient) Info(ctx context.Context, req *pb.InfoRequest) (*pb.InfoResponse, error) {
	return c.api.Info(ctx, req)
}

func (c *grpcClient) Close() error { return c.conn.Close() }

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
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4 << 20))}
	if strings.HasPrefix(target, "unix:") {
		opts = append(opts, grpc.WithContextDialer(unixDialer(cfg.sidecarUID())))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("sidecar %s: %w", target, err)
	}
	return &grpcClient{conn: conn, api: pb.NewVerifierClient(conn)}, nil
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

// sidecarMode asks the sidecar how it runs and refuses one that trusts test roots or replays
// recorded evidence, unless the mount allows it (allow_test_sidecar). It returns the token
// metadata marker for such a sidecar ("test-roots", "replay" or both), "" for a production one.
func sidecarMode(ctx context.Context, client VerifierClient, cfg *pluginConfig) (string, error) {
	info, err := client.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return "", fmt.Errorf("asking the verifier sidecar for its mode: %w", err)
	}
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
