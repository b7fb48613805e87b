package teeauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const (
	configStoragePath = "config"

	defaultRequestTimeout = 10 * time.Second
	defaultNonceTTL       = 2 * time.Minute
	maxNonceTTL           = 10 * time.Minute
)

var errNotConfigured = errors.New("the tee auth method is not configured: write auth/<mount>/config first")

// pluginConfig holds the private key of the client certificate used for mutual TLS to the
// sidecar: the barrier protects it like all storage (Vault Enterprise also seal-wraps it).
type pluginConfig struct {
	SidecarAddress          string        `json:"sidecar_address"`
	SidecarCAPEM            string        `json:"sidecar_ca_pem,omitempty"`
	SidecarClientCertPEM    string        `json:"sidecar_client_cert_pem,omitempty"`
	SidecarClientKeyPEM     string        `json:"sidecar_client_key_pem,omitempty"`
	SidecarTLSServerName    string        `json:"sidecar_tls_server_name,omitempty"`
	SidecarInsecureLoopback bool          `json:"sidecar_insecure_loopback,omitempty"`
	AllowTestSidecar        bool          `json:"allow_test_sidecar,omitempty"`
	RequestTimeout          time.Duration `json:"request_timeout"`
	NonceTTL                time.Duration `json:"nonce_ttl"`
	// SidecarUID is the user a unix-socket sidecar must run as; nil: the plugin's own user
	// (the server's).
	SidecarUID *int `json:"sidecar_uid,omitempty"`
}

func (c *pluginConfig) sidecarUID() int {
	if c.SidecarUID != nil {
		return *c.SidecarUID
	}
	return os.Getuid()
}

func pathConfig(b *backend) *framework.Path {
	return &framework.Path{
		Pattern: "config",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: "tee",
		},
		Fields: map[string]*framework.FieldSchema{
			"sidecar_address": {
				Type: framework.TypeString,
				Description: `Address of tee-verifierd: "unix:///path/to.sock" (recommended), or "host:port" ` +
					`over TCP with mutual TLS.`,
			},
			"sidecar_ca_pem": {
				Type:        framework.TypeString,
				Description: "PEM CA certificate that issued the sidecar's TLS certificate (TCP only).",
			},
			"sidecar_client_cert_pem": {
				Type:        framework.TypeString,
				Description: "PEM client certificate presented to the sidecar (TCP only).",
			},
			"sidecar_client_key_pem": {
				Type:        framework.TypeString,
				Description: "PEM private key of the client certificate (TCP only). Never returned; protected by the barrier (seal-wrapped on Vault Enterprise).",
				DisplayAttrs: &framework.DisplayAttributes{
					Sensitive: true,
				},
			},
			"sidecar_tls_server_name": {
				Type:        framework.TypeString,
				Description: "Name expected in the sidecar's certificate, if it differs from the address's host.",
			},
			"sidecar_insecure_loopback": {
				Type:        framework.TypeBool,
				Description: "Plaintext TCP to a loopback address (127.0.0.1, [::1], localhost) only. For tests.",
			},
			"sidecar_uid": {
				Type: framework.TypeInt,
				Description: "Unix sockets: the user ID the sidecar must run as, checked on every connection " +
					"(SO_PEERCRED). Default: the server's own user ID. -1 restores the default.",
			},
			"allow_test_sidecar": {
				Type: framework.TypeBool,
				Description: "Accept a sidecar that trusts test roots or replays recorded evidence (demos and tests " +
					"only). Without it such a sidecar is refused at every login and renewal; with it the tokens carry " +
					"sidecar_mode in their metadata.",
			},
			"request_timeout": {
				Type:        framework.TypeDurationSecond,
				Default:     int(defaultRequestTimeout.Seconds()),
				Description: "Deadline of each call to the sidecar. A login fails closed when it passes.",
			},
			"nonce_ttl": {
				Type:        framework.TypeDurationSecond,
				Default:     int(defaultNonceTTL.Seconds()),
				Description: "How long an issued nonce can be used (at most 10 minutes).",
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: b.pathConfigRead},
			logical.UpdateOperation: &framework.PathOperation{Callback: b.pathConfigWrite},
			logical.CreateOperation: &framework.PathOperation{Callback: b.pathConfigWrite},
		},
		ExistenceCheck:  b.pathConfigExists,
		HelpSynopsis:    "Configure how the auth method reaches its verifier sidecar.",
		HelpDescription: "The sidecar (tee-verifierd) verifies evidence and evaluates roles; this path says where it listens and how to authenticate to it.",
	}
}

func readConfig(ctx context.Context, s logical.Storage) (*pluginConfig, error) {
	entry, err := s.Get(ctx, configStoragePath)
	if err != nil || entry == nil {
		return nil, err
	}
	cfg := &pluginConfig{}
	if err := entry.DecodeJSON(cfg); err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return cfg, nil
}

func (b *backend) pathConfigExists(ctx context.Context, req *logical.Request, _ *framework.FieldData) (bool, error) {
	cfg, err := readConfig(ctx, req.Storage)
	return cfg != nil, err
}

func (b *backend) pathConfigRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := readConfig(ctx, req.Storage)
	if err != nil || cfg == nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{
		"sidecar_address":           cfg.SidecarAddress,
		"sidecar_ca_pem":            cfg.SidecarCAPEM,
		"sidecar_client_cert_pem":   cfg.SidecarClientCertPEM,
		"sidecar_client_key_set":    cfg.SidecarClientKeyPEM != "",
		"sidecar_tls_server_name":   cfg.SidecarTLSServerName,
		"sidecar_insecure_loopback": cfg.SidecarInsecureLoopback,
		"sidecar_uid":               cfg.sidecarUID(),
		"allow_test_sidecar":        cfg.AllowTestSidecar,
		"request_timeout":           int64(cfg.RequestTimeout.Seconds()),
		"nonce_ttl":                 int64(cfg.NonceTTL.Seconds()),
	}}, nil
}

func (b *backend) pathConfigWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	cfg, err := readConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &pluginConfig{}
	}
	if v, ok := d.GetOk("sidecar_address"); ok {
		cfg.SidecarAddress = strings.TrimSpace(v.(string))
	}
	for name, dst := range map[string]*string{
		"sidecar_ca_pem":          &cfg.SidecarCAPEM,
		"sidecar_client_cert_pem": &cfg.SidecarClientCertPEM,
		"sidecar_client_key_pem":  &cfg.SidecarClientKeyPEM,
		"sidecar_tls_server_name": &cfg.SidecarTLSServerName,
	} {
		if v, ok := d.GetOk(name); ok {
			*dst = v.(string)
		}
	}
	if v, ok := d.GetOk("sidecar_insecure_loopback"); ok {
		cfg.SidecarInsecureLoopback = v.(bool)
	}
	if v, ok := d.GetOk("sidecar_uid"); ok {
		cfg.SidecarUID = nil
		if uid := v.(int); uid != -1 {
			cfg.SidecarUID = &uid
		}
	}
	if v, ok := d.GetOk("allow_test_sidecar"); ok {
		cfg.AllowTestSidecar = v.(bool)
	}
	// Unset fields keep their stored value on update, and take their default on create (Get
	// returns the value given, or the schema default).
	if _, ok := d.GetOk("request_timeout"); ok || cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = time.Duration(d.Get("request_timeout").(int)) * time.Second
	}
	if _, ok := d.GetOk("nonce_ttl"); ok || cfg.NonceTTL == 0 {
		cfg.NonceTTL = time.Duration(d.Get("nonce_ttl").(int)) * time.Second
	}

	if problem := validateConfig(cfg); problem != "" {
		return logical.ErrorResponse(problem), nil
	}
	entry, err := logical.StorageEntryJSON(configStoragePath, cfg)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Put(ctx, entry); err != nil {
		return nil, err
	}
	b.resetClient(ctx)
	// The nonce keys exist before the first nonce is asked for, so that standbys issue nonces
	// without forwarding the very first request.
	if _, err := b.nonceKeySet(ctx, req.Storage); err != nil {
		return nil, err
	}
	return nil, nil
}

// validateConfig returns a message naming the field at fault, or "".
func validateConfig(cfg *pluginConfig) string {
	switch {
	case cfg.SidecarAddress == "":
		return "sidecar_address: required (e.g. unix:///run/tee-verifierd/tee-verifierd.sock)"
	case cfg.SidecarUID != nil && (*cfg.SidecarUID < 0 || *cfg.SidecarUID > 1<<32-2):
		return "sidecar_uid: must be a user ID (0 to 4294967294), or -1 for the server's own"
	case cfg.RequestTimeout <= 0:
		return "request_timeout: must be positive"
	case cfg.NonceTTL <= 0 || cfg.NonceTTL > maxNonceTTL:
		return fmt.Sprintf("nonce_ttl: must be between 1s and %s", maxNonceTTL)
	}
	// The transport rules are the ones the client is dialled with.
	if _, err := sidecarCredentials(cfg); err != nil {
		return err.Error()
	}
	return ""
}
