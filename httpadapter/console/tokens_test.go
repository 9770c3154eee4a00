package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

var checkedRe = regexp.MustCompile(`<input type="checkbox" name="perm" value="([^"]+)" id="([^"]+)"( checked)?>`)

// checkedPerms reads the permission boxes of the create form: every
// permission of the catalogue has one, with its id.
func checkedPerms(t *testing.T, body string) permission.Set {
	t.Helper()
	var set permission.Set
	boxes := checkedRe.FindAllStringSubmatch(body, -1)
	require.Len(t, boxes, len(permission.All()))
	for _, m := range boxes {
		require.Equal(t, "perm-"+strings.ReplaceAll(m[1], ":", "-"), m[2])
		if m[3] != "" {
			p, err := permission.Lookup(m[1])
			require.NoError(t, err)
			set = set.Add(p)
		}
	}
	return set
}

// createToken submits the create form and returns the new token, read
// back from the engine by the id on the credential page, and the page.
func createToken(t *testing.T, f *fixture, b *browser, form url.Values) (engine.UserToken, string, string) {
	t.Helper()
	rec := b.post(prefix+"tokens/new", form)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	body := rec.Body.String()
	id := textOf(t, body, "token-id")
	cred := textOf(t, body, "credential")
	tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", id)
	require.NoError(t, err)
	return tok, cred, body
}

// The form groups the boxes under the product's three headings (and the
// extensions where their Group says), every preset is a link that ticks
// exactly its set, and a submitted preset gives exactly that set.
func TestCreateTokenWithPreset(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	page := b.get(prefix + "tokens/new")
	require.Equal(t, http.StatusOK, page.Code)
	body := page.Body.String()
	require.True(t, checkedPerms(t, body).IsEmpty())
	for _, legend := range []string{"User Management", "Product &amp; License Management", "Group Management"} {
		require.Contains(t, body, "<legend>"+legend+"</legend>")
	}
	// Each box sits under its group's legend.
	for _, p := range permission.All() {
		at := strings.Index(body, `id="`+"perm-"+strings.ReplaceAll(p.Code(), ":", "-")+`"`)
		legend := strings.LastIndex(body[:at], "<legend>")
		require.True(t, strings.HasPrefix(body[legend:], "<legend>"+strings.ReplaceAll(p.Group(), "&", "&amp;")+"</legend>"), p.Code())
	}
	require.Contains(t, body, `<select id="token-owner" name="owner"`)
	require.Contains(t, body, `<option value="`+f.acme.UserID+`" selected>`)

	for _, preset := range permission.Presets() {
		t.Run(preset.ID, func(t *testing.T) {
			require.Contains(t, body, `<a id="preset-`+preset.ID+`" href="/console/tokens/new?preset=`+preset.ID+`"`)
			page := b.get(prefix + "tokens/new?preset=" + preset.ID)
			require.Equal(t, http.StatusOK, page.Code)
			ticked := checkedPerms(t, page.Body.String())
			require.True(t, ticked.Equal(preset.Set), "%s ticks %s", preset.ID, ticked)

			// Submitting the ticked boxes gives exactly them.
			tok, cred, _ := createToken(t, f, b, url.Values{
				"name": {preset.Name}, "owner": {f.acme.UserID}, "perm": ticked.Codes(),
			})
			require.True(t, tok.Permissions.Equal(preset.Set))
			require.Equal(t, preset.Name, tok.Name)
			require.True(t, strings.HasPrefix(cred, "lkut_"))
		})
	}
	// An unknown preset ticks nothing.
	require.True(t, checkedPerms(t, b.get(prefix+"tokens/new?preset=everything").Body.String()).IsEmpty())
}

// Explicit boxes, an owner, an expiry date and an allowlist are what the
// token gets.
func TestCreateTokenExplicit(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	member := f.user(f.acme, "ci@acme.test", store.RoleMember, "")
	tok, cred, body := createToken(t, f, b, url.Values{
		"name": {"deploy"}, "owner": {member.ID},
		"perm":    {"licenses:edit", "customers:view", "audit:view"},
		"expires": {"2026-06-30"},
		"cidrs":   {"203.0.113.0/24\r\n2001:db8::/48, 198.51.100.7/32"},
	})
	require.True(t, tok.Permissions.Equal(permission.NewSet(permission.EditLicenses, permission.ViewCustomers, permission.ViewAudit)))
	require.Equal(t, member.ID, tok.UserID)
	require.Equal(t, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), tok.ExpiresAt, "the end of the chosen day")
	require.Equal(t, []string{"203.0.113.0/24", "2001:db8::/48", "198.51.100.7/32"}, tok.AllowedCIDRs)

	// The page says it once, how to keep it, and offers a copy button.
	require.Equal(t, 1, strings.Count(body, cred))
	require.Contains(t, body, "shown only once")
	require.Contains(t, body, "environment variable or a secret manager, never in version control")
	require.Contains(t, body, `<button type="button" id="copy-credential" data-copy="credential" hidden>`)

	// The credential works, from an allowed address.
	_, err := f.eng.Exchange(f.ctx, tok.ID, cred, apiAddr)
	require.NoError(t, err)

	// And it is never shown again.
	for _, p := range []string{"tokens", "tokens/" + tok.ID, "review", "audit", "users/" + member.ID} {
		require.NotContains(t, b.get(prefix+p).Body.String(), cred, p)
	}
	// No credential was in any URL: the create was answered in place.
	require.NotContains(t, body, "?credential")
}

// Bad input shows the form again, 400, with a clear message and what
// was entered.
func TestCreateTokenBadInput(t *testing.T) {
	f := newFixture(t, withEngine(func(c *engine.Config) {}))
	b := f.admin()
	valid := func() url.Values {
		return url.Values{"name": {"sync"}, "owner": {f.acme.UserID}, "perm": {"users:view", "licenses:view"}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(url.Values)
		msg   string
		keeps string
	}{
		{"bad cidr", func(v url.Values) { v.Set("cidrs", "10.0.0.0/8\nnot-a-cidr") }, `&#34;not-a-cidr&#34;`, "not-a-cidr"},
		{"bad date", func(v url.Values) { v.Set("expires", "next week") }, "must be a date", "next week"},
		{"past date", func(v url.Values) { v.Set("expires", "2026-02-01") }, "in the past", "2026-02-01"},
		{"date too far", func(v url.Values) { v.Set("expires", "9999-12-31") }, "before the year 9999", "9999-12-31"},
		{"no name", func(v url.Values) { v.Set("name", " ") }, "Token name is required", ""},
		{"unknown owner", func(v url.Values) { v.Set("owner", f.other.UserID) }, "is not a user of the tenant", ""},
		{"unknown permission", func(v url.Values) { v.Add("perm", "users:fly") }, "Unknown permission", ""},
		{"permission by name", func(v url.Values) { v.Add("perm", "View Users") }, "Unknown permission", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := valid()
			tc.edit(form)
			rec := b.post(prefix+"tokens/new", form)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			body := rec.Body.String()
			require.Contains(t, body, `id="error"`)
			require.Contains(t, body, tc.msg)
			require.Contains(t, body, `id="create-token"`, "the form again")
			if tc.keeps != "" {
				require.Contains(t, body, tc.keeps)
			}
			require.NotContains(t, body, `id="credential"`)
			if tc.name != "unknown permission" && tc.name != "permission by name" {
				require.True(t, checkedPerms(t, body).Equal(permission.NewSet(permission.ViewUsers, permission.ViewLicenses)), "the boxes stay ticked")
			}
			requireCleanHTML(t, tc.name, body)
		})
	}
	tokens, _, err := f.eng.ListUserTokens(f.ctx, f.acme, "acme", store.Page{})
	require.NoError(t, err)
	require.Empty(t, tokens)
}

// The tenant's lifetime cap is shown on the form and its refusal is the
// form's message.
func TestCreateTokenPolicy(t *testing.T) {
	f := newFixture(t)
	_, err := f.eng.SetTenantPolicy(f.ctx, f.acme, "acme", tenant.Policy{MaxTokenLifetime: 30 * 24 * time.Hour})
	require.NoError(t, err)
	b := f.admin()
	require.Contains(t, b.get(prefix+"tokens/new").Body.String(), "at most 30 days")
	rec := b.post(prefix+"tokens/new", url.Values{"name": {"x"}, "owner": {f.acme.UserID}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "limits token lifetime")
	tok, _, _ := createToken(t, f, b, url.Values{"name": {"x"}, "owner": {f.acme.UserID}, "expires": {"2026-03-15"}})
	require.Equal(t, time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC), tok.ExpiresAt)
}

// The list shows every column: owner, permissions, created, expires,
// last used and from where, status.
func TestTokenList(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	used := f.token(f.acme, "used token", permission.NewSet(permission.ViewUsers))
	f.token(f.acme, "idle token", permission.NewSet(permission.ViewLicenses))
	f.token(f.other, "globex token", permission.NewSet(permission.ViewLicenses))
	_, err := f.eng.Exchange(f.ctx, used.Token.ID, used.Credential.Reveal(), apiAddr)
	require.NoError(t, err)
	f.clock.Advance(3 * time.Minute)

	body := b.get(prefix + "tokens").Body.String()
	require.Contains(t, body, "used token")
	require.Contains(t, body, "idle token")
	require.NotContains(t, body, "globex token")
	row := body[strings.Index(body, `<tr id="token-`+used.Token.ID+`">`):]
	row = row[:strings.Index(row, "</tr>")]
	require.Contains(t, row, "Admin acme")
	require.Contains(t, row, "View Users")
	require.Contains(t, row, "3 minutes ago")
	require.Contains(t, row, "from 198.51.100.7")
	require.Contains(t, row, "2026-03-01 12:00 UTC")
	require.Contains(t, row, "never", "no expiry")
	require.Contains(t, row, "active")
}

// Rotation asks first, saying what dies; then shows the new credential
// once; the old credential and every access token from it stop working.
func TestRotateToken(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	ct := f.token(f.acme, "leaky", permission.NewSet(permission.ViewUsers))
	resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), apiAddr)
	require.NoError(t, err)

	confirm := b.get(prefix + "tokens/" + ct.Token.ID + "/rotate")
	require.Equal(t, http.StatusOK, confirm.Code)
	cbody := confirm.Body.String()
	require.Contains(t, cbody, "every access token and refresh token derived from it dies")
	require.Contains(t, cbody, "old credential stops working")
	require.Contains(t, cbody, `<form method="post" action="/console/tokens/`+ct.Token.ID+`/rotate">`)
	require.Contains(t, cbody, `id="confirm-rotate"`)
	form := url.Values{"generation": {fieldOf(t, cbody, "generation")}}
	require.Equal(t, "1", form.Get("generation"), "the generation the page showed")

	rec := b.post(prefix+"tokens/"+ct.Token.ID+"/rotate", form)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	body := rec.Body.String()
	require.Equal(t, ct.Token.ID, textOf(t, body, "token-id"))
	cred := textOf(t, body, "credential")
	require.NotEqual(t, ct.Credential.Reveal(), cred)
	require.Contains(t, body, "shown only once")
	requireCleanHTML(t, "rotated", body)

	_, err = f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), apiAddr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), apiAddr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	_, err = f.eng.Exchange(f.ctx, ct.Token.ID, cred, apiAddr)
	require.NoError(t, err)
}

// The rotation form names the generation it showed: submitting it again
// (a reload of the credential page, a double click, a second tab's
// confirmation) is a 409 that rotates nothing, so the credential just
// shown keeps working; a form without a generation rotates nothing either.
func TestRotateTokenOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		// again is the second submission's form, given the first's and
		// that of a confirmation opened before the first submission.
		again  func(first, earlier url.Values) url.Values
		status int
		msg    string
	}{
		{"resubmitted", func(first, _ url.Values) url.Values { return first }, http.StatusConflict,
			"This token was already rotated; its new credential was shown once. Rotate again if you need a new one."},
		{"second tab", func(_, earlier url.Values) url.Values { return earlier }, http.StatusConflict, "already rotated"},
		{"no generation", func(_, _ url.Values) url.Values { return url.Values{} }, http.StatusBadRequest, "out of date"},
		{"bad generation", func(_, _ url.Values) url.Values { return url.Values{"generation": {"-1"}} }, http.StatusBadRequest, "out of date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			b := f.admin()
			ct := f.token(f.acme, "ci", permission.NewSet(permission.ViewUsers))
			id := ct.Token.ID
			confirm := func() url.Values {
				page := b.get(prefix + "tokens/" + id + "/rotate")
				require.Equal(t, http.StatusOK, page.Code)
				return url.Values{"generation": {fieldOf(t, page.Body.String(), "generation")}}
			}
			earlier := confirm()
			first := confirm()
			rec := b.post(prefix+"tokens/"+id+"/rotate", first)
			require.Equal(t, http.StatusOK, rec.Code)
			cred := textOf(t, rec.Body.String(), "credential")

			rec = b.post(prefix+"tokens/"+id+"/rotate", tc.again(first, earlier))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			body := rec.Body.String()
			require.Contains(t, body, tc.msg)
			require.NotContains(t, body, `id="credential"`)
			requireSecurityHeaders(t, rec)
			requireCleanHTML(t, tc.name, body)
			if tc.status == http.StatusConflict {
				require.Equal(t, prefix+"tokens/"+id, linkOf(t, body, "error-link"))
			}

			tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", id)
			require.NoError(t, err)
			require.EqualValues(t, 2, tok.Generation, "rotated once")
			_, err = f.eng.Exchange(f.ctx, id, cred, apiAddr)
			require.NoError(t, err, "the credential shown still works")

			// Rotating again from a fresh confirmation works.
			rec = b.post(prefix+"tokens/"+id+"/rotate", confirm())
			require.Equal(t, http.StatusOK, rec.Code)
			require.NotEqual(t, cred, textOf(t, rec.Body.String(), "credential"))
		})
	}
}

// Deactivate, reactivate and delete (after its confirmation).
func TestTokenLifecycle(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	ct := f.token(f.acme, "ci", permission.NewSet(permission.ViewUsers))
	id := ct.Token.ID
	status := func() store.TokenStatus {
		tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", id)
		require.NoError(t, err)
		return tok.Status
	}
	page := b.get(prefix + "tokens/" + id).Body.String()
	require.Contains(t, page, `id="deactivate-token"`)
	require.Contains(t, page, `href="/console/tokens/`+id+`/rotate"`)
	require.Contains(t, page, `href="/console/tokens/`+id+`/delete"`)

	loc := requireRedirect(t, b.post(prefix+"tokens/"+id+"/deactivate", nil), "tokens/"+id)
	require.Equal(t, "token-deactivated", loc.Query().Get("done"))
	require.Equal(t, store.TokenDeactivated, status())
	_, err := f.eng.Exchange(f.ctx, id, ct.Credential.Reveal(), apiAddr)
	require.ErrorIs(t, err, engine.ErrInvalidToken)
	page = b.get(loc.String()).Body.String()
	require.Contains(t, page, "The token was deactivated")
	require.Contains(t, page, `id="reactivate-token"`)

	requireRedirect(t, b.post(prefix+"tokens/"+id+"/reactivate", nil), "tokens/"+id)
	require.Equal(t, store.TokenActive, status())

	confirm := b.get(prefix + "tokens/" + id + "/delete").Body.String()
	require.Contains(t, confirm, `id="confirm-delete"`)
	require.Contains(t, confirm, "cannot be brought back")
	loc = requireRedirect(t, b.post(prefix+"tokens/"+id+"/delete", nil), "tokens")
	require.Equal(t, "token-deleted", loc.Query().Get("done"))
	_, err = f.eng.GetUserToken(f.ctx, f.acme, "acme", id)
	require.ErrorIs(t, err, engine.ErrNotFound)
	require.Equal(t, http.StatusNotFound, b.get(prefix+"tokens/"+id).Code)
	require.Equal(t, http.StatusNotFound, b.post(prefix+"tokens/"+id+"/delete", nil).Code)
}

// Another tenant's objects are never shown, listed or touched: their IDs
// under this tenant's session are 404, like IDs that do not exist.
func TestOtherTenantsObjects(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	theirs := f.token(f.other, "globex secret token", permission.NewSet(permission.ViewUsers))
	theirUser := f.user(f.other, "bob@globex.test", store.RoleMember, "")
	tid, uid := theirs.Token.ID, theirUser.ID
	for _, rt := range []struct{ method, path string }{
		{"GET", "tokens/" + tid}, {"GET", "tokens/" + tid + "/rotate"}, {"GET", "tokens/" + tid + "/delete"},
		{"POST", "tokens/" + tid + "/rotate"}, {"POST", "tokens/" + tid + "/deactivate"},
		{"POST", "tokens/" + tid + "/reactivate"}, {"POST", "tokens/" + tid + "/delete"},
		{"POST", "review/" + tid + "/remove-unused"},
		{"GET", "users/" + uid}, {"POST", "users/" + uid}, {"POST", "users/" + uid + "/deactivate"},
		{"POST", "users/" + uid + "/reactivate"}, {"POST", "users/" + uid + "/password"},
		{"GET", "users/" + f.other.UserID},
		{"GET", "tokens/not-a-uuid"}, {"GET", "users/nobody"},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var rec interface{ Result() *http.Response }
			if rt.method == "GET" {
				rec = b.get(prefix + rt.path)
			} else {
				// With the right confirmation, so that the engine's scoping
				// is what refuses.
				rec = b.post(prefix+rt.path, url.Values{
					"name": {"Mallory"}, "role": {"admin"}, "password": {"a long new password"}, "confirm_password": {adminPassword},
				})
			}
			res := rec.Result()
			require.Equal(t, http.StatusNotFound, res.StatusCode)
		})
	}
	// Untouched.
	tok, err := f.eng.GetUserToken(f.ctx, f.other, "globex", tid)
	require.NoError(t, err)
	require.Equal(t, store.TokenActive, tok.Status)
	require.EqualValues(t, 1, tok.Generation)
	u, err := f.eng.GetUser(f.ctx, f.other, "globex", uid)
	require.NoError(t, err)
	require.Equal(t, store.RoleMember, u.Role)
	require.Equal(t, store.UserActive, u.Status)
	_, err = f.eng.Exchange(f.ctx, tid, theirs.Credential.Reveal(), apiAddr)
	require.NoError(t, err)

	// Never listed, nor offered as an owner.
	for _, p := range []string{"tokens", "users", "review", "audit", "tokens/new", "tenant"} {
		body := b.get(prefix + p).Body.String()
		for _, s := range []string{tid, uid, "globex secret token", "bob@globex.test", f.other.UserID, "admin@globex.test"} {
			require.NotContains(t, body, s, p)
		}
	}
}
