package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/tenant"
)

// Store is a transactional backend. It is the only thing a host hands to
// the engine.
//
// Contract, for every implementation:
//
//   - View runs fn in a read-only transaction that sees one consistent
//     snapshot. A write inside it fails with ErrReadOnly.
//   - Update runs fn in a read-write transaction. If fn returns an error,
//     nothing it wrote is kept and Update returns that error unchanged. If fn
//     returns nil, every write becomes visible to later transactions at once
//     (atomically: all or none, also across a crash), and is durable when
//     Update returns, unless the backend documents otherwise.
//   - A backend may bound the size of one transaction (Badger's bound
//     follows its memtable size) and then fails a larger one with an error
//     that says so, having written nothing; callers write bulk data in
//     batches of a few hundred records.
//   - Update never retries. When a concurrent transaction changed what fn
//     read, Update returns an error matching ErrConflict and nothing was
//     written; the caller may run fn again. Of several concurrent Updates
//     that read and then write the same record, at most one commits on the
//     basis of the value they all read.
//   - ctx: a ctx that is done before Update commits makes Update return
//     ctx.Err() (wrapped or not; errors.Is matches) with nothing written.
//     Every method of Tx checks ctx as well.
//   - The Tx and everything reached through it are valid only inside fn and
//     only on fn's goroutine.
//   - Records are values: a returned record never aliases the store's data,
//     and changing a record after passing it in does not change the store.
//   - Times are kept with microsecond precision in UTC; callers that compare
//     times they stored should truncate them to microseconds first.
//   - After Close, View and Update return ErrClosed. Close is idempotent and
//     waits for nothing to be lost: every committed Update is on disk.
//
// Safe for concurrent use by many goroutines.
type Store interface {
	View(ctx context.Context, fn func(tx Tx) error) error
	Update(ctx context.Context, fn func(tx Tx) error) error
	Close() error
}

// Tx is one transaction. Everything a tenant owns is reached through
// Tenant(id), so a read or write of one tenant's data cannot name another
// tenant's. The only cross-tenant operations are the lookups that resolve
// a presented credential to its tenant.
type Tx interface {
	// Tenants manages the tenant records themselves.
	Tenants() Tenants
	// Tenant scopes every operation to one tenant. It does not check that
	// the tenant exists: callers load the tenant first.
	Tenant(tenantID string) TenantTx

	// LicenseByKeyDigest finds a license, in whichever tenant holds it, by
	// the digest of its key. ErrNotFound when no license has that digest.
	LicenseByKeyDigest(ctx context.Context, digest []byte) (License, error)
	// UserTokenByID finds a user token by its ID in whichever tenant holds it.
	UserTokenByID(ctx context.Context, id string) (UserToken, error)
	// RefreshFamilyByID finds a refresh-token family by its ID in whichever
	// tenant holds it.
	RefreshFamilyByID(ctx context.Context, id string) (RefreshFamily, error)
	// ConsoleSessionByID finds an admin-console session by its ID in
	// whichever tenant holds it.
	ConsoleSessionByID(ctx context.Context, id string) (ConsoleSession, error)
}

// Tenants stores tenant records. Tenants are never deleted: a tenant that
// leaves the platform is suspended.
type Tenants interface {
	// Create stores a new tenant; ErrAlreadyExists if the ID is taken.
	Create(ctx context.Context, t tenant.Tenant) error
	// Get returns the tenant or ErrNotFound.
	Get(ctx context.Context, id string) (tenant.Tenant, error)
	// Update overwrites an existing tenant; ErrNotFound if there is none.
	Update(ctx context.Context, t tenant.Tenant) error
	// List pages through tenants in ID order (see Page).
	List(ctx context.Context, page Page) ([]tenant.Tenant, string, error)
}

// TenantTx is a transaction scoped to one tenant. Records passed in must
// carry that tenant's ID or an empty TenantID (which the store fills in);
// another tenant's ID fails with ErrInvalid. Records read back always carry
// the tenant's ID.
type TenantTx interface {
	TenantID() string
	Users() Users
	Groups() Groups
	Products() Products
	Plans() Plans
	Customers() Customers
	Licenses() Licenses
	UserTokens() UserTokens
	RefreshFamilies() RefreshFamilies
	ConsoleSessions() ConsoleSessions
	Audit() Audit
	Usage() Usage
	Quotas() Quotas
}

// Collection is the common shape of a tenant's records of one kind, keyed
// by ID within the tenant. The same ID may exist in two tenants; they are
// different records.
type Collection[T any] interface {
	// Create stores a new record; ErrAlreadyExists if its ID (or a unique
	// attribute of the kind) is taken.
	Create(ctx context.Context, rec T) error
	// Get returns the record or ErrNotFound.
	Get(ctx context.Context, id string) (T, error)
	// Update overwrites an existing record; ErrNotFound if there is none,
	// ErrAlreadyExists if it would take a unique attribute of another record.
	Update(ctx context.Context, rec T) error
	// List pages through the tenant's records in ID order (see Page).
	List(ctx context.Context, page Page) ([]T, string, error)
}

// Deleter is implemented by the kinds whose records may be removed.
// Credentials (user tokens, refresh families) are not among them: they are
// revoked by a status change, never by a delete.
type Deleter interface {
	// Delete removes the record and what it owns; ErrNotFound if absent.
	Delete(ctx context.Context, id string) error
}

// Users are unique by email within a tenant (compared byte for byte: the
// caller normalizes; an empty email is not indexed). Deleting a user
// removes its group memberships.
type Users interface {
	Collection[User]
	Deleter
	// GetByEmail returns the tenant's user with that email or ErrNotFound.
	GetByEmail(ctx context.Context, email string) (User, error)
}

// Groups own their memberships: deleting a group removes them. The store
// does not check that a member user exists; the engine does.
type Groups interface {
	Collection[Group]
	Deleter
	// AddMember adds userID to the group; adding a member twice is a no-op.
	// ErrNotFound if the group does not exist.
	AddMember(ctx context.Context, groupID, userID string) error
	// RemoveMember removes userID from the group; ErrNotFound if it was not
	// a member.
	RemoveMember(ctx context.Context, groupID, userID string) error
	// Members pages through the group's user IDs in ID order.
	Members(ctx context.Context, groupID string, page Page) ([]string, string, error)
	// GroupsOf returns the IDs of the groups userID belongs to, in ID order.
	GroupsOf(ctx context.Context, userID string) ([]string, error)
}

// Products of a tenant.
type Products interface {
	Collection[Product]
	Deleter
}

// Plans belong to a product; plan IDs are unique within the tenant.
type Plans interface {
	Collection[Plan]
	Deleter
	// ListByProduct pages through one product's plans in ID order.
	ListByProduct(ctx context.Context, productID string, page Page) ([]Plan, string, error)
}

// Customers of a tenant.
type Customers interface {
	Collection[Customer]
	Deleter
}

// Licenses are unique by KeyDigest across all tenants. Update with a new
// KeyDigest (a reissued key) makes the old digest resolve to nothing at once.
type Licenses interface {
	Collection[License]
	Deleter
}

// UserTokens are unique by ID across all tenants (Create fails with
// ErrAlreadyExists if another tenant holds the ID). There is no Delete: a
// deleted token keeps its record with StatusDeleted.
type UserTokens interface {
	Collection[UserToken]
}

// RefreshFamilies are unique by ID across all tenants. There is no Delete:
// a family ends by a status change.
type RefreshFamilies interface {
	Collection[RefreshFamily]
}

// ConsoleSessions are unique by ID across all tenants. There is no
// Delete: a session ends by a status change or by its expiry. Prune
// removes sessions past their absolute expiry, which never authenticate
// again whatever their status, so one that reappeared would still be
// refused.
type ConsoleSessions interface {
	Collection[ConsoleSession]
	// Prune deletes at most limit of the tenant's sessions whose
	// ExpiresAt is before before, and returns how many it deleted. The
	// ID of a pruned session is free again. It touches nothing else.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Audit is the tenant's append-only event log.
type Audit interface {
	// Append stores an event; ErrAlreadyExists if its ID is taken.
	Append(ctx context.Context, ev AuditEvent) error
	// List pages through the events that match q, in ID order. Callers
	// choose IDs that sort by time (UUIDv7), so ID order is time order.
	List(ctx context.Context, q AuditQuery, page Page) ([]AuditEvent, string, error)
	// Prune deletes at most limit events whose Time is before before and
	// returns how many it deleted. It touches nothing but audit events.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Usage holds one record of usage per user token.
type Usage interface {
	// Get returns the token's usage record or ErrNotFound.
	Get(ctx context.Context, tokenID string) (UsageRecord, error)
	// Put creates or overwrites the token's usage record.
	Put(ctx context.Context, rec UsageRecord) error
	// List pages through the tenant's usage records in token-ID order.
	List(ctx context.Context, page Page) ([]UsageRecord, string, error)
}

// Quotas holds the persisted state of the tenant's rate limiters, by name
// (for example "api" and "validate").
type Quotas interface {
	// Get returns the saved state or ErrNotFound.
	Get(ctx context.Context, name string) (tenant.LimiterState, error)
	// Put creates or overwrites the saved state.
	Put(ctx context.Context, name string, st tenant.LimiterState) error
}

// Page asks for one page of a list. Lists are ordered by ID in byte order,
// so a client that pages through a list while records are added sees every
// record that existed when it started exactly once, and never one twice.
type Page struct {
	// After is the cursor returned with the previous page; empty for the
	// first page.
	After string
	// Limit caps the page's length. Zero means DefaultPageLimit; values
	// above MaxPageLimit are reduced to it.
	Limit int
}

const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Size returns the effective page size.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// MaxIDLength bounds every ID and name-like key the store accepts.
const MaxIDLength = 256

// CheckID reports whether id can be stored as an ID: non-empty, at most
// MaxIDLength bytes, valid UTF-8 without control characters. Backends
// call it on every ID they are given and wrap ErrInvalid.
func CheckID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty id", ErrInvalid)
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("%w: id longer than %d bytes", ErrInvalid, MaxIDLength)
	}
	if !utf8Printable(id) {
		return fmt.Errorf("%w: id %q contains control characters or invalid UTF-8", ErrInvalid, id)
	}
	return nil
}

func utf8Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
