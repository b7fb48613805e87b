package teeauth

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const testMrtd = "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"

// fakeVerifier stands in for tee-verifierd. Its ValidatePolicy imitates the sidecar's contract
// (lowercased values; a role with no measurement is refused); Evaluate runs a test-provided
// function and counts calls; Verify verifies everything; Info reports info.
type fakeVerifier struct {
	mu            sync.Mutex
	evaluateCalls int
	lastEvaluate  *pb.EvaluateRequest
	evaluate      func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error)
	verifyCalls   int
	validateErr   error
	info          *pb.InfoResponse // nil: a production sidecar
	// waitForCancel makes Evaluate answer only when its call is cancelled, as gRPC does.
	waitForCancel bool
}

func (f *fakeVerifier) Verify(context.Context, *pb.VerifyRequest, ...grpc.CallOption) (*pb.VerifyResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifyCalls++
	return &pb.VerifyResponse{Verified: true, TeeType: pb.TeeType_TEE_TYPE_TDX, ClaimsJson: `{"tee":"tdx"}`}, nil
}

func (f *fakeVerifier) Info(context.Context, *pb.InfoRequest, ...grpc.CallOption) (*pb.InfoResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.info == nil {
		return &pb.InfoResponse{Version: "fake"}, nil
	}
	return proto.Clone(f.info).(*pb.InfoResponse), nil
}

func (f *fakeVerifier) Evaluate(ctx context.Context, req *pb.EvaluateRequest, _ ...grpc.CallOption) (*pb.EvaluateResponse, error) {
	f.mu.Lock()
	f.evaluateCalls++
	f.lastEvaluate = proto.Clone(req).(*pb.EvaluateRequest)
	fn, waitForCancel := f.evaluate, f.waitForCancel
	f.mu.Unlock()
	if waitForCancel {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return fn(req)
}

func (f *fakeVerifier) ValidatePolicy(_ context.Context, req *pb.ValidatePolicyRequest) (*pb.ValidatePolicyResponse, error) {
	if f.validateErr != nil {
		return nil, f.validateErr
	}
	p := proto.Clone(req.GetPolicy()).(*pb.Policy)
	if len(p.GetTeeTypes()) == 0 || len(p.GetTdx().GetMrtd()) == 0 && len(p.GetNitro().GetPcr0()) == 0 {
		return &pb.ValidatePolicyResponse{Errors: []string{"tee_types admits \"tdx\" but the role constrains none of its measurements"}}, nil
	}
	for i, v := range p.GetTdx().GetMrtd() {
		p.Tdx.Mrtd[i] = strings.ToLower(v)
	}
	if len(p.GetAllowedTcbStatuses()) == 0 {
		p.AllowedTcbStatuses = []string{"UpToDate"}
	}
	return &pb.ValidatePolicyResponse{Normalized: p}, nil
}

func (f *fakeVerifier) Close() error { return nil }

func (f *fakeVerifier) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.evaluateCalls
}

// allow answers like the sidecar for evidence that verifies and satisfies the role.
func allow(validFor time.Duration) func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
	return func(*pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		now := time.Now().Unix()
		return &pb.EvaluateResponse{
			Decision:         pb.Decision_DECISION_ALLOW,
			TeeType:          pb.TeeType_TEE_TYPE_TDX,
			ClaimsJson:       `{"tee":"tdx"}`,
			VerifiedAtUnix:   now,
			ValidUntilUnix:   now + int64(validFor.Seconds()),
			WorkloadIdentity: "tdx:0123",
			Metadata:         map[string]string{"tee": "tdx", "tdx.mrtd": testMrtd, "nonce_binding": "bound"},
		}, nil
	}
}

type harness struct {
	t       *testing.T
	b       *backend
	storage logical.Storage
	fake    *fakeVerifier
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newLoggingHarness(t, nil)
}

// newLoggingHarness is newHarness with the backend's log written to logs (nil: the default).
func newLoggingHarness(t *testing.T, logs io.Writer) *harness {
	t.Helper()
	fake := &fakeVerifier{evaluate: allow(time.Hour)}
	b := newBackend(func(*pluginConfig) (VerifierClient, error) { return fake, nil })
	cfg := logical.TestBackendConfig()
	if logs != nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})
	}
	cfg.StorageView = &logical.InmemStorage{}
	if err := b.Setup(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, b: b, storage: cfg.StorageView, fake: fake}
}

func (h *harness) request(op logical.Operation, path string, data map[string]interface{}) (*logical.Response, error) {
	return h.b.HandleRequest(context.Background(), &logical.Request{
		Operation:  op,
		Path:       path,
		Storage:    h.storage,
		Data:       data,
		Connection: &logical.Connection{RemoteAddr: "127.0.0.1"},
	})
}

// mustOK fails the test unless the request succeeded.
func (h *harness) mustOK(op logical.Operation, path string, data map[string]interface{}) *logical.Response {
	h.t.Helper()
	resp, err := h.request(op, path, data)
	if err != nil || (resp != nil && resp.IsError()) {
		h.t.Fatalf("%s %s: err=%v resp=%v", op, path, err, resp)
	}
	return resp
}

func (h *harness) configure() {
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{
		"sidecar_address": "unix:///run/tee-verifierd/tee-verifierd.sock",
	})
}

func (h *harness) writeRole(name string, data map[string]interface{}) {
	h.t.Helper()
	fields := map[string]interface{}{"tee_types": "tdx", "tdx_mrtd": testMrtd, "token_policies": "mcp-secrets", "token_ttl": "1h"}
	for k, v := range data {
		fields[k] = v
	}
	h.mustOK(logical.UpdateOperation, "role/"+name, fields)
}

func (h *harness) nonce(role string) string {
	h.t.Helper()
	data := map[string]interface{}{}
	if role != "" {
		data["role"] = role
	}
	return h.mustOK(logical.UpdateOperation, "nonce", data).Data["nonce"].(string)
}

func (h *harness) login(role, nonce string) (*logical.Response, error) {
	data := map[string]interface{}{"role": role, "evidence": "cXVvdGU=" /* "quote" */}
	if nonce != "" {
		data["nonce"] = nonce
	}
	return h.request(logical.UpdateOperation, "login", data)
}
