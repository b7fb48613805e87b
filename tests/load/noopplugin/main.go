// noop-auth-plugin is the control of the load test (scripts/load.sh): an external auth plugin
// that does nothing but issue a token. Its login pays exactly what the server charges any
// external auth plugin (the calls to the plugin process and back, token creation) and nothing
// else, so AppRole (built in) vs noop vs TEE separates the cost of being an external plugin
// from the cost of the TEE login itself. Its token is built as the TEE plugin's is (policies,
// TTLs, display name, metadata, one entity alias), so the server does the same token, lease
// and identity work; it reads no storage (docs/performance.md, "Is the control honest?").
// TEST ONLY: it gives a token to anyone.
package main

import (
	"context"
	"os"
	"runtime"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
)

func main() {
	meta := &api.PluginAPIClientMeta{}
	flags := meta.FlagSet()
	// -gomaxprocs: the control with the TEE plugin's thread setting (LOAD_NOOP_ARGS in load.sh),
	// to show how much of the difference is that setting; by default a stock Go plugin.
	procs := flags.Int("gomaxprocs", 0, "GOMAXPROCS (default: Go's)")
	if err := flags.Parse(os.Args[1:]); err != nil {
		fatal(err)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	if err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: factory,
		TLSProviderFunc:    api.VaultPluginTLSProvider(meta.GetTLSConfig()),
	}); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	hclog.New(&hclog.LoggerOptions{}).Error("plugin shutting down", "error", err)
	os.Exit(1)
}

func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := &framework.Backend{
		BackendType:  logical.TypeCredential,
		PathsSpecial: &logical.Paths{Unauthenticated: []string{"login", "ping"}},
		Paths: []*framework.Path{{
			// The control of a nonce request: an unauthenticated request answered with data of
			// the same shape and size, without storage.
			Pattern: "ping$",
			Fields:  map[string]*framework.FieldSchema{"role": {Type: framework.TypeString}},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation:   &framework.PathOperation{Callback: ping},
				logical.UpdateOperation: &framework.PathOperation{Callback: ping},
			},
		}, {
			Pattern: "login$",
			// evidence and nonce: declared (so the server neither warns about them nor treats them
			// differently) and ignored; the noop_evidence control sends a TEE login's body.
			Fields: map[string]*framework.FieldSchema{
				"role": {Type: framework.TypeString}, "evidence": {Type: framework.TypeString},
				"nonce": {Type: framework.TypeString},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: login},
				// As the TEE plugin: the server asks every login for its role (role-based quotas).
				logical.ResolveRoleOperation: &framework.PathOperation{
					Callback: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
						return logical.ResolveRoleResponse("noop")
					},
				},
			},
		}},
	}
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}

var pingData = strings.Repeat("00", 62)

func ping(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return &logical.Response{Data: map[string]interface{}{
		"nonce": pingData, "expires_at": time.Now().UTC().Format(time.RFC3339), "ttl": 120, "role": d.Get("role"),
	}}, nil
}

// login issues the same kind of token as the AppRole and TEE roles of the load test.
func login(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	return &logical.Response{Auth: &logical.Auth{
		Policies:     []string{"mcp-server-tdx"},
		LeaseOptions: logical.LeaseOptions{TTL: 15 * time.Minute, MaxTTL: time.Hour},
		DisplayName:  "noop",
		Alias:        &logical.Alias{Name: "noop"},
		Metadata:     map[string]string{"role": "noop"},
	}}, nil
}
