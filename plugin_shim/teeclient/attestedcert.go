package teeclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// EvidenceOID is the attested certificate's evidence extension (docs/workloads.md, "Attested
// certificate format"); it must match the sidecar's (verifier/attested_cert/attested_cert.h).
var EvidenceOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 16, 1}

const certReportDataDomain = "tee-auth attested-cert v1"

// CertificateReportData returns the 64 bytes an attested certificate's evidence carries:
//
//	SHA-512(domain || 0x00 || SHA-256(SubjectPublicKeyInfo DER) || u64be(notBefore Unix seconds))
func CertificateReportData(spkiDER []byte, notBefore time.Time) [64]byte {
	keyHash := sha256.Sum256(spkiDER)
	in := append([]byte(certReportDataDomain), 0)
	in = append(in, keyHash[:]...)
	in = binary.BigEndian.AppendUint64(in, uint64(notBefore.Unix()))
	return sha512.Sum512(in)
}

// CertRequest describes one attested certificate.
type CertRequest struct {
	Key        *ecdsa.PrivateKey // made inside the TEE; never leaves it
	NotBefore  time.Time         // truncated to the second: REPORT_DATA binds whole seconds
	Lifetime   time.Duration
	CommonName string
}

// ObtainFunc gets evidence carrying reportData (Obtain with the TEE's paths, in production).
type ObtainFunc func(reportData [64]byte) (*Evidence, error)

// NewCertKey makes the certificate's key pair (ECDSA P-256).
func NewCertKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MintCertificate makes a self-issued certificate for req.Key whose evidence extension binds the
// key and notBefore; it returns the DER.
func MintCertificate(req CertRequest, obtain ObtainFunc) ([]byte, error) {
	if req.Key == nil || req.Lifetime <= 0 {
		return nil, errors.New("attested certificate: a key and a positive lifetime are required")
	}
	notBefore := req.NotBefore.Truncate(time.Second)
	spki, err := x509.MarshalPKIXPublicKey(&req.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	evidence, err := obtain(CertificateReportData(spki, notBefore))
	if err != nil {
		return nil, fmt.Errorf("obtaining evidence: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: req.CommonName},
		NotBefore:       notBefore,
		NotAfter:        notBefore.Add(req.Lifetime),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{Id: EvidenceOID, Value: evidence.Bytes}},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &req.Key.PublicKey, req.Key)
}

// WriteCertificate writes DIR/key.pem and DIR/cert.pem (mode 0600), each through a temporary
// file renamed into place, so a reader sees a whole old or a whole new file, never a torn one.
// The key goes first: a reader between the two renames sees a new key with the old certificate,
// which fails the TLS handshake and is retried, rather than a certificate it cannot use later.
func WriteCertificate(dir string, key *ecdsa.PrivateKey, der []byte) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile0600(dir, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return err
	}
	return writeFile0600(dir, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeFile0600(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}
