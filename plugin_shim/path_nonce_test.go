package teeauth

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// countingStorage counts the writes (puts and deletes) that reach storage.
type countingStorage struct {
	logical.Storage
	writes atomic.Int64
}

func (s *countingStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	s.writes.Add(1)
	return s.Storage.Put(ctx, e)
}

func (s *countingStorage) Delete(ctx context.Context, key string) error {
	s.writes.Add(1)
	return s.Storage.Delete(ctx, key)
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expiredNonce is a nonce of h's mount, correctly MACed, that expired a second ago.
func expiredNonce(t *testing.T, h *harness) string {
	t.Helper()
	nonce, _, err := h.b.issueNonce(t.Context(), h.storage, "", -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(nonce)
}

func TestNonceIsFreshAndExpires(t *testing.T) {
	h := newHarness(t)
	h.configure()
	resp := h.mustOK(logical.UpdateOperation, "nonce", nil)
	if raw := mustHex(t, resp.Data["nonce"].(string)); len(raw) != nonceBytes {
		t.Fatalf("nonce %q", resp.Data["nonce"])
	}
	expires, err := time.Parse(time.RFC3339, resp.Data["expires_at"].(string))
	if err != nil || time.Until(expires) > defaultNonceTTL || time.Until(expires) < defaultNonceTTL-5*time.Second {
		t.Fatalf("expires_at %v", resp.Data["expires_at"])
	}
	if resp.Data["ttl"] != int64(120) {
		t.Fatalf("ttl %v", resp.Data["ttl"])
	}
	if other := h.nonce(""); other == resp.Data["nonce"] {
		t.Fatal("two nonces are equal")
	}
}

// A burst of nonce requests, through both forms, writes nothing: there is no pool to exhaust,
// and a workload logs in right after.
func TestNonceBurstLeavesStorageUnchanged(t *testing.T) {
	h := setup(t)
	counting := &countingStorage{Storage: h.storage}
	h.storage = counting
	before, _ := logical.CollectKeys(t.Context(), counting)
	for i := 0; i < 3000; i++ {
		var op logical.Operation = logical.UpdateOperation
		if i%2 == 0 {
			op = logical.ReadOperation // GET auth/tee/nonce
		}
		role := ""
		if i%3 == 0 {
			role = "mcp"
		}
		if resp, err := h.request(op, "nonce", map[string]interface{}{"role": role}); err != nil || resp.IsError() {
			t.Fatalf("nonce %d: %v %v", i, err, resp)
		}
	}
	after, _ := logical.CollectKeys(t.Context(), counting)
	if n := counting.writes.Load(); n != 0 || len(after) != len(before) {
		t.Fatalf("3000 nonces: %d storage writes, %d keys before and %d after; want none and no change", n, len(before), len(after))
	}
	if resp, err := h.login("mcp", h.nonce("mcp")); err != nil || resp.IsError() || resp.Auth == nil {
		t.Fatalf("login after the burst: %v %v", err, resp)
	}
	// The login spent its nonce: one record.
	if n := counting.writes.Load(); n != 1 {
		t.Fatalf("a login: %d storage writes, want 1 (the spent nonce)", n)
	}
}

func TestNonceReadFormIsBoundToItsRole(t *testing.T) {
	h := setup(t)
	h.writeRole("other", nil)
	resp := h.mustOK(logical.ReadOperation, "nonce", map[string]interface{}{"role": "other"})
	if resp.Data["role"] != "other" {
		t.Fatalf("read form: %v", resp.Data)
	}
	nonce := resp.Data["nonce"].(string)
	if resp, err := h.login("mcp", nonce); !errors.Is(err, logical.ErrPermissionDenied) ||
		!strings.Contains(resp.Error().Error(), "another role") {
		t.Fatalf("a nonce of role other, used for mcp: %v %v", err, resp)
	}
	if resp, err := h.login("other", nonce); err != nil || resp.IsError() {
		t.Fatalf("its own role: %v %v", err, resp)
	}
}

// Whether a role exists is not for unauthenticated callers: a nonce for an unknown role is issued
// like any other (and fails at login like a role the caller may not use).
func TestNonceForAnUnknownRoleIsIssuedAlike(t *testing.T) {
	h := newHarness(t)
	h.configure()
	for _, op := range []logical.Operation{logical.UpdateOperation, logical.ReadOperation} {
		resp, err := h.request(op, "nonce", map[string]interface{}{"role": "nope"})
		if err != nil || resp == nil || resp.IsError() || resp.Data["role"] != "nope" || resp.Data["nonce"] == nil {
			t.Fatalf("%s: got %v %v", op, err, resp)
		}
	}
}

// Every byte of a nonce is covered: a change anywhere, a nonce of another mount (another key),
// or an expired one is refused before the sidecar is asked anything.
func TestTamperedForeignAndExpiredNoncesAreRefused(t *testing.T) {
	h := setup(t)
	good := mustHex(t, h.nonce("mcp"))
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if _, err := h.b.spendNonce(t.Context(), h.storage, bad, "mcp", time.Now(), func() {}); !nonceRefusal(err) {
			t.Fatalf("byte %d altered: %v", i, err)
		}
	}
	other := setup(t)
	foreign := other.nonce("mcp")
	resp, err := h.login("mcp", foreign)
	if !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "not issued by this auth method") {
		t.Fatalf("a nonce of another mount: %v %v", err, resp)
	}
	resp, err = h.login("mcp", expiredNonce(t, h))
	if !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "expired") {
		t.Fatalf("expired nonce: %v %v", err, resp)
	}
	if h.fake.calls() != 0 {
		t.Fatal("the sidecar was called for a refused nonce")
	}
	// The unaltered nonce still works.
	if resp, err := h.login("mcp", hex.EncodeToString(good)); err != nil || resp.IsError() {
		t.Fatalf("the good nonce: %v %v", err, resp)
	}
}

// After a rotation the previous key is honoured (its nonces live at most 10 minutes, a key a
// day); after a second one it is gone.
func TestNonceKeyRotationHonoursThePreviousKey(t *testing.T) {
	h := setup(t)
	old := h.nonce("mcp")
	older := h.nonce("mcp")
	if err := h.b.rotateNonceKeysIfDue(t.Context(), h.storage, time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp, err := h.login("mcp", old); err != nil || resp.IsError() {
		t.Fatalf("not rotated yet (the key is new): %v %v", err, resp)
	}
	if err := h.b.rotateNonceKeysIfDue(t.Context(), h.storage, time.Now().Add(nonceKeyRotation)); err != nil {
		t.Fatal(err)
	}
	if fresh := h.nonce("mcp"); bytes.Equal(mustHex(t, fresh)[2:6], mustHex(t, older)[2:6]) {
		t.Fatal("new nonces carry the old key id")
	}
	if resp, err := h.login("mcp", older); err != nil || resp.IsError() {
		t.Fatalf("a nonce of the previous key: %v %v", err, resp)
	}
	if err := h.b.rotateNonceKeysIfDue(t.Context(), h.storage, time.Now().Add(2*nonceKeyRotation)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.b.checkNonce(t.Context(), h.storage, mustHex(t, older), "mcp", time.Now()); !errors.Is(err, errNonceInvalid) {
		t.Fatalf("a nonce of a retired key: %v", err)
	}
	if resp, err := h.login("mcp", h.nonce("mcp")); err != nil || resp.IsError() {
		t.Fatalf("current key: %v %v", err, resp)
	}
}

// A standby caches the keys; when the active node rotates them, the invalidation drops the cache.
func TestInvalidateDropsTheCachedNonceKeys(t *testing.T) {
	active := setup(t)
	standby := newBackend(func(*pluginConfig) (VerifierClient, error) { return active.fake, nil })
	cfg := logical.TestBackendConfig()
	cfg.StorageView = active.storage
	if err := standby.Setup(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	first, err := standby.nonceKeySet(t.Context(), active.storage)
	if err != nil {
		t.Fatal(err)
	}
	if err := active.b.rotateNonceKeysIfDue(t.Context(), active.storage, time.Now().Add(nonceKeyRotation)); err != nil {
		t.Fatal(err)
	}
	standby.invalidate(t.Context(), nonceKeysPath)
	second, err := standby.nonceKeySet(t.Context(), active.storage)
	if err != nil || second.Current.ID == first.Current.ID || second.Previous == nil || second.Previous.ID != first.Current.ID {
		t.Fatalf("after invalidation: %v %+v", err, second)
	}
}

func TestPeriodicFunctionRemovesExpiredSpentNonces(t *testing.T) {
	h := setup(t)
	live := h.nonce("")
	if resp, err := h.login("mcp", live); err != nil || resp.IsError() {
		t.Fatal(err, resp)
	}
	expired := mustHex(t, h.nonce(""))
	if err := h.storage.Put(t.Context(), &logical.StorageEntry{Key: spentKey(expired, time.Now().Add(-time.Second)), Value: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if err := h.storage.Put(t.Context(), &logical.StorageEntry{Key: legacyNoncePrefix + "00ff", Value: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if err := h.b.periodicFunc(t.Context(), &logical.Request{Storage: h.storage}); err != nil {
		t.Fatal(err)
	}
	keys, _ := h.storage.List(t.Context(), spentPrefix)
	if len(keys) != 1 || !strings.HasSuffix(keys[0], hex.EncodeToString(mustHex(t, live)[2:nonceHeaderBytes])) {
		t.Fatalf("after cleanup: %v", keys)
	}
	if legacy, _ := h.storage.List(t.Context(), legacyNoncePrefix); len(legacy) != 0 {
		t.Fatalf("stored nonces of an earlier version: %v", legacy)
	}
	// The record of the live one still refuses it.
	if resp, err := h.login("mcp", live); !errors.Is(err, logical.ErrPermissionDenied) || !strings.Contains(resp.Error().Error(), "already been used") {
		t.Fatalf("replay after cleanup: %v %v", err, resp)
	}
}
