// Package teeauth is a Vault/OpenBao auth method for workloads in trusted execution environments
// (Intel TDX, AMD SEV-SNP, AWS Nitro Enclaves). A workload asks for a nonce, binds it into
// hardware attestation evidence, and logs in with the evidence; the tee-verifierd sidecar
// verifies it and evaluates the role, and a token is issued only when it allows.
package teeauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
)

const backendHelp = `
The "tee" auth method issues tokens to workloads that prove, with hardware attestation evidence,
that they run expected code in an Intel TDX, AMD SEV-SNP or AWS Nitro Enclaves TEE. Configure the
verifier sidecar at "config", define roles at "role/<name>", then a workload writes "nonce", binds
the nonce into its evidence and writes "login".
`

type backend struct {
	*framework.Backend

	newClient ClientFactory

	// client is built on first use from the stored configuration and dropped when it changes;
	// cfg is that configuration, decoded once (logins and nonces read it on every request).
	// cfgGen counts resets, so that a read that raced with a change is not cached.
	clientMu sync.Mutex
	client   VerifierClient
	cfg      *pluginConfig
	cfgGen   uint64

	// info is the sidecar's Info as last asked, and the connection it came over
	// (sidecarInfo); a sidecar is asked once per connection.
	infoMu sync.Mutex
	info   connInfo

	// roles are the roles logins read, decoded, by name (role); roleGen counts the drops.
	rolesMu sync.Mutex
	roles   map[string]*roleEntry
	roleGen uint64

	// nonceLocks serialize the spending of a nonce, so that one nonce yields one login.
	nonceLocks []*locksutil.LockEntry
	// nonceKeys are the nonce keys as last read or written (nil: read them), dropped when
	// another node rotates them.
	nonceKeysMu sync.RWMutex
	nonceKeys   *nonceKeys
}

// Factory is the plugin's entry point. It neither dials the sidecar nor touches storage: the
// server runs it with an empty configuration when the plugin is registered.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := newBackend(dialSidecar)
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}

func newBackend(newClient ClientFactory) *backend {
	b := &backend{
		newClient:  newClient,
		nonceLocks: locksutil.CreateLocks(),
		roles:      map[string]*roleEntry{},
	}
	b.Backend = &framework.Backend{
		Help:        strings.TrimSpace(backendHelp),
		BackendType: logical.TypeCredential,
		PathsSpecial: &logical.Paths{
			Unauthenticated: []string{"login", "nonce"},
			// The client private key for mutual TLS to the sidecar, and the nonce keys. (Only
			// Vault Enterprise seal-wraps; elsewhere the barrier protects them like all storage.)
			SealWrapStorage: []string{configStoragePath, nonceKeysPath},
		},
		Paths: framework.PathAppend(
			[]*framework.Path{pathConfig(b), pathNonce(b), pathLogin(b)},
			pathRole(b),
		),
		AuthRenew:    b.pathLoginRenew,
		Invalidate:   b.invalidate,
		PeriodicFunc: b.periodicFunc,
		Clean:        b.resetClient,
	}
	return b
}

func (b *backend) invalidate(_ context.Context, key string) {
	if name, ok := strings.CutPrefix(key, rolePrefix); ok {
		b.dropRole(name)
		return
	}
	switch key {
	case configStoragePath:
		b.resetClient(context.Background())
	case nonceKeysPath:
		b.nonceKeysMu.Lock()
		b.nonceKeys = nil
		b.nonceKeysMu.Unlock()
	}
}

func (b *backend) resetClient(_ context.Context) {
	b.clientMu.Lock()
	defer b.clientMu.Unlock()
	if b.client != nil {
		_ = b.client.Close()
		b.client = nil
	}
	b.cfg = nil
	b.cfgGen++
	b.infoMu.Lock()
	b.info = connInfo{}
	b.infoMu.Unlock()
}

type connInfo struct {
	conn uint64
	info *pb.InfoResponse
}

// config returns the stored configuration (nil when there is none), from memory once read.
func (b *backend) config(ctx context.Context, s logical.Storage) (*pluginConfig, error) {
	b.clientMu.Lock()
	cfg, gen := b.cfg, b.cfgGen
	b.clientMu.Unlock()
	if cfg != nil {
		return cfg, nil
	}
	cfg, err := readConfig(ctx, s)
	if err != nil || cfg == nil {
		return cfg, err
	}
	b.clientMu.Lock()
	if b.cfgGen == gen {
		b.cfg = cfg
	}
	b.clientMu.Unlock()
	return cfg, nil
}

// verifier returns the sidecar client, building it from the stored configuration if needed.
func (b *backend) verifier(ctx context.Context, s logical.Storage) (VerifierClient, *pluginConfig, error) {
	cfg, err := b.config(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		return nil, nil, errNotConfigured
	}
	b.clientMu.Lock()
	defer b.clientMu.Unlock()
	if b.client == nil {
		c, err := b.newClient(cfg)
		if err != nil {
			return nil, nil, err
		}
		b.client = c
	}
	return b.client, cfg, nil
}

// serverFault is what an unauthenticated caller learns of a server-side failure (storage, most
// often): which step failed, not the cause, which can name server paths; the cause goes to the
// server log. Coded errors (a full nonce table: 503) pass through, and so does ErrReadOnly, on
// which Vault forwards the request to the active node.
func (b *backend) serverFault(step string, err error) error {
	var coded logical.HTTPCodedError
	if errors.As(err, &coded) {
		return err
	}
	b.Logger().Error(step+" failed", "error", err)
	if errors.Is(err, logical.ErrReadOnly) {
		return fmt.Errorf("%s: %w", step, logical.ErrReadOnly)
	}
	return fmt.Errorf("%s failed (a storage or server fault); see the server log", step)
}
