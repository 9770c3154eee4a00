package console_test

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/httpadapter"
	"github.com/licensekit/licensekit/httpadapter/console"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// Every page but sign-in and the assets needs a session: without one a
// GET and a POST alike go to sign-in.
func TestUnauthenticatedGoesToSignIn(t *testing.T) {
	f := newFixture(t)
	ct := f.token(f.acme, "t", permission.Set{})
	id := ct.Token.ID
	routes := []struct{ method, path string }{
		{"GET", ""}, {"GET", "tokens"}, {"GET", "tokens/new"}, {"GET", "tokens/" + id},
		{"GET", "tokens/" + id + "/rotate"}, {"GET", "tokens/" + id + "/delete"},
		{"GET", "users"}, {"GET", "users/new"}, {"GET", "users/" + f.acme.UserID},
		{"GET", "review"}, {"GET", "audit"}, {"GET", "tenant"}, {"GET", "account"},
		{"POST", "signout"}, {"POST", "tokens/new"}, {"POST", "tokens/" + id + "/rotate"},
		{"POST", "tokens/" + id + "/deactivate"}, {"POST", "tokens/" + id + "/reactivate"},
		{"POST", "tokens/" + id + "/delete"}, {"POST", "users/new"}, {"POST", "users/" + f.acme.UserID},
		{"POST", "users/" + f.acme.UserID + "/deactivate"}, {"POST", "users/" + f.acme.UserID + "/reactivate"},
		{"POST", "users/" + f.acme.UserID + "/password"}, {"POST", "review/" + id + "/remove-unused"},
		{"POST", "account/password"},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			b := f.browser()
			for _, cookie := range []string{"", "lkcs_garbage"} {
				if cookie != "" {
					b.cookie = &http.Cookie{Name: "lk_console", Value: cookie}
				}
				var form url.Values
				if rt.method == "POST" {
					form = url.Values{"csrf": {"x"}, "password": {"long enough password"}}
				}
				rec := b.do(b.request(rt.method, prefix+rt.path, form))
				requireSignInRedirect(t, rec)
				requireSecurityHeaders(t, rec)
			}
		})
	}
	// Nothing changed.
	tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", id)
	require.NoError(t, err)
	require.Equal(t, store.TokenActive, tok.Status)
}

// A GET that was sent to sign-in comes back to where it was going, and
// only ever to a page of the console.
func TestSignInNext(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	rec := b.get(prefix + "audit?type=token.created")
	loc := requireRedirect(t, rec, "signin")
	require.Equal(t, prefix+"audit?type=token.created", loc.Query().Get("next"))

	page := b.get(loc.String())
	require.Equal(t, http.StatusOK, page.Code)
	require.Contains(t, page.Body.String(), `name="next" value="/console/audit?type=token.created"`)

	rec = b.post(prefix+"signin", url.Values{
		"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}, "next": {prefix + "audit?type=token.created"},
	})
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, prefix+"audit?type=token.created", rec.Header().Get("Location"))

	for _, next := range []string{
		"https://evil.test/", "//evil.test/console/", "/\\evil.test", "/other/", "/console/../admin",
		"/console/signout", "javascript:alert(1)", "/console/tokens#x", "\\\\evil.test",
	} {
		t.Run(next, func(t *testing.T) {
			b := f.browser()
			page := b.get(prefix + "signin?next=" + url.QueryEscape(next))
			require.Equal(t, http.StatusOK, page.Code)
			require.NotContains(t, page.Body.String(), `name="next"`)
			rec := b.post(prefix+"signin", url.Values{
				"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}, "next": {next},
			})
			require.Equal(t, http.StatusSeeOther, rec.Code)
			require.Equal(t, prefix+"tokens", rec.Header().Get("Location"))
		})
	}
}

// The session cookie: HttpOnly, SameSite=Strict, scoped to the prefix
// over plain HTTP; the __Host- cookie (Secure, Path=/) under TLS; a
// session cookie (no Expires), a new session at every sign-in.
func TestSignInCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		secure bool // Options.SecureCookies
		cookie string
		path   string
	}{
		{"plain", false, false, "lk_console", prefix},
		{"tls", true, false, "__Host-lk_console", "/"},
		{"tls proxy", false, true, "__Host-lk_console", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, withConsole(consoleOptions(tc.secure)))
			var values []string
			ids := map[string]bool{}
			for range 3 {
				b := f.browser()
				b.tls = tc.tls
				rec := b.signIn("acme", "admin@acme.test", adminPassword)
				require.Equal(t, http.StatusSeeOther, rec.Code)
				require.Equal(t, prefix+"tokens", rec.Header().Get("Location"))
				cookies := map[string]*http.Cookie{}
				for _, ck := range rec.Result().Cookies() {
					cookies[ck.Name] = ck
				}
				require.Len(t, cookies, 2)
				ck := cookies[tc.cookie]
				require.NotNil(t, ck, "the session cookie")
				require.Equal(t, tc.path, ck.Path)
				require.Empty(t, ck.Domain)
				require.True(t, ck.HttpOnly)
				require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
				require.Equal(t, tc.tls || tc.secure, ck.Secure)
				require.True(t, ck.Expires.IsZero())
				require.Zero(t, ck.MaxAge)
				// The device cookie: the same scope, long-lived, no Expires.
				dev := cookies[tc.cookie+"_device"]
				require.NotNil(t, dev, "the device cookie")
				require.Equal(t, tc.path, dev.Path)
				require.Empty(t, dev.Domain)
				require.True(t, dev.HttpOnly)
				require.Equal(t, http.SameSiteStrictMode, dev.SameSite)
				require.Equal(t, tc.tls || tc.secure, dev.Secure)
				require.True(t, dev.Expires.IsZero())
				require.Equal(t, 180*24*60*60, dev.MaxAge)
				require.True(t, strings.HasPrefix(dev.Value, "lkcd_"))
				require.True(t, strings.HasPrefix(ck.Value, "lkcs_"))
				values = append(values, ck.Value)
				sess, err := f.eng.AuthenticateSession(f.ctx, ck.Value, apiAddr)
				require.NoError(t, err)
				require.False(t, ids[sess.ID], "a new session id at every sign-in")
				ids[sess.ID] = true
				// The cookie works.
				require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code)
			}
			require.NotEqual(t, values[0], values[1])
			require.NotEqual(t, values[1], values[2])
		})
	}
}

func consoleOptions(secure bool) (o consoleOpts) {
	o.SecureCookies = secure
	return o
}

// Signing in again from a signed-in browser ends the old session: the
// new sign-in's cookie is a new session, the old one no longer works.
func TestSignInAgainEndsOldSession(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	old := *b.cookie
	rec := b.signIn("acme", "admin@acme.test", adminPassword)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.NotEqual(t, old.Value, b.cookie.Value)
	_, err := f.eng.AuthenticateSession(f.ctx, old.Value, apiAddr)
	require.ErrorIs(t, err, engine.ErrInvalidSession)
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code)
}

// Every wrong input gets one message: a wrong password, an unknown
// email or tenant, a member (even with a password), a deactivated admin.
func TestSignInFailures(t *testing.T) {
	f := newFixture(t)
	f.user(f.acme, "member@acme.test", store.RoleMember, "member password 1")
	gone := f.user(f.acme, "gone@acme.test", store.RoleAdmin, "gone password 12")
	deactivated := store.UserDeactivated
	_, err := f.eng.UpdateUser(f.ctx, f.acme, "acme", gone.ID, engine.UserPatch{Status: &deactivated})
	require.NoError(t, err)
	nopw := f.user(f.acme, "nopw@acme.test", store.RoleAdmin, "")
	_ = nopw

	var first string
	for _, tc := range []struct{ name, tenant, email, password string }{
		{"wrong password", "acme", "admin@acme.test", "not the password"},
		{"unknown email", "acme", "nobody@acme.test", adminPassword},
		{"unknown tenant", "initech", "admin@acme.test", adminPassword},
		{"other tenant's admin", "acme", "admin@globex.test", adminPassword},
		{"member", "acme", "member@acme.test", "member password 1"},
		{"deactivated admin", "acme", "gone@acme.test", "gone password 12"},
		{"admin without password", "acme", "nopw@acme.test", ""},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := f.browser()
			rec := b.signIn(tc.tenant, tc.email, tc.password)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			require.Nil(t, b.cookie)
			// No session; the sign-in cookie renewed, with the token the
			// form again carries, so the next attempt is accepted.
			cookies := rec.Result().Cookies()
			require.Len(t, cookies, 1)
			require.Equal(t, "lk_console_signin", cookies[0].Name)
			require.Equal(t, fieldOf(t, rec.Body.String(), "signin_csrf"), cookies[0].Value)
			msg := textOf(t, rec.Body.String(), "error")
			if first == "" {
				first = msg
			}
			require.Equal(t, first, msg)
			// The form comes back with the email, never the password.
			if tc.password != "" {
				require.NotContains(t, rec.Body.String(), tc.password)
			}
			requireCleanHTML(t, tc.name, rec.Body.String())
		})
	}
	require.Contains(t, first, "Sign-in failed")
}

// Throttled sign-in is a 429 page with Retry-After, and the password is
// not even checked.
func TestSignInThrottled(t *testing.T) {
	f := newFixture(t, withEngine(func(c *engine.Config) {
		c.Console.SignInAddrLimit = tenant.Rate{Limit: 3, Window: time.Minute, Burst: 3}
	}))
	b := f.browser()
	for range 3 {
		require.Equal(t, http.StatusBadRequest, b.signIn("acme", "admin@acme.test", "wrong password!").Code)
	}
	rec := b.signIn("acme", "admin@acme.test", adminPassword)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, retry)
	require.Nil(t, b.cookie)
	requireSecurityHeaders(t, rec)
	requireCleanHTML(t, "429", rec.Body.String())

	// Another address is not throttled.
	other := f.browser()
	other.remote = "203.0.113.9:5000"
	require.Equal(t, http.StatusSeeOther, other.signIn("acme", "admin@acme.test", adminPassword).Code)

	// The window passes.
	f.clock.Advance(time.Duration(retry) * time.Second)
	require.Equal(t, http.StatusSeeOther, b.signIn("acme", "admin@acme.test", adminPassword).Code)
}

// The client address comes from the adapter when one is given, so
// throttling and the audit log see the real client behind a trusted
// proxy; without one, the peer.
func TestClientAddr(t *testing.T) {
	for _, tc := range []struct {
		name    string
		adapter bool
		want    string
	}{
		{"peer", false, "192.0.2.10"},
		{"behind trusted proxy", true, "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.adapter {
				api := httpadapter.New(f.eng, httpadapter.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
				con, err := console.New(f.eng, console.Options{Adapter: api, Clock: f.clock.Now})
				require.NoError(t, err)
				f.con = con
			}
			b := f.browser()
			b.get(prefix + "signin")
			r := b.request(http.MethodPost, prefix+"signin", url.Values{
				"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}, "signin_csrf": {b.signinCSRF},
			})
			r.Header.Set("X-Forwarded-For", "203.0.113.5")
			require.Equal(t, http.StatusSeeOther, b.do(r).Code)
			require.NoError(t, f.eng.Flush(f.ctx))
			events, _, err := f.eng.ListAudit(f.ctx, f.acme, "acme", store.AuditQuery{Type: engine.EventSignedIn}, store.Page{})
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.Equal(t, tc.want, events[0].ClientAddr)
		})
	}
}

// Signing out ends the session: the old cookie no longer works anywhere.
func TestSignOut(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	old := *b.cookie
	rec := b.post(prefix+"signout", nil)
	loc := requireRedirect(t, rec, "signin")
	require.Equal(t, "signed-out", loc.Query().Get("done"))
	require.Nil(t, b.cookie, "the cookie is cleared")
	cleared := rec.Result().Cookies()
	require.Len(t, cleared, 1, "the device cookie stays")
	require.Equal(t, "lk_console", cleared[0].Name)
	require.Equal(t, prefix, cleared[0].Path)
	require.Negative(t, cleared[0].MaxAge)
	require.NotNil(t, b.device)

	b.cookie = &old
	requireSignInRedirect(t, b.get(prefix+"tokens"))
	_, err := f.eng.AuthenticateSession(f.ctx, old.Value, apiAddr)
	require.ErrorIs(t, err, engine.ErrInvalidSession)

	page := f.browser().get(loc.String())
	require.Contains(t, page.Body.String(), "You have signed out.")
}

// Sign-out needs the anti-forgery token too: a forged sign-out is a
// nuisance an attacker should not have.
func TestSignOutNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	rec := b.post(prefix+"signout", url.Values{"csrf": {""}})
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code)
}

// Idle and absolute expiry are the engine's; the console follows them.
func TestSessionExpires(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	f.clock.Advance(31 * time.Minute)
	rec := b.get(prefix + "tokens")
	loc := requireRedirect(t, rec, "signin")
	require.Equal(t, "session-ended", loc.Query().Get("done"))
	require.Equal(t, prefix+"tokens", loc.Query().Get("next"))
	require.Nil(t, b.cookie)
}

// Changing one's password ends every session of the user, the current
// one too; the new password works, the old one not.
func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	other := f.admin() // a second session of the same admin

	rec := b.post(prefix+"account/password", url.Values{"current": {"wrong password!"}, "password": {"a brand new password"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "current password is wrong")

	rec = b.post(prefix+"account/password", url.Values{"current": {adminPassword}, "password": {"short"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "shorter than 12")

	rec = b.post(prefix+"account/password", url.Values{"current": {adminPassword}, "password": {"a brand new password"}})
	loc := requireRedirect(t, rec, "signin")
	require.Equal(t, "password-changed", loc.Query().Get("done"))
	require.Nil(t, b.cookie)
	requireSignInRedirect(t, other.get(prefix+"tokens"))

	require.Equal(t, http.StatusBadRequest, f.browser().signIn("acme", "admin@acme.test", adminPassword).Code)
	require.Equal(t, http.StatusSeeOther, f.browser().signIn("acme", "admin@acme.test", "a brand new password").Code)
}

// Every state-changing form needs the session's anti-forgery token: a
// missing or wrong one is a 403 and changes nothing.
func TestCSRFRequired(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	ct := f.token(f.acme, "t", permission.NewSet(permission.ViewUsers))
	member := f.user(f.acme, "m@acme.test", store.RoleMember, "")
	id := ct.Token.ID
	otherSession := f.admin()
	for _, path := range []string{
		"signout", "tokens/new", "tokens/" + id + "/rotate", "tokens/" + id + "/deactivate",
		"tokens/" + id + "/reactivate", "tokens/" + id + "/delete", "users/new", "users/" + member.ID,
		"users/" + member.ID + "/deactivate", "users/" + member.ID + "/reactivate",
		"users/" + member.ID + "/password", "review/" + id + "/remove-unused", "account/password",
	} {
		for _, tok := range []struct{ name, value string }{
			{"missing", ""}, {"wrong", "bdY1eLeZI0Qiob7sj78jQXOtRkjbjQb6YwI0NCQQllI"}, {"another session's", otherSession.csrf},
		} {
			t.Run(path+" "+tok.name, func(t *testing.T) {
				form := url.Values{
					"csrf": {tok.value}, "name": {"x"}, "owner": {f.acme.UserID}, "email": {"new@acme.test"},
					"role": {"member"}, "password": {"long enough password"}, "current": {adminPassword},
					"confirm_password": {adminPassword},
				}
				rec := b.post(prefix+path, form)
				require.Equal(t, http.StatusForbidden, rec.Code)
				requireSecurityHeaders(t, rec)
				require.Contains(t, rec.Body.String(), "security token")
			})
		}
	}
	tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", id)
	require.NoError(t, err)
	require.Equal(t, store.TokenActive, tok.Status)
	require.EqualValues(t, 1, tok.Generation)
	tokens, _, err := f.eng.ListUserTokens(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	users, _, err := f.eng.ListUsers(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code, "still signed in")
}

// A cross-origin POST is refused before anything else, sign-in
// included, even with a valid session and token.
func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	ct := f.token(f.acme, "t", permission.Set{})
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"sec-fetch-site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"sec-fetch-site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"origin mismatch", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.test"}},
	} {
		for _, path := range []string{"signin", "tokens/" + ct.Token.ID + "/deactivate", "signout"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				r := b.request(http.MethodPost, prefix+path, url.Values{
					"csrf": {b.csrf}, "tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword},
				})
				for k, v := range tc.header {
					if v == "" {
						r.Header.Del(k)
					} else {
						r.Header.Set(k, v)
					}
				}
				rec := b.do(r)
				require.Equal(t, http.StatusForbidden, rec.Code)
				requireSecurityHeaders(t, rec)
				require.Empty(t, rec.Result().Cookies())
				requireCleanHTML(t, tc.name, rec.Body.String())
			})
		}
	}
	tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", ct.Token.ID)
	require.NoError(t, err)
	require.Equal(t, store.TokenActive, tok.Status)
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code, "still signed in")
}

// With Options.TenantID the form asks no tenant and signs in to that
// tenant only.
func TestFixedTenant(t *testing.T) {
	o := consoleOpts{TenantID: "globex"}
	f := newFixture(t, withConsole(o))
	b := f.browser()
	page := b.get(prefix + "signin")
	require.NotContains(t, page.Body.String(), `name="tenant"`)
	require.Equal(t, http.StatusBadRequest, b.signIn("acme", "admin@acme.test", adminPassword).Code)
	require.Equal(t, http.StatusSeeOther, b.signIn("acme", "admin@globex.test", adminPassword).Code)
	require.Contains(t, b.get(prefix+"account").Body.String(), "admin@globex.test")
}

// A signed-in browser sent to sign-in goes to its pages instead.
func TestSignInPageWhenSignedIn(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	rec := b.get(prefix + "signin")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, prefix+"tokens", rec.Header().Get("Location"))
	rec = b.get(prefix)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, prefix+"tokens", rec.Header().Get("Location"))
}

// Fields are read from the body only: a password in the query string is
// ignored.
func TestSignInIgnoresQuery(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.get(prefix + "signin")
	r := b.request(http.MethodPost, prefix+"signin?tenant=acme&email=admin@acme.test&password="+url.QueryEscape(adminPassword),
		url.Values{"signin_csrf": {b.signinCSRF}})
	rec := b.do(r)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Nil(t, b.cookie)
}

// Bodies are capped.
func TestBodyLimit(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	big := strings.Repeat("a", 70<<10)
	rec := b.post(prefix+"tokens/new", url.Values{"name": {big}})
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	rec = f.browser().post(prefix+"signin", url.Values{"email": {big}})
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

// 100 wrong passwords from one address: only the first SignInAddrLimit
// (10 by default) reach the password check, the rest are refused with 429
// before it; the right password still works from another address.
func TestSignInGuessingIsBounded(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	counts := map[int]int{}
	for i := range 100 {
		rec := b.signIn("acme", "admin@acme.test", "guess number "+strconv.Itoa(i))
		counts[rec.Code]++
	}
	require.Equal(t, map[int]int{http.StatusBadRequest: 10, http.StatusTooManyRequests: 90}, counts)
	other := f.browser()
	other.remote = "203.0.113.50:443"
	require.Equal(t, http.StatusSeeOther, other.signIn("acme", "admin@acme.test", adminPassword).Code)
}

// Nothing secret reaches the log, even when a request fails inside.
func TestSecretsNotLogged(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, withConsole(consoleOpts{Logger: logger}))
	b := f.admin()
	rec := b.post(prefix+"tokens/new", url.Values{"name": {"ci"}, "owner": {f.acme.UserID}, "perm": {"users:view"}})
	require.Equal(t, http.StatusOK, rec.Code)
	cred := textOf(t, rec.Body.String(), "credential")
	cookie := b.cookie.Value

	// A store that fails makes requests fail inside: a 500 page that
	// says nothing of why, and a log line without the secrets.
	f.store.fail.Store(true)
	rec = b.get(prefix + "tokens")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.NotContains(t, rec.Body.String(), "injected")
	requireSecurityHeaders(t, rec)
	rec = f.browser().signIn("acme", "admin@acme.test", adminPassword)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Contains(t, logs.String(), "injected")
	f.store.fail.Store(false)

	// A closed engine (the host shutting down) is a 503, not an error.
	require.NoError(t, f.eng.Close())
	rec = b.get(prefix + "tokens")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	requireSecurityHeaders(t, rec)
	for _, secret := range []string{adminPassword, cred, cookie, b.csrf} {
		require.NotContains(t, logs.String(), secret)
	}
}

// Guessing from many networks spends the account's budget; the owner's
// browser, known by its device cookie, still signs in, and a browser
// the account never signed in from is refused.
func TestDeviceCookieKeepsOwnerIn(t *testing.T) {
	f := newFixture(t)
	owner := f.admin()
	require.NotNil(t, owner.device)
	require.Equal(t, http.StatusSeeOther, owner.post(prefix+"signout", nil).Code)

	for i := range 30 {
		g := f.browser()
		g.remote = "10." + strconv.Itoa(i) + ".0.1:1234"
		require.Equal(t, http.StatusBadRequest, g.signIn("acme", "admin@acme.test", "guess "+strconv.Itoa(i)+" wrong").Code)
	}
	stranger := f.browser()
	stranger.remote = "10.200.0.1:1234"
	require.Equal(t, http.StatusTooManyRequests, stranger.signIn("acme", "admin@acme.test", adminPassword).Code)

	require.Equal(t, http.StatusSeeOther, owner.signIn("acme", "admin@acme.test", adminPassword).Code)
	require.Equal(t, http.StatusOK, owner.get(prefix+"tokens").Code)
}

// A proxy that rewrites Host makes same-site posts look cross-origin;
// Options.TrustedOrigins names the public origin.
func TestTrustedOrigins(t *testing.T) {
	_, err := console.New(newFixture(t).eng, console.Options{TrustedOrigins: []string{"admin.example.com"}})
	require.ErrorIs(t, err, console.ErrInvalidOptions)

	for _, tc := range []struct {
		name    string
		trusted []string
		want    int
	}{
		{"untrusted", nil, http.StatusForbidden},
		{"trusted", []string{"https://admin.example.com"}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, withConsole(consoleOpts{TrustedOrigins: tc.trusted}))
			b := f.browser()
			b.get(prefix + "signin")
			r := b.request(http.MethodPost, prefix+"signin", url.Values{
				"tenant": {"acme"}, "email": {"admin@acme.test"}, "password": {adminPassword}, "signin_csrf": {b.signinCSRF},
			})
			r.Host = "10.0.0.5:8080"
			r.Header.Del("Sec-Fetch-Site")
			r.Header.Set("Origin", "https://admin.example.com")
			require.Equal(t, tc.want, b.do(r).Code)
		})
	}
}
