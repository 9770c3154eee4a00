package console_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter/console"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// The sign-in page hands out its anti-forgery token in a cookie and in
// the form: random, HttpOnly, SameSite=Strict, short-lived, the __Host-
// one under TLS; kept while it is well-formed (two open sign-in tabs both
// work), replaced when it is not.
func TestSignInTokenCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		secure bool // Options.SecureCookies
		cookie string
		path   string
	}{
		{"plain", false, false, "lk_console_signin", prefix},
		{"tls", true, false, "__Host-lk_console_signin", "/"},
		{"tls proxy", false, true, "__Host-lk_console_signin", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, withConsole(consoleOptions(tc.secure)))
			b := f.browser()
			b.tls = tc.tls
			rec := b.get(prefix + "signin")
			require.Equal(t, http.StatusOK, rec.Code)
			cookies := rec.Result().Cookies()
			require.Len(t, cookies, 1)
			ck := cookies[0]
			require.Equal(t, tc.cookie, ck.Name)
			require.Equal(t, tc.path, ck.Path)
			require.Empty(t, ck.Domain)
			require.True(t, ck.HttpOnly)
			require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
			require.Equal(t, tc.tls || tc.secure, ck.Secure)
			require.Equal(t, 3600, ck.MaxAge)
			raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
			require.NoError(t, err)
			require.Len(t, raw, 32)
			require.Equal(t, ck.Value, fieldOf(t, rec.Body.String(), "signin_csrf"))

			// Loaded again, the page keeps the token (and renews the cookie).
			again := b.get(prefix + "signin")
			require.Equal(t, ck.Value, fieldOf(t, again.Body.String(), "signin_csrf"))
			require.Equal(t, ck.Value, again.Result().Cookies()[0].Value)

			// Another browser gets another token; a malformed one is replaced.
			require.NotEqual(t, ck.Value, fieldOf(t, f.browser().get(prefix+"signin").Body.String(), "signin_csrf"))
			b.signin = &http.Cookie{Name: tc.cookie, Value: "chosen-by-someone-else"}
			fresh := b.get(prefix + "signin")
			require.NotEqual(t, "chosen-by-someone-else", fieldOf(t, fresh.Body.String(), "signin_csrf"))
			require.Equal(t, fieldOf(t, fresh.Body.String(), "signin_csrf"), fresh.Result().Cookies()[0].Value)

			require.Equal(t, http.StatusSeeOther, b.signIn("acme", "admin@acme.test", adminPassword).Code)
		})
	}
}

// A sign-in posted without the sign-in page's token (login CSRF from a
// browser that sends neither Sec-Fetch-Site nor Origin, so cross-origin
// protection lets it through) is a 403 that asks for a reload. It is
// refused before the engine: no session, no audit event, and nothing
// charged to the address's budget.
func TestSignInNeedsFormToken(t *testing.T) {
	f := newFixture(t, withEngine(func(c *engine.Config) {
		c.Console.SignInAddrLimit = tenant.Rate{Limit: 2, Window: time.Hour, Burst: 2}
	}))
	valid := f.browser().get(prefix + "signin").Result().Cookies()[0].Value
	other := f.browser().get(prefix + "signin").Result().Cookies()[0].Value
	for _, tc := range []struct {
		name    string
		cookies []string // sign-in cookies the browser sends
		field   string
	}{
		{"neither", nil, ""},
		{"no field", []string{valid}, ""},
		{"no cookie", nil, valid},
		{"mismatch", []string{valid}, other},
		{"prefix of the cookie", []string{valid}, valid[:20]},
		{"two cookies", []string{other, valid}, valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser()
			form := url.Values{"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}}
			if tc.field != "" {
				form.Set("signin_csrf", tc.field)
			}
			r := b.request(http.MethodPost, prefix+"signin", form)
			// What an old browser, or a non-browser client, sends.
			r.Header.Del("Sec-Fetch-Site")
			r.Header.Del("Origin")
			for _, v := range tc.cookies {
				r.AddCookie(&http.Cookie{Name: "lk_console_signin", Value: v})
			}
			rec := b.do(r)
			require.Equal(t, http.StatusForbidden, rec.Code)
			require.Contains(t, rec.Body.String(), "Reload the sign-in page")
			require.Empty(t, rec.Result().Cookies(), "no session")
			requireSecurityHeaders(t, rec)
			requireCleanHTML(t, tc.name, rec.Body.String())
		})
	}
	require.NoError(t, f.eng.Flush(f.ctx))
	events, _, err := f.eng.ListAudit(f.ctx, f.acme, "acme", store.AuditQuery{}, store.Page{})
	require.NoError(t, err)
	for _, ev := range events {
		require.NotContains(t, ev.Type, "console.", "the engine never saw a refused form")
	}

	// The budget (2 an hour for the address) is untouched: one failure
	// and then a sign-in still fit, the form re-rendered after the failure
	// carrying a valid token.
	b := f.browser()
	require.Equal(t, http.StatusBadRequest, b.signIn("acme", "admin@acme.test", "not the password").Code)
	require.Equal(t, http.StatusSeeOther, b.signIn("acme", "admin@acme.test", adminPassword).Code)
}

// With Options.TenantID, another tenant's session (a console of that
// tenant on the same host shares the cookie) is signed out here: every
// page goes to sign-in and the sign-in page shows its form, but the
// session is neither ended nor its cookie cleared.
func TestFixedTenantIgnoresOtherTenantsSession(t *testing.T) {
	f := newFixture(t)
	b := f.admin() // of acme, through a console for every tenant
	ct := f.token(f.acme, "t", permission.NewSet(permission.ViewUsers))
	con, err := console.New(f.eng, consoleOpts{TenantID: "globex", Clock: f.clock.Now})
	require.NoError(t, err)
	f.con = con

	for _, rt := range []struct{ method, path string }{
		{"GET", "tokens"}, {"GET", "account"}, {"GET", ""},
		{"POST", "tokens/" + ct.Token.ID + "/deactivate"}, {"POST", "signout"},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var rec interface {
				Result() *http.Response
			}
			if rt.method == "GET" {
				rec = b.get(prefix + rt.path)
			} else {
				rec = b.post(prefix+rt.path, nil)
			}
			res := rec.Result()
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			loc, err := url.Parse(res.Header.Get("Location"))
			require.NoError(t, err)
			require.Equal(t, prefix+"signin", loc.Path)
			require.Empty(t, res.Cookies(), "the other console's cookie is not cleared")
		})
	}
	page := b.get(prefix + "signin")
	require.Equal(t, http.StatusOK, page.Code, "the form, not a redirect")
	require.NotContains(t, page.Body.String(), `name="tenant"`)
	for _, ck := range page.Result().Cookies() {
		require.Equal(t, "lk_console_signin", ck.Name)
	}

	_, err = f.eng.AuthenticateSession(f.ctx, b.cookie.Value, apiAddr)
	require.NoError(t, err, "the session lives on")
	tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", ct.Token.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenActive, tok.Status)

	// Signing in to this console's tenant from the same browser works.
	require.Equal(t, http.StatusSeeOther, b.signIn("", "admin@globex.test", adminPassword).Code)
	require.Contains(t, b.get(prefix+"account").Body.String(), "admin@globex.test")
}

// A browser that sends two session cookies of the name (one planted with
// a more specific Path by another port or subdomain of the host) is
// signed out and its cookie cleared, whichever cookie comes first: the
// console cannot tell which is its own. Neither session is ended.
func TestDuplicateSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name          string
		tls           bool
		plantedFirst  bool
		wantClearName string
		wantClearPath string
	}{
		{"planted first", false, true, "lk_console", prefix},
		{"planted last", false, false, "lk_console", prefix},
		{"tls", true, true, "__Host-lk_console", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			victim := f.browser()
			victim.tls = tc.tls
			require.Equal(t, http.StatusSeeOther, victim.signIn("acme", "admin@acme.test", adminPassword).Code)
			attacker := f.browser()
			attacker.tls = tc.tls
			require.Equal(t, http.StatusSeeOther, attacker.signIn("globex", "admin@globex.test", adminPassword).Code)
			ct := f.token(f.acme, "t", permission.NewSet(permission.ViewUsers))

			send := func(method, path string, form url.Values) *http.Response {
				t.Helper()
				saved := victim.cookie
				victim.cookie = nil
				r := victim.request(method, prefix+path, form)
				victim.cookie = saved
				pair := []*http.Cookie{
					{Name: saved.Name, Value: attacker.cookie.Value},
					{Name: saved.Name, Value: saved.Value},
				}
				if !tc.plantedFirst {
					pair[0], pair[1] = pair[1], pair[0]
				}
				for _, ck := range pair {
					r.AddCookie(ck)
				}
				rec := victim.do(r)
				victim.cookie = saved // a browser keeps the planted cookie
				return rec.Result()
			}
			requireCleared := func(res *http.Response) {
				t.Helper()
				cookies := map[string]*http.Cookie{}
				for _, ck := range res.Cookies() {
					cookies[ck.Name] = ck
				}
				ck := cookies[tc.wantClearName]
				require.NotNil(t, ck, "the session cookie is cleared")
				require.Negative(t, ck.MaxAge)
				require.Equal(t, tc.wantClearPath, ck.Path)
			}

			for _, rt := range []struct{ method, path string }{
				{"GET", "tokens"}, {"POST", "tokens/" + ct.Token.ID + "/deactivate"}, {"POST", "signout"},
			} {
				var form url.Values
				if rt.method == "POST" {
					form = url.Values{"csrf": {victim.csrf}}
				}
				res := send(rt.method, rt.path, form)
				require.Equal(t, http.StatusSeeOther, res.StatusCode, rt.path)
				loc, err := url.Parse(res.Header.Get("Location"))
				require.NoError(t, err)
				require.Equal(t, prefix+"signin", loc.Path)
				require.Equal(t, "cookie-conflict", loc.Query().Get("done"))
				requireCleared(res)
			}
			// The sign-in page shows its form (and the notice), not a
			// redirect into either session.
			res := send("GET", "signin?done=cookie-conflict", nil)
			require.Equal(t, http.StatusOK, res.StatusCode)
			requireCleared(res)
			page := f.browser().get(prefix + "signin?done=cookie-conflict")
			require.Contains(t, page.Body.String(), "two console session cookies")

			for _, ck := range []string{victim.cookie.Value, attacker.cookie.Value} {
				_, err := f.eng.AuthenticateSession(f.ctx, ck, apiAddr)
				require.NoError(t, err, "no session was ended")
			}
			tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", ct.Token.ID)
			require.NoError(t, err)
			require.Equal(t, store.TokenActive, tok.Status)
		})
	}
}

// Two device cookies of the name are no device: the browser is charged
// like any stranger once guessers have spent the account's budget.
func TestDuplicateDeviceCookie(t *testing.T) {
	f := newFixture(t)
	owner := f.admin()
	require.NotNil(t, owner.device)
	require.Equal(t, http.StatusSeeOther, owner.post(prefix+"signout", nil).Code)
	for i := range 30 {
		g := f.browser()
		g.remote = "10." + strconv.Itoa(i) + ".0.1:1234"
		require.Equal(t, http.StatusBadRequest, g.signIn("acme", "admin@acme.test", "guess "+strconv.Itoa(i)+" wrong").Code)
	}

	require.Equal(t, http.StatusOK, owner.get(prefix+"signin").Code)
	form := url.Values{"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}, "signin_csrf": {owner.signinCSRF}}
	r := owner.request(http.MethodPost, prefix+"signin", form)
	r.AddCookie(&http.Cookie{Name: owner.device.Name, Value: "lkcd_planted"})
	require.Equal(t, http.StatusTooManyRequests, owner.do(r).Code, "the duplicated device cookie is ignored")

	// With its one device cookie the owner signs in, as before.
	require.Equal(t, http.StatusSeeOther, owner.signIn("acme", "admin@acme.test", adminPassword).Code)
}
