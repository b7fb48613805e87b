package teeauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestRoleFieldsComeFromTheProto(t *testing.T) {
	names := map[string]bool{}
	for _, n := range policyFieldNames() {
		names[n] = true
	}
	for _, want := range []string{"tee_types", "allowed_tcb_statuses", "allow_debug", "max_evidence_age_seconds",
		"allow_unbound_evidence", "tdx_mrtd", "tdx_rtmr0", "tdx_rtmr3", "tdx_mrseam", "sev_snp_measurement",
		"sev_snp_host_data", "sev_snp_min_guest_svn", "sev_snp_min_reported_tcb_boot_loader",
		"sev_snp_min_reported_tcb_fmc", "sev_snp_products", "sev_snp_signing_keys", "sev_snp_max_vmpl",
		"nitro_pcr0", "nitro_pcr4", "nitro_pcr8"} {
		if !names[want] {
			t.Errorf("role field %s missing", want)
		}
	}
}

func TestRoleIsValidatedBySidecarAndStoredNormalized(t *testing.T) {
	h := newHarness(t)
	h.configure()
	h.mustOK(logical.UpdateOperation, "role/mcp", map[string]interface{}{
		"tee_types":                          "tdx,sev-snp",
		"tdx_mrtd":                           strings.ToUpper(testMrtd),
		"tdx_rtmr2":                          []string{"aa", "bb"},
		"sev_snp_min_reported_tcb_microcode": 209,
		"sev_snp_max_vmpl":                   0,
		"sev_snp_min_firmware":               "1.55",
		"tdx_attributes":                     "0000001000000000",
		"tdx_attributes_mask":                "0000003000000080",
		"allow_debug":                        false,
		"token_policies":                     "mcp-secrets",
		"token_ttl":                          "15m",
	})
	data := h.mustOK(logical.ReadOperation, "role/mcp", nil).Data
	if got := data["tdx_mrtd"].([]string); len(got) != 1 || got[0] != testMrtd {
		t.Fatalf("tdx_mrtd not normalized: %v", got)
	}
	if got := data["tee_types"].([]string); len(got) != 2 || got[1] != "sev-snp" {
		t.Fatalf("tee_types: %v", got)
	}
	if data["sev_snp_min_reported_tcb_microcode"] != uint64(209) || data["sev_snp_max_vmpl"] != uint64(0) {
		t.Fatalf("optional numbers: %v %v", data["sev_snp_min_reported_tcb_microcode"], data["sev_snp_max_vmpl"])
	}
	if _, set := data["sev_snp_min_guest_svn"]; set {
		t.Fatal("an unset optional number was returned")
	}
	if data["sev_snp_min_firmware"] != "1.55" || data["tdx_attributes_mask"] != "0000003000000080" {
		t.Fatalf("optional strings: %v %v", data["sev_snp_min_firmware"], data["tdx_attributes_mask"])
	}
	if _, set := data["tdx_xfam"]; set {
		t.Fatal("an unset optional string was returned")
	}
	if got := data["allowed_tcb_statuses"].([]string); len(got) != 1 || got[0] != "UpToDate" {
		t.Fatalf("default tcb statuses: %v", got)
	}
	if got := data["token_policies"].([]string); len(got) != 1 || got[0] != "mcp-secrets" {
		t.Fatalf("token_policies: %v", data["token_policies"])
	}
	list := h.mustOK(logical.ListOperation, "role/", nil).Data["keys"].([]string)
	if len(list) != 1 || list[0] != "mcp" {
		t.Fatalf("list: %v", list)
	}
	h.mustOK(logical.DeleteOperation, "role/mcp", nil)
	if resp := h.mustOK(logical.ReadOperation, "role/mcp", nil); resp != nil {
		t.Fatalf("deleted role still readable: %v", resp)
	}
}

func TestRoleTheSidecarRefusesIsNotStored(t *testing.T) {
	h := newHarness(t)
	h.configure()
	resp, err := h.request(logical.UpdateOperation, "role/loose", map[string]interface{}{"tee_types": "tdx"})
	if err != nil || resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), "constrains none of its measurements") {
		t.Fatalf("want the sidecar's error, got err=%v resp=%v", err, resp)
	}
	if r, _ := h.b.role(t.Context(), h.storage, "loose"); r != nil {
		t.Fatal("a refused role was stored")
	}
}

func TestRoleWriteFailsClosedWithoutTheSidecar(t *testing.T) {
	h := newHarness(t)
	h.configure()
	h.fake.validateErr = errors.New("connection refused")
	_, err := h.request(logical.UpdateOperation, "role/r", map[string]interface{}{"tee_types": "tdx", "tdx_mrtd": testMrtd})
	if err == nil || !strings.Contains(err.Error(), "cannot validate role") {
		t.Fatalf("want an error, got %v", err)
	}
}

func TestRoleRejectsBadTokenSettingsAndNumbers(t *testing.T) {
	h := newHarness(t)
	h.configure()
	resp, _ := h.request(logical.UpdateOperation, "role/r", map[string]interface{}{
		"tee_types": "tdx", "tdx_mrtd": testMrtd, "token_ttl": "2h", "token_max_ttl": "1h"})
	if resp == nil || !resp.IsError() {
		t.Fatal("token_ttl above token_max_ttl accepted")
	}
	resp, _ = h.request(logical.UpdateOperation, "role/r", map[string]interface{}{
		"tee_types": "tdx", "tdx_mrtd": testMrtd, "sev_snp_min_guest_svn": -1})
	if resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), "sev_snp_min_guest_svn") {
		t.Fatalf("negative number accepted: %v", resp)
	}
}

// readCounting counts the reads of role entries that reach storage.
type readCounting struct {
	logical.Storage
	mu        sync.Mutex
	roleReads int
}

func (s *readCounting) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	if strings.HasPrefix(key, rolePrefix) {
		s.mu.Lock()
		s.roleReads++
		s.mu.Unlock()
	}
	return s.Storage.Get(ctx, key)
}

// Logins read their role from memory once it is read; a write or delete here, or an invalidation
// from another node, drops it, and unknown role names are never kept.
func TestRolesAreReadOnceAndDroppedOnChange(t *testing.T) {
	h := setup(t)
	counting := &readCounting{Storage: h.storage}
	h.storage = counting
	for i := 0; i < 3; i++ {
		if resp, err := h.login("mcp", h.nonce("")); err != nil || resp.IsError() {
			t.Fatalf("login %d: %v %v", i, err, resp)
		}
	}
	if counting.roleReads != 1 {
		t.Fatalf("3 logins read the role from storage %d times, want 1", counting.roleReads)
	}

	// Written here: the next login gets the new token parameters.
	h.writeRole("mcp", map[string]interface{}{"token_policies": "other"})
	resp, err := h.login("mcp", h.nonce(""))
	if err != nil || resp.IsError() || !slices.Equal(resp.Auth.Policies, []string{"other"}) {
		t.Fatalf("after a role write: %v %v", err, resp)
	}

	// Written by another node (straight to storage) and invalidated: the same.
	other, err := readRole(t.Context(), h.storage, "mcp")
	if err != nil {
		t.Fatal(err)
	}
	other.TokenPolicies = []string{"third"}
	entry, _ := logical.StorageEntryJSON(rolePrefix+"mcp", other)
	if err := h.storage.Put(t.Context(), entry); err != nil {
		t.Fatal(err)
	}
	h.b.invalidate(t.Context(), rolePrefix+"mcp")
	if resp, err := h.login("mcp", h.nonce("")); err != nil || resp.IsError() || !slices.Equal(resp.Auth.Policies, []string{"third"}) {
		t.Fatalf("after another node's write: %v %v", err, resp)
	}

	// Deleted: refused like an unknown role.
	h.mustOK(logical.DeleteOperation, "role/mcp", nil)
	if _, err := h.login("mcp", h.nonce("")); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("after delete: %v", err)
	}

	for i := 0; i < 100; i++ {
		h.login(fmt.Sprintf("made-up-%d", i), h.nonce(""))
	}
	h.b.rolesMu.Lock()
	defer h.b.rolesMu.Unlock()
	if len(h.b.roles) != 0 {
		t.Fatalf("roles kept in memory: %d, want 0 (only existing roles are kept)", len(h.b.roles))
	}
}
