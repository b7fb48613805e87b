package teeauth

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

func pathNonce(b *backend) *framework.Path {
	return &framework.Path{
		Pattern:      "nonce",
		DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: "tee", OperationVerb: "issue", OperationSuffix: "nonce"},
		Fields: map[string]*framework.FieldSchema{
			"role": {
				Type:        framework.TypeLowerCaseString,
				Description: "Optional: the nonce is then accepted only by a login to this role.",
			},
		},
		// Issuing writes nothing, so any node answers: GET (served by read-serving standbys
		// themselves) or the original write form.
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: b.pathNonceIssue},
			logical.UpdateOperation: &framework.PathOperation{Callback: b.pathNonceIssue},
		},
		HelpSynopsis: "Issues a single-use nonce to bind into attestation evidence.",
		HelpDescription: "A workload binds the nonce into its evidence (docs/policy.md, \"Nonce " +
			"binding\") and logs in with both before the nonce expires. Each nonce is accepted once. " +
			"Nonces are MACed, not stored: issuing one writes nothing (docs/plugin.md, \"Nonces\").",
	}
}

func (b *backend) pathNonceIssue(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	cfg, err := b.config(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, errNotConfigured
	}
	// Whether the role exists is not checked: the answer would tell an unauthenticated caller. A
	// nonce for an unknown role fails at login like one for a role the caller may not use.
	role := d.Get("role").(string)
	nonce, expires, err := b.issueNonce(ctx, req.Storage, role, cfg.NonceTTL)
	if err != nil {
		return nil, b.serverFault("issuing a nonce", err)
	}
	data := map[string]interface{}{
		"nonce":      hex.EncodeToString(nonce),
		"expires_at": expires.Format(time.RFC3339),
		"ttl":        int64(cfg.NonceTTL.Seconds()),
	}
	if role != "" {
		data["role"] = role
	}
	return &logical.Response{Data: data}, nil
}
