package teeclient

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// A real TPM 2.0 (swtpm, Debian swtpm; scripts/setup.sh installs it) provisioned as an Azure CVM's
// vTPM: an AK at 0x81000003 and an HCL report at NV 0x01400001 whose runtime data holds that AK.
// The hardware report in it is a placeholder with the right REPORT_DATA (the producer never looks
// inside it; the sidecar verifies it).

func startSwtpm(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		t.Skip("swtpm is not installed (scripts/setup.sh installs it)")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tpm.sock")
	cmd := exec.Command(bin, "socket", "--tpm2", "--tpmstate", "dir="+dir,
		"--server", "type=unixio,path="+sock, "--ctrl", "type=unixio,path="+filepath.Join(dir, "ctrl.sock"),
		"--flags", "not-need-init,startup-clear")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting swtpm: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Ready when the TPM answers; the deadline is generous for a loaded machine.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			if tpm, err := linuxudstpm.Open(sock); err == nil {
				_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(tpm)
				tpm.Close()
				if err == nil {
					return sock
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("swtpm did not answer within 60s: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openTestTPM(t *testing.T, sock string) transport.TPMCloser {
	t.Helper()
	tpm, err := linuxudstpm.Open(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tpm.Close() })
	return tpm
}

// provisionAK creates an RSA-2048 restricted signing key (RSASSA/SHA-256), as Azure's AK, and
// makes it persistent at 0x81000003. Returns its public key.
func provisionAK(t *testing.T, tpm transport.TPM) *rsa.PublicKey {
	t.Helper()
	primary, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:    tpm2.TPMAlgRSA,
			NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{
				FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true,
				Restricted: true, SignEncrypt: true,
			},
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
				Scheme: tpm2.TPMTRSAScheme{
					Scheme:  tpm2.TPMAlgRSASSA,
					Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgRSASSA, &tpm2.TPMSSigSchemeRSASSA{HashAlg: tpm2.TPMAlgSHA256}),
				},
				KeyBits: 2048,
			}),
		}),
	}.Execute(tpm)
	if err != nil {
		t.Fatalf("CreatePrimary: %v", err)
	}
	if _, err := (tpm2.EvictControl{
		Auth:             tpm2.TPMRHOwner,
		ObjectHandle:     tpm2.NamedHandle{Handle: primary.ObjectHandle, Name: primary.Name},
		PersistentHandle: azureAKHandle,
	}).Execute(tpm); err != nil {
		t.Fatalf("EvictControl: %v", err)
	}
	if _, err := (tpm2.FlushContext{FlushHandle: primary.ObjectHandle}).Execute(tpm); err != nil {
		t.Fatalf("FlushContext: %v", err)
	}
	pub, err := primary.OutPublic.Contents()
	if err != nil {
		t.Fatal(err)
	}
	n, err := pub.Unique.RSA()
	if err != nil {
		t.Fatal(err)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n.Buffer), E: 65537}
}

// testHCLReport is an HCL report of `reportType` (2 SNP, 4 TDX) whose runtime data holds `ak`;
// its hardware report is a placeholder with REPORT_DATA = SHA-256(runtime data).
func testHCLReport(t *testing.T, reportType uint32, ak *rsa.PublicKey) []byte {
	t.Helper()
	runtime, err := json.Marshal(map[string]any{
		"keys": []map[string]any{{"kid": "HCLAkPub", "key_ops": []string{"sign"}, "kty": "RSA",
			"e": "AQAB", "n": base64.RawURLEncoding.EncodeToString(ak.N.Bytes())}},
		"vm-configuration": map[string]any{"secure-boot": true, "tpm-enabled": true, "vmUniqueId": "test-vm"},
		"user-data":        hex.EncodeToString(make([]byte, 64)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hw := make([]byte, hclHardwareSize)
	digest := sha256.Sum256(runtime)
	if reportType == 2 {
		copy(hw[0x50:], digest[:])
	} else {
		copy(hw[128:], digest[:])
	}
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	var b bytes.Buffer
	b.WriteString("HCLA")
	b.Write(u32(2))
	b.Write(u32(uint32(32 + hclHardwareSize + 20 + len(runtime))))
	b.Write(u32(2))
	b.Write(make([]byte, 16))
	b.Write(hw)
	b.Write(u32(uint32(20 + len(runtime))))
	b.Write(u32(1))
	b.Write(u32(reportType))
	b.Write(u32(1))
	b.Write(u32(uint32(len(runtime))))
	b.Write(runtime)
	// Azure's index is 2600 bytes with zero padding after report_size; libtpms limits an NV index
	// to 2048 bytes, so the test index holds the report without its padding (the sidecar accepts
	// both).
	return b.Bytes()
}

func provisionHCLReport(t *testing.T, tpm transport.TPM, report []byte) {
	t.Helper()
	def := tpm2.NVDefineSpace{
		AuthHandle: tpm2.TPMRHOwner,
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
			NVIndex:    tpm2.TPMHandle(azureHCLReportIndex),
			NameAlg:    tpm2.TPMAlgSHA256,
			Attributes: tpm2.TPMANV{OwnerWrite: true, OwnerRead: true, AuthRead: true, NT: tpm2.TPMNTOrdinary, NoDA: true},
			DataSize:   uint16(len(report)),
		}),
	}
	if _, err := def.Execute(tpm); err != nil {
		t.Fatalf("NV_DefineSpace: %v", err)
	}
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(azureHCLReportIndex)}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(report); off += nvChunk {
		end := min(off+nvChunk, len(report))
		if _, err := (tpm2.NVWrite{
			AuthHandle: ownerAuth(),
			NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(azureHCLReportIndex), Name: pub.NVName},
			Data:       tpm2.TPM2BMaxNVBuffer{Buffer: report[off:end]},
			Offset:     uint16(off),
		}).Execute(tpm); err != nil {
			t.Fatalf("NV_Write at %d: %v", off, err)
		}
	}
}

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

// azureVTPM is a started swtpm provisioned as an Azure vTPM with an HCL report of reportType.
func azureVTPM(t *testing.T, reportType uint32) (sock string, tpm transport.TPM, ak *rsa.PublicKey, report []byte) {
	t.Helper()
	sock = startSwtpm(t)
	tpm = openTestTPM(t, sock)
	ak = provisionAK(t, tpm)
	report = testHCLReport(t, reportType, ak)
	provisionHCLReport(t, tpm, report)
	return sock, tpm, ak, report
}

// obtainAzure runs the producer and decodes its evidence, which must be of kind tee.
func obtainAzure(t *testing.T, cfg AzureConfig, binding [64]byte, tee string) azureEvidenceJSON {
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
	return ev
}

func TestAzureSnpEvidenceFromATPM(t *testing.T) {
	sock, tpm, ak, report := azureVTPM(t, 2)
	vcek := []byte("test VCEK DER")
	thim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "true" {
			http.Error(w, "Metadata: true required", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"vcekCert": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vcek})),
		})
	}))
	defer thim.Close()

	binding := sha256.Sum256([]byte("nonce"))
	var b [64]byte
	copy(b[:], binding[:])
	ev := obtainAzure(t, AzureConfig{TPM: sock, THIMURL: thim.URL}, b, "az-snp-vtpm")
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
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Report string `json:"report"`
		}
		td, err := base64.RawURLEncoding.DecodeString(func() string { _ = json.NewDecoder(r.Body).Decode(&req); return req.Report }())
		if err != nil || !bytes.Equal(td, report[hclHardwareOffset:hclHardwareOffset+tdReportSize]) {
			http.Error(w, "not the TD report", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"quote": base64.RawURLEncoding.EncodeToString(tdQuote)})
	}))
	defer service.Close()

	var b [64]byte
	copy(b[:], "binding")
	ev := obtainAzure(t, AzureConfig{TPM: sock, QuoteURL: service.URL}, b, "az-tdx-vtpm")
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
	sock := startSwtpm(t)
	tpm := openTestTPM(t, sock)
	ak := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 2047), E: 65537}
	provisionHCLReport(t, tpm, testHCLReport(t, 2, ak))
	_, err := AzureEvidence(AzureConfig{TPM: sock}, [64]byte{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("attestation key 0x81000003")) {
		t.Fatalf("err = %v", err)
	}
}
