// The differential mode (-cases): every case of a tee-mutants cases.tsv through go-tdx-guest (TDX,
// with collateral and revocation, as timed in main.go) and go-sev-guest (SEV-SNP), one verdict
// line per case and peer; and -report, which joins those verdicts with ours and lists every
// disagreement by class (docs/conformance.md, scripts/differential.sh).
package main

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevverify "github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
	tdxverify "github.com/google/go-tdx-guest/verify"
)

// diffCase is one line of cases.tsv (see tests/mutation/mutants_main.cc).
type diffCase struct {
	id, tee, group, equivalent, evidence, cert, collateral, item, itemFile string
	at                                                                     time.Time
	ours, reason, message, description                                     string
}

func readCases(path string) ([]diffCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []diffCase
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for first := true; s.Scan(); first = false {
		if first {
			continue // the header
		}
		c := strings.Split(s.Text(), "\t")
		if len(c) != 14 {
			return nil, fmt.Errorf("%s: %d columns in %q", path, len(c), s.Text())
		}
		at, err := time.Parse(time.RFC3339, c[9])
		if err != nil {
			return nil, err
		}
		cases = append(cases, diffCase{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], at,
			c[10], c[11], c[12], c[13]})
	}
	return cases, s.Err()
}

// fileCache reads each file once (the unmutated vectors and collateral are shared by many cases).
type fileCache map[string][]byte

func (fc fileCache) get(path string) []byte {
	if b, ok := fc[path]; ok {
		return b
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(2)
	}
	fc[path] = b
	return b
}

// tdxGoTdxGuest verifies a TDX case with go-tdx-guest: collateral from the case's directory (one
// file replaced when the case says so), the Intel root from tests/data/tdx/extra as the only
// trust anchor, every time pinned to the case's.
func tdxGoTdxGuest(fc fileCache, roots *x509.CertPool, c diffCase) error {
	getter := memGetterFrom(func(name string) []byte {
		if name == c.item {
			return fc.get(c.itemFile)
		}
		return fc.get(filepath.Join(c.collateral, name))
	})
	at := c.at
	return tdxverify.RawTdxQuote(fc.get(c.evidence), &tdxverify.Options{
		CheckRevocations: true,
		GetCollateral:    true,
		Getter:           getter,
		TrustedRoots:     roots,
		Now:              &tdxverify.TimeSet{PckCertChain: at, TcbInfo: at, QeIdentity: at, PckCrl: at, RootCaCrl: at},
	})
}

// snpGoSevGuest verifies an SEV-SNP case with go-sev-guest: the case's certificate as the VCEK
// (VLEK when its file says so); a PEM file is the VCEK followed by the ASK and ARK, as Azure
// serves them. Certificate fetching is off; the trust anchors are the AMD ARK/ASK/ASVK chains of
// tests/data/sevsnp/chains (amdRoots), the same ones ours pins.
func snpGoSevGuest(fc fileCache, roots map[string][]*trust.AMDRootCerts, c diffCase) error {
	report, err := abi.ReportToProto(fc.get(c.evidence))
	if err != nil {
		return err
	}
	chain := &spb.CertificateChain{}
	if c.cert != "-" {
		cert := fc.get(c.cert)
		ders := [][]byte{cert}
		if strings.HasPrefix(string(cert), "-----BEGIN") {
			ders = nil
			for rest := cert; ; {
				var block *pem.Block
				block, rest = pem.Decode(rest)
				if block == nil {
					break
				}
				ders = append(ders, block.Bytes)
			}
		}
		if len(ders) > 0 {
			if strings.Contains(filepath.Base(c.cert), "vlek") {
				chain.VlekCert = ders[0]
			} else {
				chain.VcekCert = ders[0]
			}
		}
		if len(ders) > 1 {
			chain.AskCert = ders[1]
		}
		if len(ders) > 2 {
			chain.ArkCert = ders[2]
		}
	}
	return sevverify.SnpAttestation(&spb.Attestation{Report: report, CertificateChain: chain},
		&sevverify.Options{DisableCertFetching: true, Now: c.at, TrustedRoots: roots})
}

// amdRoots: go-sev-guest's trust anchors from tests/data/sevsnp/chains, per product line, the ASK
// and the ASVK chain each (go-sev-guest v0.15.0 embeds no ASVK, so a VLEK never verifies with its
// defaults).
func amdRoots(fc fileCache) (map[string][]*trust.AMDRootCerts, error) {
	roots := map[string][]*trust.AMDRootCerts{}
	for line, files := range map[string][]string{
		"Milan": {"ask_ark_milan.pem", "ask_ark_milan_vlek.pem"},
		"Genoa": {"ask_ark_genoa.pem", "ask_ark_genoa_vlek.pem"},
		"Turin": {"ask_ark_turin_vcek.pem", "ask_ark_turin_vlek.pem"},
	} {
		for _, f := range files {
			ask, rest := pem.Decode(fc.get(filepath.Join(*dataDir, "sevsnp/chains", f)))
			ark, _ := pem.Decode(rest)
			if ask == nil || ark == nil {
				return nil, fmt.Errorf("%s: expected the ASK (or ASVK) and the ARK", f)
			}
			r := trust.AMDRootCertsProduct(line)
			r.ProductCerts = &trust.ProductCerts{}
			if err := r.ProductCerts.Decode(ask.Bytes, ark.Bytes); err != nil {
				return nil, fmt.Errorf("%s: %v", f, err)
			}
			roots[line] = append(roots[line], r)
		}
	}
	return roots, nil
}

// recovered runs a peer's verification; a panic (a peer's bug on malformed input) is its refusal,
// reported as "PANIC: ..." so that docs/conformance.md can list it.
func recovered(verify func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
	}()
	return verify()
}

// runCases writes "id<TAB>peer<TAB>accept|reject<TAB>error" for every TDX and SEV-SNP case.
func runCases(casesPath string, out io.Writer) error {
	cases, err := readCases(casesPath)
	if err != nil {
		return err
	}
	fc := fileCache{}
	roots := x509.NewCertPool()
	rootPEM, _ := pem.Decode(fc.get(filepath.Join(*dataDir, "tdx/extra/intel_sgx_root_ca.pem")))
	root, err := x509.ParseCertificate(rootPEM.Bytes)
	if err != nil {
		return err
	}
	roots.AddCert(root)
	amd, err := amdRoots(fc)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	for _, c := range cases {
		var peer string
		var verify func() error
		switch c.tee {
		case "tdx":
			peer, verify = "go-tdx-guest", func() error { return tdxGoTdxGuest(fc, roots, c) }
		case "snp":
			peer, verify = "go-sev-guest", func() error { return snpGoSevGuest(fc, amd, c) }
		default:
			continue
		}
		verr := recovered(verify)
		if c.evidence != "-" && strings.Contains(c.evidence, "/files/") {
			delete(fc, c.evidence) // a mutant is read once
		}
		if verr == nil {
			fmt.Fprintf(w, "%s\t%s\taccept\t-\n", c.id, peer)
		} else {
			msg := strings.NewReplacer("\t", " ", "\n", " ").Replace(verr.Error())
			if len(msg) > 300 {
				msg = msg[:300]
			}
			fmt.Fprintf(w, "%s\t%s\treject\t%s\n", c.id, peer, msg)
		}
	}
	return nil
}
