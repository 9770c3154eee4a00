package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/stretchr/testify/require"
)

func TestCreateUser(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	for _, tc := range []struct {
		name, email, role, password string
		// confirm is the creator's own password; a member without a
		// password needs none.
		confirm   string
		canSignIn bool
	}{
		{"admin with password", "carol@acme.test", "admin", "carol's long password", adminPassword, true},
		{"member with password", "dave@acme.test", "member", "dave's long password", adminPassword, false},
		{"member without password", "erin@acme.test", "member", "", "", false},
		{"admin without password", "frank@acme.test", "admin", "", adminPassword, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := b.post(prefix+"users/new", url.Values{
				"email": {tc.email}, "name": {tc.name}, "role": {tc.role}, "password": {tc.password},
				"confirm_password": {tc.confirm},
			})
			require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
			loc, err := url.Parse(rec.Header().Get("Location"))
			require.NoError(t, err)
			require.Equal(t, "user-created", loc.Query().Get("done"))
			id := strings.TrimPrefix(loc.Path, prefix+"users/")
			u, err := f.eng.GetUser(f.ctx, f.acme, "acme", id)
			require.NoError(t, err)
			require.Equal(t, tc.email, u.Email)
			require.Equal(t, store.Role(tc.role), u.Role)

			page := b.get(loc.String())
			require.Equal(t, http.StatusOK, page.Code)
			require.Contains(t, page.Body.String(), "The user was created.")
			require.Contains(t, page.Body.String(), tc.email)

			pw := tc.password
			if pw == "" {
				pw = "any password at all"
			}
			want := http.StatusBadRequest
			if tc.canSignIn {
				want = http.StatusSeeOther
			}
			require.Equal(t, want, f.browser().signIn("acme", tc.email, pw).Code)
		})
	}
	users := b.get(prefix + "users").Body.String()
	for _, e := range []string{"carol@acme.test", "dave@acme.test", "erin@acme.test", "frank@acme.test", "admin@acme.test"} {
		require.Contains(t, users, e)
	}
}

func TestCreateUserBadInput(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	for _, tc := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"taken email", url.Values{"email": {"admin@acme.test"}, "name": {"X"}, "role": {"member"}}, "already exists"},
		{"bad email", url.Values{"email": {"nope"}, "name": {"X"}, "role": {"member"}}, "email"},
		{"no name", url.Values{"email": {"x@acme.test"}, "name": {""}, "role": {"member"}}, "name"},
		{"bad role", url.Values{"email": {"x@acme.test"}, "name": {"X"}, "role": {"owner"}}, "admin or member"},
		{"short password", url.Values{"email": {"x@acme.test"}, "name": {"X"}, "role": {"admin"}, "password": {"xq7-zv9"}}, "at least 12"},
		{"long password", url.Values{"email": {"x@acme.test"}, "name": {"X"}, "role": {"admin"}, "password": {strings.Repeat("p", 257)}}, "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := b.post(prefix+"users/new", tc.form)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			body := rec.Body.String()
			require.Contains(t, textOf(t, body, "error"), tc.msg)
			require.Contains(t, body, `id="create-user"`)
			require.Contains(t, body, `value="`+tc.form.Get("email")+`"`)
			if pw := tc.form.Get("password"); pw != "" {
				require.NotContains(t, body, pw)
			}
			requireCleanHTML(t, tc.name, body)
		})
	}
	users, _, err := f.eng.ListUsers(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Len(t, users, 1)
}

func TestEditUser(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	u := f.user(f.acme, "gina@acme.test", store.RoleMember, "")

	rec := b.post(prefix+"users/"+u.ID, url.Values{"name": {"Gina Admin"}, "role": {"admin"}, "confirm_password": {adminPassword}})
	loc := requireRedirect(t, rec, "users/"+u.ID)
	require.Equal(t, "user-updated", loc.Query().Get("done"))
	got, err := f.eng.GetUser(f.ctx, f.acme, "acme", u.ID)
	require.NoError(t, err)
	require.Equal(t, "Gina Admin", got.Name)
	require.Equal(t, store.RoleAdmin, got.Role)

	rec = b.post(prefix+"users/"+u.ID, url.Values{"name": {""}, "role": {"member"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "name")
	rec = b.post(prefix+"users/"+u.ID, url.Values{"name": {"G"}, "role": {"root"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), `value="G"`, "the form keeps what was typed")
}

// Deactivating a user ends their console sessions and stops their
// tokens at once; reactivating brings the tokens back.
func TestDeactivateUser(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	carol := f.user(f.acme, "carol@acme.test", store.RoleAdmin, "carol's long password")
	cb := f.browser()
	require.Equal(t, http.StatusSeeOther, cb.signIn("acme", "carol@acme.test", "carol's long password").Code)
	require.Equal(t, http.StatusOK, cb.get(prefix+"tokens").Code)
	carolAdmin := engine.Admin{TenantID: "acme", UserID: carol.ID}
	ct := f.token(carolAdmin, "carol's", permission.NewSet(permission.ViewUsers))

	page := b.get(prefix + "users/" + carol.ID).Body.String()
	require.Contains(t, page, `id="deactivate-user"`)
	loc := requireRedirect(t, b.post(prefix+"users/"+carol.ID+"/deactivate", nil), "users/"+carol.ID)
	require.Equal(t, "user-deactivated", loc.Query().Get("done"))

	requireSignInRedirect(t, cb.get(prefix+"tokens"))
	require.Equal(t, http.StatusBadRequest, f.browser().signIn("acme", "carol@acme.test", "carol's long password").Code)
	_, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), apiAddr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)

	page = b.get(loc.String()).Body.String()
	require.Contains(t, page, `id="reactivate-user"`)
	requireRedirect(t, b.post(prefix+"users/"+carol.ID+"/reactivate", nil), "users/"+carol.ID)
	_, err = f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), apiAddr)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, f.browser().signIn("acme", "carol@acme.test", "carol's long password").Code)
}

// Setting another user's password ends their sessions; one's own is
// not set here.
func TestSetPassword(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	carol := f.user(f.acme, "carol@acme.test", store.RoleAdmin, "carol's long password")
	cb := f.browser()
	require.Equal(t, http.StatusSeeOther, cb.signIn("acme", "carol@acme.test", "carol's long password").Code)

	rec := b.post(prefix+"users/"+carol.ID+"/password", url.Values{"password": {"short"}, "confirm_password": {adminPassword}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "shorter than 12")
	require.Equal(t, http.StatusOK, cb.get(prefix+"tokens").Code, "a refused password changes nothing")

	loc := requireRedirect(t, b.post(prefix+"users/"+carol.ID+"/password", url.Values{
		"password": {"carol's new password"}, "confirm_password": {adminPassword},
	}), "users/"+carol.ID)
	require.Equal(t, "password-set", loc.Query().Get("done"))
	requireSignInRedirect(t, cb.get(prefix+"tokens"))
	require.Equal(t, http.StatusSeeOther, f.browser().signIn("acme", "carol@acme.test", "carol's new password").Code)
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code, "the admin who set it stays signed in")

	// One's own password changes on the account page, proving the
	// current one; the user page offers no form for it and refuses it.
	self := b.get(prefix + "users/" + f.acme.UserID).Body.String()
	require.NotContains(t, self, `id="set-password"`)
	require.Contains(t, self, `id="to-account"`)
	rec = b.post(prefix+"users/"+f.acme.UserID+"/password", url.Values{"password": {"my own new password"}, "confirm_password": {adminPassword}})
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Contains(t, rec.Body.String(), "Account page")
	require.Equal(t, http.StatusBadRequest, f.browser().signIn("acme", "admin@acme.test", "my own new password").Code)
	require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code)
}

// Demoting oneself ends one's own session: the redirect lands on
// sign-in.
func TestDemoteSelf(t *testing.T) {
	f := newFixture(t)
	f.user(f.acme, "backup@acme.test", store.RoleAdmin, "backup long password")
	b := f.admin()
	rec := b.post(prefix+"users/"+f.acme.UserID, url.Values{"name": {"Admin acme"}, "role": {"member"}})
	require.Equal(t, http.StatusSeeOther, rec.Code)
	requireSignInRedirect(t, b.get(rec.Header().Get("Location")))
}

// The users list pages with a cursor.
func TestUsersPagination(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	for i := range 60 {
		f.user(f.acme, "u"+string(rune('a'+i/26))+string(rune('a'+i%26))+"@acme.test", store.RoleMember, "")
	}
	body := b.get(prefix + "users").Body.String()
	require.Equal(t, 50, strings.Count(body, `<th scope="row">`))
	next := linkOf(t, body, "next-page")
	body = b.get(next).Body.String()
	require.Equal(t, 11, strings.Count(body, `<th scope="row">`))
	require.NotContains(t, body, `id="next-page"`)
}
