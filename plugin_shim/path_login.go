package teeauth

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-secure-stdlib/strutil"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/cidrutil"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var teeTypes = map[string]pb.TeeType{
	"":        pb.TeeType_TEE_TYPE_UNSPECIFIED,
	"auto":    pb.TeeType_TEE_TYPE_UNSPECIFIED,
	"tdx":     pb.TeeType_TEE_TYPE_TDX,
	"sev-snp": pb.TeeType_TEE_TYPE_SEV_SNP,
	"nitro":   pb.TeeType_TEE_TYPE_NITRO,
}

func pathLogin(b *backend) *framework.Path {
	return &framework.Path{
		Pattern:      "login$",
		DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: "tee", OperationVerb: "login"},
		Fields: map[string]*framework.FieldSchema{
			"role": {Type: framework.TypeLowerCaseString, Description: "The role to log in to. Required."},
			"evidence": {
				Type:        framework.TypeString,
				Description: "The attestation evidence, base64: a TDX quote, an SEV-SNP report (optionally with its certificate table appended), or a Nitro attestation document.",
			},
			"nonce": {
				Type:        framework.TypeString,
				Description: "The nonce from auth/<mount>/nonce (hex), bound into the evidence.",
			},
			"tee_type": {
				Type:        framework.TypeString,
				Description: `"tdx", "sev-snp", "nitro", or "auto" (default: detected from the evidence).`,
			},
			"certificate": {
				Type:        framework.TypeString,
				Description: "SEV-SNP: the VCEK or VLEK, PEM or base64 DER, when the evidence does not carry it.",
			},
			"client_public_key": {
				Type:        framework.TypeString,
				Description: "Optional public key (base64) bound into the evidence together with the nonce.",
			},
			"verification_time": {
				Type: framework.TypeString,
				Description: "RFC 3339. Replaying recorded evidence only: accepted on roles that allow unbound evidence, " +
					"and honoured only by a sidecar started in replay mode.",
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{
				Callback: b.pathLogin,
				// The nonce is spent in storage, which only the active node writes.
				ForwardPerformanceStandby: true,
			},
			// The alias is known only once the evidence has been verified, which consumes the
			// nonce; a lookahead must not, so it answers without an alias and touches nothing.
			logical.AliasLookaheadOperation: &framework.PathOperation{Callback: b.pathLoginAliasLookahead},
			logical.ResolveRoleOperation:    &framework.PathOperation{Callback: b.pathLoginResolveRole},
		},
		HelpSynopsis:    "Log in with attestation evidence.",
		HelpDescription: "Verifies the evidence with the sidecar, checks that it binds the nonce and satisfies the role, and issues a token.",
	}
}

func (b *backend) pathLoginAliasLookahead(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	return &logical.Response{}, nil
}

// pathLoginResolveRole lets role-based quotas (rate limits) apply to logins.
func (b *backend) pathLoginResolveRole(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("role").(string)
	role, err := b.role(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return logical.ErrorResponse("role %q could not be found", name), nil
	}
	return logical.ResolveRoleResponse(name)
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
}

func decodeLogin(d *framework.FieldData) (*loginInput, string) {
	in := &loginInput{roleName: d.Get("role").(string)}
	if in.roleName == "" {
		return nil, "role: required"
	}
	var err error
	evidence := strings.TrimSpace(d.Get("evidence").(string))
	if evidence == "" {
		return nil, "evidence: required (base64)"
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
		return nil, `tee_type: expected "tdx", "sev-snp", "nitro" or "auto"`
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

func (b *backend) pathLogin(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	in, problem := decodeLogin(d)
	if problem != "" {
		return logical.ErrorResponse(problem), logical.ErrInvalidRequest
	}
	role, err := b.role(ctx, req.Storage, in.roleName)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return logical.ErrorResponse("role %q could not be found", in.roleName), logical.ErrInvalidRequest
	}
	policy, err := role.policy()
	if err != nil {
		return nil, err
	}
	if in.verificationTime != 0 && !policy.GetAllowUnboundEvidence() {
		return logical.ErrorResponse("verification_time: accepted only on roles that allow unbound (recorded) evidence"),
			logical.ErrInvalidRequest
	}
	if len(in.nonce) == 0 && !policy.GetAllowUnboundEvidence() {
		return logical.ErrorResponse("nonce: required (request one from auth/<mount>/nonce)"), logical.ErrInvalidRequest
	}
	if len(role.TokenBoundCIDRs) > 0 {
		if req.Connection == nil || !cidrutil.RemoteAddrIsOk(req.Connection.RemoteAddr, role.TokenBoundCIDRs) {
			return nil, logical.ErrPermissionDenied
		}
	}
	client, cfg, err := b.verifier(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	// The nonce is spent before the evidence is looked at: whatever happens next, it cannot be
	// used again.
	if len(in.nonce) > 0 {
		if err := b.consumeNonce(ctx, req.Storage, in.nonce, in.roleName, time.Now()); err != nil {
			if nonceRefusal(err) {
				b.Logger().Info("login denied", "role", in.roleName, "reason", err.Error())
				return logical.ErrorResponse(err.Error()), logical.ErrPermissionDenied
			}
			return nil, err
		}
	}

	callCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	resp, err := client.Evaluate(callCtx, &pb.EvaluateRequest{
		Evidence: &pb.VerifyRequest{
			Evidence:             in.evidence,
			TeeType:              in.teeType,
			Certificate:          in.certificate,
			VerificationTimeUnix: in.verificationTime,
		},
		Nonce:           in.nonce,
		ClientPublicKey: in.clientPublicKey,
		Policy:          policy,
		Role:            in.roleName,
	})
	if err != nil {
		if s, ok := status.FromError(err); ok && s.Code() == codes.InvalidArgument {
			return logical.ErrorResponse("evidence rejected: %s", s.Message()), logical.ErrInvalidRequest
		}
		b.Logger().Error("verifier sidecar call failed; login refused", "role", in.roleName, "error", err)
		return nil, fmt.Errorf("verifier sidecar unavailable, login refused (the nonce is spent: request a new one to retry): %w", err)
	}
	if resp.GetDecision() != pb.Decision_DECISION_ALLOW {
		return b.denied(in.roleName, resp)
	}
	return b.issue(in, role, resp)
}

// denied logs every reason and tells the client which checks failed, without values.
func (b *backend) denied(roleName string, resp *pb.EvaluateResponse) (*logical.Response, error) {
	if e := resp.GetError(); e != nil {
		b.Logger().Info("login denied: evidence did not verify", "role", roleName,
			"tee", resp.GetTeeType().String(), "reason", e.GetReason().String(), "error", e.GetMessage())
		return logical.ErrorResponse("evidence rejected (%s): %s",
			strings.TrimPrefix(e.GetReason().String(), "REASON_"), e.GetMessage()), logical.ErrPermissionDenied
	}
	fields := make([]string, 0, len(resp.GetMismatches()))
	for _, m := range resp.GetMismatches() {
		fields = append(fields, m.GetField())
		b.Logger().Info("login denied: role not satisfied", "role", roleName, "tee", resp.GetTeeType().String(),
			"field", m.GetField(), "expected", strings.Join(m.GetExpected(), ","), "actual", m.GetActual())
	}
	return logical.ErrorResponse("evidence does not satisfy role %q: %s", roleName, strings.Join(fields, ", ")),
		logical.ErrPermissionDenied
}

// issue builds the token: the role's token parameters, never outliving the evidence.
func (b *backend) issue(in *loginInput, role *roleEntry, resp *pb.EvaluateResponse) (*logical.Response, error) {
	metadata := map[string]string{"role": in.roleName}
	for k, v := range resp.GetMetadata() {
		metadata[k] = v
	}
	if h := resp.GetClientPublicKeySha256(); h != "" {
		metadata["client_public_key_sha256"] = h
	}
	auth := &logical.Auth{
		InternalData: map[string]interface{}{
			"role":        in.roleName,
			"valid_until": resp.GetValidUntilUnix(),
			"verified_at": resp.GetVerifiedAtUnix(),
		},
		Metadata:    metadata,
		DisplayName: in.roleName + "-" + metadata["tee"],
		Alias: &logical.Alias{
			Name:     resp.GetWorkloadIdentity(),
			Metadata: map[string]string{"role": in.roleName, "tee": metadata["tee"]},
		},
	}
	role.PopulateTokenAuth(auth)
	if err := b.capToEvidence(auth, resp.GetVerifiedAtUnix(), resp.GetValidUntilUnix()); err != nil {
		return logical.ErrorResponse(err.Error()), logical.ErrPermissionDenied
	}
	return &logical.Response{Auth: auth}, nil
}

// capToEvidence keeps the token's TTL and max TTL within the evidence's remaining validity (the
// earliest expiry among its certificates and collateral, as of the verification time).
func (b *backend) capToEvidence(auth *logical.Auth, verifiedAt, validUntil int64) error {
	if validUntil == 0 {
		return nil // nothing in the evidence expires
	}
	remaining := time.Duration(validUntil-verifiedAt) * time.Second
	if remaining < time.Second {
		return errors.New("the evidence's certificates or collateral expire within a second: refresh them and log in again")
	}
	ttl := auth.TTL
	if ttl == 0 {
		ttl = b.System().DefaultLeaseTTL()
	}
	if ttl > remaining {
		auth.TTL = remaining
	}
	if auth.MaxTTL == 0 || auth.MaxTTL > remaining {
		auth.MaxTTL = remaining
	}
	if auth.Period > remaining {
		auth.Period = remaining
	}
	// The explicit max TTL is the hard cap that renewals (periodic tokens included) respect.
	if auth.ExplicitMaxTTL == 0 || auth.ExplicitMaxTTL > remaining {
		auth.ExplicitMaxTTL = remaining
	}
	return nil
}

// pathLoginRenew renews within the role's limits; the explicit max TTL set at login keeps the
// token within the evidence's validity whatever the renewal asks for.
func (b *backend) pathLoginRenew(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name, _ := req.Auth.InternalData["role"].(string)
	role, err := b.role(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, fmt.Errorf("role %q no longer exists", name)
	}
	if !strutil.EquivalentSlices(role.TokenPolicies, req.Auth.TokenPolicies) {
		return nil, errors.New("the role's policies have changed; log in again")
	}
	resp := &logical.Response{Auth: req.Auth}
	resp.Auth.TTL = role.TokenTTL
	resp.Auth.MaxTTL = role.TokenMaxTTL
	resp.Auth.Period = role.TokenPeriod
	return resp, nil
}
