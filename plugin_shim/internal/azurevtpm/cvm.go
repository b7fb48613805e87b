package azurevtpm

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/go-tpm/tpm2/transport"
)

// CVM is an Azure confidential VM made of a provisioned vTPM and the test TEE (tee-testgen, whose
// evidence only a sidecar started with --test-roots accepts): what its boot measured, and the
// stand-in for the Azure service tee-login asks (THIM for SEV-SNP, the quote service for TDX).
type CVM struct {
	PCR4, PCR11 string       // hex, the PCRs its boot measured (a role's image anchor)
	Service     http.Handler // THIM or the quote service
	ServiceFlag string       // tee-login's flag naming the service's URL
}

// TestTEE is where the test TEE is and which measurements it reports.
type TestTEE struct {
	Testgen string // tee-testgen
	Profile string // a profile (policy_examples/test-tee-profile.json)
	Dir     string // for its output files
}

// ProvisionCVM makes the vTPM (whose AK is at AKHandle) that of an Azure CVM of kind "snp" or
// "tdx": it measures a boot into PCRs 4 and 11, has the test TEE make the hardware report binding
// runtime data that holds runtimeAK (the AK; another key for an AK swap), and writes the HCL
// report.
func ProvisionCVM(tpm transport.TPM, tee TestTEE, kind string, runtimeAK *rsa.PublicKey) (*CVM, error) {
	pcr4, err := Extend(tpm, 4, "shim, systemd-boot, the UKI")
	if err != nil {
		return nil, err
	}
	pcr11, err := Extend(tpm, 11, "the UKI's kernel, initrd, cmdline")
	if err != nil {
		return nil, err
	}
	runtime, err := NewRuntimeData(runtimeAK)
	if err != nil {
		return nil, err
	}
	cvm := &CVM{PCR4: hex.EncodeToString(pcr4), PCR11: hex.EncodeToString(pcr11)}
	var hw []byte
	var reportType uint32
	switch kind {
	case "snp":
		reportType = ReportTypeSNP
		hw, cvm.Service, err = tee.snp(ReportData(runtime))
		cvm.ServiceFlag = "-azure-thim-url"
	case "tdx":
		reportType = ReportTypeTDX
		hw, cvm.Service, err = tee.tdx(ReportData(runtime))
		cvm.ServiceFlag = "-azure-quote-url"
	default:
		return nil, fmt.Errorf("kind %q is neither snp nor tdx", kind)
	}
	if err != nil {
		return nil, err
	}
	return cvm, WriteHCLReport(tpm, HCLReport(reportType, hw, runtime))
}

// evidence runs tee-testgen evidence for tee with reportData, and returns its output.
func (t TestTEE) evidence(tee string, reportData [64]byte, extra ...string) ([]byte, error) {
	out := filepath.Join(t.Dir, tee+"-evidence.bin")
	c := exec.Command(t.Testgen, append([]string{"evidence", "--tee", tee, "--report-data", hex.EncodeToString(reportData[:]),
		"--profile", t.Profile, "--out", out}, extra...)...)
	if b, err := c.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tee-testgen evidence: %v\n%s", err, b)
	}
	return os.ReadFile(out)
}

// snp is a test-TEE SEV-SNP report carrying reportData and THIM serving its VCEK and chain.
func (t TestTEE) snp(reportData [64]byte) ([]byte, http.Handler, error) {
	bundle := filepath.Join(t.Dir, "vcek-chain.pem")
	evidence, err := t.evidence("sev-snp", reportData, "--cert-out", bundle)
	if err != nil {
		return nil, nil, err
	}
	chain, err := os.ReadFile(bundle)
	if err != nil {
		return nil, nil, err
	}
	vcek, rest := pem.Decode(chain)
	if vcek == nil || len(evidence) < HardwareReportSize {
		return nil, nil, fmt.Errorf("tee-testgen: no SEV-SNP report or VCEK in %s", bundle)
	}
	return evidence[:HardwareReportSize], THIM(pem.EncodeToMemory(vcek), rest), nil
}

// tdx is the TDREPORT of a test-TEE TD quote carrying reportData and the quote service that
// turns it into that quote.
func (t TestTEE) tdx(reportData [64]byte) ([]byte, http.Handler, error) {
	quote, err := t.evidence("tdx", reportData)
	if err != nil {
		return nil, nil, err
	}
	tdReport, err := TDReport(quote)
	if err != nil {
		return nil, nil, err
	}
	return tdReport, QuoteService(tdReport, quote), nil
}

// THIM stands in for Azure's THIM (IMDS /metadata/THIM/amd/certification): the VCEK and the
// chain (ASK, ARK), PEM, to requests that carry "Metadata: true".
func THIM(vcek, chain []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "true" {
			http.Error(w, "Metadata: true required", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"vcekCert": string(vcek), "certificateChain": string(chain)})
	})
}

// QuoteService stands in for Azure's quote service (IMDS /acc/tdquote): {"report": base64url}
// -> {"quote": base64url}, for tdReport only.
func QuoteService(tdReport, quote []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Report string `json:"report"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if got, err := base64.RawURLEncoding.DecodeString(req.Report); err != nil || !bytes.Equal(got, tdReport) {
			http.Error(w, "not the TD report this stand-in quotes", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"quote": base64.RawURLEncoding.EncodeToString(quote)})
	})
}
