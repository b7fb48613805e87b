// Command load times logins through OpenBao (or Vault): AppRole logins against TEE logins on the
// same server, alternated in rounds so that machine noise hits both. Run by scripts/load.sh
// against the stack of scripts/stack.sh (plugin on auth/tee, test sidecar trusting tee-testgen).
//
// Per round and concurrency: a batch of nonce requests (timed), the TDX evidence binding each
// nonce made by tee-testgen (not timed: on a real TEE the hardware makes it), then, in an order
// that rotates from round to round, a batch of each kind of login (each login timed):
//
//	approle        AppRole login (role_id + secret_id), built into the server
//	noop           login to the control plugin (noopplugin/): an external plugin that only issues
//	               a token, i.e. what the server charges any external auth plugin per login
//	tee            TEE login with a nonce from the nonce batch (login request only)
//	noop_evidence  the control's login with a TEE login's body: the same base64 evidence and a
//	               nonce (fields the control declares and ignores). What OpenBao charges per login
//	               for carrying ~4.8 KB of base64 evidence (JSON decoding, the existence check, login and
//	               role resolution calls that each send the body to the plugin, the audit device's
//	               copies and HMACs), none of which a plugin can avoid: tee over noop_evidence is
//	               the cost of what the TEE plugin and the sidecar do
//	tee_bad_nonce  TEE login with a nonce the server never issued: an intended 403 before the
//	               sidecar is called (breakdown: request dispatch to the plugin, role and config reads)
//
// Next to the nonce batch, "noop_request" times the same request to the control plugin (a
// no-op answer of the same shape). "nonce+tee" pairs each nonce request with the login that used
// it, "noop_request+noop" the control's pair. Before the rounds, -nonce-burst N nonce requests
// (GET) at concurrency 8, then one login: nonces cost no storage, so nothing is exhausted. Every batch also records
// the CPU time of the server, its plugin processes, the sidecar and this program.
package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/vault-plugin-auth-tee/plugin_shim/teeclient"
)

type options struct {
	addr, readAddr, token, testgen, profile, roleFile, policyFile, sidecarLog, out, tmp, kinds string
	serverPid, sidecarPid, rounds, batch, warmup, nonceBurst                                   int
	duration                                                                                   time.Duration
	concs                                                                                      []int
}

const (
	teeRole = "mcp-server-tdx"
	appRole = "load"
)

func main() {
	o := options{}
	var concs string
	flag.StringVar(&o.addr, "addr", os.Getenv("VAULT_ADDR"), "server address")
	flag.StringVar(&o.readAddr, "read-addr", "", "a read-serving standby (raft cluster): nonce and noop_request are "+
		"then GETs it answers itself; logins still go to -addr")
	flag.StringVar(&o.token, "token", "root", "root token (for provisioning)")
	flag.StringVar(&o.testgen, "testgen", "", "tee-testgen binary")
	flag.StringVar(&o.profile, "profile", "", "tee-testgen profile (policy_examples/test-tee-profile.json)")
	flag.StringVar(&o.roleFile, "role-file", "", "the TEE role (policy_examples/mcp-server-tdx.role.json)")
	flag.StringVar(&o.policyFile, "policy-file", "", "the Vault policy both roles grant (mcp-server-tdx.policy.hcl)")
	flag.StringVar(&o.sidecarLog, "sidecar-log", "", "the sidecar's decision log (optional)")
	flag.IntVar(&o.serverPid, "server-pid", 0, "server pid, for CPU accounting (optional)")
	flag.IntVar(&o.sidecarPid, "sidecar-pid", 0, "sidecar pid, for CPU accounting (optional)")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds")
	flag.IntVar(&o.batch, "batch", 120, "logins of each kind per round and concurrency")
	flag.IntVar(&o.warmup, "warmup", 10, "untimed logins of each kind first")
	flag.IntVar(&o.nonceBurst, "nonce-burst", 0, "nonce requests (GET) in a burst before the rounds, then one login")
	flag.StringVar(&concs, "concurrency", "1,4", "concurrency levels")
	flag.StringVar(&o.kinds, "kinds", "approle,noop,noop_evidence,tee,tee_bad_nonce", "login kinds to run (profiling runs one)")
	flag.DurationVar(&o.duration, "for", 0, "run rounds until this much time has passed (instead of -rounds)")
	flag.StringVar(&o.out, "out", "", "JSON report file")
	flag.StringVar(&o.tmp, "tmp", os.TempDir(), "directory for the test platform's configfs-tsm emulation")
	flag.Parse()
	for _, c := range strings.Split(concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "load: -concurrency: %q is not a positive number\n", c)
			os.Exit(2)
		}
		o.concs = append(o.concs, n)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}

// loader holds the clients and what provisioning returned.
type loader struct {
	o               options
	admin, login    *api.Client
	reader          *api.Client // nonce and noop_request reads from a standby (-read-addr); nil: -addr
	roleID, secret  string
	unboundEvidence string
	tsmDir          string // tee-testgen serve-tsm's directory
}

func newClient(addr string) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0 // a retried TEE login would only meet its spent nonce; no retries for either kind
	if t, ok := cfg.HttpClient.Transport.(*http.Transport); ok {
		t.MaxIdleConnsPerHost = 64 // keep every worker's connection alive
	}
	return api.NewClient(cfg)
}

func run(o options) error {
	admin, err := newClient(o.addr)
	if err != nil {
		return err
	}
	admin.SetToken(o.token)
	login, err := newClient(o.addr)
	if err != nil {
		return err
	}
	login.ClearToken()
	l := &loader{o: o, admin: admin, login: login}
	if o.readAddr != "" {
		if l.reader, err = newClient(o.readAddr); err != nil {
			return err
		}
		l.reader.ClearToken()
	}
	if err := l.provision(); err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	stopPlatform, err := l.startTestPlatform()
	if err != nil {
		return err
	}
	defer stopPlatform()
	ev, err := l.evidence([][]byte{randomNonce()})
	if err != nil {
		return err
	}
	l.unboundEvidence = ev[0]

	pr := procs{server: o.serverPid, sidecar: o.sidecarPid}
	slog := &sidecarLog{path: o.sidecarLog}
	kinds := strings.Split(o.kinds, ",")
	all := map[string]*series{}
	get := func(kind string, c int) *series {
		key := fmt.Sprintf("%s/c%d", kind, c)
		if all[key] == nil {
			all[key] = newSeries()
		}
		return all[key]
	}
	var decisionProblems []string
	report := map[string]interface{}{}
	if o.nonceBurst > 0 {
		b, err := l.nonceBurst(o.nonceBurst, 8)
		if err != nil {
			return err
		}
		report["nonce_burst"] = map[string]interface{}{
			"requests": o.nonceBurst, "concurrency": 8, "seconds": round2(b.wall.Seconds()),
			"rps": round2(float64(o.nonceBurst) / b.wall.Seconds()), "login_after": "ok",
		}
		fmt.Printf("nonce burst: %d GET auth/tee/nonce in %.1f s (%.0f/s), then a login: ok\n",
			o.nonceBurst, b.wall.Seconds(), float64(o.nonceBurst)/b.wall.Seconds())
	}

	// Warm-up: first logins create entities and open connections; not counted.
	if o.warmup > 0 {
		if _, err := l.round(o.warmup, 1, kinds, pr, slog, func(string, int) *series { return newSeries() }); err != nil {
			return err
		}
	}
	start := time.Now()
	for r := 0; (o.duration == 0 && r < o.rounds) || (o.duration > 0 && time.Since(start) < o.duration); r++ {
		for _, c := range o.concs {
			order := append(append([]string(nil), kinds[r%len(kinds):]...), kinds[:r%len(kinds)]...)
			problems, err := l.round(o.batch, c, order, pr, slog, get)
			if err != nil {
				return err
			}
			decisionProblems = append(decisionProblems, problems...)
		}
	}
	elapsed := time.Since(start)

	sums := map[string]summary{}
	for key, s := range all {
		sums[key] = s.summarize()
	}
	ratios := map[string]interface{}{}
	for _, c := range o.concs {
		a, okA := sums[fmt.Sprintf("approle/c%d", c)]
		t, okT := sums[fmt.Sprintf("tee/c%d", c)]
		if !okT {
			continue
		}
		key := fmt.Sprintf("nonce+tee/c%d", c)
		sums[key] = pairSum(get("nonce", c), get("tee", c)).summarize()
		if !okA {
			continue
		}
		n := sums[key]
		ratios[fmt.Sprintf("c%d", c)] = map[string]float64{
			"tee_over_approle_mean":          round2(t.MeanMs / a.MeanMs),
			"tee_over_approle_p50":           round2(t.P50Ms / a.P50Ms),
			"tee_over_approle_p99":           round2(t.P99Ms / a.P99Ms),
			"approle_rps_over_tee_rps":       round2(a.RPS / t.RPS),
			"nonce_tee_over_approle_mean":    round2(n.MeanMs / a.MeanMs),
			"nonce_tee_over_approle_p50":     round2(n.P50Ms / a.P50Ms),
			"approle_rps_over_nonce_tee_rps": round2(a.RPS / n.RPS),
			"tee_cpu_over_approle_cpu":       round2(t.CPUMsPerOp["total"] / a.CPUMsPerOp["total"]),
			"nonce_tee_cpu_over_approle_cpu": round2(n.CPUMsPerOp["total"] / a.CPUMsPerOp["total"]),
		}
		if z, ok := sums[fmt.Sprintf("noop/c%d", c)]; ok {
			r := ratios[fmt.Sprintf("c%d", c)].(map[string]float64)
			if q, ok := sums[fmt.Sprintf("noop_request/c%d", c)]; ok {
				pairKey := fmt.Sprintf("noop_request+noop/c%d", c)
				sums[pairKey] = pairSum(get("noop_request", c), get("noop", c)).summarize()
				nn := sums[fmt.Sprintf("nonce/c%d", c)]
				r["nonce_over_noop_request_mean"] = round2(nn.MeanMs / q.MeanMs)
				r["nonce_tee_over_noop_pair_mean"] = round2(n.MeanMs / sums[pairKey].MeanMs)
			}
			r["noop_over_approle_mean"] = round2(z.MeanMs / a.MeanMs)
			r["noop_cpu_over_approle_cpu"] = round2(z.CPUMsPerOp["total"] / a.CPUMsPerOp["total"])
			r["tee_over_noop_mean"] = round2(t.MeanMs / z.MeanMs)
			r["tee_cpu_over_noop_cpu"] = round2(t.CPUMsPerOp["total"] / z.CPUMsPerOp["total"])
			if e, ok := sums[fmt.Sprintf("noop_evidence/c%d", c)]; ok {
				r["noop_evidence_over_noop_mean"] = round2(e.MeanMs / z.MeanMs)
				r["tee_over_noop_evidence_mean"] = round2(t.MeanMs / e.MeanMs)
				r["tee_cpu_over_noop_evidence_cpu"] = round2(t.CPUMsPerOp["total"] / e.CPUMsPerOp["total"])
			}
		}
	}
	errorsTotal := len(decisionProblems)
	for key, s := range sums {
		if !strings.Contains(key, "+") { // a pair's errors are those of its parts
			errorsTotal += s.Errors
		}
	}
	report["series"] = sums
	report["ratios"] = ratios
	report["errors_total"] = errorsTotal
	report["sidecar_decision_problems"] = decisionProblems
	report["method"] = map[string]interface{}{
		"rounds": o.rounds, "batch": o.batch, "concurrency": o.concs, "warmup": o.warmup,
		"timed_seconds": math.Round(elapsed.Seconds()*10) / 10,
		"tee_role":      teeRole, "evidence": "tee-testgen serve-tsm (one test platform), read through configfs-tsm as tee-login does",
	}
	data, _ := json.MarshalIndent(report, "", "  ")
	if o.out != "" {
		if err := os.WriteFile(o.out, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	printTable(sums, ratios, o.concs)
	if errorsTotal != 0 {
		return fmt.Errorf("%d errors (see %s)", errorsTotal, o.out)
	}
	return nil
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// randomNonce has the size and version of the plugin's nonces (1 ‖ ... , 62 bytes) but no
// valid MAC: a nonce the server never issued.
func randomNonce() []byte {
	b := make([]byte, 62)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	b[0], b[1] = 1, 0
	return b
}

// round runs one round at concurrency c: nonces, evidence, then one batch of each kind in order.
// It returns problems found in the sidecar's decision log (a login kind that should have been
// allowed was not, or the sidecar was called when it should not have been).
func (l *loader) round(n, c int, order []string, pr procs, slog *sidecarLog,
	get func(string, int) *series) ([]string, error) {
	var problems []string
	nonces := make([][]byte, n)
	timed := func(kind string, op func(int) (bool, error)) {
		slog.skipToEnd()
		before := pr.sample()
		b := runBatch(n, c, op)
		cpu := diff(pr.sample(), before)
		s := get(kind, c)
		s.add(b, cpu)
		durations, decisions := slog.evaluations()
		s.sidecarUs = append(s.sidecarUs, durations...)
		want := map[string]map[string]int{"tee": {"allow": n},
			"tee_bad_nonce": {}, "approle": {}, "noop": {}, "noop_evidence": {}, "nonce": {}, "noop_request": {}}[kind]
		if slog.path != "" && fmt.Sprint(decisions) != fmt.Sprint(want) {
			problems = append(problems, fmt.Sprintf("%s/c%d: sidecar decisions %v, want %v", kind, c, decisions, want))
		}
	}
	var evidence []string
	if slices.Contains(order, "tee") || slices.Contains(order, "noop_evidence") {
		timed("nonce", func(i int) (bool, error) {
			nonce, err := l.nonce()
			nonces[i] = nonce
			return false, err
		})
		if slices.Contains(order, "noop") {
			timed("noop_request", func(int) (bool, error) { return false, l.noopRequest() })
		}
		for _, nc := range nonces {
			if nc == nil {
				return nil, errors.New("a nonce request failed; cannot make its evidence")
			}
		}
		var err error
		if evidence, err = l.evidence(nonces); err != nil {
			return nil, err
		}
	}
	for _, kind := range order {
		switch kind {
		case "approle":
			timed(kind, func(int) (bool, error) { return false, l.appRoleLogin() })
		case "noop":
			timed(kind, func(int) (bool, error) { return false, l.noopLogin() })
		case "noop_evidence":
			timed(kind, func(i int) (bool, error) { return false, l.noopLoginWithBody(nonces[i], evidence[i]) })
		case "tee":
			timed(kind, func(i int) (bool, error) { return false, l.teeLogin(teeRole, nonces[i], evidence[i]) })
		case "tee_bad_nonce":
			timed(kind, func(int) (bool, error) { return l.badNonceLogin() })
		}
	}
	return problems, nil
}

// evidence makes, outside any timing, TDX evidence binding each nonce. It comes from one
// tee-testgen serve-tsm (one platform, so one PCK leaf certificate for every quote, as on a real
// host), read through teeclient as tee-login reads configfs-tsm; a few entries at a time.
func (l *loader) evidence(nonces [][]byte) ([]string, error) {
	out := make([]string, len(nonces))
	errs := make([]error, len(nonces))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	paths := teeclient.Paths{TSM: l.tsmDir, PrivLevel: -1}
	for i, nonce := range nonces {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, nonce []byte) {
			defer wg.Done()
			defer func() { <-sem }()
			reportData, err := teeclient.ReportData(nonce, nil)
			if err != nil {
				errs[i] = err
				return
			}
			ev, err := teeclient.Obtain("tdx", paths, reportData)
			if err != nil {
				errs[i] = fmt.Errorf("evidence from tee-testgen serve-tsm: %w", err)
				return
			}
			out[i] = base64.StdEncoding.EncodeToString(ev.Bytes)
		}(i, nonce)
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// startTestPlatform runs tee-testgen serve-tsm in a fresh directory under -tmp; stop it with the
// returned function.
func (l *loader) startTestPlatform() (func(), error) {
	dir, err := os.MkdirTemp(l.o.tmp, "tsm-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(l.o.testgen, "serve-tsm", dir, "--provider", "tdx_guest", "--profile", l.o.profile)
	logFile, err := os.Create(dir + ".log") // one line per quote: kept out of the report
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("tee-testgen serve-tsm: %w", err)
	}
	l.tsmDir = dir
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		logFile.Close()
		os.RemoveAll(dir)
	}, nil
}

func printTable(sums map[string]summary, ratios map[string]interface{}, concs []int) {
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("%-20s %6s %5s %6s %8s %8s %8s %8s %8s %s\n", "kind/concurrency", "n", "err", "denied",
		"mean ms", "p50 ms", "p99 ms", "rps", "cpu ms", "cpu by process (ms/op)")
	for _, k := range keys {
		s := sums[k]
		procs := []string{}
		for _, p := range []string{"server", "plugin", "sidecar", "loadgen"} {
			if v, ok := s.CPUMsPerOp[p]; ok {
				procs = append(procs, fmt.Sprintf("%s %.3f", p, v))
			}
		}
		fmt.Printf("%-20s %6d %5d %6d %8.3f %8.3f %8.3f %8.1f %8.3f %s\n", k, s.Count, s.Errors, s.Denials,
			s.MeanMs, s.P50Ms, s.P99Ms, s.RPS, s.CPUMsPerOp["total"], strings.Join(procs, ", "))
	}
	for _, c := range concs {
		key := fmt.Sprintf("c%d", c)
		data, _ := json.Marshal(ratios[key])
		fmt.Printf("ratios %s: %s\n", key, data)
	}
}
