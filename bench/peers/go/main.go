// Command peers times the Go peer verifiers on the vectors verify_bench uses, offline:
//
//   - github.com/google/go-tdx-guest verify.RawTdxQuote on dcap-qvl's TDX quote with the same
//     PCS collateral (served from tests/data by an in-memory Getter, so nothing goes to the
//     network) at 2025-07-19T10:00:34Z, with revocation checks;
//   - github.com/google/go-sev-guest verify.SnpAttestation on Oak's Milan and Genoa reports with
//     their VCEKs supplied (certificate fetching disabled) at 2025-10-01T08:00:00Z.
//
// Only the peers' public APIs are called. Each case prints one line:
//
//	peer=<module> case=<name> ns_per_op=<wall> cpu_ns_per_op=<process CPU> iterations=<n>
//
// or, when the peer refuses the vector, peer=... case=... error="...". scripts/bench.sh parses it.
//
// With -cases and -report it is the Go half of the differential test (diff.go, report.go).
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevverify "github.com/google/go-sev-guest/verify"
	"github.com/google/go-tdx-guest/pcs"
	tdxverify "github.com/google/go-tdx-guest/verify"
)

var (
	dataDir     = flag.String("data", "tests/data", "the repository's tests/data directory")
	seconds     = flag.Float64("seconds", 2, "minimum measuring time per case")
	casesFile   = flag.String("cases", "", "differential mode: verify every case of this tee-mutants cases.tsv, print verdicts")
	reportCases = flag.String("report", "", "differential report: this cases.tsv joined with the verdict files given as arguments")
)

func read(rel string) []byte {
	b, err := os.ReadFile(filepath.Join(*dataDir, rel))
	if err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(2)
	}
	return b
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op until at least *seconds have passed (after one untimed call) and prints the
// per-call wall and CPU time; an error from op is printed instead.
func measure(peer, name string, op func() error) {
	if err := op(); err != nil {
		fmt.Printf("peer=%s case=%s error=%q\n", peer, name, err.Error())
		return
	}
	n := 0
	startCPU := cpuTime()
	start := time.Now()
	for time.Since(start).Seconds() < *seconds {
		for i := 0; i < 10; i++ {
			if err := op(); err != nil {
				fmt.Printf("peer=%s case=%s error=%q\n", peer, name, err.Error())
				return
			}
		}
		n += 10
	}
	wall := time.Since(start)
	cpu := cpuTime() - startCPU
	fmt.Printf("peer=%s case=%s ns_per_op=%d cpu_ns_per_op=%d iterations=%d\n", peer, name,
		wall.Nanoseconds()/int64(n), cpu.Nanoseconds()/int64(n), n)
}

// pcsResponse is one Intel PCS answer: the issuer-chain header and the body.
type pcsResponse struct {
	header map[string][]string
	body   []byte
}

// memGetter answers go-tdx-guest's Intel PCS requests from the files of one collateral directory
// (tests/data/tdx/collateral/<name>), as PCS would, every file read once so that timing excludes
// the disk. Keys match a request URL by prefix or suffix.
type memGetter map[string]pcsResponse

func (m memGetter) Get(u string) (map[string][]string, []byte, error) {
	for key, r := range m {
		if strings.HasPrefix(u, key) || strings.HasSuffix(u, key) {
			return r.header, r.body, nil
		}
	}
	return nil, nil, fmt.Errorf("offline getter: no response for %s", u)
}

func newMemGetter(dir string) memGetter {
	return memGetterFrom(func(name string) []byte { return read(filepath.Join(dir, name)) })
}

// memGetterFrom is newMemGetter over any source of the collateral files, by file name.
func memGetterFrom(file func(name string) []byte) memGetter {
	header := func(key, chainFile string) map[string][]string {
		return map[string][]string{key: {url.QueryEscape(string(file(chainFile)))}}
	}
	return memGetter{
		pcs.TdxBaseURL + "/tcb?": {header(pcs.TcbInfoIssuerChainPhrase, "tcb_info_issuer_chain.pem"),
			file("tcb_info_response.json")},
		pcs.QeIdentityURL(): {header(pcs.SgxQeIdentityIssuerChainPhrase, "qe_identity_issuer_chain.pem"),
			file("qe_identity_response.json")},
		pcs.SgxBaseURL + "/pckcrl?": {header(pcs.SgxPckCrlIssuerChainPhrase, "pck_crl_issuer_chain.pem"),
			file("pck_crl.der")},
		"/IntelSGXRootCA.der": {map[string][]string{}, file("root_ca_crl.der")},
	}
}

// intelRoot is the Intel SGX Root CA, the last certificate of a PCS issuer chain, as the trust
// anchor (go-tdx-guest otherwise logs a warning per call and falls back on its embedded copy).
func intelRoot(dir string) *x509.CertPool {
	rest := read(filepath.Join(dir, "tcb_info_issuer_chain.pem"))
	var last *pem.Block
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		last, rest = block, r
	}
	cert, err := x509.ParseCertificate(last.Bytes)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func tdx() {
	quote := read("tdx/quotes/dcap-qvl_tdx_quote.bin")
	at := time.Date(2025, 7, 19, 10, 0, 34, 0, time.UTC)
	const dir = "tdx/collateral/dcap-qvl-2025-06"
	getter := newMemGetter(dir)
	roots := intelRoot(dir)
	full := func() error {
		opts := &tdxverify.Options{
			CheckRevocations: true,
			GetCollateral:    true,
			Getter:           getter,
			TrustedRoots:     roots,
			Now:              &tdxverify.TimeSet{PckCertChain: at, TcbInfo: at, QeIdentity: at, PckCrl: at, RootCaCrl: at},
		}
		return tdxverify.RawTdxQuote(quote, opts)
	}
	measure("go-tdx-guest", "tdx_dcap_qvl_full", full)
	// Signatures and the PCK chain only (no collateral): what go-tdx-guest does without PCS.
	sigs := func() error {
		opts := &tdxverify.Options{
			TrustedRoots: roots,
			Now:          &tdxverify.TimeSet{PckCertChain: at, TcbInfo: at, QeIdentity: at, PckCrl: at, RootCaCrl: at},
		}
		return tdxverify.RawTdxQuote(quote, opts)
	}
	measure("go-tdx-guest", "tdx_dcap_qvl_signatures_and_chain", sigs)
}

func snp(name, reportFile, vcekFile string) {
	raw := read(reportFile)
	vcek := read(vcekFile)
	at := time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)
	op := func() error {
		report, err := abi.ReportToProto(raw)
		if err != nil {
			return err
		}
		attestation := &spb.Attestation{
			Report:           report,
			CertificateChain: &spb.CertificateChain{VcekCert: vcek},
		}
		return sevverify.SnpAttestation(attestation, &sevverify.Options{
			DisableCertFetching: true,
			Now:                 at,
		})
	}
	measure("go-sev-guest", name, op)
}

// Floors: one ECDSA verification with Go's crypto/ecdsa (what the Go peers verify with), of the
// TDX quote signature (P-256) and of the Genoa report signature (P-384, little-endian r and s).
func floors() {
	quote := read("tdx/quotes/dcap-qvl_tdx_quote.bin")
	digest := sha256.Sum256(quote[:632])
	p256 := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(quote[700:732]),
		Y: new(big.Int).SetBytes(quote[732:764])}
	r, s := new(big.Int).SetBytes(quote[636:668]), new(big.Int).SetBytes(quote[668:700])
	measure("go-crypto", "ecdsa_p256", func() error {
		if !ecdsa.Verify(p256, digest[:], r, s) {
			return fmt.Errorf("P-256 signature does not verify")
		}
		return nil
	})

	report := read("sevsnp/reports/oak_genoa_oc_report.bin")
	vcek, err := x509.ParseCertificate(read("sevsnp/certs/oak_genoa_oc_vcek.der"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(2)
	}
	p384 := vcek.PublicKey.(*ecdsa.PublicKey)
	digest384 := sha512.Sum384(report[:0x2a0])
	le := func(b []byte) *big.Int { // 72 little-endian bytes, of which 48 are used
		be := make([]byte, 48)
		for i := range be {
			be[i] = b[47-i]
		}
		return new(big.Int).SetBytes(be)
	}
	r384, s384 := le(report[0x2a0:0x2e8]), le(report[0x2e8:0x330])
	measure("go-crypto", "ecdsa_p384", func() error {
		if !ecdsa.Verify(p384, digest384[:], r384, s384) {
			return fmt.Errorf("P-384 signature does not verify")
		}
		return nil
	})
}

func main() {
	flag.Parse()
	if *casesFile != "" {
		if err := runCases(*casesFile, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "peers: %v\n", err)
			os.Exit(2)
		}
		return
	}
	if *reportCases != "" {
		os.Exit(report(*reportCases, flag.Args(), os.Stdout))
	}
	floors()
	tdx()
	snp("snp_milan_oak", "sevsnp/reports/oak_milan_oc_release_report.bin",
		"sevsnp/certs/oak_milan_oc_release_vcek.der")
	snp("snp_genoa_oak", "sevsnp/reports/oak_genoa_oc_report.bin",
		"sevsnp/certs/oak_genoa_oc_vcek.der")
}
