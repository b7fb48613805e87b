// Package teeclient is what a workload runs inside its TEE to log in: it binds the server's
// nonce into REPORT_DATA (or a Nitro document's nonce) and obtains evidence from the platform.
package teeclient

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
)

// reportDataDomain separates this binding from any other use of REPORT_DATA. It must match the
// sidecar's (verifier/policy/nonce_binding.h); docs/policy.md defines the binding.
const reportDataDomain = "tee-auth report-data v1"

// ReportData returns the 64 bytes the evidence must carry for this nonce and optional client key:
//
//	SHA-512(domain || 0x00 || u8(len(nonce)) || nonce || u8(len(key_hash)) || key_hash)
//
// with key_hash = SHA-256(client public key), or empty.
func ReportData(nonce, clientPublicKey []byte) ([64]byte, error) {
	if len(nonce) == 0 || len(nonce) > 64 {
		return [64]byte{}, errors.New("nonce: expected 1 to 64 bytes")
	}
	var keyHash []byte
	if len(clientPublicKey) > 0 {
		h := sha256.Sum256(clientPublicKey)
		keyHash = h[:]
	}
	in := []byte(reportDataDomain)
	in = append(in, 0, byte(len(nonce)))
	in = append(in, nonce...)
	in = append(in, byte(len(keyHash)))
	in = append(in, keyHash...)
	return sha512.Sum512(in), nil
}
