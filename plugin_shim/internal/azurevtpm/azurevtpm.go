// Package azurevtpm is test support: it starts a real TPM 2.0 (swtpm, Debian swtpm; scripts/setup.sh
// installs it) and provisions it as an Azure confidential VM's vTPM (docs/azure.md): the
// attestation key (AK) at persistent handle 0x81000003 and an HCL report at NV index 0x01400001
// whose runtime data holds that AK and whose hardware report binds SHA-256 of the runtime data.
// The tee-login unit tests (teeclient) and the integration tests through OpenBao share it.
//
// The constants are Azure's, written out here rather than taken from teeclient so that the
// provisioning side of a test does not trust the code it tests.
package azurevtpm

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

const (
	HCLReportIndex = 0x01400001 // the HCL report
	AKHandle       = 0x81000003 // the attestation key

	// The HCL report's slot for the hardware report: an SEV-SNP report (1184 bytes) or a
	// TDREPORT (1024 bytes, zero padded).
	HardwareReportSize = 1184
	TDReportSize       = 1024

	ReportTypeSNP = 2
	ReportTypeTDX = 4

	nvChunk = 512 // below every TPM's MAX_NV_BUFFER_SIZE
)

// Swtpm is a running swtpm.
type Swtpm struct {
	Socket string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Launch starts swtpm with its state and socket in dir and returns once the TPM answers (or
// fails after timeout: a readiness poll, so a busy machine only waits longer). swtpm dies with
// the calling process (Pdeathsig); its output goes to stderr.
func Launch(dir string, stderr io.Writer, timeout time.Duration) (*Swtpm, error) {
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		return nil, errors.New("swtpm is not installed (scripts/setup.sh installs it)")
	}
	s := &Swtpm{Socket: filepath.Join(dir, "tpm.sock"), exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "socket", "--tpm2", "--tpmstate", "dir="+dir,
		"--server", "type=unixio,path="+s.Socket, "--ctrl", "type=unixio,path="+filepath.Join(dir, "ctrl.sock"),
		"--flags", "not-need-init,startup-clear")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.cmd.Stderr = stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting swtpm: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(s.Socket); err == nil {
			if tpm, err := linuxudstpm.Open(s.Socket); err == nil {
				_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(tpm)
				tpm.Close()
				if err == nil {
					return s, nil
				}
			}
		}
		select {
		case <-s.exited:
			return nil, errors.New("swtpm exited")
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("swtpm did not answer within %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills swtpm and waits for it.
func (s *Swtpm) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Start starts swtpm for the test (Launch) and returns its socket; the test's cleanup stops it.
func Start(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm is not installed (scripts/setup.sh installs it)")
	}
	var stderr bytes.Buffer
	s, err := Launch(t.TempDir(), &stderr, 60*time.Second)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	t.Cleanup(s.Stop)
	return s.Socket
}

// Open connects to the TPM at sock for the rest of the test.
func Open(t testing.TB, sock string) transport.TPMCloser {
	t.Helper()
	tpm, err := linuxudstpm.Open(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tpm.Close() })
	return tpm
}

// ProvisionAK is CreateAK for a test.
func ProvisionAK(t testing.TB, tpm transport.TPM) *rsa.PublicKey {
	t.Helper()
	return must[*rsa.PublicKey](t)(CreateAK(tpm))
}

// must fails the test on err, else returns v: must(t)(f()).
func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// CreateAK creates an RSA-2048 restricted signing key (RSASSA/SHA-256), as Azure's AK, makes it
// persistent at AKHandle and returns its public key.
func CreateAK(tpm transport.TPM) (*rsa.PublicKey, error) {
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
		return nil, fmt.Errorf("CreatePrimary: %w", err)
	}
	if _, err := (tpm2.EvictControl{
		Auth:             tpm2.TPMRHOwner,
		ObjectHandle:     tpm2.NamedHandle{Handle: primary.ObjectHandle, Name: primary.Name},
		PersistentHandle: AKHandle,
	}).Execute(tpm); err != nil {
		return nil, fmt.Errorf("EvictControl: %w", err)
	}
	if _, err := (tpm2.FlushContext{FlushHandle: primary.ObjectHandle}).Execute(tpm); err != nil {
		return nil, fmt.Errorf("FlushContext: %w", err)
	}
	pub, err := primary.OutPublic.Contents()
	if err != nil {
		return nil, err
	}
	n, err := pub.Unique.RSA()
	if err != nil {
		return nil, err
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n.Buffer), E: 65537}, nil
}

// RuntimeData is NewRuntimeData for a test.
func RuntimeData(t testing.TB, ak *rsa.PublicKey) []byte {
	t.Helper()
	return must[[]byte](t)(NewRuntimeData(ak))
}

// NewRuntimeData is the HCL runtime data JSON of a VM whose vTPM AK is ak (the JWK "HCLAkPub"),
// with Secure Boot and the TPM on.
func NewRuntimeData(ak *rsa.PublicKey) ([]byte, error) {
	return json.Marshal(map[string]any{
		"keys": []map[string]any{{"kid": "HCLAkPub", "key_ops": []string{"sign"}, "kty": "RSA",
			"e": "AQAB", "n": base64.RawURLEncoding.EncodeToString(ak.N.Bytes())}},
		"vm-configuration": map[string]any{"secure-boot": true, "tpm-enabled": true, "vmUniqueId": "test-vm"},
		"user-data":        hex.EncodeToString(make([]byte, 64)),
	})
}

// ReportData is the REPORT_DATA the hardware report must carry: SHA-256(runtime data), then zeros.
func ReportData(runtime []byte) [64]byte {
	var out [64]byte
	digest := sha256.Sum256(runtime)
	copy(out[:], digest[:])
	return out
}

// PlaceholderHardwareReport is a zero hardware report of reportType with only its REPORT_DATA
// set: enough for tests of the producer, which never looks inside it; nothing verifies it.
func PlaceholderHardwareReport(reportType uint32, runtime []byte) []byte {
	hw := make([]byte, HardwareReportSize)
	rd := ReportData(runtime)
	if reportType == ReportTypeSNP {
		copy(hw[0x50:], rd[:])
	} else {
		copy(hw[128:], rd[:])
	}
	return hw
}

// HCLReport is an HCL report of reportType (ReportTypeSNP, ReportTypeTDX) carrying the hardware
// report hw (at most HardwareReportSize bytes, zero padded) and the runtime data.
func HCLReport(reportType uint32, hw, runtime []byte) []byte {
	slot := make([]byte, HardwareReportSize)
	copy(slot, hw)
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	var b bytes.Buffer
	b.WriteString("HCLA")
	b.Write(u32(2))
	b.Write(u32(uint32(32 + HardwareReportSize + 20 + len(runtime))))
	b.Write(u32(2))
	b.Write(make([]byte, 16))
	b.Write(slot)
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

func ownerAuth() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
}

// ProvisionHCLReport is WriteHCLReport for a test.
func ProvisionHCLReport(t testing.TB, tpm transport.TPM, report []byte) {
	t.Helper()
	if err := WriteHCLReport(tpm, report); err != nil {
		t.Fatal(err)
	}
}

// WriteHCLReport defines NV HCLReportIndex holding report (owner read/write).
func WriteHCLReport(tpm transport.TPM, report []byte) error {
	def := tpm2.NVDefineSpace{
		AuthHandle: tpm2.TPMRHOwner,
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
			NVIndex:    tpm2.TPMHandle(HCLReportIndex),
			NameAlg:    tpm2.TPMAlgSHA256,
			Attributes: tpm2.TPMANV{OwnerWrite: true, OwnerRead: true, AuthRead: true, NT: tpm2.TPMNTOrdinary, NoDA: true},
			DataSize:   uint16(len(report)),
		}),
	}
	if _, err := def.Execute(tpm); err != nil {
		return fmt.Errorf("NV_DefineSpace: %w", err)
	}
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(HCLReportIndex)}.Execute(tpm)
	if err != nil {
		return err
	}
	for off := 0; off < len(report); off += nvChunk {
		end := min(off+nvChunk, len(report))
		if _, err := (tpm2.NVWrite{
			AuthHandle: ownerAuth(),
			NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(HCLReportIndex), Name: pub.NVName},
			Data:       tpm2.TPM2BMaxNVBuffer{Buffer: report[off:end]},
			Offset:     uint16(off),
		}).Execute(tpm); err != nil {
			return fmt.Errorf("NV_Write at %d: %w", off, err)
		}
	}
	return nil
}

// Measure is Extend for a test.
func Measure(t testing.TB, tpm transport.TPM, index uint, event string) []byte {
	t.Helper()
	return must[[]byte](t)(Extend(tpm, index, event))
}

// Extend extends PCR index (SHA-256 bank) with SHA-256(event), as firmware or a boot loader
// measures what it loads, and returns the PCR's new value.
func Extend(tpm transport.TPM, index uint, event string) ([]byte, error) {
	digest := sha256.Sum256([]byte(event))
	if _, err := (tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(index), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: digest[:]}}},
	}).Execute(tpm); err != nil {
		return nil, fmt.Errorf("PCR_Extend %d: %w", index, err)
	}
	rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(index)},
	}}}.Execute(tpm)
	if err != nil {
		return nil, fmt.Errorf("PCR_Read %d: %w", index, err)
	}
	if len(rsp.PCRValues.Digests) != 1 {
		return nil, fmt.Errorf("PCR_Read %d: %d values", index, len(rsp.PCRValues.Digests))
	}
	return rsp.PCRValues.Digests[0].Buffer, nil
}

// TDReport is the TDREPORT (TDX module ABI: REPORTMACSTRUCT at 0, TEE_TCB_INFO at 256, TDINFO at
// 512) whose fields are those of the TD quote's body: what the paravisor puts into the HCL report
// and the quote service turns into that quote. The MAC and the fields no quote carries stay zero.
func TDReport(quote []byte) ([]byte, error) {
	if len(quote) < 48 {
		return nil, fmt.Errorf("td quote: %d bytes", len(quote))
	}
	body := 48
	switch v := binary.LittleEndian.Uint16(quote); v {
	case 4:
	case 5:
		body += 6 // the body's type and size
	default:
		return nil, fmt.Errorf("td quote: version %d", v)
	}
	if len(quote) < body+584 {
		return nil, fmt.Errorf("td quote: %d bytes, too short for a body", len(quote))
	}
	q := quote[body:]
	r := make([]byte, TDReportSize)
	r[0] = 0x81 // REPORTTYPE: TDX
	for _, f := range []struct{ at, from, size int }{
		{128, 520, 64},  // report_data
		{264, 0, 16},    // tee_tcb_svn
		{280, 16, 48},   // mr_seam
		{328, 64, 48},   // mr_signer_seam
		{376, 112, 8},   // seam_attributes
		{512, 120, 8},   // td_attributes
		{520, 128, 8},   // xfam
		{528, 136, 48},  // mr_td
		{576, 184, 48},  // mr_config_id
		{624, 232, 48},  // mr_owner
		{672, 280, 48},  // mr_owner_config
		{720, 328, 192}, // rtmr0-3
	} {
		copy(r[f.at:f.at+f.size], q[f.from:f.from+f.size])
	}
	return r, nil
}
