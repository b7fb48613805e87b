// tee-login logs a workload in to Vault/OpenBao with its TEE's attestation evidence, like
// `vault login` does for built-in methods (the CLI's login handlers are compiled into the vault
// binary, so an external auth plugin cannot add `vault login -method=tee`).
//
//	tee-login -role=mcp-tdx                       # asks a nonce, gets evidence, logs in
//	tee-login -role=mcp-tdx -field=token          # prints only the token
//	tee-login -role=recorded -evidence-file=quote.bin -verification-time=...  # replay (tests/demos)
//	tee-login -role=mcp-tdx -token-only           # token to stdout only; the token helper file is not written
//	tee-login cert -role=mcp-tdx -out=/run/tee-cert -refresh=4m  # attested TLS client certificate (cert.go)
//	tee-login exec -role=mcp-tdx -- server --port 8765  # token in the command's environment only, renewed; the command is stopped when it is gone (exec.go)
//
// It reads VAULT_ADDR / BAO_ADDR and the usual TLS variables (VAULT_CACERT, VAULT_CLIENT_CERT,
// VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME, and their BAO_ forms).
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/cliconfig"
	"github.com/vault-plugin-auth-tee/plugin_shim/teeclient"
)

type options struct {
	address, mount, role, tee              string
	evidenceFile, certificateFile, keyFile string
	verificationTime, field, format        string
	noStore, tokenOnly                     bool
	paths                                  teeclient.Paths
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "cert" {
		return runCert(args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "exec" {
		return runExec(args[1:], stderr)
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tee-login: %v\n", err)
		return 2
	}
	secret, err := login(opts)
	if err != nil {
		fmt.Fprintf(stderr, "tee-login: %v\n", err)
		return 1
	}
	if !opts.noStore {
		helper, err := cliconfig.DefaultTokenHelper()
		if err == nil {
			err = helper.Store(secret.Auth.ClientToken)
		}
		if err != nil {
			fmt.Fprintf(stderr, "tee-login: logged in, but storing the token failed: %v\n", err)
			return 1
		}
	}
	if err := printSecret(stdout, opts, secret); err != nil {
		fmt.Fprintf(stderr, "tee-login: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{paths: teeclient.DefaultPaths()}
	fs := flag.NewFlagSet("tee-login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.address, "address", "", "server address (default: $VAULT_ADDR or $BAO_ADDR)")
	fs.StringVar(&o.mount, "path", "tee", "mount path of the tee auth method")
	fs.StringVar(&o.role, "role", "", "role to log in to (required)")
	providerFlags(fs, &o.tee, &o.paths)
	fs.StringVar(&o.keyFile, "client-key", "", "public key file to bind into the evidence with the nonce")
	fs.StringVar(&o.certificateFile, "certificate", "", "SEV-SNP: VCEK/VLEK file (PEM or DER) when the evidence does not carry it")
	fs.StringVar(&o.evidenceFile, "evidence-file", "", "send recorded evidence instead of asking the TEE (roles that allow unbound evidence only)")
	fs.StringVar(&o.verificationTime, "verification-time", "", "RFC 3339 time to verify recorded evidence at (replay-mode sidecar only)")
	fs.StringVar(&o.field, "field", "", `print only this field of the login ("token", "token_accessor", ...)`)
	fs.StringVar(&o.format, "format", "table", `output format: "table" or "json"`)
	fs.BoolVar(&o.noStore, "no-store", false, "do not store the token with the token helper")
	fs.BoolVar(&o.tokenOnly, "token-only", false, "print only the token and do not store it (like -field=token -no-store)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.role == "" {
		return nil, errors.New("-role is required")
	}
	if o.tokenOnly {
		o.field, o.noStore = "token", true
	}
	if o.format != "table" && o.format != "json" {
		return nil, fmt.Errorf("-format: %q is not table or json", o.format)
	}
	return o, nil
}

// providerFlags are the flags that choose the TEE and its evidence interfaces (login and cert).
func providerFlags(fs *flag.FlagSet, tee *string, paths *teeclient.Paths) {
	fs.StringVar(tee, "tee", "auto", `TEE type: "auto", "tdx", "sev-snp", "nitro", or on an Azure confidential VM "azure" ("az-snp-vtpm", "az-tdx-vtpm")`)
	fs.StringVar(&paths.TSM, "tsm-path", paths.TSM, "configfs-tsm report directory (TDX, SEV-SNP)")
	fs.StringVar(&paths.SevGuestDevice, "sev-guest-device", paths.SevGuestDevice, "SEV-SNP guest device, used when configfs-tsm is absent")
	fs.StringVar(&paths.NSMDevice, "nsm-device", paths.NSMDevice, "Nitro Secure Module device (or a test provider's unix socket)")
	fs.StringVar(&paths.Azure.TPM, "azure-tpm", paths.Azure.TPM, "Azure: the vTPM device (or a TPM emulator's unix socket)")
	fs.StringVar(&paths.Azure.QuoteURL, "azure-quote-url", paths.Azure.QuoteURL, "Azure TDX: the quote service turning the TD report into a TD quote")
	fs.StringVar(&paths.Azure.THIMURL, "azure-thim-url", paths.Azure.THIMURL, `Azure SEV-SNP: where to fetch the VCEK ("" when the sidecar has it)`)
	fs.IntVar(&paths.PrivLevel, "privlevel", -1, "SEV-SNP: VMPL to request the report at (default: the kernel's)")
}

// apiClient builds the client from VAULT_* variables, filling them from BAO_* ones (OpenBao).
func apiClient(address string) (*api.Client, error) {
	for _, name := range []string{"ADDR", "CACERT", "CAPATH", "CLIENT_CERT", "CLIENT_KEY", "SKIP_VERIFY", "TLS_SERVER_NAME", "NAMESPACE"} {
		if os.Getenv("VAULT_"+name) == "" && os.Getenv("BAO_"+name) != "" {
			os.Setenv("VAULT_"+name, os.Getenv("BAO_"+name))
		}
	}
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, cfg.Error
	}
	if address != "" {
		cfg.Address = address
	}
	// A login spends its nonce: a retry (the client retries 5xx answers by default) can only be
	// refused for the spent nonce, hiding the first answer's real error.
	cfg.MaxRetries = 0
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	client.ClearToken() // logins are unauthenticated; never send a stale token
	return client, nil
}

func login(o *options) (*api.Secret, error) {
	client, err := apiClient(o.address)
	if err != nil {
		return nil, err
	}
	data := map[string]interface{}{"role": o.role}
	var clientKey []byte
	if o.keyFile != "" {
		if clientKey, err = os.ReadFile(o.keyFile); err != nil {
			return nil, fmt.Errorf("-client-key: %w", err)
		}
		data["client_public_key"] = base64.StdEncoding.EncodeToString(clientKey)
	}
	if o.certificateFile != "" {
		cert, err := os.ReadFile(o.certificateFile)
		if err != nil {
			return nil, fmt.Errorf("-certificate: %w", err)
		}
		data["certificate"] = base64.StdEncoding.EncodeToString(cert)
	}
	if o.verificationTime != "" {
		if _, err := time.Parse(time.RFC3339, o.verificationTime); err != nil {
			return nil, fmt.Errorf("-verification-time: %w", err)
		}
		data["verification_time"] = o.verificationTime
	}
	if o.tee != "auto" && o.tee != "azure" { // "azure": the HCL report says which
		data["tee_type"] = o.tee
	}

	if o.evidenceFile != "" {
		evidence, err := os.ReadFile(o.evidenceFile)
		if err != nil {
			return nil, fmt.Errorf("-evidence-file: %w", err)
		}
		data["evidence"] = base64.StdEncoding.EncodeToString(evidence)
	} else {
		nonceResp, err := client.Logical().Write("auth/"+o.mount+"/nonce", map[string]interface{}{"role": o.role})
		if err != nil {
			return nil, fmt.Errorf("requesting a nonce: %w", err)
		}
		nonceHex, _ := nonceResp.Data["nonce"].(string)
		nonce, err := hex.DecodeString(nonceHex)
		if err != nil || len(nonce) == 0 {
			return nil, fmt.Errorf("requesting a nonce: unexpected answer %v", nonceResp.Data)
		}
		reportData, err := teeclient.ReportData(nonce, clientKey)
		if err != nil {
			return nil, err
		}
		evidence, err := teeclient.Obtain(o.tee, o.paths, reportData)
		if err != nil {
			return nil, fmt.Errorf("obtaining evidence: %w", err)
		}
		data["nonce"] = nonceHex
		data["evidence"] = base64.StdEncoding.EncodeToString(evidence.Bytes)
		if len(evidence.Certificate) > 0 && o.certificateFile == "" {
			data["certificate"] = base64.StdEncoding.EncodeToString(evidence.Certificate)
		}
		data["tee_type"] = evidence.TeeType
	}
	secret, err := client.Logical().Write("auth/"+o.mount+"/login", data)
	if err != nil {
		return nil, fmt.Errorf("logging in: %w", err)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return nil, errors.New("logging in: the server returned no token")
	}
	return secret, nil
}

func loginFields(s *api.Secret) map[string]interface{} {
	a := s.Auth
	fields := map[string]interface{}{
		"token":           a.ClientToken,
		"token_accessor":  a.Accessor,
		"token_duration":  (time.Duration(a.LeaseDuration) * time.Second).String(),
		"token_renewable": a.Renewable,
		"token_policies":  a.TokenPolicies,
		"policies":        a.Policies,
	}
	for k, v := range a.Metadata {
		fields["token_meta_"+k] = v
	}
	return fields
}

func printSecret(w io.Writer, o *options, s *api.Secret) error {
	fields := loginFields(s)
	if o.field != "" {
		v, ok := fields[o.field]
		if !ok {
			return fmt.Errorf("-field: the login has no field %q", o.field)
		}
		fmt.Fprintln(w, v)
		return nil
	}
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	if !o.noStore {
		fmt.Fprint(w, "Success! You are now authenticated. The token information displayed below\n"+
			"is already stored in the token helper. You do NOT need to run \"vault login\"\n"+
			"again. Future requests will automatically use this token.\n\n")
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return order(keys[i]) < order(keys[j]) })
	fmt.Fprintf(w, "%-40s %s\n%-40s %s\n", "Key", "Value", "---", "-----")
	for _, k := range keys {
		fmt.Fprintf(w, "%-40s %v\n", k, fields[k])
	}
	return nil
}

// order lists the token's own fields first, then the metadata, alphabetically.
func order(key string) string {
	if strings.HasPrefix(key, "token_meta_") {
		return "2" + key
	}
	return "1" + key
}
