// vault-plugin-auth-tee: the TEE attestation auth method as an external plugin for HashiCorp
// Vault and OpenBao (one binary for both).
package main

import (
	"os"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/plugin"
	teeauth "github.com/vault-plugin-auth-tee/plugin_shim"
)

func main() {
	meta := &api.PluginAPIClientMeta{}
	flags := meta.FlagSet()
	procs := procsFlag(flags)
	if err := flags.Parse(os.Args[1:]); err != nil {
		fatal(err)
	}
	limitProcs(*procs)
	tlsProvider := api.VaultPluginTLSProvider(meta.GetTLSConfig())
	if err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: teeauth.Factory,
		TLSProviderFunc:    tlsProvider,
	}); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	hclog.New(&hclog.LoggerOptions{}).Error("plugin shutting down", "error", err)
	os.Exit(1)
}
