package console

import (
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
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	next := c.safeNext(r.URL.Query().Get("next"))
	// A signed-in administrator has nothing to do here.
	if cookie := c.sessionCookie(r); cookie != "" {
		if _, err := c.eng.AuthenticateSession(r.Context(), cookie, c.clientAddr(r)); err == nil {
			if next == "" {
				next = c.abs("tokens")
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	c.render(w, r, nil, http.StatusOK, "signin", &page{
		Title: "Sign in", Data: signInData{AskTenant: c.tenantID == "", Next: next},
	})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r, nil) {
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
		data := signInData{AskTenant: c.tenantID == "", Email: email, Next: next}
		if data.AskTenant {
			data.Tenant = tenantID
		}
		c.render(w, r, nil, http.StatusBadRequest, "signin", &page{Title: "Sign in", Error: msgSignInFailed, Data: data})
		return
	case err != nil:
		c.serverError(w, r, nil, err)
		return
	}
	// A browser that was signed in as someone (or in another tenant) ends
	// that session rather than leave it live behind the new cookie.
	if old := c.sessionCookie(r); old != "" {
		if err := c.eng.SignOut(r.Context(), old, addr); err != nil {
			c.log.WarnContext(r.Context(), "console: ending the previous session at sign-in", "error", err)
		}
	}
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
