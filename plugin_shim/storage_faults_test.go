package teeauth

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
)

// faultyStorage is the plugin's storage on a full disk or a read-only node: writes or reads
// fail with the given error.
type faultyStorage struct {
	logical.Storage
	putErr, getErr error
}

func (s *faultyStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if s.putErr != nil {
		return s.putErr
	}
	return s.Storage.Put(ctx, e)
}

func (s *faultyStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if s.getErr != nil && strings.HasPrefix(key, spentPrefix) {
		return nil, s.getErr
	}
	return s.Storage.Get(ctx, key)
}

func faultySetup(t *testing.T) (*harness, *faultyStorage) {
	h := setup(t)
	fs := &faultyStorage{Storage: h.storage}
	h.storage = fs
	return h, fs
}

var errNoSpace = errors.New("write /var/lib/openbao/raft/raft.db: no space left on device")

// Issuing a nonce writes nothing, so a node whose storage is read-only or full still issues
// them; only a mount without nonce keys (which a standby cannot create) needs a write.
func TestNonceIsIssuedWhateverTheStorage(t *testing.T) {
	h, fs := faultySetup(t)
	fs.putErr = errNoSpace
	h.nonce("mcp")

	// A mount configured by an earlier version: a config, no keys.
	fresh := newHarness(t)
	entry, _ := logical.StorageEntryJSON(configStoragePath, &pluginConfig{SidecarAddress: "unix:///x.sock",
		RequestTimeout: defaultRequestTimeout, NonceTTL: defaultNonceTTL})
	if err := fresh.storage.Put(t.Context(), entry); err != nil {
		t.Fatal(err)
	}
	ro := &faultyStorage{Storage: fresh.storage, putErr: logical.ErrReadOnly}
	fresh.storage = ro
	_, err := fresh.request(logical.UpdateOperation, "nonce", map[string]interface{}{})
	if !errors.Is(err, logical.ErrReadOnly) {
		t.Fatalf("no keys on a standby: want ErrReadOnly (forwarded to the active node), got %v", err)
	}
}

func TestLoginFailsClosedWhenTheNonceCannotBeSpent(t *testing.T) {
	h, fs := faultySetup(t)
	nonce := h.nonce("mcp")
	fs.putErr = errNoSpace
	resp, err := h.login("mcp", nonce)
	// The caller learns which step failed, not the storage error (it names a server path).
	if err == nil || !strings.Contains(err.Error(), "spending the nonce") || strings.Contains(err.Error(), "/var/lib") ||
		(resp != nil && resp.Auth != nil) {
		t.Fatalf("want an error naming the nonce and no token, got %v %+v", err, resp)
	}
	// The sidecar may have been asked while the record was being written; its answer is not used.
	// On a standby the write is refused as read-only: the login is forwarded, not failed here.
	fs.putErr = logical.ErrReadOnly
	if _, err := h.login("mcp", nonce); !errors.Is(err, logical.ErrReadOnly) {
		t.Fatalf("want ErrReadOnly, got %v", err)
	}
	// Once storage works again, the (unspent) nonce can be used once.
	fs.putErr = nil
	if resp, err := h.login("mcp", nonce); err != nil || resp.IsError() || resp.Auth == nil {
		t.Fatalf("after recovery: %v %v", err, resp)
	}
}

func TestLoginFailsClosedWhenTheNonceCannotBeRead(t *testing.T) {
	h, fs := faultySetup(t)
	nonce := h.nonce("mcp")
	fs.getErr = errors.New("raft: leadership lost while committing log")
	resp, err := h.login("mcp", nonce)
	if err == nil || !strings.Contains(err.Error(), "spending the nonce failed") || strings.Contains(err.Error(), "raft") ||
		(resp != nil && resp.Auth != nil) {
		t.Fatalf("want an error naming the nonce and no token, got %v %+v", err, resp)
	}
	if h.fake.calls() != 0 {
		t.Fatal("the evidence was evaluated although the nonce could not be read")
	}
}

func TestRoleIsNotWrittenToReadOnlyStorage(t *testing.T) {
	h, fs := faultySetup(t)
	fs.putErr = logical.ErrReadOnly
	_, err := h.request(logical.UpdateOperation, "role/other", map[string]interface{}{"tee_types": "tdx", "tdx_mrtd": testMrtd})
	if !errors.Is(err, logical.ErrReadOnly) {
		t.Fatalf("want ErrReadOnly (which Vault forwards to the active node), got %v", err)
	}
}

// blockingPutStorage holds a spent-nonce write until release is closed.
type blockingPutStorage struct {
	logical.Storage
	release chan struct{}
}

func (s *blockingPutStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if strings.HasPrefix(e.Key, spentPrefix) {
		<-s.release
	}
	return s.Storage.Put(ctx, e)
}

// The spent nonce's record is written while the sidecar verifies, not before: a write that
// cannot finish until the sidecar has been asked does not hold the login up. The login still
// answers only after the write, and a second login with the nonce finds the record.
func TestNonceRecordIsWrittenWhileTheSidecarVerifies(t *testing.T) {
	h := setup(t)
	nonce := h.nonce("mcp")
	blocking := &blockingPutStorage{Storage: h.storage, release: make(chan struct{})}
	h.storage = blocking
	allowed := h.fake.evaluate
	h.fake.evaluate = func(req *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
		close(blocking.release) // the record's write is under way and waits for this call
		return allowed(req)
	}
	done := make(chan *logical.Response, 1)
	go func() {
		resp, err := h.login("mcp", nonce)
		if err != nil {
			t.Errorf("login: %v", err)
		}
		done <- resp
	}()
	select {
	case resp := <-done:
		if resp == nil || resp.Auth == nil {
			t.Fatalf("want a token, got %+v", resp)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sidecar was not asked until the spent nonce's record was written")
	}
	h.fake.evaluate = allowed
	if resp, err := h.login("mcp", nonce); !errors.Is(err, logical.ErrPermissionDenied) || resp.Auth != nil {
		t.Fatalf("replay after the overlapped spend: %v %+v", err, resp)
	}
}

// A record that cannot be written cancels the sidecar call. The server log names the write, and
// does not report a failed sidecar as well: the sidecar did nothing wrong.
func TestCancelledSidecarCallIsNotLoggedAsASidecarFailure(t *testing.T) {
	var logs bytes.Buffer
	h := setupLogging(t, &logs)
	nonce := h.nonce("mcp")
	fs := &faultyStorage{Storage: h.storage, putErr: errNoSpace}
	h.storage = fs
	h.fake.waitForCancel = true
	resp, err := h.login("mcp", nonce)
	if err == nil || !strings.Contains(err.Error(), "spending the nonce") || (resp != nil && resp.Auth != nil) {
		t.Fatalf("want the spend's error and no token, got %v %+v", err, resp)
	}
	if !strings.Contains(logs.String(), "spending the nonce failed") {
		t.Fatalf("the server log does not name the failed write:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "verifier sidecar call failed") {
		t.Fatalf("the cancelled call is logged as a sidecar failure:\n%s", logs.String())
	}
}
