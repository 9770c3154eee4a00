package console_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter/console"
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
	fixtureStart  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testMasterKey = engine.MasterKey{ID: "k1", Secret: bytes.Repeat([]byte{0x42}, 32)}
	apiAddr       = netip.MustParseAddr("198.51.100.7")
)

const (
	prefix        = "/console/"
	adminPassword = "correct horse battery staple"
)

// fastHashing keeps argon2id cheap in tests; production uses OWASP's
// parameters.
var fastHashing = engine.PasswordHashing{MemoryKiB: 64, Iterations: 1}

// fixture is an engine over a fresh memstore with tenants "acme" and
// "globex", each with an admin who has a password, and a console over it.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	eng   *engine.Engine
	store *failingStore
	clock *manualClock
	con   *console.Console
	acme  engine.Admin
	other engine.Admin // the admin of globex
}

type fixtureOpts struct {
	engine  func(*engine.Config)
	console console.Options
}

func newFixture(t *testing.T, opts ...func(*fixtureOpts)) *fixture {
	t.Helper()
	var o fixtureOpts
	for _, fn := range opts {
		fn(&o)
	}
	clock := &manualClock{now: fixtureStart}
	st := &failingStore{Store: memstore.New()}
	cfg := engine.Config{
		Store: st, MasterKey: testMasterKey, Clock: clock.Now,
		Console: engine.ConsoleConfig{PasswordHashing: fastHashing},
	}
	if o.engine != nil {
		o.engine(&cfg)
	}
	eng, err := engine.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, eng.Close())
		require.NoError(t, st.Close())
	})
	f := &fixture{t: t, ctx: context.Background(), eng: eng, store: st, clock: clock}
	f.acme = f.addTenant("acme")
	f.other = f.addTenant("globex")
	copts := o.console
	if copts.Clock == nil {
		copts.Clock = clock.Now
	}
	f.con, err = console.New(eng, copts)
	require.NoError(t, err)
	return f
}

func withConsole(o console.Options) func(*fixtureOpts) {
	return func(fo *fixtureOpts) { fo.console = o }
}

func withEngine(fn func(*engine.Config)) func(*fixtureOpts) {
	return func(fo *fixtureOpts) { fo.engine = fn }
}

// addTenant creates a tenant and its admin admin@<id>.test with
// adminPassword.
func (f *fixture) addTenant(id string) engine.Admin {
	f.t.Helper()
	_, err := f.eng.CreateTenant(f.ctx, engine.System(), engine.NewTenant{
		ID: id, Name: strings.ToUpper(id[:1]) + id[1:],
		License: tenant.License{Plan: "pro", Status: tenant.StatusActive},
	})
	require.NoError(f.t, err)
	u, err := f.eng.CreateUser(f.ctx, engine.System(), id, engine.NewUser{Email: "admin@" + id + ".test", Name: "Admin " + id, Role: store.RoleAdmin})
	require.NoError(f.t, err)
	require.NoError(f.t, f.eng.SetPassword(f.ctx, engine.System(), id, u.ID, engine.NewSecret(adminPassword)))
	return engine.Admin{TenantID: id, UserID: u.ID}
}

// user creates a user of admin's tenant, with a password if pw is set.
func (f *fixture) user(admin engine.Admin, email string, role store.Role, pw string) store.User {
	f.t.Helper()
	u, err := f.eng.CreateUser(f.ctx, admin, admin.TenantID, engine.NewUser{Email: email, Name: "User " + email, Role: role})
	require.NoError(f.t, err)
	if pw != "" {
		require.NoError(f.t, f.eng.SetPassword(f.ctx, admin, admin.TenantID, u.ID, engine.NewSecret(pw)))
	}
	return u
}

// token creates a user token owned by admin.
func (f *fixture) token(admin engine.Admin, name string, perms permission.Set) engine.CreatedUserToken {
	f.t.Helper()
	ct, err := f.eng.CreateUserToken(f.ctx, admin, admin.TenantID, engine.NewUserToken{
		UserID: admin.UserID, Name: name, Permissions: perms,
	})
	require.NoError(f.t, err)
	return ct
}

// failingStore is a store whose transactions fail on demand, for the
// console's answer to internal errors.
type failingStore struct {
	store.Store
	fail atomic.Bool
}

var errInjected = errors.New("injected store failure")

func (s *failingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if s.fail.Load() {
		return errInjected
	}
	return s.Store.View(ctx, fn)
}

func (s *failingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.fail.Load() {
		return errInjected
	}
	return s.Store.Update(ctx, fn)
}

// consoleOpts names console.Options in tests.
type consoleOpts = console.Options

// browser is one client of the console: its cookie, its address, TLS or
// not.
type browser struct {
	f      *fixture
	remote string
	tls    bool
	cookie *http.Cookie
	device *http.Cookie // the device cookie, kept across sign-outs
	csrf   string
	// signin is the sign-in cookie and signinCSRF the token of the last
	// sign-in form the browser was shown, which its next sign-in posts.
	signin     *http.Cookie
	signinCSRF string
}

func (f *fixture) browser() *browser { return &browser{f: f, remote: "192.0.2.10:40000"} }

// request builds a request as a same-origin browser sends it.
func (b *browser) request(method, target string, body url.Values) *http.Request {
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.RemoteAddr = b.remote
	if b.tls {
		r.TLS = &tls.ConnectionState{}
	}
	if method == http.MethodPost {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if b.cookie != nil {
		r.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	if b.device != nil {
		r.AddCookie(&http.Cookie{Name: b.device.Name, Value: b.device.Value})
	}
	if b.signin != nil {
		r.AddCookie(&http.Cookie{Name: b.signin.Name, Value: b.signin.Value})
	}
	return r
}

// do serves r and keeps whatever session cookie the answer sets.
func (b *browser) do(r *http.Request) *httptest.ResponseRecorder {
	b.f.t.Helper()
	rec := httptest.NewRecorder()
	b.f.con.ServeHTTP(rec, r)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "lk_console_device" || ck.Name == "__Host-lk_console_device" {
			c := *ck
			b.device = &c
		}
		if ck.Name == "lk_console_signin" || ck.Name == "__Host-lk_console_signin" {
			c := *ck
			b.signin = &c
		}
		if ck.Name == "lk_console" || ck.Name == "__Host-lk_console" {
			if ck.MaxAge < 0 {
				b.cookie = nil
			} else {
				c := *ck
				b.cookie = &c
			}
		}
	}
	if m := signinCSRFRe.FindStringSubmatch(rec.Body.String()); m != nil {
		b.signinCSRF = html.UnescapeString(m[1])
	}
	return rec
}

var signinCSRFRe = regexp.MustCompile(`name="signin_csrf" value="([^"]+)"`)

func (b *browser) get(target string) *httptest.ResponseRecorder {
	b.f.t.Helper()
	return b.do(b.request(http.MethodGet, target, nil))
}

// post submits a form with the browser's anti-forgery token.
func (b *browser) post(target string, form url.Values) *httptest.ResponseRecorder {
	b.f.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if b.csrf != "" && !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	if strings.HasSuffix(target, "signin") && b.signinCSRF != "" && !form.Has("signin_csrf") {
		form.Set("signin_csrf", b.signinCSRF)
	}
	return b.do(b.request(http.MethodPost, target, form))
}

// signIn signs in and reads the anti-forgery token from a page. Like a
// person, it opens the sign-in page first unless it is showing one.
func (b *browser) signIn(tenantID, email, password string) *httptest.ResponseRecorder {
	b.f.t.Helper()
	if b.signinCSRF == "" {
		require.Equal(b.f.t, http.StatusOK, b.get(prefix+"signin").Code)
	}
	rec := b.post(prefix+"signin", url.Values{"tenant": {tenantID}, "email": {email}, "password": {password}})
	if rec.Code == http.StatusSeeOther && b.cookie != nil {
		page := b.get(prefix + "account")
		require.Equal(b.f.t, http.StatusOK, page.Code)
		b.csrf = csrfOf(b.f.t, page.Body.String())
	}
	return rec
}

// admin returns a browser signed in as the admin of acme.
func (f *fixture) admin() *browser {
	f.t.Helper()
	b := f.browser()
	rec := b.signIn("acme", "admin@acme.test", adminPassword)
	require.Equal(f.t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.NotNil(f.t, b.cookie)
	return b
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf field")
	return html.UnescapeString(m[1])
}

// textOf returns the unescaped text of the element with the given id.
func textOf(t *testing.T, body, id string) string {
	t.Helper()
	re := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`)
	m := re.FindStringSubmatch(body)
	require.NotNil(t, m, "no element #%s", id)
	return html.UnescapeString(m[1])
}

// requireSignInRedirect checks a 303 to the sign-in page.
func requireSignInRedirect(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, prefix+"signin", loc.Path)
}

// requireRedirect checks a 303 to the console path rel (query ignored).
func requireRedirect(t *testing.T, rec *httptest.ResponseRecorder, rel string) *url.URL {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, prefix+rel, loc.Path)
	return loc
}

// linkOf returns the unescaped href of the link with the given id.
func linkOf(t *testing.T, body, id string) string {
	t.Helper()
	re := regexp.MustCompile(`<a\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	tag := re.FindString(body)
	require.NotEmpty(t, tag, "no link #%s", id)
	m := regexp.MustCompile(`href="([^"]*)"`).FindStringSubmatch(tag)
	require.NotNil(t, m)
	return html.UnescapeString(m[1])
}

// fieldOf returns the unescaped value of the (hidden) input named name.
func fieldOf(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no field %s", name)
	return html.UnescapeString(m[1])
}
