package teeauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"
)

const (
	noncePrefix = "nonce/"
	nonceBytes  = 32
)

var (
	errNonceUnknown   = errors.New("the nonce is unknown, already used or expired: request a new one")
	errNonceExpired   = errors.New("the nonce has expired: request a new one")
	errNonceOtherRole = errors.New("the nonce was issued for another role")
)

// nonceEntry is an issued, not yet used nonce. Stored under nonce/<hex>, so every node of an HA
// cluster sees it and a restart does not forget it.
type nonceEntry struct {
	ExpiresAt time.Time `json:"expires_at"`
	Role      string    `json:"role,omitempty"` // when set, only a login to this role may use it
}

// nonceCounter tracks how many nonces are outstanding, to bound what an unauthenticated caller
// can make the server store. Counted from storage on first use, then kept up to date.
type nonceCounter struct {
	mu    sync.Mutex
	known bool
	n     int
}

func (c *nonceCounter) reserve(ctx context.Context, s logical.Storage, max int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		keys, err := s.List(ctx, noncePrefix)
		if err != nil {
			return err
		}
		c.n, c.known = len(keys), true
	}
	if c.n >= max {
		return logical.CodedError(http.StatusServiceUnavailable,
			fmt.Sprintf("%d nonces are outstanding (max_outstanding_nonces): try again once they are used or expire", c.n))
	}
	c.n++
	return nil
}

func (c *nonceCounter) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n < 0 {
		c.n = 0
	}
}

func (c *nonceCounter) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.known = false
}

// issueNonce stores a fresh random nonce and returns it with its expiry.
func (b *backend) issueNonce(ctx context.Context, s logical.Storage, role string, ttl time.Duration, max int) ([]byte, time.Time, error) {
	if err := b.nonces.reserve(ctx, s, max); err != nil {
		return nil, time.Time{}, err
	}
	nonce := make([]byte, nonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		b.nonces.release()
		return nil, time.Time{}, err
	}
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	entry, err := logical.StorageEntryJSON(noncePrefix+hex.EncodeToString(nonce), &nonceEntry{ExpiresAt: expires, Role: role})
	if err == nil {
		err = s.Put(ctx, entry)
	}
	if err != nil {
		b.nonces.release()
		return nil, time.Time{}, fmt.Errorf("storing the nonce: %w", err)
	}
	return nonce, expires, nil
}

// consumeNonce deletes the nonce before anything else happens with the login, under a lock, so
// that concurrent logins with one nonce see it at most once. Any storage failure is an error:
// a nonce that cannot be deleted must not be used.
func (b *backend) consumeNonce(ctx context.Context, s logical.Storage, nonce []byte, role string, now time.Time) error {
	key := hex.EncodeToString(nonce)
	lock := locksutil.LockForKey(b.nonceLocks, key)
	lock.Lock()
	defer lock.Unlock()
	entry, err := s.Get(ctx, noncePrefix+key)
	if err != nil {
		return fmt.Errorf("reading the nonce: %w", err)
	}
	if entry == nil {
		return errNonceUnknown
	}
	if err := s.Delete(ctx, noncePrefix+key); err != nil {
		return fmt.Errorf("consuming the nonce: %w", err)
	}
	b.nonces.release()
	stored := &nonceEntry{}
	if err := entry.DecodeJSON(stored); err != nil {
		return fmt.Errorf("reading the nonce: %w", err)
	}
	if now.After(stored.ExpiresAt) {
		return errNonceExpired
	}
	if stored.Role != "" && stored.Role != role {
		return errNonceOtherRole
	}
	return nil
}

// removeExpiredNonces is the backend's periodic function.
func (b *backend) removeExpiredNonces(ctx context.Context, req *logical.Request) error {
	state := b.System().ReplicationState()
	if state.HasState(consts.ReplicationPerformanceStandby) || state.HasState(consts.ReplicationPerformanceSecondary) {
		return nil // storage is written on the active node of the primary only
	}
	keys, err := req.Storage.List(ctx, noncePrefix)
	if err != nil {
		return err
	}
	now := time.Now()
	removed := 0
	for _, key := range keys {
		lock := locksutil.LockForKey(b.nonceLocks, key)
		lock.Lock()
		entry, err := req.Storage.Get(ctx, noncePrefix+key)
		stored := &nonceEntry{}
		if err == nil && entry != nil && entry.DecodeJSON(stored) == nil && now.After(stored.ExpiresAt) {
			if err = req.Storage.Delete(ctx, noncePrefix+key); err == nil {
				removed++
			}
		}
		lock.Unlock()
		if err != nil {
			b.Logger().Warn("cleaning expired nonces", "error", err)
		}
	}
	if removed > 0 {
		b.Logger().Debug("removed expired nonces", "count", removed)
	}
	b.nonces.forget() // recount from storage on the next issue
	return nil
}
