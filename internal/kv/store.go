package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// Store implements store.Store over a DB.
type Store struct {
	db DB

	// mu makes Close wait for transactions in flight: every transaction
	// holds a read lock, Close takes the write lock.
	mu     sync.RWMutex
	closed bool
}

var _ store.Store = (*Store)(nil)

// New returns the typed store over db. Closing the Store closes db.
func New(db DB) *Store { return &Store{db: db} }

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return s.db.View(ctx, func(txn Txn) error {
		return fn(&tx{ctx: ctx, txn: txn})
	})
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return s.db.Update(ctx, func(txn Txn) error {
		if err := fn(&tx{ctx: ctx, txn: txn}); err != nil {
			return err
		}
		// A ctx that ended while fn ran must not commit.
		return ctx.Err()
	})
}

// Close implements store.Store. It waits for transactions in flight.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// Key layout. Every component but the last is an ID, which never holds a
// NUL byte (store.CheckID), so NUL separates components unambiguously and
// byte order of keys within a prefix is byte order of IDs.
const (
	pfxTenant     = 'T' // T/tenant
	pfxRecord     = 'R' // R/tenant/kind/id
	pfxEmail      = 'E' // E/tenant/email -> user id
	pfxLicenseKey = 'L' // L/digest -> tenant/license id
	pfxToken      = 'K' // K/token id -> tenant
	pfxFamily     = 'F' // F/family id -> tenant
	pfxSession    = 'S' // S/console session id -> tenant
	pfxMember     = 'M' // M/tenant/group/user
	pfxMemberOf   = 'N' // N/tenant/user/group
	pfxPlan       = 'P' // P/tenant/product/plan
)

const (
	kindUser     = "user"
	kindGroup    = "group"
	kindProduct  = "product"
	kindPlan     = "plan"
	kindCustomer = "customer"
	kindLicense  = "license"
	kindToken    = "token"
	kindFamily   = "family"
	kindSession  = "session"
	kindAudit    = "audit"
	kindUsage    = "usage"
	kindQuota    = "quota"
)

func key(prefix byte, parts ...string) []byte {
	n := 1
	for _, p := range parts {
		n += 1 + len(p)
	}
	b := make([]byte, 0, n)
	b = append(b, prefix)
	for _, p := range parts {
		b = append(b, 0)
		b = append(b, p...)
	}
	return b
}

// dirKey is key(...) followed by a separator: the prefix of everything
// under the given components.
func dirKey(prefix byte, parts ...string) []byte {
	return append(key(prefix, parts...), 0)
}

// afterKey is the smallest key in dir whose last component sorts after id.
func afterKey(dir []byte, id string) []byte {
	if id == "" {
		return dir
	}
	b := make([]byte, 0, len(dir)+len(id)+1)
	b = append(b, dir...)
	b = append(b, id...)
	return append(b, 0)
}

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if err := store.CheckID(id); err != nil {
			return err
		}
	}
	return nil
}

// encode normalizes the times of the record v points to and encodes it.
func encode(v any) ([]byte, error) {
	store.NormalizeTimes(v)
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode: %w", err)
	}
	return b, nil
}

func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("store: decode: %w", err)
	}
	return nil
}

type tx struct {
	ctx context.Context
	txn Txn
}

func (t *tx) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return t.ctx.Err()
}

func (t *tx) exists(k []byte) (bool, error) {
	_, err := t.txn.Get(k)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}

func (t *tx) Tenants() store.Tenants { return tenants{t} }

func (t *tx) Tenant(tenantID string) store.TenantTx { return &scope{tx: t, tenantID: tenantID} }

func (t *tx) LicenseByKeyDigest(ctx context.Context, digest []byte) (store.License, error) {
	if err := t.check(ctx); err != nil {
		return store.License{}, err
	}
	if len(digest) == 0 {
		return store.License{}, fmt.Errorf("%w: empty key digest", store.ErrInvalid)
	}
	ref, err := t.txn.Get(key(pfxLicenseKey, string(digest)))
	if err != nil {
		return store.License{}, err
	}
	tenantID, id, ok := bytes.Cut(ref, []byte{0})
	if !ok {
		return store.License{}, fmt.Errorf("store: corrupt license index entry")
	}
	return (&scope{tx: t, tenantID: string(tenantID)}).Licenses().Get(ctx, string(id))
}

func (t *tx) UserTokenByID(ctx context.Context, id string) (store.UserToken, error) {
	tenantID, err := t.globalOwner(ctx, pfxToken, id)
	if err != nil {
		return store.UserToken{}, err
	}
	return (&scope{tx: t, tenantID: tenantID}).UserTokens().Get(ctx, id)
}

func (t *tx) RefreshFamilyByID(ctx context.Context, id string) (store.RefreshFamily, error) {
	tenantID, err := t.globalOwner(ctx, pfxFamily, id)
	if err != nil {
		return store.RefreshFamily{}, err
	}
	return (&scope{tx: t, tenantID: tenantID}).RefreshFamilies().Get(ctx, id)
}

func (t *tx) ConsoleSessionByID(ctx context.Context, id string) (store.ConsoleSession, error) {
	tenantID, err := t.globalOwner(ctx, pfxSession, id)
	if err != nil {
		return store.ConsoleSession{}, err
	}
	return (&scope{tx: t, tenantID: tenantID}).ConsoleSessions().Get(ctx, id)
}

func (t *tx) globalOwner(ctx context.Context, prefix byte, id string) (string, error) {
	if err := t.check(ctx); err != nil {
		return "", err
	}
	if err := checkIDs(id); err != nil {
		return "", err
	}
	owner, err := t.txn.Get(key(prefix, id))
	if err != nil {
		return "", err
	}
	return string(owner), nil
}

type tenants struct{ t *tx }

func (ts tenants) Create(ctx context.Context, rec tenant.Tenant) error {
	if err := ts.t.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(rec.ID); err != nil {
		return err
	}
	k := key(pfxTenant, rec.ID)
	ok, err := ts.t.exists(k)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: tenant %q", store.ErrAlreadyExists, rec.ID)
	}
	return ts.put(k, rec)
}

func (ts tenants) put(k []byte, rec tenant.Tenant) error {
	b, err := encode(&rec)
	if err != nil {
		return err
	}
	return ts.t.txn.Set(k, b)
}

func (ts tenants) Get(ctx context.Context, id string) (tenant.Tenant, error) {
	var rec tenant.Tenant
	if err := ts.t.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(id); err != nil {
		return rec, err
	}
	b, err := ts.t.txn.Get(key(pfxTenant, id))
	if err != nil {
		return rec, err
	}
	err = decode(b, &rec)
	return rec, err
}

func (ts tenants) Update(ctx context.Context, rec tenant.Tenant) error {
	if _, err := ts.Get(ctx, rec.ID); err != nil {
		return err
	}
	return ts.put(key(pfxTenant, rec.ID), rec)
}

func (ts tenants) List(ctx context.Context, page store.Page) ([]tenant.Tenant, string, error) {
	if err := ts.t.check(ctx); err != nil {
		return nil, "", err
	}
	return scanPage(ts.t.txn, dirKey(pfxTenant), page, func(rec *tenant.Tenant) string { return rec.ID })
}

// scanPage reads one page of records under dir, decoding each into a T.
func scanPage[T any](txn Txn, dir []byte, page store.Page, idOf func(*T) string) ([]T, string, error) {
	return scanFiltered(txn, dir, page, idOf, nil)
}

func scanFiltered[T any](txn Txn, dir []byte, page store.Page, idOf func(*T) string, keep func(*T) bool) ([]T, string, error) {
	size := page.Size()
	out := make([]T, 0, min(size+1, 64))
	err := txn.Scan(dir, afterKey(dir, page.After), func(_, v []byte) (bool, error) {
		var rec T
		if err := decode(v, &rec); err != nil {
			return false, err
		}
		if keep != nil && !keep(&rec) {
			return true, nil
		}
		out = append(out, rec)
		return len(out) <= size, nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > size {
		out = out[:size]
		return out, idOf(&out[size-1]), nil
	}
	return out, "", nil
}

// scanIDs reads one page of the last key components under dir.
func scanIDs(txn Txn, dir []byte, page store.Page) ([]string, string, error) {
	size := page.Size()
	var out []string
	err := txn.Scan(dir, afterKey(dir, page.After), func(k, _ []byte) (bool, error) {
		out = append(out, string(k[len(dir):]))
		return len(out) <= size, nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) > size {
		out = out[:size]
		return out, out[size-1], nil
	}
	return out, "", nil
}

// scope is a transaction scoped to one tenant.
type scope struct {
	*tx
	tenantID string
}

func (s *scope) TenantID() string { return s.tenantID }

// claim fills in an empty TenantID and refuses another tenant's.
func (s *scope) claim(tenantID *string) error {
	switch *tenantID {
	case "":
		*tenantID = s.tenantID
	case s.tenantID:
	default:
		return fmt.Errorf("%w: record of tenant %q written in tenant %q", store.ErrInvalid, *tenantID, s.tenantID)
	}
	return nil
}

func (s *scope) recordKey(kind, id string) []byte { return key(pfxRecord, s.tenantID, kind, id) }
