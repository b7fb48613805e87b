package teeauth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// faultyStorage is the plugin's storage on a full disk or a read-only node: writes, deletes or
// reads fail with the given error.
type faultyStorage struct {
	logical.Storage
	putErr, deleteErr, getErr error
}

func (s *faultyStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if s.putErr != nil {
		return s.putErr
	}
	return s.Storage.Put(ctx, e)
}

func (s *faultyStorage) Delete(ctx context.Context, key string) error {
	if s.deleteErr != nil {
		return s.deleteErr
	}
	return s.Storage.Delete(ctx, key)
}

func (s *faultyStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if s.getErr != nil && strings.HasPrefix(key, noncePrefix) {
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

func TestNonceIsNotIssuedWhenItCannotBeStored(t *testing.T) {
	h, fs := faultySetup(t)
	fs.putErr = errNoSpace
	resp, err := h.request(logical.UpdateOperation, "nonce", map[string]interface{}{})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("want the storage error, got %v %v", err, resp)
	}
	if resp != nil && resp.Data["nonce"] != nil {
		t.Fatal("a nonce was handed out that is not stored")
	}
}

func TestLoginFailsClosedWhenTheNonceCannotBeSpent(t *testing.T) {
	h, fs := faultySetup(t)
	nonce := h.nonce("mcp")
	fs.deleteErr = logical.ErrReadOnly
	resp, err := h.login("mcp", nonce)
	if err == nil || !strings.Contains(err.Error(), "consuming the nonce") || (resp != nil && resp.Auth != nil) {
		t.Fatalf("want an error naming the nonce and no token, got %v %+v", err, resp)
	}
	if h.fake.calls() != 0 {
		t.Fatal("the evidence was evaluated although the nonce could not be spent")
	}
	// Once storage works again, the (unspent) nonce can be used once.
	fs.deleteErr = nil
	if resp, err := h.login("mcp", nonce); err != nil || resp.IsError() || resp.Auth == nil {
		t.Fatalf("after recovery: %v %v", err, resp)
	}
}

func TestLoginFailsClosedWhenTheNonceCannotBeRead(t *testing.T) {
	h, fs := faultySetup(t)
	nonce := h.nonce("mcp")
	fs.getErr = errors.New("raft: leadership lost while committing log")
	resp, err := h.login("mcp", nonce)
	if err == nil || !strings.Contains(err.Error(), "reading the nonce") || (resp != nil && resp.Auth != nil) {
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
