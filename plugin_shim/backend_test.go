package teeauth

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// spyStorage fails the test on any access: the factory must not touch storage.
type spyStorage struct{ t *testing.T }

func (s spyStorage) List(context.Context, string) ([]string, error) {
	s.t.Error("factory listed storage")
	return nil, errors.New("no storage")
}
func (s spyStorage) Get(context.Context, string) (*logical.StorageEntry, error) {
	s.t.Error("factory read storage")
	return nil, errors.New("no storage")
}
func (s spyStorage) Put(context.Context, *logical.StorageEntry) error {
	s.t.Error("factory wrote storage")
	return errors.New("no storage")
}
func (s spyStorage) Delete(context.Context, string) error {
	s.t.Error("factory deleted from storage")
	return errors.New("no storage")
}

func TestFactoryNeitherDialsNorTouchesStorage(t *testing.T) {
	// Registration runs the plugin with an empty configuration.
	cfg := logical.TestBackendConfig()
	cfg.StorageView = spyStorage{t}
	cfg.Config = map[string]string{}
	b, err := Factory(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if b.(*backend).client != nil {
		t.Fatal("factory created a sidecar client")
	}
	if b.Type() != logical.TypeCredential {
		t.Fatalf("type %v", b.Type())
	}
	special := b.SpecialPaths()
	if len(special.Unauthenticated) != 2 || special.SealWrapStorage[0] != "config" {
		t.Fatalf("special paths %+v", special)
	}
}

func TestRequestsBeforeConfigFailClearly(t *testing.T) {
	h := newHarness(t)
	if _, err := h.request(logical.UpdateOperation, "nonce", nil); !errors.Is(err, errNotConfigured) {
		t.Fatalf("nonce before config: %v", err)
	}
	_, err := h.request(logical.UpdateOperation, "role/r", map[string]interface{}{"tee_types": "tdx", "tdx_mrtd": testMrtd})
	if err == nil || !errors.Is(err, errNotConfigured) {
		t.Fatalf("role before config: %v", err)
	}
}
