package console_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

const (
	carolPassword = "carol's long password"
	wrongPassword = "not my password at all"
)

// badConfirmations are the confirmations that must not let an action
// through: none, a wrong password, and the password of another admin of
// the tenant (the one who might be borrowing the session).
var badConfirmations = []struct{ name, value, msg string }{
	{"missing", "", "Enter your password to confirm."},
	{"wrong", wrongPassword, "Your password is not right."},
	{"another admin's", carolPassword, "Your password is not right."},
}

// requireConfirmRefused checks a form shown again after a refused
// confirmation: a 400 that says why, asks for the confirmation again and
// shows none of the passwords typed.
func requireConfirmRefused(t *testing.T, rec *httptest.ResponseRecorder, msg string, secrets ...string) {
	t.Helper()
	body := rec.Body.String()
	require.Equal(t, http.StatusBadRequest, rec.Code, body)
	require.Equal(t, msg, textOf(t, body, "error"))
	require.Contains(t, body, `name="confirm_password"`)
	for _, s := range secrets {
		if s != "" {
			require.NotContains(t, body, s)
			require.NotContains(t, body, template.HTMLEscapeString(s))
		}
	}
	requireCleanHTML(t, msg, body)
}

// Creating an admin, or a user with a password, takes the creator's own
// password; a refused confirmation creates nobody and keeps the form.
func TestCreateUserConfirmation(t *testing.T) {
	f := newFixture(t)
	// Carol is the other admin whose password is no confirmation.
	f.user(f.acme, "carol@acme.test", store.RoleAdmin, carolPassword)
	b := f.admin()
	form := b.get(prefix + "users/new").Body.String()
	require.Contains(t, form, `id="user-confirm-password"`)
	require.Regexp(t, `<input id="user-confirm-password" name="confirm_password" type="password" autocomplete="current-password"`, form)
	require.Contains(t, form, `aria-describedby="user-confirm-password-hint"`)

	for _, kind := range []struct{ name, role, password string }{
		{"admin without password", "admin", ""},
		{"admin with password", "admin", "the new admin's password"},
		{"member with password", "member", "the new member's password"},
	} {
		for _, bad := range badConfirmations {
			t.Run(kind.name+" "+bad.name, func(t *testing.T) {
				rec := b.post(prefix+"users/new", url.Values{
					"email": {"new@acme.test"}, "name": {"New O'Neil"}, "role": {kind.role},
					"password": {kind.password}, "confirm_password": {bad.value},
				})
				requireConfirmRefused(t, rec, bad.msg, kind.password, bad.value)
				body := rec.Body.String()
				require.Contains(t, body, `value="new@acme.test"`)
				require.Contains(t, body, `value="New O&#39;Neil"`)
				require.Contains(t, body, `<option value="`+kind.role+`" selected>`)
			})
		}
	}
	users, _, err := f.eng.ListUsers(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Len(t, users, 2, "nobody was created")

	// The form's own checks come before the confirmation, so a typo there
	// does not spend an attempt of the sign-in budget.
	rec := b.post(prefix+"users/new", url.Values{
		"email": {"new@acme.test"}, "name": {"New"}, "role": {"admin"}, "password": {"short"}, "confirm_password": {wrongPassword},
	})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "at least 12")

	// The right confirmation creates the user.
	rec = b.post(prefix+"users/new", url.Values{
		"email": {"new@acme.test"}, "name": {"New"}, "role": {"admin"}, "confirm_password": {adminPassword},
	})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	users, _, err = f.eng.ListUsers(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Len(t, users, 3)
}

// Making a user an admin takes the editor's own password; other edits
// (a rename, a demotion) do not. A refused confirmation changes nothing
// and keeps the form.
func TestPromoteConfirmation(t *testing.T) {
	f := newFixture(t)
	carol := f.user(f.acme, "carol@acme.test", store.RoleAdmin, carolPassword)
	gina := f.user(f.acme, "gina@acme.test", store.RoleMember, "")
	b := f.admin()

	// The field is there only where it can be needed: a member's form.
	require.Contains(t, b.get(prefix+"users/"+gina.ID).Body.String(), `id="edit-confirm-password"`)
	require.NotContains(t, b.get(prefix+"users/"+carol.ID).Body.String(), `id="edit-confirm-password"`)

	for _, bad := range badConfirmations {
		t.Run(bad.name, func(t *testing.T) {
			rec := b.post(prefix+"users/"+gina.ID, url.Values{
				"name": {"Gina O'Admin"}, "role": {"admin"}, "confirm_password": {bad.value},
			})
			requireConfirmRefused(t, rec, bad.msg, bad.value)
			body := rec.Body.String()
			require.Contains(t, body, `value="Gina O&#39;Admin"`)
			require.Contains(t, body, `<option value="admin" selected>`)
			got, err := f.eng.GetUser(f.ctx, f.acme, "acme", gina.ID)
			require.NoError(t, err)
			require.Equal(t, store.RoleMember, got.Role)
			require.Equal(t, gina.Name, got.Name, "nothing of the edit was saved")
		})
	}

	for _, tc := range []struct {
		name string
		user store.User
		form url.Values
		role store.Role
	}{
		{"rename a member", gina, url.Values{"name": {"Gina M."}, "role": {"member"}}, store.RoleMember},
		{"rename an admin", carol, url.Values{"name": {"Carol A."}, "role": {"admin"}}, store.RoleAdmin},
		{"demote an admin", carol, url.Values{"name": {"Carol M."}, "role": {"member"}}, store.RoleMember},
		{"promote, confirmed", gina, url.Values{"name": {"Gina A."}, "role": {"admin"}, "confirm_password": {adminPassword}}, store.RoleAdmin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := requireRedirect(t, b.post(prefix+"users/"+tc.user.ID, tc.form), "users/"+tc.user.ID)
			require.Equal(t, "user-updated", loc.Query().Get("done"))
			got, err := f.eng.GetUser(f.ctx, f.acme, "acme", tc.user.ID)
			require.NoError(t, err)
			require.Equal(t, tc.form.Get("name"), got.Name)
			require.Equal(t, tc.role, got.Role)
		})
	}
}

// A form shown while its user was an admin, submitted after another
// admin demoted them, is a promotion: it needs the confirmation, and a
// rename without one does not bring the role back.
func TestStaleFormDoesNotPromote(t *testing.T) {
	f := newFixture(t)
	carol := f.user(f.acme, "carol@acme.test", store.RoleAdmin, carolPassword)
	b := f.admin()
	require.NotContains(t, b.get(prefix+"users/"+carol.ID).Body.String(), `id="edit-confirm-password"`)

	member := store.RoleMember
	_, err := f.eng.UpdateUser(f.ctx, f.acme, "acme", carol.ID, engine.UserPatch{Role: &member})
	require.NoError(t, err)

	rec := b.post(prefix+"users/"+carol.ID, url.Values{"name": {"Carol Renamed"}, "role": {"admin"}})
	requireConfirmRefused(t, rec, "Enter your password to confirm.")
	got, err := f.eng.GetUser(f.ctx, f.acme, "acme", carol.ID)
	require.NoError(t, err)
	require.Equal(t, store.RoleMember, got.Role)
	require.Equal(t, carol.Name, got.Name)
}

// Setting another user's password takes the setter's own; a refused
// confirmation leaves the user's password and sessions as they were.
func TestSetPasswordConfirmation(t *testing.T) {
	f := newFixture(t)
	// Carol is the other admin whose password is no confirmation.
	f.user(f.acme, "carol@acme.test", store.RoleAdmin, carolPassword)
	dave := f.user(f.acme, "dave@acme.test", store.RoleAdmin, "dave's long password")
	cb := f.browser()
	cb.remote = "192.0.2.30:1000"
	require.Equal(t, http.StatusSeeOther, cb.signIn("acme", "dave@acme.test", "dave's long password").Code)
	b := f.admin()

	page := b.get(prefix + "users/" + dave.ID).Body.String()
	require.Regexp(t, `<input id="password-confirm-password" name="confirm_password" type="password" required autocomplete="current-password"`, page)
	require.Contains(t, page, `aria-describedby="password-confirm-password-hint"`)

	const newPassword = "dave's brand new password"
	for _, bad := range badConfirmations {
		t.Run(bad.name, func(t *testing.T) {
			rec := b.post(prefix+"users/"+dave.ID+"/password", url.Values{
				"password": {newPassword}, "confirm_password": {bad.value},
			})
			requireConfirmRefused(t, rec, bad.msg, newPassword, bad.value)
			require.Contains(t, rec.Body.String(), `id="set-password"`)
			require.Equal(t, http.StatusOK, cb.get(prefix+"tokens").Code, "dave's session lives on")
		})
	}
	// A wrong confirmation is audited like a failed sign-in; a missing
	// one guessed nothing.
	require.NoError(t, f.eng.Flush(f.ctx))
	audit := b.get(prefix + "audit?type=" + engine.EventSignInFailed).Body.String()
	require.Equal(t, 2, strings.Count(audit, `<tr class="sev-`))

	other := f.browser()
	other.remote = "192.0.2.31:1000"
	require.Equal(t, http.StatusBadRequest, other.signIn("acme", "dave@acme.test", newPassword).Code)
	require.Equal(t, http.StatusSeeOther, other.signIn("acme", "dave@acme.test", "dave's long password").Code)

	loc := requireRedirect(t, b.post(prefix+"users/"+dave.ID+"/password", url.Values{
		"password": {newPassword}, "confirm_password": {adminPassword},
	}), "users/"+dave.ID)
	require.Equal(t, "password-set", loc.Query().Get("done"))
	requireSignInRedirect(t, cb.get(prefix+"tokens"))
	require.Equal(t, http.StatusSeeOther, f.browser().signIn("acme", "dave@acme.test", newPassword).Code)
}

// Confirmations are charged like sign-ins: past the budget, even the
// right password is a 429 with Retry-After that changes nothing, until
// the wait is over.
func TestConfirmationThrottled(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup returns the form's path and fields (without the
		// confirmation) and whether its action has happened.
		setup func(f *fixture) (path string, form url.Values, happened func() bool)
	}{
		{"create an admin", func(f *fixture) (string, url.Values, func() bool) {
			return "users/new", url.Values{"email": {"new@acme.test"}, "name": {"New"}, "role": {"admin"}}, func() bool {
				users, _, err := f.eng.ListUsers(f.ctx, f.acme, "acme", store.Page{})
				require.NoError(f.t, err)
				return len(users) > 1
			}
		}},
		{"promote", func(f *fixture) (string, url.Values, func() bool) {
			u := f.user(f.acme, "gina@acme.test", store.RoleMember, "")
			return "users/" + u.ID, url.Values{"name": {"Gina"}, "role": {"admin"}}, func() bool {
				got, err := f.eng.GetUser(f.ctx, f.acme, "acme", u.ID)
				require.NoError(f.t, err)
				return got.Role == store.RoleAdmin
			}
		}},
		{"set a password", func(f *fixture) (string, url.Values, func() bool) {
			u := f.user(f.acme, "carol@acme.test", store.RoleAdmin, carolPassword)
			n := 0
			return "users/" + u.ID + "/password", url.Values{"password": {"carol's new password"}}, func() bool {
				// Each look signs in from an address of its own, so it
				// spends nothing of the admin's budget.
				n++
				probe := f.browser()
				probe.remote = "203.0.113." + strconv.Itoa(n) + ":1000"
				return probe.signIn("acme", "carol@acme.test", "carol's new password").Code == http.StatusSeeOther
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, withEngine(func(c *engine.Config) {
				c.Console.SignInAddrLimit = tenant.Rate{Limit: 3, Window: time.Minute, Burst: 3}
			}))
			b := f.admin()
			path, form, happened := tc.setup(f)
			with := func(confirm string) url.Values {
				v := url.Values{}
				for k, vs := range form {
					v[k] = vs
				}
				v.Set("confirm_password", confirm)
				return v
			}
			for range 3 {
				requireConfirmRefused(t, b.post(prefix+path, with(wrongPassword)), "Your password is not right.")
			}
			rec := b.post(prefix+path, with(adminPassword))
			require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
			retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			require.NoError(t, err)
			require.Positive(t, retry)
			requireSecurityHeaders(t, rec)
			requireCleanHTML(t, "429", rec.Body.String())
			require.False(t, happened(), "a throttled confirmation changes nothing")
			require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code, "and keeps the session")

			f.clock.Advance(time.Duration(retry) * time.Second)
			require.Equal(t, http.StatusSeeOther, b.post(prefix+path, with(adminPassword)).Code)
			require.True(t, happened())
		})
	}
}
