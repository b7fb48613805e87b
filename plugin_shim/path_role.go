package teeauth

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/tokenutil"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/protobuf/encoding/protojson"
)

const rolePrefix = "role/"

// roleEntry is a role as stored: its policy in the normalized form the sidecar returned, and the
// token parameters of logins that satisfy it.
type roleEntry struct {
	tokenutil.TokenParams

	PolicyJSON string `json:"policy"`

	// decoded is PolicyJSON decoded, set on the roles the cache holds (b.role), which are shared:
	// neither is modified.
	decoded *pb.Policy
}

func (r *roleEntry) policy() (*pb.Policy, error) {
	if r.decoded != nil {
		return r.decoded, nil
	}
	p := &pb.Policy{}
	if err := protojson.Unmarshal([]byte(r.PolicyJSON), p); err != nil {
		return nil, fmt.Errorf("stored role policy: %w", err)
	}
	return p, nil
}

func pathRole(b *backend) []*framework.Path {
	fields := policyFieldSchemas()
	fields["name"] = &framework.FieldSchema{Type: framework.TypeLowerCaseString, Description: "Name of the role."}
	tokenutil.AddTokenFields(fields)
	return []*framework.Path{
		{
			Pattern:      "role/?$",
			DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: "tee", OperationSuffix: "roles"},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{Callback: b.pathRoleList},
			},
			HelpSynopsis: "Lists the roles.",
		},
		{
			Pattern:      "role/" + framework.GenericNameRegex("name"),
			DisplayAttrs: &framework.DisplayAttributes{OperationPrefix: "tee", OperationSuffix: "role"},
			Fields:       fields,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation:   &framework.PathOperation{Callback: b.pathRoleRead},
				logical.CreateOperation: &framework.PathOperation{Callback: b.pathRoleWrite},
				logical.UpdateOperation: &framework.PathOperation{Callback: b.pathRoleWrite},
				logical.DeleteOperation: &framework.PathOperation{Callback: b.pathRoleDelete},
			},
			ExistenceCheck: b.pathRoleExists,
			HelpSynopsis:   "Defines which TEE workloads a role admits and the tokens they receive.",
			HelpDescription: "A role admits evidence whose verified claims satisfy its policy: TEE types, " +
				"measurements (" + strings.Join(policyFieldNames()[:6], ", ") + ", ...), TCB " +
				"statuses, debug mode. The sidecar checks the values when the role is written and " +
				"refuses a role that constrains no measurement of a TEE it admits.",
		},
	}
}

// role is the role called name (nil when there is none), from memory once read: a login reads its
// role on every request. Only roles that exist are kept, so names an unauthenticated caller makes
// up cost no memory; an entry is dropped when its role is written or deleted (dropRole), on other
// nodes by invalidate. The role and its decoded policy are shared: callers must not modify them
// (pathRoleWrite reads its own copy with readRole).
func (b *backend) role(ctx context.Context, s logical.Storage, name string) (*roleEntry, error) {
	b.rolesMu.Lock()
	role, gen := b.roles[name], b.roleGen
	b.rolesMu.Unlock()
	if role != nil {
		return role, nil
	}
	role, err := readRole(ctx, s, name)
	if err != nil || role == nil {
		return role, err
	}
	if role.decoded, err = role.policy(); err != nil {
		return nil, err
	}
	b.rolesMu.Lock()
	if b.roleGen == gen { // no role changed while it was read
		b.roles[name] = role
	}
	b.rolesMu.Unlock()
	return role, nil
}

// dropRole forgets the cached role called name, after it was written or deleted here or on
// another node, and keeps a read that raced with the change from caching what it read.
func (b *backend) dropRole(name string) {
	b.rolesMu.Lock()
	delete(b.roles, name)
	b.roleGen++
	b.rolesMu.Unlock()
}

// readRole reads the role called name from storage (nil when there is none).
func readRole(ctx context.Context, s logical.Storage, name string) (*roleEntry, error) {
	entry, err := s.Get(ctx, rolePrefix+name)
	if err != nil || entry == nil {
		return nil, err
	}
	role := &roleEntry{}
	if err := entry.DecodeJSON(role); err != nil {
		return nil, err
	}
	return role, nil
}

func (b *backend) pathRoleExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	role, err := b.role(ctx, req.Storage, d.Get("name").(string))
	return role != nil, err
}

func (b *backend) pathRoleList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(names), nil
}

func (b *backend) pathRoleRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	role, err := b.role(ctx, req.Storage, d.Get("name").(string))
	if err != nil || role == nil {
		return nil, err
	}
	policy, err := role.policy()
	if err != nil {
		return nil, err
	}
	data := map[string]interface{}{}
	policyToData(policy, data)
	role.PopulateTokenData(data)
	return &logical.Response{Data: data}, nil
}

func (b *backend) pathRoleDelete(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	defer b.dropRole(name)
	return nil, req.Storage.Delete(ctx, rolePrefix+name)
}

func (b *backend) pathRoleWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	role, err := readRole(ctx, req.Storage, name) // modified below: not the shared cached copy
	if err != nil {
		return nil, err
	}
	policy := &pb.Policy{}
	if role == nil {
		role = &roleEntry{}
	} else if policy, err = role.policy(); err != nil {
		return nil, err
	}
	for _, f := range policyFields {
		if v, ok := d.GetOk(f.name); ok {
			if err := setPolicyField(policy, f, v); err != nil {
				return logical.ErrorResponse(err.Error()), nil
			}
		}
	}
	if err := role.ParseTokenFields(req, d); err != nil {
		return logical.ErrorResponse(err.Error()), logical.ErrInvalidRequest
	}

	// The sidecar is the one judge of a policy: hex values, lengths, known names, and that the
	// role pins at least one measurement of every TEE it admits.
	client, cfg, err := b.verifier(ctx, req.Storage)
	if err != nil {
		return nil, fmt.Errorf("cannot validate role %q: %w", name, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	resp, err := client.ValidatePolicy(callCtx, &pb.ValidatePolicyRequest{Policy: policy})
	if err != nil {
		return nil, fmt.Errorf("cannot validate role %q: verifier sidecar: %w", name, err)
	}
	if len(resp.GetErrors()) > 0 {
		return logical.ErrorResponse("role %q is invalid: %s", name, strings.Join(resp.GetErrors(), "; ")), nil
	}
	normalized, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(resp.GetNormalized())
	if err != nil {
		return nil, err
	}
	role.PolicyJSON = string(normalized)
	entry, err := logical.StorageEntryJSON(rolePrefix+name, role)
	if err != nil {
		return nil, err
	}
	defer b.dropRole(name)
	return nil, req.Storage.Put(ctx, entry)
}
