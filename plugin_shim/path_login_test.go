package teeauth

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func setup(t *testing.T) *harness {
	t.Helper()
	return setupLogging(t, nil)
}

// setupLogging is setup with the backend's log written to logs (nil: the default).
func setupLogging(t *testing.T, logs io.Writer) *harness {
	t.Helper()
	h := newLoggingHarness(t, logs)
	h.configure()
	h.writeRole("mcp", nil)
	return h
}

func TestLoginIssuesATokenBoundToTheRoleAndTheWorkload(t *testing.T) {
	h := setup(t)
	nonce := h.nonce("mcp")
	resp, err := h.login("mcp", nonce)
	if err != nil || resp.IsError() {
		t.Fatalf("login: %v %v", err, resp)
	}
	auth := resp.Auth
	if len(auth.Policies) != 1 || auth.Policies[0] != "mcp-secrets" {
		t.Fatalf("policies %v", auth.Policies)
	}
	if auth.Alias.Name != "tdx:0123" || auth.Metadata["role"] != "mcp" || auth.Metadata["tdx.mrtd"] != testMrtd ||
		auth.Metadata["tee"] != "tdx" || auth.DisplayName != "mcp-tdx" {
		t.Fatalf("auth %+v", auth)
	}
	if auth.TTL != time.Hour {
		t.Fatalf("ttl %v", auth.TTL)
	}
	// What went to the sidecar: the evidence, the nonce and the stored (normalized) policy.
	sent := h.fake.lastEvaluate
	if string(sent.GetEvidence().GetEvidence()) != "quote" || sent.GetRole() != "mcp" ||
		len(sent.GetNonce()) != nonceBytes || sent.GetPolicy().GetTdx().GetMrtd()[0] != testMrtd {
		t.Fatalf("evaluate request %v", sent)
	}
}

func TestTokenNeverOutlivesTheEvidence(t *testing.T) {
	h := setup(t)
	h.fake.evaluate = allow(90 * time.Second)
	resp, err := h.login("mcp", h.nonce(""))
	if err != nil || resp.IsError() {
		t.Fatalf("login: %v %v", err, resp)
	}
	if resp.Auth.TTL != 90*time.Second || resp.Auth.ExplicitMaxTTL != 90*time.Second || resp.Auth.MaxTTL != 90*time.Second {
		t.Fatalf("ttl %v explicit %v max %v", resp.Auth.TTL, resp.Auth.ExplicitMaxTTL, resp.Auth.MaxTTL)
	}
	h.fake.evaluate = allow(0)
	resp, err = h.login("mcp", h.nonce(""))
	if !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "expire within a second") {
		t.Fatalf("want denial, got %v %v", err, resp)
	}
}

func TestANonceWorksOnce(t *testing.T) {
	h := setup(t)
	nonce := h.nonce("")
	if resp, err := h.login("mcp", nonce); err != nil || resp.IsError() {
		t.Fatalf("first login: %v %v", err, resp)
	}
	resp, err := h.login("mcp", nonce)
	if !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "already been used") {
		t.Fatalf("replay: %v %v", err, resp)
	}
	if h.fake.calls() != 1 {
		t.Fatalf("the sidecar saw the replay: %d calls", h.fake.calls())
	}
}

func TestConcurrentLoginsOnOneNonceYieldOneToken(t *testing.T) {
	h := setup(t)
	nonce := h.nonce("")
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens, denied := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h.login("mcp", nonce)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && resp.Auth != nil:
				tokens++
			case errors.Is(err, logical.ErrPermissionDenied):
				denied++
			}
		}()
	}
	wg.Wait()
	if tokens != 1 || denied != 19 || h.fake.calls() != 1 {
		t.Fatalf("tokens=%d denied=%d sidecar calls=%d", tokens, denied, h.fake.calls())
	}
}

func TestExpiredAndForeignNoncesAreRefused(t *testing.T) {
	h := setup(t)
	h.writeRole("other", nil)
	nonce := h.nonce("other")
	resp, err := h.login("mcp", nonce)
	if !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "another role") {
		t.Fatalf("foreign nonce: %v %v", err, resp)
	}
	expired := h.nonce("")
	if _, err := h.b.spendNonce(t.Context(), h.storage, mustHex(t, expired), "mcp", time.Now().Add(defaultNonceTTL+time.Second), func() {}); err != errNonceExpired {
		t.Fatalf("a nonce past its expiry: %v", err)
	}
	resp, err = h.login("mcp", expiredNonce(t, h))
	if !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "expired") {
		t.Fatalf("expired nonce: %v %v", err, resp)
	}
	if h.fake.calls() != 0 {
		t.Fatal("the sidecar was called for a refused nonce")
	}
}

func TestBadInputIsA400NamingTheField(t *testing.T) {
	h := setup(t)
	nonce := h.nonce("")
	cases := map[string]struct {
		data map[string]interface{}
		want string
	}{
		"no role":         {map[string]interface{}{"evidence": "cXVvdGU=", "nonce": nonce}, "role: required"},
		"bad base64":      {map[string]interface{}{"role": "mcp", "evidence": "%%%", "nonce": nonce}, "evidence: not base64"},
		"no evidence":     {map[string]interface{}{"role": "mcp", "nonce": nonce}, "evidence: required"},
		"no nonce":        {map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU="}, "nonce: required"},
		"short nonce":     {map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": "abcd"}, "nonce: expected 62 bytes"},
		"bad tee type":    {map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": nonce, "tee_type": "sgx"}, "tee_type: expected"},
		"pinned time":     {map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": nonce, "verification_time": "2025-07-19T10:00:34Z"}, "verification_time: accepted only on roles"},
		"bad pinned time": {map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": nonce, "verification_time": "yesterday"}, "verification_time: not RFC 3339"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := h.request(logical.UpdateOperation, "login", c.data)
			if !errors.Is(err, logical.ErrInvalidRequest) || resp == nil || !strings.Contains(resp.Error().Error(), c.want) {
				t.Fatalf("want 400 %q, got %v %v", c.want, err, resp)
			}
		})
	}
	if h.fake.calls() != 0 {
		t.Fatal("the sidecar was called for bad input")
	}
}

func TestSidecarAnswers(t *testing.T) {
	cases := map[string]struct {
		evaluate func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error)
		wantErr  error  // logical error kind, or nil for an internal error
		want     string // part of the message
	}{
		"unavailable": {func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
			return nil, status.Error(codes.Unavailable, "connection refused")
		}, nil, "verifier sidecar unavailable"},
		"deadline": {func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
			return nil, status.Error(codes.DeadlineExceeded, "slow")
		}, nil, "verifier sidecar unavailable"},
		"malformed evidence": {func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
			return nil, rpcError(pb.Reason_REASON_MALFORMED_EVIDENCE, "tdx quote: truncated")
		}, logical.ErrInvalidRequest, "evidence rejected (MALFORMED_EVIDENCE): tdx quote: truncated"},
		// Only the reason: the message can name the server's collateral and files.
		"collateral missing": {func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
			return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_DENY, Error: &pb.Error{
				Reason: pb.Reason_REASON_COLLATERAL_MISSING, Message: "no TDX collateral for FMSPC 00806f050000 (loaded: 00906ed50000 in /etc/tee/collateral)"}}, nil
		}, logical.ErrPermissionDenied, "evidence rejected (COLLATERAL_MISSING)"},
		"bad request": {func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
			return nil, rpcError(pb.Reason_REASON_BAD_REQUEST, "policy: allow_unbound_evidence: honoured only by ...")
		}, logical.ErrInvalidRequest, "evidence rejected (BAD_REQUEST)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := setup(t)
			h.fake.evaluate = c.evaluate
			resp, err := h.login("mcp", h.nonce(""))
			if resp != nil && resp.Auth != nil {
				t.Fatal("a token was issued")
			}
			if c.wantErr == nil {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("want error %q, got %v", c.want, err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) || resp == nil || resp.Error().Error() != c.want {
				t.Fatalf("want %v %q, got %v %v", c.wantErr, c.want, err, resp)
			}
		})
	}
}

func TestAliasLookaheadConsumesNothing(t *testing.T) {
	h := setup(t)
	nonce := h.nonce("")
	resp, err := h.request(logical.AliasLookaheadOperation, "login", map[string]interface{}{
		"role": "mcp", "evidence": "cXVvdGU=", "nonce": nonce})
	if err != nil || resp == nil || resp.Auth != nil {
		t.Fatalf("lookahead: %v %v", err, resp)
	}
	if h.fake.calls() != 0 {
		t.Fatal("lookahead called the sidecar")
	}
	if resp, err := h.login("mcp", nonce); err != nil || resp.IsError() {
		t.Fatalf("the nonce was consumed by the lookahead: %v %v", err, resp)
	}
}

func TestResolveRoleForQuotas(t *testing.T) {
	h := setup(t)
	resp, err := h.request(logical.ResolveRoleOperation, "login", map[string]interface{}{"role": "mcp"})
	if err != nil || resp.Data["role"] != "mcp" {
		t.Fatalf("resolve role: %v %v", err, resp)
	}
}

// rpcError is the sidecar's INVALID_ARGUMENT: the reason in the message and in the details.
func rpcError(reason pb.Reason, message string) error {
	name := strings.TrimPrefix(reason.String(), "REASON_")
	s, _ := status.New(codes.InvalidArgument, name+": "+message).WithDetails(&pb.Error{Reason: reason, Message: message})
	return s.Err()
}

// An unknown role, a role whose bound CIDRs exclude the caller and a role the evidence does not
// satisfy get one answer, so that an unauthenticated caller cannot tell which roles exist.
func TestRoleDenialsAreUniform(t *testing.T) {
	h := setup(t)
	h.writeRole("cidr", map[string]interface{}{"token_bound_cidrs": "10.0.0.0/8"})
	h.writeRole("strict", nil)
	mismatch := func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_DENY, TeeType: pb.TeeType_TEE_TYPE_TDX,
			Mismatches: []*pb.Mismatch{{Field: "tdx.mrtd", Expected: []string{testMrtd}, Actual: "00"}}}, nil
	}
	var answers []string
	for _, role := range []string{"nope", "cidr", "strict"} {
		h.fake.evaluate = mismatch
		nonce := h.nonce(role) // issued for an unknown role too
		resp, err := h.login(role, nonce)
		if !errors.Is(err, logical.ErrPermissionDenied) || (resp != nil && resp.Auth != nil) {
			t.Fatalf("%s: %v %v", role, err, resp)
		}
		answers = append(answers, fmt.Sprintf("%v %v", err, resp))
		// The nonce is spent in every case.
		if resp, err := h.login("mcp", nonce); !errors.Is(err, logical.ErrPermissionDenied) ||
			resp == nil || !strings.Contains(resp.Error().Error(), "nonce") {
			t.Fatalf("%s: the nonce was not spent: %v %v", role, err, resp)
		}
	}
	if answers[0] != answers[1] || answers[1] != answers[2] {
		t.Fatalf("answers differ: %q", answers)
	}
	// Unknown and CIDR-excluded roles had their evidence verified like the others.
	if h.fake.verifyCalls != 2 {
		t.Fatalf("verify calls %d", h.fake.verifyCalls)
	}
	// Quotas resolve the role named whether it exists or not.
	resp, err := h.request(logical.ResolveRoleOperation, "login", map[string]interface{}{"role": "nope"})
	if err != nil || resp.IsError() || resp.Data["role"] != "nope" {
		t.Fatalf("resolve role: %v %v", err, resp)
	}
}

func TestTestOrReplaySidecarNeedsAllowTestSidecar(t *testing.T) {
	for _, info := range []*pb.InfoResponse{{TestRoots: true}, {ReplayMode: true}} {
		h := setup(t)
		h.fake.info = info
		resp, err := h.login("mcp", h.nonce(""))
		if err == nil || !strings.Contains(err.Error(), "allow_test_sidecar") || (resp != nil && resp.Auth != nil) {
			t.Fatalf("%v: want a refusal naming allow_test_sidecar, got %v %v", info, err, resp)
		}
		if h.fake.calls() != 0 {
			t.Fatal("the evidence was evaluated by a refused sidecar")
		}
		h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{"allow_test_sidecar": true})
		resp = h.mustOK(logical.UpdateOperation, "login", map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": h.nonce("")})
		want := map[bool]string{true: "test-roots", false: "replay"}[info.TestRoots]
		if resp.Auth.Metadata["sidecar_mode"] != want {
			t.Fatalf("metadata %v", resp.Auth.Metadata)
		}
	}
	h := setup(t)
	resp := h.mustOK(logical.UpdateOperation, "login", map[string]interface{}{"role": "mcp", "evidence": "cXVvdGU=", "nonce": h.nonce("")})
	if _, marked := resp.Auth.Metadata["sidecar_mode"]; marked {
		t.Fatalf("a production sidecar's token is marked: %v", resp.Auth.Metadata)
	}
}

func TestRecordedEvidenceRoleAcceptsNoNonceAndAPinnedTime(t *testing.T) {
	h := setup(t)
	h.writeRole("recorded", map[string]interface{}{"allow_unbound_evidence": true})
	resp, err := h.request(logical.UpdateOperation, "login", map[string]interface{}{
		"role": "recorded", "evidence": "cXVvdGU=", "verification_time": "2025-07-19T09:00:00Z"})
	if err != nil || resp.IsError() {
		t.Fatalf("login: %v %v", err, resp)
	}
	if h.fake.lastEvaluate.GetEvidence().GetVerificationTimeUnix() != 1752915600 || len(h.fake.lastEvaluate.GetNonce()) != 0 {
		t.Fatalf("request %v", h.fake.lastEvaluate)
	}
}

func TestBoundCidrsAreEnforced(t *testing.T) {
	h := setup(t)
	h.writeRole("mcp", map[string]interface{}{"token_bound_cidrs": "10.0.0.0/8"})
	resp, err := h.login("mcp", h.nonce(""))
	if !errors.Is(err, logical.ErrPermissionDenied) || (resp != nil && resp.Auth != nil) {
		t.Fatalf("login from outside the CIDR: %v %v", err, resp)
	}
}

func TestRenewRespectsTheRole(t *testing.T) {
	h := setup(t)
	resp, _ := h.login("mcp", h.nonce(""))
	// As Vault's core records them on the token: the role's policies and "default".
	resp.Auth.TokenPolicies = append(append([]string{}, resp.Auth.Policies...), "default")
	renew := func() (*logical.Response, error) {
		return h.b.HandleRequest(t.Context(), &logical.Request{
			Operation: logical.RenewOperation, Path: "login", Storage: h.storage, Auth: resp.Auth})
	}
	if r, err := renew(); err != nil || r.Auth.TTL != time.Hour {
		t.Fatalf("renew: %v %v", err, r)
	}
	// The sidecar evaluated the saved login under the role's current policy.
	sent := h.fake.lastEvaluate
	if string(sent.GetEvidence().GetEvidence()) != "quote" || len(sent.GetNonce()) != nonceBytes ||
		sent.GetPolicy().GetTdx().GetMrtd()[0] != testMrtd || sent.GetRole() != "mcp" || h.fake.calls() != 2 {
		t.Fatalf("re-check request %v (%d calls)", sent, h.fake.calls())
	}
	// The role no longer admits the build.
	h.fake.evaluate = func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		return &pb.EvaluateResponse{Decision: pb.Decision_DECISION_DENY, Mismatches: []*pb.Mismatch{{Field: "tdx.mrtd"}}}, nil
	}
	if _, err := renew(); err == nil || !strings.Contains(err.Error(), "no longer admits") || !strings.Contains(err.Error(), "tdx.mrtd") {
		t.Fatalf("renew after the build left the role: %v", err)
	}
	// The role now identifies the workload differently (another entity).
	h.fake.evaluate = func(req *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		r, err := allow(time.Hour)(req)
		r.WorkloadIdentity = "tdx:4567"
		return r, err
	}
	if _, err := renew(); err == nil || !strings.Contains(err.Error(), "identifies this workload differently") {
		t.Fatalf("renew with another identity: %v", err)
	}
	h.fake.evaluate = allow(time.Hour)
	h.writeRole("mcp", map[string]interface{}{"token_policies": "other"})
	if _, err := renew(); err == nil || !strings.Contains(err.Error(), "policies have changed") {
		t.Fatalf("renew after policy change: %v", err)
	}
	h.mustOK(logical.DeleteOperation, "role/mcp", nil)
	if _, err := renew(); err == nil || !strings.Contains(err.Error(), "no longer exists") {
		t.Fatalf("renew after delete: %v", err)
	}
}
