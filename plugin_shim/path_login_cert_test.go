package teeauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
)

// certLogin logs in as the stock cert login handler does: only {"name": role} in the body and
// the client certificate in the TLS handshake (conn).
func (h *harness) certLogin(data map[string]interface{}, peer []byte) (*logical.Response, error) {
	conn := &logical.Connection{RemoteAddr: "127.0.0.1", ConnState: &tls.ConnectionState{}}
	if peer != nil {
		conn.ConnState.PeerCertificates = []*x509.Certificate{{Raw: peer}}
	}
	return h.b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.UpdateOperation, Path: "login", Storage: h.storage, Data: data, Connection: conn,
	})
}

func TestAttestedCertificateLoginSendsTheCertificateAndNothingElse(t *testing.T) {
	h := setup(t)
	h.fake.evaluate = func(req *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		resp, err := allow(time.Hour)(req)
		resp.CertificateSpkiSha256 = "ab12"
		return resp, err
	}
	resp, err := h.certLogin(map[string]interface{}{"name": "mcp"}, []byte("certificate DER"))
	if err != nil || resp.IsError() {
		t.Fatalf("login: %v %v", err, resp)
	}
	sent := h.fake.lastEvaluate
	if string(sent.GetAttestedCertificate()) != "certificate DER" || len(sent.GetEvidence().GetEvidence()) != 0 ||
		len(sent.GetNonce()) != 0 || sent.GetRole() != "mcp" {
		t.Fatalf("evaluate request %v", sent)
	}
	if resp.Auth.Metadata["certificate_spki_sha256"] != "ab12" || resp.Auth.Metadata["role"] != "mcp" {
		t.Fatalf("metadata %v", resp.Auth.Metadata)
	}
}

func TestAttestedCertificateLoginRefusals(t *testing.T) {
	cases := []struct {
		name   string
		data   map[string]interface{}
		peer   []byte
		want   string
		denied bool // ErrPermissionDenied rather than ErrInvalidRequest
	}{
		// Behind a TLS-terminating proxy no certificate arrives: the login needs evidence.
		{"no certificate", map[string]interface{}{"name": "mcp"}, nil, "evidence: required", false},
		{"nonce with a certificate", map[string]interface{}{"name": "mcp", "nonce": strings.Repeat("00", 32)},
			[]byte("der"), "nonce: not accepted", false},
		{"client key with a certificate", map[string]interface{}{"name": "mcp", "client_public_key": "a2V5"},
			[]byte("der"), "client_public_key: not accepted", false},
		{"role and name differ", map[string]interface{}{"name": "mcp", "role": "other"}, []byte("der"),
			"both given", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			resp, err := h.certLogin(c.data, c.peer)
			if !errors.Is(err, logical.ErrInvalidRequest) || resp == nil || !strings.Contains(resp.Error().Error(), c.want) {
				t.Fatalf("want %q, got %v %v", c.want, err, resp)
			}
			if h.fake.calls() != 0 {
				t.Fatal("the sidecar was asked")
			}
		})
	}
}

func TestAttestedCertificateDeniedBySidecarGivesNoToken(t *testing.T) {
	h := setup(t)
	h.fake.evaluate = func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_DENY, Mismatches: []*pb.Mismatch{
			{Field: "report_data"}, {Field: "certificate_age"}}}, nil
	}
	resp, err := h.certLogin(map[string]interface{}{"name": "mcp"}, []byte("der"))
	// The caller learns only "permission denied"; the server log names the fields.
	if !errors.Is(err, logical.ErrPermissionDenied) || resp != nil {
		t.Fatalf("want a bare permission denied, got %v %v", err, resp)
	}
}

func TestAttestedCertificateForAnUnknownRoleIsVerifiedAndDeniedAlike(t *testing.T) {
	h := setup(t)
	h.fake.evaluate = func(r *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		if !r.GetRefuseRole() || r.GetPolicy() != nil || len(r.GetAttestedCertificate()) == 0 {
			t.Errorf("unknown role: want the certificate sent with refuse_role and no policy, got %v", r)
		}
		return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_DENY, Mismatches: []*pb.Mismatch{{Field: "role"}}}, nil
	}
	resp, err := h.certLogin(map[string]interface{}{"name": "nope"}, []byte("der"))
	if !errors.Is(err, logical.ErrPermissionDenied) || resp != nil {
		t.Fatalf("want the same bare permission denied as a mismatch, got %v %v", err, resp)
	}
	if h.fake.calls() != 1 {
		t.Fatalf("the certificate was not verified: %d sidecar calls", h.fake.calls())
	}
}

func TestEvidenceInTheBodyWinsOverAConnectionCertificate(t *testing.T) {
	// A nonce login over a TLS connection that also presents some client certificate (e.g. a
	// mutual-TLS deployment) stays a nonce login.
	h := setup(t)
	resp, err := h.certLogin(map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": h.nonce("mcp")}, []byte("der"))
	if err != nil || resp.IsError() {
		t.Fatalf("login: %v %v", err, resp)
	}
	if len(h.fake.lastEvaluate.GetAttestedCertificate()) != 0 || string(h.fake.lastEvaluate.GetEvidence().GetEvidence()) != "quote" {
		t.Fatalf("evaluate request %v", h.fake.lastEvaluate)
	}
}
