package teeclient

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/vault-plugin-auth-tee/plugin_shim/internal/azurevtpm"
)

// A real TPM 2.0 (swtpm) provisioned as an Azure CVM's vTPM (internal/azurevtpm): an AK at
// 0x81000003 and an HCL report at NV 0x01400001 whose runtime data holds that AK. The hardware
// report in it is a placeholder with the right REPORT_DATA (the producer never looks inside it;
// the integration tests through OpenBao use test-TEE reports the sidecar verifies).

// checkQuote checks the producer's quote as the sidecar will: signature by the AK, extraData =
// binding, PCR digest over the 24 supplied PCRs.
func checkQuote(t *testing.T, ev azureEvidenceJSON, ak *rsa.PublicKey, binding []byte) {
	t.Helper()
	message, _ := hex.DecodeString(ev.TPMQuote.Message)
	sigBytes, _ := hex.DecodeString(ev.TPMQuote.Signature)
	sig, err := tpm2.Unmarshal[tpm2.TPMTSignature](sigBytes)
	if err != nil {
		t.Fatalf("signature is not a TPMT_SIGNATURE: %v", err)
	}
	rsassa, err := sig.Signature.RSASSA()
	if err != nil || sig.SigAlg != tpm2.TPMAlgRSASSA || rsassa.Hash != tpm2.TPMAlgSHA256 {
		t.Fatalf("signature is not RSASSA/SHA-256: %v", err)
	}
	digest := sha256.Sum256(message)
	if err := rsa.VerifyPKCS1v15(ak, crypto.SHA256, digest[:], rsassa.Sig.Buffer); err != nil {
		t.Fatalf("quote signature does not verify with the AK: %v", err)
	}
	attest, err := tpm2.Unmarshal[tpm2.TPMSAttest](message)
	if err != nil {
		t.Fatal(err)
	}
	if attest.Magic != tpm2.TPMGeneratedValue || attest.Type != tpm2.TPMSTAttestQuote {
		t.Fatalf("not a quote: magic %x type %x", attest.Magic, attest.Type)
	}
	if !bytes.Equal(attest.ExtraData.Buffer, binding) {
		t.Fatalf("extraData %x, want the binding %x", attest.ExtraData.Buffer, binding)
	}
	info, err := attest.Attested.Quote()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.TPMQuote.PCRs) != 24 {
		t.Fatalf("%d PCRs, want 24", len(ev.TPMQuote.PCRs))
	}
	h := sha256.New()
	for _, p := range ev.TPMQuote.PCRs {
		b, _ := hex.DecodeString(p)
		h.Write(b)
	}
	if !bytes.Equal(h.Sum(nil), info.PCRDigest.Buffer) {
		t.Fatal("the PCR values do not hash to the quoted digest")
	}
}

// testHCLReport is an HCL report of reportType whose runtime data holds ak, with a placeholder
// hardware report.
func testHCLReport(t *testing.T, reportType uint32, ak *rsa.PublicKey) []byte {
	runtime := azurevtpm.RuntimeData(t, ak)
	return azurevtpm.HCLReport(reportType, azurevtpm.PlaceholderHardwareReport(reportType, runtime), runtime)
}

// azureVTPM is a started swtpm provisioned as an Azure vTPM with an HCL report of reportType.
func azureVTPM(t *testing.T, reportType uint32) (sock string, tpm transport.TPM, ak *rsa.PublicKey, report []byte) {
	t.Helper()
	sock = azurevtpm.Start(t)
	tpm = azurevtpm.Open(t, sock)
	ak = azurevtpm.ProvisionAK(t, tpm)
	report = testHCLReport(t, reportType, ak)
	azurevtpm.ProvisionHCLReport(t, tpm, report)
	return sock, tpm, ak, report
}

// obtainAzure runs the producer and decodes its evidence, which must be of kind tee.
func obtainAzure(t *testing.T, cfg AzureConfig, binding [64]byte, tee string) (azureEvidenceJSON, *Evidence) {
	t.Helper()
	e, err := AzureEvidence(cfg, binding)
	if err != nil {
		t.Fatal(err)
	}
	if e.TeeType != tee {
		t.Fatalf("tee %q, want %q", e.TeeType, tee)
	}
	var ev azureEvidenceJSON
	if err := json.Unmarshal(e.Bytes, &ev); err != nil {
		t.Fatal(err)
	}
	return ev, e
}

func TestAzureSnpEvidenceFromATPM(t *testing.T) {
	sock, tpm, ak, report := azureVTPM(t, 2)
	vcek := []byte("test VCEK DER")
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("ASK")}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("ARK")})...)
	thim := httptest.NewServer(azurevtpm.THIM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vcek}), chain))
	defer thim.Close()

	binding := sha256.Sum256([]byte("nonce"))
	var b [64]byte
	copy(b[:], binding[:])
	ev, e := obtainAzure(t, AzureConfig{TPM: sock, THIMURL: thim.URL}, b, "az-snp-vtpm")
	// THIM's VCEK and chain go with the login as its certificate (the sidecar needs the ASK
	// under test roots and compares it with AMD's pinned one otherwise).
	if want := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vcek}), chain...); !bytes.Equal(e.Certificate, want) {
		t.Fatalf("certificate %q, want %q", e.Certificate, want)
	}
	if hcl, _ := base64.URLEncoding.DecodeString(ev.HCLReport); !bytes.Equal(hcl, report) {
		t.Fatal("hcl_report is not the NV index's content")
	}
	if got, _ := base64.URLEncoding.DecodeString(ev.VCEK); !bytes.Equal(got, vcek) {
		t.Fatalf("vcek %q", got)
	}
	checkQuote(t, ev, ak, b[:])

	// The binding went to the user data index too.
	user, err := readNV(tpm, azureUserDataIndex)
	if err != nil || !bytes.Equal(user, b[:]) {
		t.Fatalf("user data index: %x, %v", user, err)
	}
}

func TestAzureTdxEvidenceFromATPMAndTheQuoteService(t *testing.T) {
	sock, _, ak, report := azureVTPM(t, 4)
	tdQuote := []byte("a TD quote for that TD report")
	service := httptest.NewServer(azurevtpm.QuoteService(report[hclHardwareOffset:hclHardwareOffset+tdReportSize], tdQuote))
	defer service.Close()

	var b [64]byte
	copy(b[:], "binding")
	ev, _ := obtainAzure(t, AzureConfig{TPM: sock, QuoteURL: service.URL}, b, "az-tdx-vtpm")
	if got, _ := base64.URLEncoding.DecodeString(ev.TDQuote); !bytes.Equal(got, tdQuote) {
		t.Fatalf("td_quote %q", got)
	}
	checkQuote(t, ev, ak, b[:])

	// The quote service refusing is an error naming it.
	service.Close()
	if _, err := AzureEvidence(AzureConfig{TPM: sock, QuoteURL: service.URL, Timeout: 5 * time.Second}, b); err == nil {
		t.Fatal("evidence without a TD quote")
	}
}

func TestAzureEvidenceWithoutAnAKFails(t *testing.T) {
	sock := azurevtpm.Start(t)
	tpm := azurevtpm.Open(t, sock)
	ak := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 2047), E: 65537}
	azurevtpm.ProvisionHCLReport(t, tpm, testHCLReport(t, 2, ak))
	_, err := AzureEvidence(AzureConfig{TPM: sock}, [64]byte{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("attestation key 0x81000003")) {
		t.Fatalf("err = %v", err)
	}
}
