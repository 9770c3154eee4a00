package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// The cache holds what the request path needs (tenant licenses and quota
// limiters, user-token state, refresh-family state) so that authenticating
// an access token reads no store.
//
// Credentials (tokens, families, licenses): every engine write drops the
// entry after it commits and moves an epoch; a miss loads from the store
// and caches only if no write happened since it began, so a load that read
// the store before a commit can never outlive the write. Dropping cannot
// fail, so a revocation that committed always takes effect.
//
// Tenants: a write reloads the tenant's license under reloadMu (misses
// load under it too, so a reload that read the store before a commit never
// overwrites one that read it after); a reload that fails marks the state
// stale, and the next request reloads it.
type cache struct {
	reloadMu sync.Mutex

	mu      sync.RWMutex
	tenants map[string]*tenantState
	tokens  map[uuid.UUID]*tokenSnap
	// retired snapshots of reloaded tokens, whose usage the next flushes
	// drain.
	retired  []*tokenSnap
	families map[uuid.UUID]*familySnap

	// Licenses found by validation, by the digest of their key under the
	// current master key, at most licenseCap of them. licenseEpoch moves on
	// every license write; a load that read the store under an older epoch
	// is not cached, so a cached entry is never staler than the last write.
	licenses     *licenseCache
	licenseCap   int
	licenseEpoch atomic.Uint64

	// credEpoch moves on every write to a user token, a user's status or a
	// refresh family; a token or family load that began before the write
	// does not cache what it read (the write already dropped the entry).
	credEpoch atomic.Uint64
}

type licenseRef struct{ tenantID, id string }

// licenseSnap is what validation needs of a license; never modified.
type licenseSnap struct {
	loaded   int64 // when read (unix ns), for CacheTTL
	tenantID string
	public   PublicLicense
}

func newCache(licenseCap int) *cache {
	return &cache{
		tenants:    map[string]*tenantState{},
		tokens:     map[uuid.UUID]*tokenSnap{},
		families:   map[uuid.UUID]*familySnap{},
		licenses:   newLicenseCache(licenseCap),
		licenseCap: licenseCap,
	}
}

// license returns the cached license with that digest.
func (c *cache) license(digest *[32]byte) (licenseSnap, bool) {
	c.mu.RLock()
	l, ok := c.licenses.get(digest)
	c.mu.RUnlock()
	return l, ok
}

// putLicense caches rec under digest unless a license write happened
// since epoch (when the caller began reading the store).
func (c *cache) putLicense(epoch uint64, digest [32]byte, rec store.License, loaded int64) {
	if c.licenseCap <= 0 {
		return
	}
	snap := &licenseSnap{loaded: loaded, tenantID: rec.TenantID, public: PublicLicense{
		ID: rec.ID, ProductID: rec.ProductID, PlanID: rec.PlanID, CustomerID: rec.CustomerID,
		Status: rec.Status, ExpiresAt: rec.ExpiresAt, Attributes: rec.Attributes,
	}}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.licenseEpoch.Load() != epoch {
		return
	}
	c.licenses.put(digest, snap)
}

// licenseChanged drops a license from the cache after a write to it and
// makes loads that began before the write uncacheable.
func (c *cache) licenseChanged(tenantID, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.licenseEpoch.Add(1)
	c.licenses.remove(tenantID, id)
}

// tenantState is a tenant's license and its quota limiters. It lives as
// long as the engine; the license pointer is replaced on change.
type tenantState struct {
	id       string
	license  atomic.Pointer[tenant.License]
	api      *tenant.Limiter
	validate *tenant.Limiter
	dirty    atomic.Bool
	// stale: a committed change could not be loaded; reload before use.
	stale atomic.Bool
	// loaded is when the license was last read (unix ns), for CacheTTL.
	loaded atomic.Int64
	// Leases of the shared quotas (Config.SharedQuotas).
	apiLease, validateLease quotaLease
}

const (
	quotaAPI      = "api"
	quotaValidate = "validate"
)

// tokenSnap is a snapshot of a user token's live state: immutable but
// for its usage, which requests record into.
type tokenSnap struct {
	// What every request reads comes first, in one cache line with the
	// start of use (a request touches few lines of a snapshot: with many
	// tokens they are rarely in the processor's caches).
	tenantID    string
	generation  uint64
	permissions permission.Set
	// loaded is when the snapshot was read (unix ns), for CacheTTL.
	loaded int64
	// expiresNS is expires in unix ns, valid when hasExpiry.
	expiresNS int64
	hasExpiry bool
	// active: status is store.TokenActive.
	active bool
	// ownerActive is false when the owning user is deactivated or gone:
	// a user's tokens act for the user and stop with them.
	ownerActive bool
	hasCIDRs    bool

	use tokenUsage

	id      string
	userID  string
	status  store.TokenStatus
	expires time.Time
	cidrs   []netip.Prefix
}

// expired reports whether the token's own expiry has passed at now.
func (t *tokenSnap) expired(now time.Time) bool {
	return t.hasExpiry && now.UnixNano() >= t.expiresNS
}

// allows reports whether the token may be used from addr at now.
func (t *tokenSnap) allows(now time.Time, addr netip.Addr) bool {
	if !t.active || !t.ownerActive || t.expired(now) {
		return false
	}
	if !t.hasCIDRs {
		return true
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range t.cidrs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// unixNanosClamped is t in unix ns, clamped to the int64 range (UnixNano
// is undefined outside it).
func unixNanosClamped(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// familySnap is an immutable snapshot of a refresh family's live state.
type familySnap struct {
	loaded  int64 // when read (unix ns), for CacheTTL
	tokenID string
	// tokenUID is tokenID parsed, for the request path to compare without
	// reading the string; uuid.Nil when tokenID is not a UUID (it then
	// matches no token).
	tokenUID   uuid.UUID
	generation uint64
	revoked    bool
	expires    time.Time
}

func snapToken(rec store.UserToken, owner store.User) *tokenSnap {
	s := &tokenSnap{
		ownerActive: owner.ID == rec.UserID && owner.Status == store.UserActive,
		active:      rec.Status == store.TokenActive,
		hasExpiry:   !rec.ExpiresAt.IsZero(),
		expiresNS:   unixNanosClamped(rec.ExpiresAt),
		hasCIDRs:    len(rec.AllowedCIDRs) > 0,
		id:          rec.ID,
		tenantID:    rec.TenantID,
		userID:      rec.UserID,
		status:      rec.Status,
		generation:  rec.Generation,
		permissions: rec.Permissions,
		expires:     rec.ExpiresAt,
	}
	for _, c := range rec.AllowedCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			s.cidrs = append(s.cidrs, p.Masked())
		} else {
			// Stored CIDRs were validated on write; one that no longer
			// parses must not widen access, so it matches nothing.
			s.cidrs = append(s.cidrs, netip.Prefix{})
		}
	}
	return s
}

func snapFamily(rec store.RefreshFamily) *familySnap {
	uid, err := uuid.Parse(rec.UserTokenID)
	if err != nil {
		uid = uuid.Nil
	}
	return &familySnap{
		tokenID:    rec.UserTokenID,
		tokenUID:   uid,
		generation: rec.TokenGeneration,
		revoked:    rec.Status != store.FamilyActive,
		expires:    rec.ExpiresAt,
	}
}

// tenantState returns the tenant's cached state, loading it on a miss.
// ErrNotFound if the tenant does not exist.
func (e *Engine) tenantState(ctx context.Context, id string) (*tenantState, error) {
	e.cache.mu.RLock()
	ts := e.cache.tenants[id]
	e.cache.mu.RUnlock()
	if ts != nil && !ts.stale.Load() && e.fresh(ts.loaded.Load()) {
		return ts, nil
	}
	return e.reloadTenant(ctx, id)
}

// fresh reports whether state loaded at loaded (unix ns) may still be
// used: always, unless Config.CacheTTL bounds its age because other
// engines write to the same store.
func (e *Engine) fresh(loaded int64) bool {
	return e.cacheTTL <= 0 || e.freshAt(loaded, e.now())
}

// freshAt is fresh for a caller that already read the clock.
func (e *Engine) freshAt(loaded int64, now time.Time) bool {
	return e.cacheTTL <= 0 || now.UnixNano()-loaded < int64(e.cacheTTL)
}

// markTenantStale makes the next use of the tenant's state reload it.
func (e *Engine) markTenantStale(id string) {
	e.cache.mu.RLock()
	ts := e.cache.tenants[id]
	e.cache.mu.RUnlock()
	if ts != nil {
		ts.stale.Store(true)
	}
}

// reloadTenant reads the tenant's license from the store into the cache,
// creating the state (with its saved quota) on first use.
func (e *Engine) reloadTenant(ctx context.Context, id string) (*tenantState, error) {
	e.cache.reloadMu.Lock()
	defer e.cache.reloadMu.Unlock()
	var (
		rec          tenant.Tenant
		api, validat tenant.LimiterState
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.Tenants().Get(ctx, id); err != nil {
			return err
		}
		q := tx.Tenant(id).Quotas()
		if api, err = q.Get(ctx, quotaAPI); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if validat, err = q.Get(ctx, quotaValidate); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	ts := e.cache.tenants[id]
	if ts == nil {
		// Limiters are created once and keep counting across license
		// changes; only a first load restores them from the store.
		ts = &tenantState{
			id:       id,
			api:      restoreLimiter(api, rec.License.Limits.APIRate(), e.now()),
			validate: restoreLimiter(validat, rec.License.Limits.ValidationRate(), e.now()),
		}
		e.cache.tenants[id] = ts
	} else {
		// A changed limit keeps the count of requests already admitted.
		now := e.now()
		for _, c := range []struct {
			l *tenant.Limiter
			r tenant.Rate
		}{{ts.api, rec.License.Limits.APIRate()}, {ts.validate, rec.License.Limits.ValidationRate()}} {
			if c.l.Rate() != c.r.Normalize() {
				c.l.ChangeRate(c.r, now)
			}
		}
	}
	lic := rec.License
	ts.license.Store(&lic)
	ts.loaded.Store(e.now().UnixNano())
	ts.stale.Store(false)
	return ts, nil
}

// restoreLimiter rebuilds a saved limiter under the rate r. A state saved
// under another rate keeps its count of admitted requests.
func restoreLimiter(st tenant.LimiterState, r tenant.Rate, now time.Time) *tenant.Limiter {
	if st.Rate == (tenant.Rate{}) || st.Rate == r.Normalize() {
		return tenant.NewLimiter(r, st)
	}
	l := tenant.NewLimiter(st.Rate, st)
	l.ChangeRate(r, now)
	return l
}

// token returns the cached snapshot of a user token, loading it on a miss.
func (e *Engine) token(ctx context.Context, id uuid.UUID, now time.Time) (*tokenSnap, error) {
	e.cache.mu.RLock()
	t := e.cache.tokens[id]
	e.cache.mu.RUnlock()
	if t != nil && e.freshAt(t.loaded, now) {
		return t, nil
	}
	return e.reloadToken(ctx, id)
}

// reloadToken reads a token's state from the store and caches it, unless
// a credential write happened meanwhile (then the snapshot serves only
// this caller, and the next one reads again).
func (e *Engine) reloadToken(ctx context.Context, id uuid.UUID) (*tokenSnap, error) {
	epoch := e.cache.credEpoch.Load()
	var (
		rec   store.UserToken
		owner store.User
	)
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.UserTokenByID(ctx, id.String()); err != nil {
			return err
		}
		owner, err = tokenOwner(ctx, tx, rec)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec.ID != id.String() {
		// The request path relies on a snapshot found under id being
		// that token's.
		return nil, fmt.Errorf("%w: user token %s read back as %q", store.ErrNotFound, id, rec.ID)
	}
	snap := snapToken(rec, owner)
	snap.loaded = e.now().UnixNano()
	e.cache.mu.Lock()
	if ts := e.cache.tenants[snap.tenantID]; ts != nil {
		// The tenant's own string: the request path's comparison of the
		// two is then a pointer comparison.
		snap.tenantID = ts.id
	}
	if e.cache.credEpoch.Load() == epoch {
		if old := e.cache.tokens[id]; old != nil && e.trackUsage {
			e.cache.retired = append(e.cache.retired, old)
		}
		e.cache.tokens[id] = snap
	}
	e.cache.mu.Unlock()
	return snap, nil
}

// invalidateToken drops a token's cached state after a write to it. It
// cannot fail: the next request reads the store. Bumping the epoch keeps
// a load that read the store before the write from caching what it read.
func (e *Engine) invalidateToken(id uuid.UUID) {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	e.cache.credEpoch.Add(1)
	e.retireTokenLocked(id)
}

func (e *Engine) retireTokenLocked(id uuid.UUID) {
	if old := e.cache.tokens[id]; old != nil {
		if e.trackUsage {
			e.cache.retired = append(e.cache.retired, old)
		}
		delete(e.cache.tokens, id)
	}
}

// tokenOwner reads the user a token acts for; a missing owner is the zero
// User, which no token may act for.
func tokenOwner(ctx context.Context, tx store.Tx, rec store.UserToken) (store.User, error) {
	u, err := tx.Tenant(rec.TenantID).Users().Get(ctx, rec.UserID)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return store.User{}, nil
	}
	return u, err
}

// ownerChanged drops the cached tokens of a user whose status changed or
// who was deleted, so that their tokens stop (or resume) at once.
func (e *Engine) ownerChanged(tenantID, userID string) {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	e.cache.credEpoch.Add(1)
	for id, t := range e.cache.tokens {
		if t.tenantID == tenantID && t.userID == userID {
			e.retireTokenLocked(id)
		}
	}
}

// family returns the cached snapshot of a refresh family, loading it on a
// miss.
func (e *Engine) family(ctx context.Context, id uuid.UUID, now time.Time) (*familySnap, error) {
	e.cache.mu.RLock()
	f := e.cache.families[id]
	e.cache.mu.RUnlock()
	if f != nil && e.freshAt(f.loaded, now) {
		return f, nil
	}
	return e.reloadFamily(ctx, id)
}

func (e *Engine) reloadFamily(ctx context.Context, id uuid.UUID) (*familySnap, error) {
	epoch := e.cache.credEpoch.Load()
	var rec store.RefreshFamily
	err := e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.RefreshFamilyByID(ctx, id.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	snap := snapFamily(rec)
	snap.loaded = e.now().UnixNano()
	e.cache.mu.Lock()
	if e.cache.credEpoch.Load() == epoch {
		e.cache.families[id] = snap
	}
	e.cache.mu.Unlock()
	return snap, nil
}

// invalidateFamily drops a refresh family's cached state after a write to
// it (see invalidateToken).
func (e *Engine) invalidateFamily(id uuid.UUID) {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	e.cache.credEpoch.Add(1)
	delete(e.cache.families, id)
}

// sweepCache drops refresh families past their absolute expiry: no access
// token outlives its family, so nothing can ask for them again (and if
// something does, it is reloaded and found expired).
func (e *Engine) sweepCache(now time.Time) {
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	for id, f := range e.cache.families {
		if !now.Before(f.expires) {
			delete(e.cache.families, id)
		}
	}
}

// flushQuotas saves the state of every limiter that admitted something
// since the last flush.
func (e *Engine) flushQuotas(ctx context.Context) error {
	if e.sharedQuotas {
		// The store's state is the quota itself; nothing local to save.
		e.sweepCache(e.clock())
		return nil
	}
	e.cache.mu.RLock()
	var dirty []*tenantState
	for _, ts := range e.cache.tenants {
		if ts.dirty.Load() {
			dirty = append(dirty, ts)
		}
	}
	e.cache.mu.RUnlock()
	e.sweepCache(e.clock())
	if len(dirty) == 0 {
		return nil
	}
	for len(dirty) > 0 {
		batch := dirty[:min(auditBatch, len(dirty))]
		dirty = dirty[len(batch):]
		for _, ts := range batch {
			ts.dirty.Store(false)
		}
		err := e.update(ctx, func(tx store.Tx) error {
			for _, ts := range batch {
				q := tx.Tenant(ts.id).Quotas()
				if err := q.Put(ctx, quotaAPI, ts.api.State()); err != nil {
					return err
				}
				if err := q.Put(ctx, quotaValidate, ts.validate.State()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			for _, ts := range append(batch, dirty...) {
				ts.dirty.Store(true)
			}
			return err
		}
	}
	return nil
}
