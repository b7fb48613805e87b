//go:build integration

package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vault-plugin-auth-tee/plugin_shim/internal/azurevtpm"
)

// An Azure confidential VM on loopback (docs/azure.md, internal/azurevtpm): a real TPM 2.0
// (swtpm) provisioned as its vTPM, with an HCL report whose hardware report the test TEE made
// (tee-testgen, so the stack's test sidecar verifies it to the test roots) binding SHA-256 of
// runtime data that holds the swtpm's AK; stand-ins for Azure's THIM (SEV-SNP: the test VCEK,
// ASK and ARK) and quote service (TDX: the test-TEE TD quote of the HCL report's TDREPORT). The
// real tee-login talks to the swtpm as it would to /dev/tpmrm0 and logs in through OpenBao.

// azureCVM is such a VM: its vTPM's socket, what its boot measured, and tee-login's flags for
// its service's stand-in.
type azureCVM struct {
	tpm        string
	pcr4       string
	pcr11      string
	loginFlags []string
}

// newAzureCVM provisions a VM of kind "snp" or "tdx". With swapAK, the HCL runtime data (and so
// the hardware report) holds another key than the AK that signs the TPM quote.
func newAzureCVM(t *testing.T, kind string, swapAK bool) *azureCVM {
	t.Helper()
	sock := azurevtpm.Start(t)
	tpm := azurevtpm.Open(t, sock)
	ak := azurevtpm.ProvisionAK(t, tpm)
	if swapAK {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		ak = &other.PublicKey
	}
	tee := azurevtpm.TestTEE{Testgen: sys.bin("tee-testgen"), Profile: sys.testProfile(), Dir: t.TempDir()}
	cvm, err := azurevtpm.ProvisionCVM(tpm, tee, kind, ak)
	if err != nil {
		t.Fatal(err)
	}
	service := httptest.NewServer(cvm.Service)
	t.Cleanup(service.Close)
	return &azureCVM{tpm: sock, pcr4: cvm.PCR4, pcr11: cvm.PCR11, loginFlags: []string{cvm.ServiceFlag, service.URL}}
}

// azureKinds: the TEE name, the VM kind, and the policy (and secret) of the role.
var azureKinds = []struct{ tee, kind, policy, secret string }{
	{"az-snp-vtpm", "snp", "mcp-server-snp", "secret/data/mcp/snp/jwt-key"},
	{"az-tdx-vtpm", "tdx", "mcp-server-tdx", "secret/data/mcp/tdx/api-key"},
}

// writeAzureRole writes a role admitting tee whose image anchor is PCRs 4 and 11.
func writeAzureRole(t *testing.T, name, tee, policy, pcr4, pcr11 string) {
	t.Helper()
	if out, err := sys.cli("write", "auth/tee/role/"+name, "tee_types="+tee, "azure_pcr4="+pcr4,
		"azure_pcr11="+pcr11, "azure_secure_boot=true", "token_policies="+policy); err != nil {
		t.Fatalf("role %s: %v\n%s", name, err, out)
	}
}

// azureLogin runs the real tee-login against the VM's vTPM and services.
func azureLogin(t *testing.T, cvm *azureCVM, role string) (string, string, error) {
	t.Helper()
	return sys.teeLogin(t, append([]string{"-role=" + role, "-tee=azure", "-azure-tpm=" + cvm.tpm}, cvm.loginFlags...)...)
}

func TestAzureCVMLogsInWithItsVTPM(t *testing.T) {
	for _, k := range azureKinds {
		t.Run(k.tee, func(t *testing.T) {
			cvm := newAzureCVM(t, k.kind, false)
			role := "azure-" + k.kind
			writeAzureRole(t, role, k.tee, k.policy, cvm.pcr4, cvm.pcr11)
			token, stderr, err := azureLogin(t, cvm, role)
			if err != nil || token == "" {
				t.Fatalf("tee-login -tee azure: %v\n%s", err, stderr)
			}
			if _, err := readSecret(sys.client, token, k.secret); err != nil {
				t.Fatalf("reading the role's secret: %v", err)
			}
			if _, err := readSecret(sys.client, token, "secret/data/payments/db-password"); err == nil {
				t.Fatal("another secret was readable")
			}
			c, _ := sys.client.Clone()
			c.SetToken(token)
			self, err := c.Auth().Token().LookupSelf()
			if err != nil {
				t.Fatal(err)
			}
			meta, _ := self.Data["meta"].(map[string]interface{})
			if meta["tee"] != k.tee {
				t.Fatalf("token metadata tee %v, want %s (%v)", meta["tee"], k.tee, meta)
			}
		})
	}
}

// A role pinning another PCR 4, and a VM whose HCL runtime data holds another key than the AK
// that signs its quote: refused, the caller told no more than the uniform answers allow (a bare
// 403; the reason code of evidence that does not verify), the server log naming why.
func TestAzureCVMRefusals(t *testing.T) {
	for _, k := range azureKinds {
		t.Run(k.tee, func(t *testing.T) {
			cvm := newAzureCVM(t, k.kind, false)
			role := "azure-refusals-" + k.kind
			writeAzureRole(t, role, k.tee, k.policy, strings.Repeat("4e", 32), cvm.pcr11)
			logged := serverLogCount("field=azure.pcr4")
			token, stderr, err := azureLogin(t, cvm, role)
			if err == nil || token != "" {
				t.Fatal("wrong PCR 4: got a token")
			}
			if !strings.Contains(stderr, "Code: 403") || !strings.Contains(stderr, "* permission denied") {
				t.Fatalf("wrong PCR 4: want a bare 403 permission denied, got %s", stderr)
			}
			requireServerLogMore(t, "field=azure.pcr4", logged)

			swapped := newAzureCVM(t, k.kind, true)
			writeAzureRole(t, role, k.tee, k.policy, swapped.pcr4, swapped.pcr11)
			const why = "does not verify with the HCL runtime data's attestation key"
			logged = serverLogCount(why)
			token, stderr, err = azureLogin(t, swapped, role)
			if err == nil || token != "" {
				t.Fatal("AK swap: got a token")
			}
			// Evidence that does not verify tells the caller its reason code only (as no role
			// changes it); the details stay in the server log.
			if !strings.Contains(stderr, "Code: 403") || !strings.Contains(stderr, "* evidence rejected (BAD_SIGNATURE)\n") {
				t.Fatalf("AK swap: want 403 evidence rejected (BAD_SIGNATURE), got %s", stderr)
			}
			requireServerLogMore(t, why, logged)
		})
	}
}
