package teeauth

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestNonceIsFreshStoredAndExpires(t *testing.T) {
	h := newHarness(t)
	h.configure()
	resp := h.mustOK(logical.UpdateOperation, "nonce", nil)
	raw, err := hex.DecodeString(resp.Data["nonce"].(string))
	if err != nil || len(raw) != 32 {
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
	entry, _ := h.storage.Get(t.Context(), noncePrefix+resp.Data["nonce"].(string))
	if entry == nil {
		t.Fatal("the nonce is not in storage")
	}
}

func TestNonceForAnUnknownRoleIsRefused(t *testing.T) {
	h := newHarness(t)
	h.configure()
	resp, _ := h.request(logical.UpdateOperation, "nonce", map[string]interface{}{"role": "nope"})
	if resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), `role "nope" could not be found`) {
		t.Fatalf("got %v", resp)
	}
}

func TestOutstandingNoncesAreBounded(t *testing.T) {
	h := newHarness(t)
	h.mustOK(logical.UpdateOperation, "config", map[string]interface{}{
		"sidecar_address": "unix:///x.sock", "max_outstanding_nonces": 3})
	h.writeRole("r", nil)
	var nonces []string
	for i := 0; i < 3; i++ {
		nonces = append(nonces, h.nonce(""))
	}
	_, err := h.request(logical.UpdateOperation, "nonce", nil)
	coded, ok := err.(logical.HTTPCodedError)
	if !ok || coded.Code() != http.StatusServiceUnavailable {
		t.Fatalf("want 503, got %v", err)
	}
	// Using one frees a place.
	if resp, err := h.login("r", nonces[0]); err != nil || resp.IsError() {
		t.Fatalf("login: %v %v", err, resp)
	}
	h.nonce("")
}

func TestPeriodicFunctionRemovesExpiredNonces(t *testing.T) {
	h := newHarness(t)
	h.configure()
	live := h.nonce("")
	expired := h.nonce("")
	entry, _ := logical.StorageEntryJSON(noncePrefix+expired, &nonceEntry{ExpiresAt: time.Now().Add(-time.Second)})
	if err := h.storage.Put(t.Context(), entry); err != nil {
		t.Fatal(err)
	}
	if err := h.b.removeExpiredNonces(t.Context(), &logical.Request{Storage: h.storage}); err != nil {
		t.Fatal(err)
	}
	keys, _ := h.storage.List(t.Context(), noncePrefix)
	if len(keys) != 1 || keys[0] != live {
		t.Fatalf("after cleanup: %v", keys)
	}
}
