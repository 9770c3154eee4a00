package httpadapter_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
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

var (
	fixtureStart     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tenantLimitsNone = tenant.Limits{}
	fixtureAddr      = netip.MustParseAddr("192.0.2.10")
)

var testMasterKey = engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)}

// fixture is an engine over a fresh memstore with tenant "acme" and its
// admin, and an adapter over it.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	eng    *engine.Engine
	clock  *manualClock
	admin  engine.Admin
	api    *httpadapter.Adapter
	remote string // RemoteAddr of requests
}

type fixtureOpt struct {
	engine  func(*engine.Config)
	adapter httpadapter.Options
	limits  tenant.Limits
}

func newFixture(t testing.TB, opts ...func(*fixtureOpt)) *fixture {
	t.Helper()
	var o fixtureOpt
	for _, fn := range opts {
		fn(&o)
	}
	clock := &manualClock{now: fixtureStart}
	st := memstore.New()
	cfg := engine.Config{Store: st, MasterKey: testMasterKey, Clock: clock.Now}
	if o.engine != nil {
		o.engine(&cfg)
	}
	eng, err := engine.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, eng.Close())
		require.NoError(t, st.Close())
	})
	f := &fixture{t: t, ctx: context.Background(), eng: eng, clock: clock, remote: "192.0.2.10:40000"}
	f.admin = f.addTenant("acme", o.limits)
	f.api = httpadapter.New(eng, o.adapter)
	return f
}

func withLimits(l tenant.Limits) func(*fixtureOpt) {
	return func(o *fixtureOpt) { o.limits = l }
}

func withOptions(opts httpadapter.Options) func(*fixtureOpt) {
	return func(o *fixtureOpt) { o.adapter = opts }
}

// addTenant creates a tenant with an admin.
func (f *fixture) addTenant(id string, limits tenant.Limits) engine.Admin {
	f.t.Helper()
	_, err := f.eng.CreateTenant(f.ctx, engine.System(), engine.NewTenant{
		ID: id, Name: id, License: tenant.License{Plan: "pro", Status: tenant.StatusActive, Limits: limits},
	})
	require.NoError(f.t, err)
	u, err := f.eng.CreateUser(f.ctx, engine.System(), id, engine.NewUser{Email: "admin@" + id + ".test", Name: "Admin", Role: store.RoleAdmin})
	require.NoError(f.t, err)
	return engine.Admin{TenantID: id, UserID: u.ID}
}

// userToken creates a user token holding perms in admin's tenant.
func (f *fixture) userToken(admin engine.Admin, perms permission.Set) engine.CreatedUserToken {
	f.t.Helper()
	ct, err := f.eng.CreateUserToken(f.ctx, admin, admin.TenantID, engine.NewUserToken{
		UserID: admin.UserID, Name: "integration", Permissions: perms,
	})
	require.NoError(f.t, err)
	return ct
}

// access exchanges a user token for an access token.
func (f *fixture) access(ct engine.CreatedUserToken) *engine.TokenResponse {
	f.t.Helper()
	resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), fixtureAddr)
	require.NoError(f.t, err)
	return resp
}

// bearer returns a fresh access token of a new user token holding perms.
func (f *fixture) bearer(perms ...permission.Permission) string {
	f.t.Helper()
	return f.access(f.userToken(f.admin, permission.NewSet(perms...))).AccessToken.Reveal()
}

// req describes a request to the adapter.
type req struct {
	method, path string
	token        string // Authorization: Bearer token, unless auth is set
	auth         string // raw Authorization header
	ctype        string // Content-Type
	body         string
	header       http.Header
	remote       string
}

// do serves r through the adapter.
func (f *fixture) do(r req) *httptest.ResponseRecorder {
	f.t.Helper()
	return serve(f.api, f, r)
}

func serve(h http.Handler, f *fixture, r req) *httptest.ResponseRecorder {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	hr.RemoteAddr = f.remote
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	switch {
	case r.auth != "":
		hr.Header.Set("Authorization", r.auth)
	case r.token != "":
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	return rec
}

// jsonReq is a request with a JSON body.
func jsonReq(method, path, token, body string) req {
	return req{method: method, path: path, token: token, ctype: "application/json", body: body}
}
