package console

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"

	"github.com/licensekit/licensekit/engine"
)

// Cookie names. The "__Host-" prefix makes a browser accept the cookie
// only with Secure, Path=/ and no Domain, so neither a sibling subdomain
// nor a plain-HTTP response can set or overwrite it (RFC 6265bis §4.1.3.2).
// Without TLS the prefix cannot be used (it requires Secure).
const (
	cookieNameTLS   = "__Host-lk_console"
	cookieNamePlain = "lk_console"
	// The device cookie holds the engine's device token of the last
	// sign-in (engine.ConsoleSession.DeviceToken): it marks this browser
	// as one that signed in to that account before, so its attempts are
	// charged to the device rather than to the account's budget, and
	// guessers elsewhere cannot lock the owner out. It grants nothing.
	deviceNameTLS   = "__Host-lk_console_device"
	deviceNamePlain = "lk_console_device"
	// deviceMaxAge is how long a browser stays known. A Max-Age, not an
	// Expires: it does not depend on the server's and the browser's
	// clocks agreeing.
	deviceMaxAge = 180 * 24 * 60 * 60
	// The sign-in cookie holds the sign-in form's anti-forgery token
	// (see signInToken). It is short-lived: it only has to outlast a
	// sign-in page left open for a while.
	signInNameTLS   = "__Host-lk_console_signin"
	signInNamePlain = "lk_console_signin"
	signInMaxAge    = 60 * 60
)

// request is what an authenticated handler knows of its request.
type request struct {
	sess   *engine.ConsoleSession
	addr   netip.Addr
	cookie string
}

// admin is the actor of every engine call the request makes.
func (q *request) admin() engine.Admin { return q.sess.Admin() }

// tenant is the session's tenant, the scope of every engine call.
func (q *request) tenant() string { return q.sess.TenantID }

// cookieSpec says which session cookie a request uses: under TLS (or
// SecureCookies) the __Host- cookie, which must have Path=/; otherwise a
// cookie scoped to the console's prefix.
func (c *Console) cookieSpec(r *http.Request) (name, cookiePath string, secure bool) {
	if r.TLS != nil || c.secure {
		return cookieNameTLS, "/", true
	}
	return cookieNamePlain, c.prefix, false
}

// deviceCookie returns the request's device token, or "". Two cookies of
// the name (one planted with a more specific Path by another port or
// subdomain of the host) make it "": the console cannot tell which is its
// own, and a device token only ever lowers what a guess costs.
func (c *Console) deviceCookie(r *http.Request) string {
	name := deviceNamePlain
	if r.TLS != nil || c.secure {
		name = deviceNameTLS
	}
	v, _ := oneCookie(r, name)
	return v
}

// oneCookie returns the value of the request's only cookie called name.
// dup reports that the browser sent more than one: cookies of one name
// but another Path or Domain all arrive, the most specific Path first, so
// a cookie set by a neighbour (another port, a sibling subdomain over
// plain HTTP) would otherwise be read in place of the console's own.
func oneCookie(r *http.Request, name string) (value string, dup bool) {
	cookies := r.CookiesNamed(name)
	switch len(cookies) {
	case 0:
		return "", false
	case 1:
		return cookies[0].Value, false
	}
	return "", true
}

// setDeviceCookie remembers the browser's device token.
func (c *Console) setDeviceCookie(w http.ResponseWriter, r *http.Request, value string) {
	if value == "" {
		return
	}
	_, p, secure := c.cookieSpec(r)
	name := deviceNamePlain
	if secure {
		name = deviceNameTLS
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: p, Secure: secure, MaxAge: deviceMaxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// sessionCookie returns the request's session cookie value, or "". dup
// reports two or more cookies of the name (see oneCookie): the browser is
// then treated as signed out and its cookie cleared, never as signed in
// with whichever came first.
func (c *Console) sessionCookie(r *http.Request) (value string, dup bool) {
	name, _, _ := c.cookieSpec(r)
	return oneCookie(r, name)
}

// setSessionCookie hands the browser a new session. It is a session
// cookie (no Expires): the engine enforces the idle and absolute expiry,
// and a lifetime computed from the server's clock could disagree with the
// browser's.
func (c *Console) setSessionCookie(w http.ResponseWriter, r *http.Request, value string) {
	name, p, secure := c.cookieSpec(r)
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: p, Secure: secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// clearSessionCookie tells the browser to drop the session cookie.
func (c *Console) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	name, p, secure := c.cookieSpec(r)
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: p, Secure: secure, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// authed wraps a page that needs a signed-in administrator. It resolves
// the session (every request: sign-out, password change, deactivation and
// role change end a session at once), sends a signed-out browser to
// sign-in, and for POST caps and parses the body and checks the form's
// anti-forgery token. Cross-origin requests were refused before this.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cookie, dup := c.sessionCookie(r)
		if dup {
			c.clearSessionCookie(w, r)
			c.toSignIn(w, r, "cookie-conflict")
			return
		}
		q := &request{addr: c.clientAddr(r), cookie: cookie}
		if q.cookie == "" {
			c.toSignIn(w, r, "")
			return
		}
		sess, err := c.eng.AuthenticateSession(r.Context(), q.cookie, q.addr)
		if errors.Is(err, engine.ErrInvalidSession) {
			c.clearSessionCookie(w, r)
			c.toSignIn(w, r, "session-ended")
			return
		}
		if err != nil {
			c.serverError(w, r, nil, err)
			return
		}
		if !c.ownTenant(sess) {
			// A session of another tenant (a console for another tenant on
			// the same host shares the cookie) is signed out here, but it
			// is not this console's to end or to clear.
			c.toSignIn(w, r, "")
			return
		}
		q.sess = sess
		if r.Method == http.MethodPost {
			if !c.parseForm(w, r, q) {
				return
			}
			if !sess.CheckCSRF(r.PostFormValue("csrf")) {
				c.errorPage(w, r, q, http.StatusForbidden, "Request refused",
					"The form's security token is missing or out of date. Reload the page and submit the form again.")
				return
			}
		}
		h(w, r, q)
	}
}

// ownTenant reports whether sess may use this console: with
// Options.TenantID set, only that tenant's sessions may.
func (c *Console) ownTenant(sess *engine.ConsoleSession) bool {
	return c.tenantID == "" || sess.TenantID == c.tenantID
}

// parseForm caps the body at MaxBodyBytes and parses it, answering 413 or
// 400 itself when it cannot. Handlers read fields with PostFormValue
// only, so nothing (a password above all) is ever taken from the URL.
func (c *Console) parseForm(w http.ResponseWriter, r *http.Request, q *request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.errorPage(w, r, q, http.StatusRequestEntityTooLarge, "Request too large",
				"The form was larger than the console accepts.")
			return false
		}
		c.errorPage(w, r, q, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	return true
}

// toSignIn sends the browser to the sign-in page. A GET remembers where it
// was going (a console path only); done names the notice to show.
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request, done string) {
	v := url.Values{}
	if done != "" {
		v.Set("done", done)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if next := c.safeNext(r.URL.RequestURI()); next != "" && next != c.prefix {
			v.Set("next", next)
		}
	}
	rel := "signin"
	if len(v) > 0 {
		rel += "?" + v.Encode()
	}
	c.redirect(w, r, rel)
}

// safeNext returns next if it is a path of the console's own pages (no
// scheme, host, "//", backslash or dot segments: nothing a browser could
// resolve to another site or outside the prefix), else "".
func (c *Console) safeNext(next string) string {
	if next == "" || len(next) > 2000 || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return ""
	}
	if !strings.HasPrefix(u.Path, c.prefix) || strings.HasPrefix(next, "//") {
		return ""
	}
	if clean := path.Clean(u.Path); clean != u.Path && clean+"/" != u.Path {
		return ""
	}
	switch strings.TrimPrefix(u.Path, c.prefix) {
	case "signin", "signout":
		return ""
	}
	return next
}
