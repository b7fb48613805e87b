package teeclient

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// Azure confidential VMs (docs/azure.md): the guest runs under Azure's paravisor (HCL) and cannot
// put the nonce binding into the hardware report. It reads the HCL report from the vTPM (the
// hardware report binds the vTPM's attestation key), has the AK quote PCRs 0-23 with the binding
// as qualifying data, and for TDX has Azure's quote service turn the TD report into a TD quote.
const (
	azureHCLReportIndex = 0x01400001 // the HCL report, refreshed when the user data index is written
	azureUserDataIndex  = 0x01400002 // 64 bytes of user data the HCL puts into the next report
	azureAKHandle       = 0x81000003 // the attestation key (RSA-2048, RSASSA/SHA-256)

	// Azure IMDS endpoints.
	DefaultAzureQuoteURL = "http://169.254.169.254/acc/tdquote"
	DefaultAzureTHIMURL  = "http://169.254.169.254/metadata/THIM/amd/certification"

	hclHardwareOffset   = 32
	hclHardwareSize     = 1184
	hclReportTypeOffset = hclHardwareOffset + hclHardwareSize + 8
	tdReportSize        = 1024
	nvChunk             = 512 // below every TPM's MAX_NV_BUFFER_SIZE
)

// AzureConfig says where tee-login finds an Azure CVM's vTPM and services.
type AzureConfig struct {
	TPM      string        // the vTPM: /dev/tpmrm0, or a TPM emulator's unix socket (tests)
	QuoteURL string        // TDX: Azure's quote service (IMDS /acc/tdquote)
	THIMURL  string        // SEV-SNP: where to fetch the VCEK; empty: the sidecar has it
	Timeout  time.Duration // for each HTTP request
}

// DefaultAzureConfig is what an Azure CVM offers.
func DefaultAzureConfig() AzureConfig {
	return AzureConfig{TPM: "/dev/tpmrm0", QuoteURL: DefaultAzureQuoteURL, THIMURL: DefaultAzureTHIMURL, Timeout: 30 * time.Second}
}

// azureEvidenceJSON is the evidence shape the sidecar reads (trustee's az-*-vtpm, version 1).
type azureEvidenceJSON struct {
	Version   int          `json:"version"`
	TPMQuote  azureTPMJSON `json:"tpm_quote"`
	HCLReport string       `json:"hcl_report"`
	VCEK      string       `json:"vcek,omitempty"`
	TDQuote   string       `json:"td_quote,omitempty"`
}

type azureTPMJSON struct {
	Message   string   `json:"message"`
	Signature string   `json:"signature"`
	PCRs      []string `json:"pcrs"`
}

func openTPM(path string) (transport.TPMCloser, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("azure vTPM: %w", err)
	}
	if fi.Mode()&os.ModeSocket != 0 {
		return linuxudstpm.Open(path)
	}
	return linuxtpm.Open(path)
}

// AzureEvidence gets az-snp-vtpm or az-tdx-vtpm evidence binding `binding` (the nonce binding).
func AzureEvidence(cfg AzureConfig, binding [64]byte) (*Evidence, error) {
	tpm, err := openTPM(cfg.TPM)
	if err != nil {
		return nil, err
	}
	defer tpm.Close()

	// The HCL puts the user data into the report it regenerates; the binding then reaches the
	// runtime data too (the quote's qualifying data is what the sidecar checks).
	if err := writeUserData(tpm, binding[:]); err != nil {
		return nil, err
	}
	hcl, err := readNV(tpm, azureHCLReportIndex)
	if err != nil {
		return nil, fmt.Errorf("azure vTPM: reading the HCL report (NV 0x%08x): %w", azureHCLReportIndex, err)
	}
	if len(hcl) < hclReportTypeOffset+4 || string(hcl[:4]) != "HCLA" {
		return nil, fmt.Errorf("azure vTPM: NV 0x%08x does not hold an HCL report", azureHCLReportIndex)
	}
	pcrs, err := readPCRs(tpm)
	if err != nil {
		return nil, err
	}
	message, signature, err := quote(tpm, binding[:])
	if err != nil {
		return nil, err
	}
	out := azureEvidenceJSON{
		Version:   1,
		TPMQuote:  azureTPMJSON{Message: hex.EncodeToString(message), Signature: hex.EncodeToString(signature)},
		HCLReport: base64.URLEncoding.EncodeToString(hcl),
	}
	for _, pcr := range pcrs {
		out.TPMQuote.PCRs = append(out.TPMQuote.PCRs, hex.EncodeToString(pcr))
	}
	tee, certificate := "", []byte(nil)
	switch binary.LittleEndian.Uint32(hcl[hclReportTypeOffset:]) {
	case 2:
		tee = "az-snp-vtpm"
		if cfg.THIMURL != "" {
			vcek, chain, err := fetchVCEK(cfg)
			if err != nil {
				return nil, err
			}
			out.VCEK = base64.URLEncoding.EncodeToString(vcek)
			certificate = chain
		}
	case 4:
		tee = "az-tdx-vtpm"
		td, err := fetchTDQuote(cfg, hcl[hclHardwareOffset:hclHardwareOffset+tdReportSize])
		if err != nil {
			return nil, err
		}
		out.TDQuote = base64.URLEncoding.EncodeToString(td)
	default:
		return nil, fmt.Errorf("azure vTPM: HCL report type %d is neither SEV-SNP (2) nor TDX (4)",
			binary.LittleEndian.Uint32(hcl[hclReportTypeOffset:]))
	}
	bytes, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &Evidence{TeeType: tee, Bytes: bytes, Certificate: certificate}, nil
}

func ownerAuth() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
}

// writeUserData writes the binding to NV 0x01400002, defining the index (owner auth, 64 bytes)
// when the platform has not.
func writeUserData(tpm transport.TPM, data []byte) error {
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(azureUserDataIndex)}.Execute(tpm)
	if err != nil {
		def := tpm2.NVDefineSpace{
			AuthHandle: ownerAuth(),
			PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
				NVIndex:    tpm2.TPMHandle(azureUserDataIndex),
				NameAlg:    tpm2.TPMAlgSHA256,
				Attributes: tpm2.TPMANV{OwnerWrite: true, OwnerRead: true, AuthWrite: true, AuthRead: true, NT: tpm2.TPMNTOrdinary, NoDA: true},
				DataSize:   uint16(len(data)),
			}),
		}
		if _, err := def.Execute(tpm); err != nil {
			return fmt.Errorf("azure vTPM: defining the user data index 0x%08x: %w", azureUserDataIndex, err)
		}
		if pub, err = (tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(azureUserDataIndex)}).Execute(tpm); err != nil {
			return fmt.Errorf("azure vTPM: user data index: %w", err)
		}
	}
	write := tpm2.NVWrite{
		AuthHandle: ownerAuth(),
		NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(azureUserDataIndex), Name: pub.NVName},
		Data:       tpm2.TPM2BMaxNVBuffer{Buffer: data},
	}
	if _, err := write.Execute(tpm); err != nil {
		return fmt.Errorf("azure vTPM: writing the binding to NV 0x%08x: %w", azureUserDataIndex, err)
	}
	return nil
}

func readNV(tpm transport.TPM, index uint32) ([]byte, error) {
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(index)}.Execute(tpm)
	if err != nil {
		return nil, err
	}
	contents, err := pub.NVPublic.Contents()
	if err != nil {
		return nil, err
	}
	var out []byte
	for offset := uint16(0); offset < contents.DataSize; {
		n := contents.DataSize - offset
		if n > nvChunk {
			n = nvChunk
		}
		rsp, err := tpm2.NVRead{
			AuthHandle: ownerAuth(),
			NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(index), Name: pub.NVName},
			Size:       n,
			Offset:     offset,
		}.Execute(tpm)
		if err != nil {
			return nil, err
		}
		out = append(out, rsp.Data.Buffer...)
		offset += n
	}
	return out, nil
}

// readPCRs reads PCRs 0-23 of the SHA-256 bank (a TPM returns at most 8 per call).
func readPCRs(tpm transport.TPM) ([][]byte, error) {
	out := make([][]byte, 0, 24)
	for first := uint(0); first < 24; first += 8 {
		want := []uint{first, first + 1, first + 2, first + 3, first + 4, first + 5, first + 6, first + 7}
		rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
			{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(want...)},
		}}}.Execute(tpm)
		if err != nil {
			return nil, fmt.Errorf("azure vTPM: reading PCRs %d-%d: %w", first, first+7, err)
		}
		if len(rsp.PCRValues.Digests) != 8 {
			return nil, fmt.Errorf("azure vTPM: PCRs %d-%d: the TPM returned %d values", first, first+7, len(rsp.PCRValues.Digests))
		}
		for _, d := range rsp.PCRValues.Digests {
			out = append(out, d.Buffer)
		}
	}
	return out, nil
}

// quote has the AK quote PCRs 0-23 (SHA-256) with the binding as qualifying data; it returns the
// TPMS_ATTEST bytes and the TPMT_SIGNATURE.
func quote(tpm transport.TPM, binding []byte) ([]byte, []byte, error) {
	ak, err := tpm2.ReadPublic{ObjectHandle: tpm2.TPMHandle(azureAKHandle)}.Execute(tpm)
	if err != nil {
		return nil, nil, fmt.Errorf("azure vTPM: the attestation key 0x%08x: %w", azureAKHandle, err)
	}
	all := make([]uint, 24)
	for i := range all {
		all[i] = uint(i)
	}
	rsp, err := tpm2.Quote{
		SignHandle:     tpm2.AuthHandle{Handle: tpm2.TPMHandle(azureAKHandle), Name: ak.Name, Auth: tpm2.PasswordAuth(nil)},
		QualifyingData: tpm2.TPM2BData{Buffer: binding},
		InScheme: tpm2.TPMTSigScheme{
			Scheme:  tpm2.TPMAlgRSASSA,
			Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgRSASSA, &tpm2.TPMSSchemeHash{HashAlg: tpm2.TPMAlgSHA256}),
		},
		PCRSelect: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
			{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(all...)},
		}},
	}.Execute(tpm)
	if err != nil {
		return nil, nil, fmt.Errorf("azure vTPM: TPM2_Quote: %w", err)
	}
	return rsp.Quoted.Bytes(), tpm2.Marshal(rsp.Signature), nil
}

func httpClient(cfg AzureConfig) *http.Client {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{Timeout: timeout}
}

func readResponse(what string, rsp *http.Response) ([]byte, error) {
	defer rsp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(rsp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %s", what, rsp.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}

// fetchTDQuote asks Azure's quote service for the TD quote of a TD report:
// POST {"report": base64url(TDREPORT)} -> {"quote": base64url(quote)}.
func fetchTDQuote(cfg AzureConfig, tdReport []byte) ([]byte, error) {
	req, _ := json.Marshal(map[string]string{"report": base64.RawURLEncoding.EncodeToString(tdReport)})
	rsp, err := httpClient(cfg).Post(cfg.QuoteURL, "application/json", bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("azure quote service: %w", err)
	}
	body, err := readResponse("azure quote service", rsp)
	if err != nil {
		return nil, err
	}
	var out struct {
		Quote string `json:"quote"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Quote == "" {
		return nil, errors.New("azure quote service: the answer has no \"quote\"")
	}
	return decodeBase64URL(out.Quote)
}

// fetchVCEK gets the VM's VCEK from THIM (IMDS): {"vcekCert": PEM, "certificateChain": PEM, ...}.
// It returns the VCEK (DER, for the evidence) and the VCEK followed by THIM's chain (the ASK and
// the ARK, PEM) for the login's certificate: the sidecar checks the chain to its pinned ARK (and
// under AMD's ARK, the ASK against AMD's pinned one).
func fetchVCEK(cfg AzureConfig) ([]byte, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, cfg.THIMURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("azure THIM: %w", err)
	}
	req.Header.Set("Metadata", "true")
	rsp, err := httpClient(cfg).Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("azure THIM: %w", err)
	}
	body, err := readResponse("azure THIM", rsp)
	if err != nil {
		return nil, nil, err
	}
	var out struct {
		VCEK  string `json:"vcekCert"`
		Chain string `json:"certificateChain"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, nil, fmt.Errorf("azure THIM: %w", err)
	}
	block, _ := pem.Decode([]byte(out.VCEK))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, errors.New("azure THIM: vcekCert is not a PEM certificate")
	}
	chain := pem.EncodeToMemory(block)
	for rest := []byte(out.Chain); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf("azure THIM: certificateChain holds a %q block", b.Type)
		}
		chain = append(chain, pem.EncodeToMemory(b)...)
	}
	return block.Bytes, chain, nil
}

func decodeBase64URL(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}
