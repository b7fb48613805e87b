package teeauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/cidrutil"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func pathLogin(b *backend) *framework.Path {
	return &framework.Path{
		Pattern:      "login$",
		DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: "tee", OperationVerb: "login"},
		Fields: map[string]*framework.FieldSchema{
			"role": {Type: framework.TypeLowerCaseString, Description: "The role to log in to. Required (or name)."},
			"name": {
				Type: framework.TypeLowerCaseString,
				Description: "The role, under the name the stock cert login handler and the agent's cert method send it " +
					"(attested TLS client certificate logins, docs/workloads.md).",
			},
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
				Description: `"tdx", "sev-snp", "nitro", "az-snp-vtpm", "az-tdx-vtpm", or "auto" (default: detected from the evidence).`,
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
		HelpSynopsis: "Log in with attestation evidence, or with an attested TLS client certificate.",
		HelpDescription: "Verifies the evidence with the sidecar, checks that it binds the nonce (or, for an attested " +
			"TLS client certificate, the certificate's key and notBefore) and satisfies the role, and issues a token.",
	}
}

func (b *backend) pathLoginAliasLookahead(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	return &logical.Response{}, nil
}

// pathLoginResolveRole lets role-based quotas (rate limits) apply to logins. It names the role
// asked for whether or not it exists: an error here would tell an unauthenticated caller which
// roles exist (a quota can only name an existing role, so an unknown one meets the mount's).
func (b *backend) pathLoginResolveRole(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return logical.ResolveRoleResponse(d.Get("role").(string))
}

func (b *backend) pathLogin(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	in, problem := decodeLogin(d, req.Connection)
	if problem != "" {
		return logical.ErrorResponse(problem), logical.ErrInvalidRequest
	}
	// An unknown role, or one whose bound CIDRs exclude the caller, is answered exactly like a role
	// the evidence does not satisfy: the nonce is spent, the evidence verified, and the answer is
	// the same "permission denied" (docs/plugin.md, "What a caller learns").
	role, err := b.role(ctx, req.Storage, in.roleName)
	if err != nil {
		return nil, err
	}
	var policy *pb.Policy
	if role != nil {
		if policy, err = role.policy(); err != nil {
			return nil, err
		}
	}
	if in.verificationTime != 0 && !policy.GetAllowUnboundEvidence() {
		return logical.ErrorResponse("verification_time: accepted only on roles that allow unbound (recorded) evidence"),
			logical.ErrInvalidRequest
	}
	if len(in.nonce) == 0 && in.attestedCertificate == nil && !policy.GetAllowUnboundEvidence() {
		return logical.ErrorResponse("nonce: required (request one from auth/<mount>/nonce)"), logical.ErrInvalidRequest
	}
	client, cfg, err := b.verifier(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	// The nonce is spent before the evidence is looked at: whatever happens next, it cannot be
	// used again. Its record is written while the sidecar verifies (spendNonce), and the login
	// answers only once the record is written.
	sidecarCtx, stopSidecar := context.WithCancel(ctx)
	defer stopSidecar()
	var spend *pendingSpend
	if len(in.nonce) > 0 {
		if spend, err = b.spendNonce(ctx, req.Storage, in.nonce, in.roleName, time.Now(), stopSidecar); err != nil {
			if nonceRefusal(err) {
				b.Logger().Info("login denied", "role", in.roleName, "reason", err.Error())
				return logical.ErrorResponse(err.Error()), logical.ErrPermissionDenied
			}
			return nil, b.serverFault("spending the nonce", err)
		}
	}
	resp, err := b.evaluateLogin(sidecarCtx, req, in, role, policy, client, cfg)
	if spend != nil {
		if spendErr := spend.wait(); spendErr != nil {
			return nil, b.serverFault("spending the nonce", spendErr)
		}
	}
	return resp, err
}

// evaluateLogin has the sidecar verify the login's evidence against its role and turns the
// answer into a token or a denial.
func (b *backend) evaluateLogin(ctx context.Context, req *logical.Request, in *loginInput, role *roleEntry,
	policy *pb.Policy, client VerifierClient, cfg *pluginConfig) (*logical.Response, error) {
	if _, err := b.checkSidecar(ctx, client, cfg, in.roleName, nil); err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	if role == nil || !fromBoundCIDRs(req, role) {
		return b.refuseRole(callCtx, client, in, role == nil)
	}
	evaluate := in.evaluateRequest(policy)
	var answered peer.Peer
	resp, err := client.Evaluate(callCtx, evaluate, grpc.Peer(&answered))
	if err != nil {
		return b.sidecarFailed(ctx, in.roleName, err)
	}
	mode, err := b.checkSidecar(ctx, client, cfg, in.roleName, &answered)
	if err != nil {
		return nil, err
	}
	if resp.GetDecision() != pb.Decision_DECISION_ALLOW {
		return b.denied(in.roleName, resp.GetTeeType(), resp.GetError(), resp.GetMismatches())
	}
	return b.issue(in, evaluate, role, resp, mode)
}

func fromBoundCIDRs(req *logical.Request, role *roleEntry) bool {
	if len(role.TokenBoundCIDRs) == 0 {
		return true
	}
	return req.Connection != nil && cidrutil.RemoteAddrIsOk(req.Connection.RemoteAddr, role.TokenBoundCIDRs)
}

// checkSidecar refuses a test or replay sidecar on a mount that does not allow one (sidecarMode);
// the caller learns only that the sidecar cannot serve it, the server log says why. Called before
// a sidecar call with answered nil, and again, with the call's grpc.Peer, before its answer is
// used: the answer counts only if the connection it came over is one the mount accepts.
func (b *backend) checkSidecar(ctx context.Context, client VerifierClient, cfg *pluginConfig, roleName string, answered *peer.Peer) (string, error) {
	callCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	info, err := b.sidecarInfo(callCtx, client, answered)
	mode := ""
	if err == nil {
		mode, err = sidecarMode(info, cfg)
	}
	if err == nil {
		return mode, nil
	}
	b.Logger().Error("verifier sidecar refused; login or renewal refused", "role", roleName, "error", err)
	if errors.Is(err, errTestSidecar) {
		return "", errors.New("the verifier sidecar is not a production sidecar (test roots or replay mode) and " +
			"this mount does not allow one (allow_test_sidecar); see the server log")
	}
	return "", errors.New("verifier sidecar unavailable, login refused; see the server log")
}

// sidecarInfo is what the sidecar says of itself (Info), asked once per connection (client.go):
// of the connection that answered a call (answered), or before a call of the one dialed last.
// A test fake has no connections and is asked every time.
func (b *backend) sidecarInfo(ctx context.Context, client VerifierClient, answered *peer.Peer) (*pb.InfoResponse, error) {
	var want uint64 // the connection to describe; 0: any (a test fake)
	if t, ok := client.(connTracker); ok {
		want = t.lastConn()
		if answered != nil {
			if want = connID(answered); want == 0 {
				return nil, errors.New("the verifier sidecar's answer came over no known connection")
			}
		}
	}
	if want != 0 {
		b.infoMu.Lock()
		cached := b.info
		b.infoMu.Unlock()
		if cached.conn == want {
			return cached.info, nil
		}
	}
	var p peer.Peer
	info, err := client.Info(ctx, &pb.InfoRequest{}, grpc.Peer(&p))
	if err != nil {
		return nil, fmt.Errorf("asking the verifier sidecar for its mode: %w", err)
	}
	got := connID(&p)
	if answered != nil && got != want {
		// The connection that answered is gone (a sidecar restart): its mode is unknown.
		return nil, errors.New("the verifier sidecar's connection changed during the call")
	}
	if got != 0 {
		b.infoMu.Lock()
		b.info = connInfo{conn: got, info: info}
		b.infoMu.Unlock()
	}
	return info, nil
}

// refuseRole answers a login to a role the caller may not use (unknown, or bound to other
// networks) as a role its evidence does not satisfy: the evidence is verified all the same, so
// evidence errors read alike, and a verified one gets the same denial as a mismatch.
func (b *backend) refuseRole(ctx context.Context, client VerifierClient, in *loginInput, unknown bool) (*logical.Response, error) {
	var tee pb.TeeType
	var evidenceError *pb.Error
	if in.attestedCertificate != nil {
		// The certificate carries the evidence: only the sidecar can take it apart.
		request := in.evaluateRequest(nil)
		request.RefuseRole = true
		resp, err := client.Evaluate(ctx, request)
		if err != nil {
			return b.sidecarFailed(ctx, in.roleName, err)
		}
		tee, evidenceError = resp.GetTeeType(), resp.GetError()
	} else {
		resp, err := client.Verify(ctx, in.evaluateRequest(nil).GetEvidence())
		if err != nil {
			return b.sidecarFailed(ctx, in.roleName, err)
		}
		tee, evidenceError = resp.GetTeeType(), resp.GetError()
	}
	reason := "the caller's address is outside the role's token_bound_cidrs"
	if unknown {
		reason = "no such role"
	}
	b.Logger().Info("login denied", "role", in.roleName, "reason", reason)
	return b.denied(in.roleName, tee, evidenceError, nil)
}

// sidecarFailed answers a failed sidecar call: unusable evidence is the caller's error (its
// reason, and the message only where it describes the caller's own bytes), a call cancelled on
// this side (ctx) is logged as that and not as a sidecar failure, anything else is the
// sidecar's, told in the server log and not to the caller.
func (b *backend) sidecarFailed(ctx context.Context, roleName string, err error) (*logical.Response, error) {
	if s, ok := status.FromError(err); ok && s.Code() == codes.InvalidArgument {
		b.Logger().Info("login denied: the sidecar found the request unusable", "role", roleName, "error", s.Message())
		for _, detail := range s.Details() {
			if e, ok := detail.(*pb.Error); ok {
				return logical.ErrorResponse("evidence rejected (%s)%s", reasonName(e.GetReason()), callerMessage(e)),
					logical.ErrInvalidRequest
			}
		}
		return logical.ErrorResponse("evidence rejected"), logical.ErrInvalidRequest
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Cancelled on this side: the nonce's record could not be written (pathLogin logs and
		// answers that), or the caller went away. The sidecar did nothing wrong.
		b.Logger().Info("sidecar call cancelled; login refused", "role", roleName)
		return nil, fmt.Errorf("login cancelled: %w", ctx.Err())
	}
	b.Logger().Error("verifier sidecar call failed; login refused", "role", roleName, "error", err)
	return nil, errors.New("verifier sidecar unavailable, login refused (the nonce is spent: request a new one to retry); see the server log")
}

func reasonName(r pb.Reason) string { return strings.TrimPrefix(r.String(), "REASON_") }

// callerMessage is the part of a sidecar error the caller may read: what is wrong with the bytes
// it sent. Other messages can name files, collateral and platforms of the server.
func callerMessage(e *pb.Error) string {
	switch e.GetReason() {
	case pb.Reason_REASON_MALFORMED_EVIDENCE, pb.Reason_REASON_UNSUPPORTED_FORMAT:
		return ": " + e.GetMessage()
	}
	return ""
}

// denied logs every reason. The caller learns the reason code when its evidence did not verify
// (which no role changes), and otherwise only "permission denied": which checks a role makes,
// and whether it exists, are not for unauthenticated callers.
func (b *backend) denied(roleName string, tee pb.TeeType, e *pb.Error, mismatches []*pb.Mismatch) (*logical.Response, error) {
	if e != nil {
		b.Logger().Info("login denied: evidence did not verify", "role", roleName,
			"tee", tee.String(), "reason", e.GetReason().String(), "error", e.GetMessage())
		return logical.ErrorResponse("evidence rejected (%s)%s", reasonName(e.GetReason()), callerMessage(e)),
			logical.ErrPermissionDenied
	}
	for _, m := range mismatches {
		b.Logger().Info("login denied: role not satisfied", "role", roleName, "tee", tee.String(),
			"field", m.GetField(), "expected", strings.Join(m.GetExpected(), ","), "actual", m.GetActual())
	}
	return nil, logical.ErrPermissionDenied
}

// issue builds the token: the role's token parameters, never outliving the evidence. The login is
// kept in the token's internal data so that a renewal can ask the sidecar whether the role, as
// it is then, still admits it (pathLoginRenew).
func (b *backend) issue(in *loginInput, login *pb.EvaluateRequest, role *roleEntry, resp *pb.EvaluateResponse, mode string) (*logical.Response, error) {
	metadata := map[string]string{"role": in.roleName}
	for k, v := range resp.GetMetadata() {
		metadata[k] = v
	}
	if h := resp.GetClientPublicKeySha256(); h != "" {
		metadata["client_public_key_sha256"] = h
	}
	if h := resp.GetCertificateSpkiSha256(); h != "" {
		metadata["certificate_spki_sha256"] = h
	}
	if mode != "" {
		metadata["sidecar_mode"] = mode
	}
	login = proto.Clone(login).(*pb.EvaluateRequest)
	login.Policy = nil // the renewal sends the role's policy as it is then
	saved, err := proto.Marshal(login)
	if err != nil {
		return nil, err
	}
	auth := &logical.Auth{
		InternalData: map[string]interface{}{
			"role":        in.roleName,
			"valid_until": resp.GetValidUntilUnix(),
			"verified_at": resp.GetVerifiedAtUnix(),
			"login":       base64.StdEncoding.EncodeToString(saved),
			// The entity the token belongs to; a renewal checks the role still yields it.
			"workload_identity": resp.GetWorkloadIdentity(),
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
