package teeclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

var testNonce = func() []byte {
	n := make([]byte, 32)
	for i := range n {
		n[i] = byte(i)
	}
	return n
}()

// The same vectors as verifier/policy/policy_engine_tdx_test.cc, computed independently.
func TestReportDataMatchesTheSidecarsBinding(t *testing.T) {
	got, err := ReportData(testNonce, nil)
	if err != nil || hex.EncodeToString(got[:]) != "19141857387c7dbffc197207a17aa3b419376a7c6bf63c717d5c1d5cb9ff5697d4e55f91abc2eabacf7794c667ce8b2599cd34adc29c156b4755f2456174436c" {
		t.Fatalf("binding without key: %x %v", got, err)
	}
	got, _ = ReportData(testNonce, []byte("client-key"))
	if hex.EncodeToString(got[:]) != "888524d38d8e771423547e3900a1eefc1e361ef0b2013f243a1508091998f5fef167955ccfe89a0cd0f3d984c5a607e4597a51cd660fe69a600d22b6ea4cf1e3" {
		t.Fatalf("binding with key: %x", got)
	}
	if _, err := ReportData(nil, nil); err == nil {
		t.Fatal("empty nonce accepted")
	}
	if _, err := ReportData(make([]byte, 65), nil); err == nil {
		t.Fatal("oversized nonce accepted")
	}
}

// fakeTSM answers configfs-tsm entries the way tee-testgen serve-tsm does: once inblob appears,
// it writes provider, generation, auxblob and, last, outblob.
func fakeTSM(t *testing.T, dir, provider string, aux []byte, stop <-chan struct{}) {
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				p := filepath.Join(dir, e.Name())
				in, err := os.ReadFile(filepath.Join(p, "inblob"))
				if err != nil || len(in) != 64 {
					continue
				}
				if _, err := os.Stat(filepath.Join(p, "outblob")); err == nil {
					continue
				}
				_ = os.WriteFile(filepath.Join(p, "provider"), []byte(provider+"\n"), 0o600)
				_ = os.WriteFile(filepath.Join(p, "generation"), []byte("1\n"), 0o600)
				if aux != nil {
					_ = os.WriteFile(filepath.Join(p, "auxblob"), aux, 0o600)
				}
				_ = os.WriteFile(filepath.Join(p, "outblob.tmp"), append([]byte("report:"), in...), 0o600)
				_ = os.Rename(filepath.Join(p, "outblob.tmp"), filepath.Join(p, "outblob"))
			}
		}
	}()
}

func TestTsmRoundTrip(t *testing.T) {
	for _, c := range []struct {
		provider, tee string
		aux           []byte
	}{{"tdx_guest", "tdx", nil}, {"sev_guest", "sev-snp", []byte("cert-table")}} {
		t.Run(c.tee, func(t *testing.T) {
			dir := t.TempDir()
			stop := make(chan struct{})
			defer close(stop)
			fakeTSM(t, dir, c.provider, c.aux, stop)
			var rd [64]byte
			copy(rd[:], "report data")
			ev, err := Obtain(c.tee, Paths{TSM: dir, PrivLevel: -1}, rd)
			if err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte("report:"), rd[:]...), c.aux...)
			if ev.TeeType != c.tee || !bytes.Equal(ev.Bytes, want) {
				t.Fatalf("evidence %s %q", ev.TeeType, ev.Bytes)
			}
			// The entry is gone afterwards.
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("entries left: %v", left)
			}
		})
	}
}

func TestTsmProviderMismatchAndAbsence(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	defer close(stop)
	fakeTSM(t, dir, "sev_guest", nil, stop)
	if _, err := Obtain("tdx", Paths{TSM: dir, PrivLevel: -1}, [64]byte{}); err == nil || !strings.Contains(err.Error(), "not tdx") {
		t.Fatalf("mismatch: %v", err)
	}
	_, err := Obtain("auto", Paths{TSM: "/nonexistent", NSMDevice: "/nonexistent-nsm", SevGuestDevice: "/nonexistent-sev", PrivLevel: -1}, [64]byte{})
	if err == nil || !strings.Contains(err.Error(), "no TEE evidence provider found") {
		t.Fatalf("absent: %v", err)
	}
}

func TestNsmOverATestSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nsm.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			var req nsmRequest
			buf := make([]byte, 4096)
			n, _ := conn.Read(buf)
			if cbor.Unmarshal(buf[:n], &req) != nil || len(req.Attestation.Nonce) != 64 {
				out, _ := cbor.Marshal(map[string]string{"Error": "InvalidArgument"})
				conn.Write(out)
			} else {
				out, _ := cbor.Marshal(map[string]map[string][]byte{"Attestation": {"document": append([]byte("doc:"), req.Attestation.Nonce...)}})
				conn.Write(out)
			}
			conn.Close()
		}
	}()
	var rd [64]byte
	copy(rd[:], "nonce bytes")
	ev, err := Obtain("auto", Paths{NSMDevice: path, TSM: "/nonexistent", PrivLevel: -1}, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ev.TeeType != "nitro" || !bytes.Equal(ev.Bytes, append([]byte("doc:"), rd[:]...)) {
		t.Fatalf("evidence %s %q", ev.TeeType, ev.Bytes)
	}
}

func TestIoctlNumbersMatchTheKernelHeaders(t *testing.T) {
	// _IOWR(0x0A, 0, struct nsm_raw /* 32 bytes */) and _IOWR('S', 0, struct
	// snp_guest_request_ioctl /* 32 bytes */), computed by hand from the ioctl encoding.
	if nsmIoctlRequest != 0xc0200a00 {
		t.Fatalf("NSM ioctl 0x%x", nsmIoctlRequest)
	}
	if snpGetReport != 0xc0205300 {
		t.Fatalf("SNP_GET_REPORT 0x%x", snpGetReport)
	}
}

func TestCertificateReportDataIsTheDocumentedHash(t *testing.T) {
	// SHA-512("tee-auth attested-cert v1" || 0x00 || SHA-256("spki") || u64be(1767225600)),
	// computed with Python's hashlib; the sidecar's test pins the same value.
	got := CertificateReportData([]byte("spki"), time.Unix(1767225600, 0))
	want := "4cb0c9a0e1c6ef04d72b14c982c148782de1370a2e8c9f26d7b2ceedf6a805c4fef5b71a739c16e8697b5f48" +
		"a47f820a46eeabdd36f152c9da2c61bfdb0f99b5"
	if hex.EncodeToString(got[:]) != want {
		t.Fatalf("got %x", got)
	}
}

func TestMintedCertificateCarriesEvidenceBindingItsKey(t *testing.T) {
	key, err := NewCertKey()
	if err != nil {
		t.Fatal(err)
	}
	notBefore := time.Unix(1767225600, 500_000_000)
	var bound [64]byte
	der, err := MintCertificate(CertRequest{Key: key, NotBefore: notBefore, Lifetime: time.Minute, CommonName: "tee-auth x"},
		func(rd [64]byte) (*Evidence, error) {
			bound = rd
			return &Evidence{TeeType: "tdx", Bytes: []byte("quote")}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if bound != CertificateReportData(spki, time.Unix(1767225600, 0)) || !cert.NotBefore.Equal(time.Unix(1767225600, 0)) ||
		!cert.NotAfter.Equal(time.Unix(1767225660, 0)) {
		t.Fatalf("binding or validity wrong: %v %v", cert.NotBefore, cert.NotAfter)
	}
	var evidence []byte
	for _, e := range cert.Extensions {
		if e.Id.Equal(EvidenceOID) {
			if e.Critical {
				t.Fatal("evidence extension is critical")
			}
			evidence = e.Value
		}
	}
	if string(evidence) != "quote" {
		t.Fatalf("evidence %q", evidence)
	}

	dir := t.TempDir()
	if err := WriteCertificate(dir, key, der); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil || !bytes.Equal(pair.Certificate[0], der) {
		t.Fatalf("written pair does not load: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 || strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("%s: mode %v", e.Name(), info.Mode())
		}
	}
}
