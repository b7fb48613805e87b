// The differential report: our verdicts (cases.tsv) joined with the peers' (verdict files from
// -cases here and from the Rust peers), counted per TEE and peer, every disagreement put in a
// class. A class is "explained" when docs/conformance.md says which check differs and why; an
// unexplained disagreement makes the report exit 1, so that CI notices a new one.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type verdict struct {
	accept bool
	err    string
}

func readVerdicts(paths []string) (map[string]map[string]verdict, error) {
	byPeer := map[string]map[string]verdict{} // peer -> case id -> verdict
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			c := strings.SplitN(s.Text(), "\t", 4)
			if len(c) != 4 {
				f.Close()
				return nil, fmt.Errorf("%s: bad line %q", p, s.Text())
			}
			if byPeer[c[1]] == nil {
				byPeer[c[1]] = map[string]verdict{}
			}
			byPeer[c[1]][c[0]] = verdict{c[2] == "accept", c[3]}
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, err
		}
	}
	return byPeer, nil
}

// disagreementClass names why ours and a peer disagree on a case; known is false for a
// disagreement docs/conformance.md does not explain.
type disagreementClass struct {
	name  string
	known bool
}

func classify(c diffCase, peer string, v verdict) disagreementClass {
	for _, k := range knownClasses {
		if k.peer == peer && k.tee == c.tee && (c.ours == "accept") == k.oursAccepts && k.match(c, v) {
			return disagreementClass{k.name, true}
		}
	}
	if c.ours == "accept" {
		return disagreementClass{fmt.Sprintf("ours accepts, %s refuses: %s", peer, firstWords(v.err, 8)), false}
	}
	return disagreementClass{fmt.Sprintf("ours refuses (%s: %s), %s accepts", c.reason,
		firstWords(c.message, 10), peer), false}
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) > n {
		w = append(w[:n], "...")
	}
	return strings.Join(w, " ")
}

// knownClass is a disagreement docs/conformance.md explains, under the class's name (D1...).
type knownClass struct {
	tee, peer   string
	oursAccepts bool
	name        string
	match       func(c diffCase, v verdict) bool
}

// oursSays matches our refusal by reason and a part of its message.
func oursSays(reason, part string) func(c diffCase, v verdict) bool {
	return func(c diffCase, v verdict) bool {
		return c.reason == reason && strings.Contains(c.message, part)
	}
}

// peerSays matches the peer's refusal by a part of its error.
func peerSays(part string) func(c diffCase, v verdict) bool {
	return func(c diffCase, v verdict) bool { return strings.Contains(v.err, part) }
}

var knownClasses = []knownClass{
	{"tdx", "go-tdx-guest", false, "D1 non-zero bytes after the quote's signature data",
		oursSays("MALFORMED_EVIDENCE", "follow the signature data")},
	{"tdx", "go-tdx-guest", false, "D2 bytes after a DER CRL",
		oursSays("COLLATERAL_INVALID", "trailing bytes after the DER")},
	{"tdx", "go-tdx-guest", false, "D3 collateral issued after the verification time",
		oursSays("EXPIRED", "is not valid before")},
	{"tdx", "go-tdx-guest", false, "D4 the PCK CRL's issuer chain is not checked by go-tdx-guest",
		oursSays("CERT_CHAIN_INVALID", "pck_crl_issuer_chain.pem:")},
	{"tdx", "go-tdx-guest", false, "D5 PEM outside the strict form in the quote's PCK chain",
		oursSays("CERT_CHAIN_INVALID", "not in strict PEM form")},
	{"tdx", "go-tdx-guest", true, "D6 quote v5 (TDX 1.5): go-tdx-guest verifies only v4",
		peerSays("quote format not supported")},
	{"tdx", "dcap-qvl", false, "D1 non-zero bytes after the quote's signature data",
		oursSays("MALFORMED_EVIDENCE", "follow the signature data")},
	{"tdx", "dcap-qvl", false, "D12 chain certificates dcap-qvl never parses (roots, extra blocks) or PEM it reads leniently",
		func(c diffCase, v verdict) bool {
			return (c.reason == "CERT_CHAIN_INVALID" || c.reason == "COLLATERAL_INVALID") &&
				(strings.Contains(c.message, "issuer_chain.pem") || strings.HasPrefix(c.message, "tdx quote pck chain:"))
		}},
	{"tdx", "dcap-qvl", false, "D13 an unknown certification data type",
		oursSays("UNSUPPORTED_FORMAT", "certification_data.type")},
	{"tdx", "dcap-qvl", true, "D14 a debug TD: dcap-qvl refuses it in verification, ours leaves it to the role",
		peerSays("Debug mode is enabled")},
	{"snp", "go-sev-guest", false, "D7 bytes after the 1184-byte report",
		oursSays("MALFORMED_EVIDENCE", "bytes after the 1184-byte report")},
	{"snp", "go-sev-guest", false, "D8 a malformed PEM chain file (the harness gives go-sev-guest the blocks that decode)",
		oursSays("CERT_CHAIN_INVALID", "sev-snp --cert:")},
	{"snp", "go-sev-guest", false, "D9 an ASK or ARK carried with the evidence that is not AMD's",
		oursSays("CERT_CHAIN_INVALID", "carried with the evidence")},
	{"snp", "go-sev-guest", false, "D10 go-sev-guest verifies the signature over its re-encoding of the report",
		oursSays("BAD_SIGNATURE", "sev-snp report: signature by the")},
	{"snp", "go-sev-guest", true, "D11 CPU model 0xA0 (Genoa product line): unknown to go-sev-guest's product table",
		func(c diffCase, v verdict) bool {
			return strings.HasPrefix(c.description, "trustee_e2e-report.bin") &&
				strings.Contains(v.err, "VCEK could not be verified by any trusted roots. Last error: <nil>")
		}},
}

type tally struct {
	cases, bothAccept, bothRefuse, panics int
	classes                               map[disagreementClass][]diffCase
}

// report prints, per TEE and peer, the cases, agreements and disagreement classes (with up to
// three examples each) and returns 1 when a disagreement is unexplained.
func report(casesPath string, verdictPaths []string, out io.Writer) int {
	cases, err := readCases(casesPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		return 2
	}
	byPeer, err := readVerdicts(verdictPaths)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		return 2
	}
	peers := make([]string, 0, len(byPeer))
	for p := range byPeer {
		peers = append(peers, p)
	}
	sort.Strings(peers)
	status := 0
	for _, peer := range peers {
		t := tally{classes: map[disagreementClass][]diffCase{}}
		tee := ""
		for _, c := range cases {
			v, ok := byPeer[peer][c.id]
			if !ok {
				continue
			}
			tee = c.tee
			t.cases++
			if strings.HasPrefix(v.err, "PANIC") {
				t.panics++
			}
			switch {
			case v.accept && c.ours == "accept":
				t.bothAccept++
			case !v.accept && c.ours == "reject":
				t.bothRefuse++
			default:
				k := classify(c, peer, v)
				t.classes[k] = append(t.classes[k], c)
			}
		}
		disagree := t.cases - t.bothAccept - t.bothRefuse
		fmt.Fprintf(out, "%s %s: %d cases, %d agreements (%d both accept, %d both refuse), %d disagreements, %d peer panics\n",
			tee, peer, t.cases, t.bothAccept+t.bothRefuse, t.bothAccept, t.bothRefuse, disagree, t.panics)
		classes := make([]disagreementClass, 0, len(t.classes))
		for k := range t.classes {
			classes = append(classes, k)
		}
		sort.Slice(classes, func(i, j int) bool { return len(t.classes[classes[i]]) > len(t.classes[classes[j]]) })
		for _, k := range classes {
			mark := "explained"
			if !k.known {
				mark, status = "UNEXPLAINED", 1
			}
			fmt.Fprintf(out, "  %5d  %s  [%s]\n", len(t.classes[k]), k.name, mark)
			for i, c := range t.classes[k] {
				if i == 3 {
					break
				}
				fmt.Fprintf(out, "         case %s (%s): %s; peer: %s\n", c.id, c.group, c.description,
					firstWords(byPeer[peer][c.id].err, 14))
			}
		}
	}
	return status
}
