package teeauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"
)

// Nonces are stateless: the plugin issues
//
//	version(1) ‖ flags(1) ‖ key id(4) ‖ expiry(8, Unix s) ‖ role tag(4) ‖ random(16) ‖ MAC(28)
//
// where MAC = HMAC-SHA-256(nonce key, domain ‖ the 34 bytes before it ‖ role name if bound),
// truncated, and role tag = SHA-256(role)[:4] when the nonce is bound to a role (flags bit 0).
// Issuing one touches no storage, so there is nothing for an unauthenticated caller to fill, and
// any node (a read-serving standby too) issues them. Single use is enforced at login: the nonce is
// spent — recorded under spent/ on the active node — before the evidence is evaluated, and the
// record lives until the nonce expires. 62 bytes: a nonce binds into REPORT_DATA as 1 to 64 bytes.
const (
	nonceVersion     = 1
	nonceRoleBound   = 1
	nonceHeaderBytes = 1 + 1 + 4 + 8 + 4 + 16
	nonceMACBytes    = 28
	nonceBytes       = nonceHeaderBytes + nonceMACBytes
	nonceMACDomain   = "tee-auth nonce v1\x00"

	nonceKeysPath = "nonce-keys"
	spentPrefix   = "spent/"
	// legacyNoncePrefix held the stored nonces of earlier versions; the periodic function
	// removes what is left of them.
	legacyNoncePrefix = "nonce/"
	// A key is rotated after a day, far longer than any nonce lives (nonce_ttl is at most 10
	// minutes), so keeping one previous key honours every unexpired nonce.
	nonceKeyRotation = 24 * time.Hour
)

var (
	errNonceInvalid   = errors.New("the nonce was not issued by this auth method, was altered, or its key has been retired: request a new one")
	errNonceUsed      = errors.New("the nonce has already been used: request a new one")
	errNonceExpired   = errors.New("the nonce has expired: request a new one")
	errNonceOtherRole = errors.New("the nonce was issued for another role")
)

// nonceKey is an HMAC key; nonceKeys the current one and the one it replaced. Stored at
// nonce-keys, so every node of an HA cluster (standbys too) verifies what any node issued.
type nonceKey struct {
	ID      uint32    `json:"id"`
	Secret  []byte    `json:"secret"`
	Created time.Time `json:"created"`
}

type nonceKeys struct {
	Current  nonceKey  `json:"current"`
	Previous *nonceKey `json:"previous,omitempty"`
}

func newNonceKey(now time.Time) (nonceKey, error) {
	k := nonceKey{Secret: make([]byte, 32), Created: now.UTC()}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return k, err
	}
	k.ID = binary.BigEndian.Uint32(id[:])
	_, err := rand.Read(k.Secret)
	return k, err
}

func (ks *nonceKeys) find(id uint32) *nonceKey {
	if ks.Current.ID == id {
		return &ks.Current
	}
	if ks.Previous != nil && ks.Previous.ID == id {
		return ks.Previous
	}
	return nil
}

func roleTag(role string) []byte {
	sum := sha256.Sum256([]byte(role))
	return sum[:4]
}

func nonceMAC(key []byte, header []byte, role string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(nonceMACDomain))
	m.Write(header)
	m.Write([]byte(role))
	return m.Sum(nil)[:nonceMACBytes]
}

// nonceKeySet returns the nonce keys, from memory once read (dropped by invalidate when another
// node rotates them). Without keys it creates them; on a standby that write fails with
// ErrReadOnly, which makes the server forward the request to the active node.
func (b *backend) nonceKeySet(ctx context.Context, s logical.Storage) (*nonceKeys, error) {
	b.nonceKeysMu.RLock()
	keys := b.nonceKeys
	b.nonceKeysMu.RUnlock()
	if keys != nil {
		return keys, nil
	}
	b.nonceKeysMu.Lock()
	defer b.nonceKeysMu.Unlock()
	if b.nonceKeys != nil {
		return b.nonceKeys, nil
	}
	keys, err := readNonceKeys(ctx, s)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		if keys, err = b.rotateNonceKeysLocked(ctx, s, nil); err != nil {
			return nil, err
		}
	}
	b.nonceKeys = keys
	return keys, nil
}

func readNonceKeys(ctx context.Context, s logical.Storage) (*nonceKeys, error) {
	entry, err := s.Get(ctx, nonceKeysPath)
	if err != nil {
		return nil, fmt.Errorf("reading the nonce keys: %w", err)
	}
	if entry == nil {
		return nil, nil
	}
	keys := &nonceKeys{}
	if err := entry.DecodeJSON(keys); err != nil {
		return nil, fmt.Errorf("reading the nonce keys: %w", err)
	}
	return keys, nil
}

// rotateNonceKeysLocked stores a new current key, keeping old's current as the previous one.
// Called with nonceKeysMu held.
func (b *backend) rotateNonceKeysLocked(ctx context.Context, s logical.Storage, old *nonceKeys) (*nonceKeys, error) {
	k, err := newNonceKey(time.Now())
	if err != nil {
		return nil, err
	}
	keys := &nonceKeys{Current: k}
	if old != nil {
		prev := old.Current
		keys.Previous = &prev
	}
	entry, err := logical.StorageEntryJSON(nonceKeysPath, keys)
	if err == nil {
		err = s.Put(ctx, entry)
	}
	if err != nil {
		if errors.Is(err, logical.ErrReadOnly) {
			return nil, err
		}
		return nil, fmt.Errorf("storing the nonce keys: %w", err)
	}
	b.nonceKeys = keys
	return keys, nil
}

// issueNonce makes a nonce, bound to role when it is not empty. No storage is written (but the
// very first nonce of a mount that has no key yet).
func (b *backend) issueNonce(ctx context.Context, s logical.Storage, role string, ttl time.Duration) ([]byte, time.Time, error) {
	keys, err := b.nonceKeySet(ctx, s)
	if err != nil {
		return nil, time.Time{}, err
	}
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	nonce := make([]byte, nonceHeaderBytes, nonceBytes)
	nonce[0] = nonceVersion
	binary.BigEndian.PutUint32(nonce[2:6], keys.Current.ID)
	binary.BigEndian.PutUint64(nonce[6:14], uint64(expires.Unix()))
	if role != "" {
		nonce[1] = nonceRoleBound
		copy(nonce[14:18], roleTag(role))
	}
	if _, err := rand.Read(nonce[18:34]); err != nil {
		return nil, time.Time{}, err
	}
	return append(nonce, nonceMAC(keys.Current.Secret, nonce, role)...), expires, nil
}

// checkNonce verifies a nonce for a login to role as of now, touching no storage (the keys are
// read once): its MAC under a key this mount holds, its expiry and its role. Returns its expiry.
func (b *backend) checkNonce(ctx context.Context, s logical.Storage, nonce []byte, role string, now time.Time) (time.Time, error) {
	if len(nonce) != nonceBytes || nonce[0] != nonceVersion || nonce[1]&^nonceRoleBound != 0 {
		return time.Time{}, errNonceInvalid
	}
	keys, err := b.nonceKeySet(ctx, s)
	if err != nil {
		return time.Time{}, err
	}
	key := keys.find(binary.BigEndian.Uint32(nonce[2:6]))
	if key == nil {
		return time.Time{}, errNonceInvalid
	}
	bound := ""
	if nonce[1]&nonceRoleBound != 0 {
		if !bytes.Equal(nonce[14:18], roleTag(role)) {
			return time.Time{}, errNonceOtherRole
		}
		bound = role
	} else if !bytes.Equal(nonce[14:18], make([]byte, 4)) {
		return time.Time{}, errNonceInvalid
	}
	if !hmac.Equal(nonce[nonceHeaderBytes:], nonceMAC(key.Secret, nonce[:nonceHeaderBytes], bound)) {
		return time.Time{}, errNonceInvalid
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(nonce[6:14])), 0)
	if now.After(expires) {
		return time.Time{}, errNonceExpired
	}
	return expires, nil
}

// spentKey names the record of a spent nonce: its expiry first, so that the periodic function
// finds expired records from the listing alone.
func spentKey(nonce []byte, expires time.Time) string {
	return fmt.Sprintf("%s%d-%s", spentPrefix, expires.Unix(), hex.EncodeToString(nonce[2:nonceHeaderBytes]))
}

// spendNonce checks the nonce and, under a per-nonce lock, looks for its record: a nonce already
// spent is refused here, before the sidecar sees it. The record is then written while the caller
// goes on to the sidecar (pendingSpend): the write and the verification overlap instead of adding
// up. The lock is held until the write has returned, so a concurrent copy of the login waits for
// it and finds the record. Any storage failure is an error: a nonce that cannot be recorded must
// not be used, so the caller waits for the write before it answers, and a failed write cancels
// the sidecar call through stopSidecar. On a standby the write fails with ErrReadOnly and the
// server forwards the login to the active node.
func (b *backend) spendNonce(ctx context.Context, s logical.Storage, nonce []byte, role string, now time.Time,
	stopSidecar context.CancelFunc) (*pendingSpend, error) {
	expires, err := b.checkNonce(ctx, s, nonce, role, now)
	if err != nil {
		return nil, err
	}
	key := spentKey(nonce, expires)
	lock := locksutil.LockForKey(b.nonceLocks, key)
	lock.Lock()
	entry, err := s.Get(ctx, key)
	if err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("reading the nonce: %w", err)
	}
	if entry != nil {
		lock.Unlock()
		return nil, errNonceUsed
	}
	spend := &pendingSpend{done: make(chan error, 1)}
	go func() {
		err := s.Put(ctx, &logical.StorageEntry{Key: key, Value: []byte{1}})
		lock.Unlock()
		if err != nil {
			stopSidecar()
			if !errors.Is(err, logical.ErrReadOnly) {
				err = fmt.Errorf("spending the nonce: %w", err)
			}
		}
		spend.done <- err
	}()
	return spend, nil
}

// pendingSpend is the write of a spent nonce's record, under way.
type pendingSpend struct{ done chan error }

// wait returns once the record is written (nil) or could not be (the error). A login answers
// only after it: no token leaves before its nonce is recorded.
func (p *pendingSpend) wait() error { return <-p.done }

// nonceRefusal tells a refused nonce (the client's problem) from a failure of the server.
func nonceRefusal(err error) bool {
	for _, e := range []error{errNonceInvalid, errNonceUsed, errNonceExpired, errNonceOtherRole} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// periodicFunc is the backend's periodic function, on the active node of the primary only:
// it rotates the nonce key once a day and drops the records of spent nonces that have expired
// (and what earlier versions stored under nonce/).
func (b *backend) periodicFunc(ctx context.Context, req *logical.Request) error {
	state := b.System().ReplicationState()
	if state.HasState(consts.ReplicationPerformanceStandby) || state.HasState(consts.ReplicationPerformanceSecondary) {
		return nil // storage is written on the active node of the primary only
	}
	if err := b.rotateNonceKeysIfDue(ctx, req.Storage, time.Now()); err != nil {
		b.Logger().Warn("rotating the nonce key", "error", err)
	}
	return b.removeSpentNonces(ctx, req.Storage, time.Now())
}

func (b *backend) rotateNonceKeysIfDue(ctx context.Context, s logical.Storage, now time.Time) error {
	b.nonceKeysMu.Lock()
	defer b.nonceKeysMu.Unlock()
	keys, err := readNonceKeys(ctx, s)
	if err != nil {
		return err
	}
	if keys != nil && now.Sub(keys.Current.Created) < nonceKeyRotation {
		b.nonceKeys = keys
		return nil
	}
	_, err = b.rotateNonceKeysLocked(ctx, s, keys)
	return err
}

func (b *backend) removeSpentNonces(ctx context.Context, s logical.Storage, now time.Time) error {
	keys, err := s.List(ctx, spentPrefix)
	if err != nil {
		return err
	}
	removed := 0
	for _, key := range keys {
		expiry, _, _ := strings.Cut(key, "-")
		unix, err := strconv.ParseInt(expiry, 10, 64)
		if err == nil && !now.After(time.Unix(unix, 0)) {
			continue // still protects an unexpired nonce
		}
		if err := s.Delete(ctx, spentPrefix+key); err != nil {
			b.Logger().Warn("removing a spent nonce", "error", err)
			continue
		}
		removed++
	}
	legacy, err := s.List(ctx, legacyNoncePrefix)
	if err != nil {
		return err
	}
	for _, key := range legacy {
		if err := s.Delete(ctx, legacyNoncePrefix+key); err == nil {
			removed++
		}
	}
	if removed > 0 {
		b.Logger().Debug("removed spent nonces", "count", removed)
	}
	return nil
}
