package pgstore_test

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/pgstore"
	"github.com/licensekit/licensekit/tenant"
)

// testClock is a clock both engines read, moved by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pgEngines is two engines, each with its own pgstore on one schema, an
// admin of tenant "acme" and the clock both read.
type pgEngines struct {
	a, b  *engine.Engine
	clock *testClock
	admin store.User
	adm   engine.Admin
	addr  netip.Addr
	ctx   context.Context
}

const pgTTL = 2 * time.Second

func newPGEngines(t *testing.T, sharedQuotas bool) *pgEngines {
	needPG(t)
	ctx := context.Background()
	schema := caseSchema(t, t.TempDir())
	open := func() store.Store {
		s, err := pgstore.New(ctx, sharedPool, pgstore.Options{Schema: schema})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	clock := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	newEngine := func() *engine.Engine {
		e, err := engine.New(engine.Config{
			Store:        open(),
			MasterKey:    engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)},
			Clock:        clock.Now,
			CacheTTL:     pgTTL,
			SharedQuotas: sharedQuotas,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	p := &pgEngines{a: newEngine(), b: newEngine(), clock: clock, addr: netip.MustParseAddr("192.0.2.1"), ctx: ctx}
	_, err := p.a.CreateTenant(ctx, engine.System(), engine.NewTenant{ID: "acme", Name: "Acme",
		License: tenant.License{Status: tenant.StatusActive}})
	require.NoError(t, err)
	p.admin, err = p.a.CreateUser(ctx, engine.System(), "acme", engine.NewUser{Email: "a@acme.test", Name: "A", Role: store.RoleAdmin})
	require.NoError(t, err)
	p.adm = engine.Admin{TenantID: "acme", UserID: p.admin.ID}
	return p
}

// Two engines, each with its own pgstore on one database: a rotation made
// through one is refused by the other within CacheTTL, and the engine that
// made it refuses the old token at once. The bound is CacheTTL exactly,
// measured on the injected clock.
func TestTwoEnginesOneDatabase(t *testing.T) {
	p := newPGEngines(t, false)
	a, b, clock, adm, admin, addr, ctx := p.a, p.b, p.clock, p.adm, p.admin, p.addr, p.ctx
	const ttl = pgTTL
	ct, err := a.CreateUserToken(ctx, adm, "acme", engine.NewUserToken{UserID: admin.ID, Name: "t",
		Permissions: permission.NewSet(permission.ViewLicenses)})
	require.NoError(t, err)

	// Exchanged on b, used on both.
	resp, err := b.Exchange(ctx, ct.Token.ID, ct.Credential.Reveal(), addr)
	require.NoError(t, err)
	access := resp.AccessToken.Reveal()
	for _, e := range []*engine.Engine{a, b} {
		_, err := e.Authenticate(ctx, access, addr)
		require.NoError(t, err)
	}

	_, err = a.RotateUserToken(ctx, adm, "acme", ct.Token.ID)
	require.NoError(t, err)
	_, err = a.Authenticate(ctx, access, addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "at once where it was rotated")

	clock.Advance(ttl - time.Nanosecond)
	_, err = b.Authenticate(ctx, access, addr)
	require.NoError(t, err, "the other engine may accept it until CacheTTL has passed")
	clock.Advance(time.Nanosecond)
	_, err = b.Authenticate(ctx, access, addr)
	require.ErrorIs(t, err, engine.ErrInvalidToken, "and refuses it at CacheTTL")
	t.Logf("revocation propagation: bound = CacheTTL = %v; measured: accepted at %v, refused at %v after the rotation",
		ttl, ttl-time.Nanosecond, ttl)

	// Quotas are counted per engine (see engine.Config.CacheTTL): offered
	// to two engines, a limit L admits up to 2L. Measured here, not hidden.
	const limit = 5
	lic := tenant.License{Status: tenant.StatusActive, Limits: tenant.Limits{APIRequests: limit, APIWindow: time.Hour}}
	_, err = a.SetTenantLicense(ctx, engine.System(), "acme", lic)
	require.NoError(t, err)
	clock.Advance(ttl) // b sees the new limit
	fresh, err := a.CreateUserToken(ctx, adm, "acme", engine.NewUserToken{UserID: admin.ID, Name: "q",
		Permissions: permission.NewSet(permission.ViewLicenses)})
	require.NoError(t, err)
	pair, err := a.Exchange(ctx, fresh.Token.ID, fresh.Credential.Reveal(), addr) // charges a's quota once
	require.NoError(t, err)
	var (
		mu       sync.Mutex
		admitted int
		wg       sync.WaitGroup
	)
	for _, e := range []*engine.Engine{a, b} {
		for range 4 * limit {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := e.Authenticate(ctx, pair.AccessToken.Reveal(), addr)
				if err != nil {
					return
				}
				if e.Authorize(context.Background(), p, permission.ViewLicenses) == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("limit %d offered to 2 engines concurrently (plus 1 exchange): %d admitted; documented bound: engines x limit = %d", limit, admitted+1, 2*limit)
	require.LessOrEqual(t, admitted+1, 2*limit)
	require.GreaterOrEqual(t, admitted+1, limit)
}

// With SharedQuotas the two engines together admit at most the limit.
func TestTwoEnginesSharedQuotas(t *testing.T) {
	p := newPGEngines(t, true)
	const limit = 40
	_, err := p.a.SetTenantLicense(p.ctx, engine.System(), "acme", tenant.License{Status: tenant.StatusActive,
		Limits: tenant.Limits{APIRequests: limit, APIWindow: time.Hour}})
	require.NoError(t, err)
	ct, err := p.a.CreateUserToken(p.ctx, p.adm, "acme", engine.NewUserToken{UserID: p.admin.ID, Name: "q",
		Permissions: permission.NewSet(permission.ViewLicenses)})
	require.NoError(t, err)
	pair, err := p.a.Exchange(p.ctx, ct.Token.ID, ct.Credential.Reveal(), p.addr) // one admission
	require.NoError(t, err)
	var (
		mu       sync.Mutex
		admitted = 1
		wg       sync.WaitGroup
	)
	for _, e := range []*engine.Engine{p.a, p.b} {
		for range 3 * limit {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pr, err := e.Authenticate(p.ctx, pair.AccessToken.Reveal(), p.addr)
				if err != nil {
					return
				}
				if e.Authorize(context.Background(), pr, permission.ViewLicenses) == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("limit %d offered 3x to 2 engines with SharedQuotas: %d admitted (bound: the limit; leases unspent: at most 1 per engine)", limit, admitted)
	require.LessOrEqual(t, admitted, limit)
	require.GreaterOrEqual(t, admitted, limit-2)
}
