package teeauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/policyutil"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
)

// pathLoginRenew renews only while the role, as it is now, still admits the login the token was
// issued on: the sidecar evaluates the saved login (evidence, nonce, client key, pinned time) again
// under the role's current policy, so removing a build from a role, or a revoked certificate or
// collateral, stops the renewals. The decision is the sidecar's, as at login. The explicit max TTL
// set at login keeps the token within the evidence's validity.
func (b *backend) pathLoginRenew(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	name, _ := req.Auth.InternalData["role"].(string)
	role, err := b.role(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, fmt.Errorf("role %q no longer exists; log in again", name)
	}
	// As Vault's own methods compare them: the server adds "default" to the token's policies.
	if !policyutil.EquivalentPolicies(role.TokenPolicies, req.Auth.TokenPolicies) {
		return nil, errors.New("the role's policies have changed; log in again")
	}
	login, err := savedLogin(req.Auth.InternalData)
	if err != nil {
		return nil, err
	}
	if login.Policy, err = role.policy(); err != nil {
		return nil, err
	}
	client, cfg, err := b.verifier(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if _, err := b.checkSidecar(ctx, client, cfg, name, nil); err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	var answered peer.Peer
	decision, err := client.Evaluate(callCtx, login, grpc.Peer(&answered))
	if err != nil {
		b.Logger().Error("verifier sidecar re-check failed; renewal refused", "role", name, "error", err)
		return nil, errors.New("verifier sidecar unavailable, renewal refused; see the server log")
	}
	if _, err := b.checkSidecar(ctx, client, cfg, name, &answered); err != nil {
		return nil, err
	}
	if decision.GetDecision() != pb.Decision_DECISION_ALLOW {
		fields := make([]string, 0, len(decision.GetMismatches()))
		for _, m := range decision.GetMismatches() {
			fields = append(fields, m.GetField())
		}
		if e := decision.GetError(); e != nil {
			fields = append(fields, "evidence: "+reasonName(e.GetReason()))
		}
		b.Logger().Info("renewal refused: the role no longer admits the login", "role", name,
			"reasons", strings.Join(fields, ", "), "error", decision.GetError().GetMessage())
		return nil, fmt.Errorf("role %q no longer admits the workload this token was issued to (%s); log in again",
			name, strings.Join(fields, ", "))
	}
	// A role that now tells workloads apart differently would put this token in another entity.
	if identity, _ := req.Auth.InternalData["workload_identity"].(string); identity != decision.GetWorkloadIdentity() {
		return nil, fmt.Errorf("role %q now identifies this workload differently; log in again", name)
	}
	resp := &logical.Response{Auth: req.Auth}
	resp.Auth.TTL = role.TokenTTL
	resp.Auth.MaxTTL = role.TokenMaxTTL
	resp.Auth.Period = role.TokenPeriod
	return resp, nil
}

// savedLogin is the login request issue kept in the token, without the role's policy.
func savedLogin(internal map[string]interface{}) (*pb.EvaluateRequest, error) {
	encoded, _ := internal["login"].(string)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if encoded == "" || err != nil {
		return nil, errors.New("this token carries no saved login to re-check (issued before renewals were re-checked); log in again")
	}
	login := &pb.EvaluateRequest{}
	if err := proto.Unmarshal(raw, login); err != nil {
		return nil, fmt.Errorf("the token's saved login: %w", err)
	}
	return login, nil
}
