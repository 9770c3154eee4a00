package client_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/client"
	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// realAPI is the real engine (over memstore) behind the real httpadapter
// in an httptest server, with one clock shared by the engine and the
// clients.
type realAPI struct {
	t     *testing.T
	ctx   context.Context
	eng   *engine.Engine
	srv   *httptest.Server
	clock *fakeClock
	admin engine.Admin

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct{ method, path, auth string }

func newRealAPI(t *testing.T, limits tenant.Limits, mod ...func(*engine.Config)) *realAPI {
	t.Helper()
	clock := newFakeClock()
	st := memstore.New()
	cfg := engine.Config{
		Store: st, MasterKey: engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)},
		Clock: clock.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	eng, err := engine.New(cfg)
	require.NoError(t, err)
	r := &realAPI{t: t, ctx: context.Background(), eng: eng, clock: clock}
	api := httpadapter.New(eng, httpadapter.Options{})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, seenRequest{req.Method, req.URL.Path, req.Header.Get("Authorization")})
		r.mu.Unlock()
		api.ServeHTTP(w, req)
	}))
	t.Cleanup(func() {
		r.srv.Close()
		require.NoError(t, eng.Close())
		require.NoError(t, st.Close())
	})

	_, err = eng.CreateTenant(r.ctx, engine.System(), engine.NewTenant{
		ID: "acme", Name: "Acme", License: tenant.License{Plan: "pro", Status: tenant.StatusActive, Limits: limits},
	})
	require.NoError(t, err)
	u, err := eng.CreateUser(r.ctx, engine.System(), "acme", engine.NewUser{Email: "admin@acme.test", Name: "Admin", Role: store.RoleAdmin})
	require.NoError(t, err)
	r.admin = engine.Admin{TenantID: "acme", UserID: u.ID}
	return r
}

// token creates a user token with perms.
func (r *realAPI) token(perms permission.Set) engine.CreatedUserToken {
	r.t.Helper()
	ct, err := r.eng.CreateUserToken(r.ctx, r.admin, "acme", engine.NewUserToken{UserID: r.admin.UserID, Name: "client test", Permissions: perms})
	require.NoError(r.t, err)
	return ct
}

// client returns a client of ct on the shared clock; its sleep advances
// the clock.
func (r *realAPI) client(ct engine.CreatedUserToken, mod ...func(*client.Config)) *client.Client {
	r.t.Helper()
	cfg := client.Config{BaseURL: r.srv.URL, UserTokenID: ct.Token.ID, UserToken: client.NewSecret(ct.Credential.Reveal()), HTTPClient: r.srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := client.New(cfg)
	require.NoError(r.t, err)
	client.SetClock(c, r.clock.Now, func(_ context.Context, d time.Duration) error {
		r.clock.mu.Lock()
		r.clock.slept = append(r.clock.slept, d)
		r.clock.mu.Unlock()
		r.clock.Advance(d)
		return nil
	})
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (r *realAPI) count(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.seen {
		if s.method == method && s.path == path {
			n++
		}
	}
	return n
}

func TestIntegrationExchangeListAndDeny(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()

	full := r.client(r.token(permission.Full()))
	for range 5 {
		users, next, err := full.ListUsers(ctx, client.ListOptions{Limit: 10})
		require.NoError(t, err)
		require.Len(t, users, 1)
		require.Equal(t, "admin@acme.test", users[0].Email)
		require.Equal(t, client.RoleAdmin, users[0].Role)
		require.Empty(t, next)
	}
	require.Equal(t, 1, r.count("POST", "/v1/auth/token"), "one exchange for five calls")

	viewer := r.client(r.token(permission.NewSet(permission.ViewUsers)))
	_, err := viewer.GetUser(ctx, r.admin.UserID)
	require.NoError(t, err)
	_, _, err = viewer.ListLicenses(ctx, client.ListOptions{})
	require.ErrorIs(t, err, client.ErrAccessDenied)
	require.NotErrorIs(t, err, client.ErrInvalidToken)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusForbidden, ae.StatusCode)
	require.Equal(t, "Access denied", ae.Message)

	_, err = full.GetUser(ctx, "no-such-user")
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = full.CreateUser(ctx, client.NewUser{Email: "not an email", Name: "X"})
	require.ErrorIs(t, err, client.ErrBadRequest)
	_, err = full.CreateUser(ctx, client.NewUser{Email: "admin@acme.test", Name: "Again"})
	require.ErrorIs(t, err, client.ErrConflict)

	// A user token that is not one: 401 from the exchange.
	bad := r.token(permission.Full())
	cred := bad.Credential.Reveal()
	last := byte('a')
	if cred[len(cred)-1] == last {
		last = 'b' // a change that changes nothing would not be one
	}
	bad.Credential = engine.NewSecret(cred[:len(cred)-1] + string(last))
	_, _, err = r.client(bad).ListUsers(ctx, client.ListOptions{})
	require.ErrorIs(t, err, client.ErrInvalidToken)
}

func TestIntegrationValidate(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	c := r.client(r.token(permission.Full()))

	prod, err := c.CreateProduct(ctx, client.NewProduct{Name: "Widget"})
	require.NoError(t, err)
	plan, err := c.CreatePlan(ctx, prod.ID, client.NewPlan{Name: "pro", Entitlements: map[string]string{"seats": "5"}})
	require.NoError(t, err)
	cust, err := c.CreateCustomer(ctx, client.NewCustomer{Name: "Globex", Email: "it@globex.test"})
	require.NoError(t, err)
	created, err := c.CreateLicense(ctx, client.NewLicense{CustomerID: cust.ID, ProductID: prod.ID, PlanID: plan.ID, Attributes: map[string]string{"tier": "gold"}})
	require.NoError(t, err)
	key := created.Key.Reveal()
	require.NotEmpty(t, key)

	before := len(r.seen)
	v, err := client.ValidateLicense(ctx, r.srv.Client(), r.srv.URL, key, client.ValidateOptions{ProductID: prod.ID, PlanID: plan.ID})
	require.NoError(t, err)
	require.True(t, v.Valid)
	require.Equal(t, client.CodeValid, v.Code)
	require.Equal(t, created.License.ID, v.License.ID)
	require.Equal(t, "gold", v.License.Attributes["tier"])

	v, err = client.ValidateLicense(ctx, nil, r.srv.URL, key, client.ValidateOptions{ProductID: "other"})
	require.NoError(t, err)
	require.False(t, v.Valid)
	require.Equal(t, client.CodeProductMismatch, v.Code)

	v, err = client.ValidateLicense(ctx, nil, r.srv.URL, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", client.ValidateOptions{})
	require.NoError(t, err)
	require.Equal(t, client.CodeNotFound, v.Code)
	require.Nil(t, v.License)

	_, err = c.SuspendLicense(ctx, created.License.ID)
	require.NoError(t, err)
	v, err = c.ValidateLicense(ctx, key, client.ValidateOptions{})
	require.NoError(t, err)
	require.Equal(t, client.CodeSuspended, v.Code)

	r.mu.Lock()
	for _, s := range r.seen[before:] {
		if s.path == "/v1/licenses/validate" {
			require.Empty(t, s.auth, "validation sends no credential")
		}
	}
	r.mu.Unlock()
}

func TestIntegrationRotateKillsOldAccessToken(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	admin := r.client(r.token(permission.Full()))
	victimToken := r.token(permission.NewSet(permission.ViewUsers))
	victim := r.client(victimToken)

	_, _, err := victim.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	oldAccess := client.CachedAccessToken(victim)
	require.NotEmpty(t, oldAccess)

	rotated, err := admin.RotateToken(ctx, victimToken.Token.ID)
	require.NoError(t, err)
	require.Equal(t, victimToken.Token.ID, rotated.Token.ID)
	require.NotEqual(t, victimToken.Credential.Reveal(), rotated.Credential.Reveal())

	// The old access token dies at once, on the wire...
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+"/v1/users", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+oldAccess)
	resp, err := r.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// ...and for the client holding it: its refresh token and its user
	// token died with it.
	_, _, err = victim.ListUsers(ctx, client.ListOptions{})
	require.ErrorIs(t, err, client.ErrInvalidToken)

	// The new credential works.
	victimToken.Credential = engine.NewSecret(rotated.Credential.Reveal())
	_, _, err = r.client(victimToken).ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
}

func TestIntegrationSelfRotation(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	ct := r.token(permission.Full())
	c := r.client(ct)
	_, _, err := c.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	_, err = c.RotateToken(ctx, ct.Token.ID)
	require.NoError(t, err)
	_, _, err = c.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err, "the client moved to its new credential")
}

func TestIntegrationRefresh(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{}, func(cfg *engine.Config) { cfg.AccessTokenTTL = 2 * time.Second })
	ctx := context.Background()
	c := r.client(r.token(permission.Full()))

	_, _, err := c.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	first := client.CachedAccessToken(c)

	// Refreshed ahead of expiry with the real refresh_token grant.
	r.clock.Advance(1600 * time.Millisecond)
	_, _, err = c.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	second := client.CachedAccessToken(c)
	require.NotEqual(t, first, second)
	require.Equal(t, 2, r.count("POST", "/v1/auth/token"))

	// The server refuses a token the client still thinks fresh (here:
	// revoked behind its back): refresh fails too, so the client
	// exchanges again and replays.
	other := r.client(r.token(permission.Full()))
	require.NoError(t, other.Revoke(ctx, client.NewSecret(client.CachedRefreshToken(c))))
	_, err = c.CreateCustomer(ctx, client.NewCustomer{Name: "Initech"})
	require.NoError(t, err)
	require.Equal(t, 2, r.count("POST", "/v1/customers"), "refused once, replayed once")
	// Exchange, refresh, refused refresh, exchange (revocation needs no
	// token: other never exchanged).
	require.Equal(t, 4, r.count("POST", "/v1/auth/token"))
	custs, _, err := c.ListCustomers(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, custs, 1, "the replayed create happened exactly once")
}

func TestIntegrationSingleFlight(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	c := r.client(r.token(permission.Full()))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, _, err := c.ListUsers(ctx, client.ListOptions{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, r.count("POST", "/v1/auth/token"))
}

func TestIntegrationLicenseLimitAndRetry(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{APIRequests: 2, APIWindow: time.Minute})
	ctx := context.Background()
	ct := r.token(permission.Full())

	strict := r.client(ct)
	var err error
	for range 5 {
		if _, _, err = strict.ListUsers(ctx, client.ListOptions{}); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, client.ErrLicenseLimit)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Positive(t, ae.RetryAfter)

	patient := r.client(ct, func(cfg *client.Config) { cfg.MaxRetryWait = 2 * time.Minute })
	_, _, err = patient.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err, "waited out Retry-After (the clock moved) and retried")
	require.NotEmpty(t, r.clock.Sleeps())
}

func TestIntegrationInvalidTenantLicense(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	c := r.client(r.token(permission.Full()))
	_, _, err := c.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	_, err = r.eng.SuspendTenant(ctx, engine.System(), "acme")
	require.NoError(t, err)
	_, _, err = c.ListUsers(ctx, client.ListOptions{})
	require.ErrorIs(t, err, client.ErrInvalidLicense)
}

func TestIntegrationCloseRevokes(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	c := r.client(r.token(permission.Full()))
	_, _, err := c.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	access, refresh := client.CachedAccessToken(c), client.CachedRefreshToken(c)

	observer := r.client(r.token(permission.Full()))
	in, err := observer.Introspect(ctx, client.NewSecret(refresh))
	require.NoError(t, err)
	require.True(t, in.Active)
	require.Equal(t, "refresh_token", in.TokenType)

	require.NoError(t, c.Close())
	in, err = observer.Introspect(ctx, client.NewSecret(refresh))
	require.NoError(t, err)
	require.False(t, in.Active)
	in, err = observer.Introspect(ctx, client.NewSecret(access))
	require.NoError(t, err)
	require.False(t, in.Active, "revoking the refresh token ends its access tokens")
}

// TestIntegrationTour calls every route of the API once through the client
// against the real server, so that every request and response type is
// checked against the real JSON.
func TestIntegrationTour(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	ct := r.token(permission.Full())
	c := r.client(ct)

	// Users.
	bob, err := c.CreateUser(ctx, client.NewUser{Email: "bob@acme.test", Name: "Bob"})
	require.NoError(t, err)
	require.Equal(t, client.RoleMember, bob.Role)
	require.Equal(t, client.UserActive, bob.Status)
	require.False(t, bob.CreatedAt.IsZero())
	name := "Robert"
	bob, err = c.UpdateUser(ctx, bob.ID, client.UserPatch{Name: &name})
	require.NoError(t, err)
	require.Equal(t, "Robert", bob.Name)
	got, err := c.GetUser(ctx, bob.ID)
	require.NoError(t, err)
	require.Equal(t, bob, got)
	page1, next, err := c.ListUsers(ctx, client.ListOptions{Limit: 1})
	require.NoError(t, err)
	require.Len(t, page1, 1)
	require.NotEmpty(t, next)
	page2, _, err := c.ListUsers(ctx, client.ListOptions{Limit: 1, Cursor: next})
	require.NoError(t, err)
	require.Len(t, page2, 1)
	require.NotEqual(t, page1[0].ID, page2[0].ID)

	// Groups and members.
	g, err := c.CreateGroup(ctx, client.NewGroup{Name: "ops", Description: "operators"})
	require.NoError(t, err)
	desc := "on call"
	g, err = c.UpdateGroup(ctx, g.ID, client.GroupPatch{Description: &desc})
	require.NoError(t, err)
	require.Equal(t, "on call", g.Description)
	_, err = c.GetGroup(ctx, g.ID)
	require.NoError(t, err)
	groups, _, err := c.ListGroups(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.NoError(t, c.AddGroupMember(ctx, g.ID, bob.ID))
	members, _, err := c.ListGroupMembers(ctx, g.ID, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, members, 1)
	require.Equal(t, bob.ID, members[0].ID)
	require.NoError(t, c.RemoveGroupMember(ctx, g.ID, bob.ID))
	require.NoError(t, c.DeleteGroup(ctx, g.ID))

	// Products and plans.
	p, err := c.CreateProduct(ctx, client.NewProduct{Name: "Widget", Description: "a widget"})
	require.NoError(t, err)
	pname := "Widget Pro"
	p, err = c.UpdateProduct(ctx, p.ID, client.ProductPatch{Name: &pname})
	require.NoError(t, err)
	require.Equal(t, "Widget Pro", p.Name)
	_, err = c.GetProduct(ctx, p.ID)
	require.NoError(t, err)
	products, _, err := c.ListProducts(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, products, 1)
	plan, err := c.CreatePlan(ctx, p.ID, client.NewPlan{Name: "basic"})
	require.NoError(t, err)
	require.Equal(t, p.ID, plan.ProductID)
	ents := map[string]string{"seats": "10"}
	plan, err = c.UpdatePlan(ctx, plan.ID, client.PlanPatch{Entitlements: &ents})
	require.NoError(t, err)
	require.Equal(t, "10", plan.Entitlements["seats"])
	_, err = c.GetPlan(ctx, plan.ID)
	require.NoError(t, err)
	plans, _, err := c.ListPlans(ctx, p.ID, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, plans, 1)

	// Customers.
	cu, err := c.CreateCustomer(ctx, client.NewCustomer{Name: "Globex"})
	require.NoError(t, err)
	email := "it@globex.test"
	cu, err = c.UpdateCustomer(ctx, cu.ID, client.CustomerPatch{Email: &email})
	require.NoError(t, err)
	require.Equal(t, email, cu.Email)
	_, err = c.GetCustomer(ctx, cu.ID)
	require.NoError(t, err)
	custs, _, err := c.ListCustomers(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, custs, 1)

	// Licenses.
	exp := r.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	cl, err := c.CreateLicense(ctx, client.NewLicense{CustomerID: cu.ID, ProductID: p.ID, PlanID: plan.ID, ExpiresAt: exp})
	require.NoError(t, err)
	require.True(t, exp.Equal(cl.License.ExpiresAt))
	require.Equal(t, client.LicenseActive, cl.License.Status)
	lic := cl.License
	_, err = c.GetLicense(ctx, lic.ID)
	require.NoError(t, err)
	lics, _, err := c.ListLicenses(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, lics, 1)
	noPlan, zero := "", time.Time{}
	attrs := map[string]string{"region": "eu"}
	lic, err = c.UpdateLicense(ctx, lic.ID, client.LicensePatch{PlanID: &noPlan, ExpiresAt: &zero, Attributes: &attrs})
	require.NoError(t, err)
	require.Empty(t, lic.PlanID)
	require.True(t, lic.ExpiresAt.IsZero())
	require.Equal(t, "eu", lic.Attributes["region"])
	lic, err = c.SuspendLicense(ctx, lic.ID)
	require.NoError(t, err)
	require.Equal(t, client.LicenseSuspended, lic.Status)
	lic, err = c.ReinstateLicense(ctx, lic.ID)
	require.NoError(t, err)
	require.Equal(t, client.LicenseActive, lic.Status)
	re, err := c.ReissueLicense(ctx, lic.ID)
	require.NoError(t, err)
	require.NotEqual(t, cl.Key.Reveal(), re.Key.Reveal())
	v, err := c.ValidateLicense(ctx, cl.Key.Reveal(), client.ValidateOptions{})
	require.NoError(t, err)
	require.Equal(t, client.CodeNotFound, v.Code, "the old key died with the reissue")
	v, err = c.ValidateLicense(ctx, re.Key.Reveal(), client.ValidateOptions{})
	require.NoError(t, err)
	require.True(t, v.Valid)
	lic, err = c.RevokeLicense(ctx, lic.ID)
	require.NoError(t, err)
	require.Equal(t, client.LicenseRevoked, lic.Status)
	require.NoError(t, c.DeleteLicense(ctx, lic.ID))
	_, err = c.GetLicense(ctx, lic.ID)
	require.ErrorIs(t, err, client.ErrNotFound)

	// Tokens.
	other := r.token(permission.NewSet(permission.ViewUsers))
	toks, _, err := c.ListTokens(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, toks, 2)
	tok, err := c.GetToken(ctx, other.Token.ID)
	require.NoError(t, err)
	require.Equal(t, permission.NewSet(permission.ViewUsers), tok.Permissions)
	tok, err = c.DeactivateToken(ctx, other.Token.ID)
	require.NoError(t, err)
	require.Equal(t, client.TokenDeactivated, tok.Status)
	require.NoError(t, c.DeleteToken(ctx, other.Token.ID))

	// Audit, introspection, OpenAPI; then the deletes left.
	events, _, err := c.ListAudit(ctx, client.AuditQuery{From: r.clock.Now().Add(-time.Hour)}, client.ListOptions{Limit: 100})
	require.NoError(t, err)
	require.NotEmpty(t, events)
	in, err := c.Introspect(ctx, client.NewSecret(client.CachedAccessToken(c)))
	require.NoError(t, err)
	require.True(t, in.Active)
	require.Equal(t, ct.Token.ID, in.ClientID)
	require.Equal(t, permission.Full(), in.Scope)
	doc, err := c.OpenAPI(ctx)
	require.NoError(t, err)
	require.Contains(t, string(doc), `"openapi"`)

	require.NoError(t, c.DeletePlan(ctx, plan.ID))
	require.NoError(t, c.DeleteProduct(ctx, p.ID))
	require.NoError(t, c.DeleteCustomer(ctx, cu.ID))
	require.NoError(t, c.DeleteUser(ctx, bob.ID))
}
