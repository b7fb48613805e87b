package teeauth

// What a login request carries, decoded and checked field by field (decodeLogin), and the
// sidecar request it becomes (evaluateRequest).

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
)

var teeTypes = map[string]pb.TeeType{
	"":        pb.TeeType_TEE_TYPE_UNSPECIFIED,
	"auto":    pb.TeeType_TEE_TYPE_UNSPECIFIED,
	"tdx":     pb.TeeType_TEE_TYPE_TDX,
	"sev-snp": pb.TeeType_TEE_TYPE_SEV_SNP,
	"nitro":   pb.TeeType_TEE_TYPE_NITRO,
	// Azure confidential VMs (vTPM evidence, docs/azure.md).
	"az-snp-vtpm": pb.TeeType_TEE_TYPE_AZ_SNP_VTPM,
	"az-tdx-vtpm": pb.TeeType_TEE_TYPE_AZ_TDX_VTPM,
}

// loginInput is a login request, decoded; every problem names the field.
type loginInput struct {
	roleName         string
	evidence         []byte
	nonce            []byte
	teeType          pb.TeeType
	certificate      []byte
	clientPublicKey  []byte
	verificationTime int64
	// The attested TLS client certificate (DER) of the connection, when the body carries no
	// evidence: the TLS handshake proved the client holds its key; the sidecar checks the rest.
	attestedCertificate []byte
}

// roleName is "role", or "name" as the stock cert login handler sends it.
func roleName(d *framework.FieldData) (string, string) {
	role, name := d.Get("role").(string), d.Get("name").(string)
	switch {
	case role != "" && name != "" && role != name:
		return "", "role and name: both given, and they differ"
	case role != "":
		return role, ""
	case name != "":
		return name, ""
	}
	return "", "role: required"
}

// peerCertificate is the client certificate the TLS handshake presented, if any. Behind a
// TLS-terminating proxy there is none (the nonce flow is the way in there).
func peerCertificate(conn *logical.Connection) []byte {
	if conn == nil || conn.ConnState == nil || len(conn.ConnState.PeerCertificates) == 0 {
		return nil
	}
	return conn.ConnState.PeerCertificates[0].Raw
}

func decodeLogin(d *framework.FieldData, conn *logical.Connection) (*loginInput, string) {
	name, problem := roleName(d)
	if problem != "" {
		return nil, problem
	}
	in := &loginInput{roleName: name}
	if strings.TrimSpace(d.Get("evidence").(string)) == "" {
		if cert := peerCertificate(conn); cert != nil {
			// Everything comes from the certificate; a field that would mean something else in
			// a nonce login is refused rather than ignored.
			for _, f := range []string{"nonce", "tee_type", "certificate", "client_public_key", "verification_time"} {
				if strings.TrimSpace(d.Get(f).(string)) != "" {
					return nil, fmt.Sprintf("%s: not accepted with an attested TLS client certificate login", f)
				}
			}
			in.attestedCertificate = cert
			return in, ""
		}
	}
	var err error
	evidence := strings.TrimSpace(d.Get("evidence").(string))
	if evidence == "" {
		return nil, "evidence: required (base64), or log in over TLS with an attested client certificate"
	}
	if in.evidence, err = base64.StdEncoding.DecodeString(evidence); err != nil {
		return nil, fmt.Sprintf("evidence: not base64: %v", err)
	}
	if n := strings.TrimSpace(d.Get("nonce").(string)); n != "" {
		if in.nonce, err = hex.DecodeString(n); err != nil || len(in.nonce) != nonceBytes {
			return nil, fmt.Sprintf("nonce: expected %d bytes as hex", nonceBytes)
		}
	}
	t, ok := teeTypes[strings.ToLower(strings.TrimSpace(d.Get("tee_type").(string)))]
	if !ok {
		return nil, `tee_type: expected "tdx", "sev-snp", "nitro", "az-snp-vtpm", "az-tdx-vtpm" or "auto"`
	}
	in.teeType = t
	if c := strings.TrimSpace(d.Get("certificate").(string)); c != "" {
		if strings.HasPrefix(c, "-----BEGIN") {
			in.certificate = []byte(c)
		} else if in.certificate, err = base64.StdEncoding.DecodeString(c); err != nil {
			return nil, fmt.Sprintf("certificate: neither PEM nor base64: %v", err)
		}
	}
	if k := strings.TrimSpace(d.Get("client_public_key").(string)); k != "" {
		if in.clientPublicKey, err = base64.StdEncoding.DecodeString(k); err != nil {
			return nil, fmt.Sprintf("client_public_key: not base64: %v", err)
		}
	}
	if v := strings.TrimSpace(d.Get("verification_time").(string)); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Sprintf("verification_time: not RFC 3339: %v", err)
		}
		in.verificationTime = t.Unix()
	}
	return in, ""
}

func (in *loginInput) evaluateRequest(policy *pb.Policy) *pb.EvaluateRequest {
	return &pb.EvaluateRequest{
		Evidence: &pb.VerifyRequest{
			Evidence:             in.evidence,
			TeeType:              in.teeType,
			Certificate:          in.certificate,
			VerificationTimeUnix: in.verificationTime,
		},
		Nonce:               in.nonce,
		ClientPublicKey:     in.clientPublicKey,
		Policy:              policy,
		Role:                in.roleName,
		AttestedCertificate: in.attestedCertificate,
	}
}
