//go:build integration

package integration

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// A three-node OpenBao cluster on integrated raft storage (static-key auto-unseal), the plugin in
// its catalog, and the test sidecar of the stack. Nonces (stateless, MACed) come from every node;
// logins go to every node (standbys forward them to the active node, which spends the nonce); the active node is killed during a stream of logins. Afterwards: no nonce
// was accepted twice, every token issued is still valid on the new active node, and no login with
// evidence of the wrong workload got a token.

// haAttempt is one login of the stream.
type haAttempt struct {
	nonce, evidence []byte
	wrongWorkload   bool
	token           string
	outcome         string // "token", "refused", "unavailable"
	at              time.Time
}

// The evidence of the stream: made ahead by a pool of generators, bound to nonces fetched just
// before; a tenth of it from the wrong workload (another MRTD).
func haEvidence(t *testing.T, nonce []byte, profile string) []byte {
	data, err := sys.evidence(t, "tdx", nonce, nil, profile)
	if err != nil {
		t.Error(err)
		return nil
	}
	return data
}

func TestHAClusterKeepsNoncesSingleUseAcrossLeaderLoss(t *testing.T) {
	c := startHACluster(t)
	c.provision(t)
	goodProfile := sys.testProfile()
	badProfile := filepath.Join(t.TempDir(), "wrong.json")
	os.WriteFile(badProfile, []byte(`{"tdx":{"mrtd":"`+strings.Repeat("ee", 48)+`"}}`), 0o600)

	// Logins to a standby are forwarded to the active node and succeed (once the standby has
	// loaded the new mount from the replicated mount table).
	for _, n := range c.nodes[1:] {
		var nonce []byte
		waitFor(t, n.name+" to serve auth/tee", haReady, func() error {
			if nonce = haNonce(n); nonce == nil {
				return fmt.Errorf("no nonce from %s", n.name)
			}
			return nil
		})
		if tok, outcome, err := haLogin(n, nonce, haEvidence(t, nonce, goodProfile)); outcome != "token" {
			t.Fatalf("login through standby %s: %s %v", n.name, outcome, err)
		} else if _, err := readSecret(n.client, tok, "secret/data/mcp/tdx/api-key"); err != nil {
			t.Fatalf("token from standby login: %v", err)
		}
	}

	// A standby that serves reads answers the nonce read itself (issuing writes nothing, so
	// nothing needs the active node): its own audit log records the answers, the active's none.
	{
		active := c.active()
		for _, s := range c.nodes {
			if s == active {
				continue
			}
			standbyBefore, activeBefore := c.answeredNonceReads(t, s), c.answeredNonceReads(t, active)
			for i := 0; i < 5; i++ {
				if haNonce(s) == nil {
					t.Fatalf("no nonce from standby %s", s.name)
				}
			}
			if got := c.answeredNonceReads(t, s) - standbyBefore; got != 5 {
				t.Fatalf("standby %s answered %d of 5 nonce reads itself", s.name, got)
			}
			if got := c.answeredNonceReads(t, active) - activeBefore; got != 0 {
				t.Fatalf("the active node answered %d nonce reads sent to standby %s", got, s.name)
			}
		}
	}

	// One nonce, nine concurrent logins spread over the three nodes: exactly one token.
	{
		nonce := haNonce(c.nodes[0])
		evidence := haEvidence(t, nonce, goodProfile)
		var wg sync.WaitGroup
		var won atomic.Int32
		for i := 0; i < 9; i++ {
			wg.Add(1)
			go func(n *haNode) {
				defer wg.Done()
				if _, outcome, _ := haLogin(n, nonce, evidence); outcome == "token" {
					won.Add(1)
				}
			}(c.nodes[i%3])
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("one nonce, nine logins over three nodes: %d tokens, want 1", won.Load())
		}
	}

	// The stream runs until enough logins succeeded before the kill and after it: phases end on
	// work done, not on time (a busy machine is slower, not wrong).
	const workers = 4
	const tokensPerPhase = 6
	var (
		mu       sync.Mutex
		attempts []*haAttempt
		counter  atomic.Int64
		noNonce  atomic.Int64 // nonce requests that found no active node
		killedAt time.Time
		stopping atomic.Bool
	)
	tokensSince := func(since time.Time) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range attempts {
			if a.outcome == "token" && a.at.After(since) {
				n++
			}
		}
		return n
	}
	start := time.Now()
	var wg sync.WaitGroup
	// stopStream ends the stream; the workers are gone before the test may fail.
	stopStream := func() {
		stopping.Store(true)
		wg.Wait()
	}
	defer stopStream()
	waitTokens := func(what string, since time.Time) {
		deadline := time.Now().Add(haReady)
		for tokensSince(since) < tokensPerPhase {
			if time.Now().After(deadline) || t.Failed() {
				stopStream()
				t.Fatalf("%s: %d tokens within %s, want %d", what, tokensSince(since), haReady, tokensPerPhase)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopping.Load() {
				i := counter.Add(1)
				alive := c.aliveNodes()
				nonceNode, loginNode := alive[int(i)%len(alive)], alive[int(i+1)%len(alive)]
				nonce := haNonce(nonceNode)
				if nonce == nil {
					noNonce.Add(1)
					time.Sleep(100 * time.Millisecond) // no active node yet
					continue
				}
				a := &haAttempt{nonce: nonce, wrongWorkload: i%10 == 0}
				profile := goodProfile
				if a.wrongWorkload {
					profile = badProfile
				}
				if a.evidence = haEvidence(t, nonce, profile); a.evidence == nil {
					return
				}
				var err error
				a.token, a.outcome, err = haLogin(loginNode, nonce, a.evidence)
				a.at = time.Now()
				if a.outcome == "refused" && !a.wrongWorkload && !strings.Contains(err.Error(), "nonce") {
					t.Errorf("a good login was refused for something other than its nonce: %v", err)
				}
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
			}
		}()
	}
	waitTokens("logins before the kill", start)
	victim := c.active()
	if victim == nil {
		stopStream()
		t.Fatal("no active node to kill")
	}
	// The node is lost with its plugin processes (its whole process group).
	killGroup(victim.cmd)
	victim.killed.Store(true)
	killedAt = time.Now()
	waitTokens("logins after the kill", killedAt)
	stopStream()
	duration := time.Since(start)

	// Tally.
	var tokens, refused, unavailable, wrongRefused, wrongUnavailable, beforeKill, afterKill int
	var firstAfterKill time.Time
	for _, a := range attempts {
		switch a.outcome {
		case "token":
			tokens++
			if a.wrongWorkload {
				t.Errorf("evidence of the wrong workload got a token")
			}
			if a.at.Before(killedAt) {
				beforeKill++
			} else {
				afterKill++
				if firstAfterKill.IsZero() || a.at.Before(firstAfterKill) {
					firstAfterKill = a.at
				}
			}
		case "refused":
			refused++
			if a.wrongWorkload {
				wrongRefused++
			}
		default:
			unavailable++
			if a.wrongWorkload {
				wrongUnavailable++ // no answer while no node was active: no verdict, and no token
			}
		}
	}
	if afterKill == 0 {
		t.Fatal("no login succeeded after the active node was killed")
	}
	newActive := c.active()
	if newActive == nil {
		t.Fatal("no active node after the election")
	}

	// Every nonce that got a token, replayed on every surviving node: refused.
	replayRefused := 0
	for _, a := range attempts {
		if a.outcome != "token" {
			continue
		}
		for _, n := range c.aliveNodes() {
			if _, outcome, err := haLogin(n, a.nonce, a.evidence); outcome == "token" {
				t.Errorf("a nonce was accepted twice (replayed on %s)", n.name)
			} else if outcome == "refused" && strings.Contains(err.Error(), "already been used") {
				replayRefused++
			} else {
				t.Errorf("replay on %s: want refused for its nonce, got %s %v", n.name, outcome, err)
			}
		}
		// Nothing lost: every token issued, before or after the kill, works on the new active node.
		if _, err := readSecret(newActive.client, a.token, "secret/data/mcp/tdx/api-key"); err != nil {
			t.Errorf("a token issued by the cluster no longer works: %v", err)
		}
	}
	report := fmt.Sprintf("HA: %d logins tried over %s (%d workers, active node %s killed at %s): "+
		"%d tokens (%d before, %d after the kill), %d refused (%d of %d wrong-workload, %d unanswered), %d unavailable during "+
		"the election (and %d nonce requests without an active node); logins resumed %s after the kill; "+
		"%d replays of used nonces refused, 0 accepted; every token still valid on the new active node",
		len(attempts), duration.Round(time.Millisecond), workers, victim.name, killedAt.Sub(start).Round(time.Millisecond),
		tokens, beforeKill, afterKill, refused, wrongRefused, countWrong(attempts), wrongUnavailable, unavailable, noNonce.Load(),
		firstAfterKill.Sub(killedAt).Round(time.Millisecond), replayRefused)
	t.Log(report)
	fmt.Println(report)
	// A wrong-workload login never gets a token (checked above); every one the cluster answered
	// was refused. One sent during the election may get no answer at all (a 5xx), like any login.
	if wrongRefused+wrongUnavailable != countWrong(attempts) || wrongRefused == 0 {
		t.Errorf("every answered wrong-workload login must be refused: %d refused, %d unanswered, of %d",
			wrongRefused, wrongUnavailable, countWrong(attempts))
	}
}

func countWrong(attempts []*haAttempt) int {
	n := 0
	for _, a := range attempts {
		if a.wrongWorkload {
			n++
		}
	}
	return n
}

// haNonce asks node n for a nonce with GET, the form standbys that serve reads answer
// themselves (issuing a nonce writes nothing).
func haNonce(n *haNode) []byte {
	resp, err := n.client.Logical().ReadWithData("auth/tee/nonce", map[string][]string{"role": {"mcp-server-tdx"}})
	if err != nil || resp == nil {
		return nil
	}
	nonce, _ := hex.DecodeString(resp.Data["nonce"].(string))
	return nonce
}

// haLogin logs in through node n: "token", "refused" (a 4xx answer) or "unavailable" (no answer,
// or a 5xx while the cluster has no active node).
func haLogin(n *haNode, nonce, evidence []byte) (string, string, error) {
	c, _ := n.client.Clone()
	c.ClearToken()
	secret, err := c.Logical().Write("auth/tee/login", map[string]interface{}{
		"role": "mcp-server-tdx", "nonce": hex.EncodeToString(nonce),
		"evidence": base64.StdEncoding.EncodeToString(evidence),
	})
	if err == nil && secret != nil && secret.Auth != nil {
		return secret.Auth.ClientToken, "token", nil
	}
	if err == nil {
		return "", "unavailable", fmt.Errorf("no auth in the answer")
	}
	if re, ok := err.(*api.ResponseError); ok && re.StatusCode >= 400 && re.StatusCode < 500 {
		return "", "refused", err
	}
	return "", "unavailable", err
}
