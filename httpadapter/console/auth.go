package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/licensekit/licensekit/engine"
)

// msgSignInFailed is the one answer to every wrong tenant, email,
// password or role: which one was wrong is for the audit log.
const msgSignInFailed = "Sign-in failed. Check the tenant, email and password. Only administrators can sign in."

type signInData struct {
	// AskTenant is false when Options.TenantID fixes the tenant.
	AskTenant     bool
	Tenant, Email string
	Next          string
	// CSRF is the sign-in form's anti-forgery token (signInToken).
	CSRF string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	next := c.safeNext(r.URL.Query().Get("next"))
	// A signed-in administrator has nothing to do here. A session of
	// another tenant is left alone: it is not this console's.
	if cookie, dup := c.sessionCookie(r); dup {
		c.clearSessionCookie(w, r)
	} else if cookie != "" {
		if sess, err := c.eng.AuthenticateSession(r.Context(), cookie, c.clientAddr(r)); err == nil && c.ownTenant(sess) {
			if next == "" {
				next = c.abs("tokens")
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	c.showSignIn(w, r, http.StatusOK, "", signInData{Next: next})
}

// showSignIn renders the sign-in form with a valid anti-forgery token.
func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, msg string, data signInData) {
	data.AskTenant = c.tenantID == ""
	if !data.AskTenant {
		data.Tenant = ""
	}
	data.CSRF = c.signInToken(w, r)
	c.render(w, r, nil, status, "signin", &page{Title: "Sign in", Error: msg, Data: data})
}

// signInCookieName is the sign-in cookie's name and path: the __Host-
// one under TLS (or SecureCookies), like the session cookie.
func (c *Console) signInCookieName(r *http.Request) (name, cookiePath string, secure bool) {
	_, p, secure := c.cookieSpec(r)
	if secure {
		return signInNameTLS, p, true
	}
	return signInNamePlain, p, false
}

// signInTokenLen is the length of a sign-in token: 32 random bytes,
// base64url without padding.
var signInTokenLen = base64.RawURLEncoding.EncodedLen(32)

// signInToken returns the sign-in form's anti-forgery token and (re)sets
// the cookie that holds it: a double-submit token, so that a sign-in
// posted by another site (login CSRF: the victim signed in to the
// attacker's account, whose console then records what they do) is
// refused even from a browser that sends neither Sec-Fetch-Site nor
// Origin. There is no session to hold it yet, so the cookie does; another
// site can neither read it nor (under TLS, with __Host-) set it. A
// browser that has a well-formed one keeps it, so two open sign-in tabs
// both work; setting it again renews its Max-Age.
func (c *Console) signInToken(w http.ResponseWriter, r *http.Request) string {
	name, p, secure := c.signInCookieName(r)
	value, dup := oneCookie(r, name)
	if dup || len(value) != signInTokenLen {
		value = ""
	} else if raw, err := base64.RawURLEncoding.DecodeString(value); err != nil || len(raw) != 32 {
		value = ""
	}
	if value == "" {
		var raw [32]byte
		// crypto/rand.Read does not fail (it aborts the program if the
		// system's generator does).
		_, _ = rand.Read(raw[:])
		value = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: p, Secure: secure, MaxAge: signInMaxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	return value
}

// checkSignInToken reports whether the posted form carries the token of
// the browser's one sign-in cookie, compared in constant time.
func (c *Console) checkSignInToken(r *http.Request) bool {
	name, _, _ := c.signInCookieName(r)
	cookie, dup := oneCookie(r, name)
	field := r.PostFormValue("signin_csrf")
	if dup || cookie == "" || field == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(cookie), []byte(field)) == 1
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r, nil) {
		return
	}
	// Before the engine: a forged or stale form costs no password hash and
	// is not charged to anyone's sign-in budget.
	if !c.checkSignInToken(r) {
		c.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
			"The sign-in form is out of date or did not come from this console. Reload the sign-in page and sign in again.")
		return
	}
	addr := c.clientAddr(r)
	tenantID := c.tenantID
	if tenantID == "" {
		// Tenant IDs are lowercase; a capital or a stray space typed into
		// the form is not a different tenant.
		tenantID = strings.ToLower(strings.TrimSpace(r.PostFormValue("tenant")))
	}
	email := r.PostFormValue("email")
	next := c.safeNext(r.PostFormValue("next"))
	sess, cookie, err := c.eng.SignIn(r.Context(), engine.SignIn{
		TenantID: tenantID, Email: email, Password: engine.NewSecret(r.PostFormValue("password")),
		ClientAddr: addr, Device: c.deviceCookie(r),
	})
	var le *engine.LimitError
	switch {
	case errors.As(err, &le):
		c.tooMany(w, r, nil, le)
		return
	case errors.Is(err, engine.ErrSignInFailed):
		c.showSignIn(w, r, http.StatusBadRequest, msgSignInFailed, signInData{Tenant: tenantID, Email: email, Next: next})
		return
	case err != nil:
		c.serverError(w, r, nil, err)
		return
	}
	// A browser that was signed in as someone (or in another tenant) ends
	// that session rather than leave it live behind the new cookie. Of two
	// cookies of the name it cannot tell which is its own: it ends neither.
	if old, dup := c.sessionCookie(r); !dup && old != "" {
		if err := c.eng.SignOut(r.Context(), old, addr); err != nil {
			c.log.WarnContext(r.Context(), "console: ending the previous session at sign-in", "error", err)
		}
	}
	// The sign-in cookie stays: it grants nothing, and another tab's
	// sign-in form still holds its token.
	c.setSessionCookie(w, r, cookie.Reveal())
	c.setDeviceCookie(w, r, sess.DeviceToken().Reveal())
	if next == "" {
		next = c.abs("tokens")
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, q *request) {
	if err := c.eng.SignOut(r.Context(), q.cookie, q.addr); err != nil {
		c.serverError(w, r, q, err)
		return
	}
	c.clearSessionCookie(w, r)
	c.redirect(w, r, "signin?done=signed-out")
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.render(w, r, q, http.StatusOK, "account", &page{Title: "Account", Nav: "account"})
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, q *request) {
	err := c.eng.ChangePassword(r.Context(), q.sess,
		engine.NewSecret(r.PostFormValue("current")), engine.NewSecret(r.PostFormValue("password")), q.addr)
	var le *engine.LimitError
	switch {
	case err == nil:
		// Every session of the user has ended, this one too.
		c.clearSessionCookie(w, r)
		c.redirect(w, r, "signin?done=password-changed")
	case errors.As(err, &le):
		c.tooMany(w, r, q, le)
	case errors.Is(err, engine.ErrSignInFailed):
		c.render(w, r, q, http.StatusBadRequest, "account", &page{
			Title: "Account", Nav: "account", Error: "The current password is wrong.",
		})
	case errors.Is(err, engine.ErrInvalidInput):
		c.render(w, r, q, http.StatusBadRequest, "account", &page{
			Title: "Account", Nav: "account", Error: inputMessage(err),
		})
	default:
		c.fail(w, r, q, err)
	}
}
