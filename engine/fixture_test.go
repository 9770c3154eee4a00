package engine_test

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture is an engine over a fresh store with one tenant and its admin.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	st     store.Store
	eng    *engine.Engine
	clock  *manualClock
	tenant string
	admin  engine.Admin
	addr   netip.Addr
}

var testMasterKey = engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)}

func newFixture(t testing.TB, opts ...func(*engine.Config)) *fixture {
	t.Helper()
	return newFixtureWithStore(t, memstore.New(), opts...)
}

func newFixtureWithStore(t testing.TB, st store.Store, opts ...func(*engine.Config)) *fixture {
	t.Helper()
	clock := &manualClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := engine.Config{Store: st, MasterKey: testMasterKey, Clock: clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	eng, err := engine.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, eng.Close())
		require.NoError(t, st.Close())
	})
	f := &fixture{t: t, ctx: context.Background(), st: st, eng: eng, clock: clock, addr: netip.MustParseAddr("192.0.2.10")}
	f.tenant, f.admin = f.addTenant("acme", tenant.Limits{})
	return f
}

// addTenant creates a tenant with an admin and returns them.
func (f *fixture) addTenant(id string, limits tenant.Limits) (string, engine.Admin) {
	f.t.Helper()
	_, err := f.eng.CreateTenant(f.ctx, engine.System(), engine.NewTenant{
		ID: id, Name: id, License: tenant.License{Plan: "pro", Status: tenant.StatusActive, Limits: limits},
	})
	require.NoError(f.t, err)
	u, err := f.eng.CreateUser(f.ctx, engine.System(), id, engine.NewUser{Email: "admin@" + id + ".test", Name: "Admin", Role: store.RoleAdmin})
	require.NoError(f.t, err)
	return id, engine.Admin{TenantID: id, UserID: u.ID}
}

// token creates a user token with perms in the admin's tenant.
func (f *fixture) token(admin engine.Admin, perms ...permission.Permission) engine.CreatedUserToken {
	f.t.Helper()
	ct, err := f.eng.CreateUserToken(f.ctx, admin, admin.TenantID, engine.NewUserToken{
		UserID: admin.UserID, Name: "integration", Permissions: permission.NewSet(perms...),
	})
	require.NoError(f.t, err)
	return ct
}

// login exchanges a user token and authenticates the access token.
func (f *fixture) login(ct engine.CreatedUserToken) (*engine.TokenResponse, *engine.Principal) {
	f.t.Helper()
	resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), f.addr)
	require.NoError(f.t, err)
	p, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), f.addr)
	require.NoError(f.t, err)
	return resp, p
}

// newFixtureWithStoreTenant opens an engine over a store that already
// holds the fixture's tenant and admin.
func newFixtureWithStoreTenant(t testing.TB, st store.Store, tenantID string, admin engine.Admin) *fixture {
	t.Helper()
	clock := &manualClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	eng, err := engine.New(engine.Config{Store: st, MasterKey: testMasterKey, Clock: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, eng.Close())
		require.NoError(t, st.Close())
	})
	return &fixture{t: t, ctx: context.Background(), st: st, eng: eng, clock: clock,
		addr: netip.MustParseAddr("192.0.2.10"), tenant: tenantID, admin: admin}
}
