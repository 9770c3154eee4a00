package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// requireSecurityHeaders checks the headers every response carries.
func requireSecurityHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	require.Equal(t, wantCSP, h.Get("Content-Security-Policy"))
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Equal(t, "same-origin", h.Get("Cross-Origin-Opener-Policy"))
}

var (
	tagRe       = regexp.MustCompile(`(?is)<([a-z][a-z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRe      = regexp.MustCompile(`(?is)([a-z_:][-a-z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?`)
	scriptRe    = regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`)
	labelForRe  = regexp.MustCompile(`(?is)<label\b[^>]*\bfor="([^"]+)"`)
	idAttrRe    = regexp.MustCompile(`(?is)\sid="([^"]+)"`)
	inputTagsRe = regexp.MustCompile(`(?is)<(input|select|textarea)\b((?:[^>"']|"[^"]*"|'[^']*')*)>`)
)

// requireCleanHTML checks a page against the CSP's spirit and the
// accessibility basics: no inline script, no <style>, no style= or on…=
// attribute, no javascript: URL; every visible input labelled; ids
// unique.
func requireCleanHTML(t *testing.T, name, body string) {
	t.Helper()
	for _, m := range scriptRe.FindAllStringSubmatch(body, -1) {
		require.Empty(t, strings.TrimSpace(m[1]), "%s: inline script", name)
		require.Contains(t, m[0], "src=", "%s: script without src", name)
	}
	require.NotContains(t, strings.ToLower(body), "<style", "%s: style element", name)
	require.NotContains(t, strings.ToLower(body), "javascript:", "%s: javascript: URL", name)
	for _, tag := range tagRe.FindAllStringSubmatch(body, -1) {
		for _, a := range attrRe.FindAllStringSubmatch(tag[2], -1) {
			attr := strings.ToLower(a[1])
			require.NotEqual(t, "style", attr, "%s: style attribute in <%s%s>", name, tag[1], tag[2])
			require.False(t, strings.HasPrefix(attr, "on"), "%s: event handler attribute in <%s%s>", name, tag[1], tag[2])
		}
	}
	labelled := map[string]bool{}
	for _, m := range labelForRe.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, m := range inputTagsRe.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[2], `type="hidden"`) {
			continue
		}
		id := idAttrRe.FindStringSubmatch(m[2])
		require.NotNil(t, id, "%s: <%s%s> without id", name, m[1], m[2])
		require.True(t, labelled[id[1]], "%s: no <label for=%q>", name, id[1])
	}
	seen := map[string]bool{}
	for _, m := range idAttrRe.FindAllStringSubmatch(body, -1) {
		require.False(t, seen[m[1]], "%s: duplicate id %q", name, m[1])
		seen[m[1]] = true
	}
}

// TestEveryPage renders every page, signed in and out, and checks its
// status, headers and markup.
func TestEveryPage(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	ct := f.token(f.acme, "billing sync", permission.NewSet(permission.ViewUsers, permission.ViewLicenses))
	member := f.user(f.acme, "member@acme.test", store.RoleMember, "")
	// A used token with unused permissions (the review's forms), a
	// deactivated token and a deactivated user (their other buttons).
	resp, err := f.eng.Exchange(f.ctx, ct.Token.ID, ct.Credential.Reveal(), apiAddr)
	require.NoError(t, err)
	pr, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), apiAddr)
	require.NoError(t, err)
	_, _, err = f.eng.ListUsers(f.ctx, pr, "acme", store.Page{})
	require.NoError(t, err)
	off := f.token(f.acme, "off", permission.Set{})
	_, err = f.eng.DeactivateUserToken(f.ctx, f.acme, "acme", off.Token.ID)
	require.NoError(t, err)
	gone := f.user(f.acme, "gone@acme.test", store.RoleMember, "")
	deactivated := store.UserDeactivated
	_, err = f.eng.UpdateUser(f.ctx, f.acme, "acme", gone.ID, engine.UserPatch{Status: &deactivated})
	require.NoError(t, err)
	_, err = f.eng.SetTenantLicense(f.ctx, engine.System(), "globex", tenant.License{Plan: "pro", Status: tenant.StatusSuspended,
		Limits: tenant.Limits{APIRequests: 100, Validations: 10, MaxUsers: 5}})
	require.NoError(t, err)
	globex := f.browser()
	require.Equal(t, http.StatusSeeOther, globex.signIn("globex", "admin@globex.test", adminPassword).Code)

	anon := f.browser()
	pages := []struct {
		name   string
		b      *browser
		method string
		path   string
		form   url.Values
		status int
	}{
		{"signin", anon, "GET", "signin", nil, 200},
		{"signin failed", anon, "POST", "signin", url.Values{"tenant": {"acme"}, "email": {"x@acme.test"}, "password": {"wrong password!"}}, 400},
		{"not found signed out", anon, "GET", "nope", nil, 404},
		{"tokens", b, "GET", "tokens", nil, 200},
		{"token new", b, "GET", "tokens/new", nil, 200},
		{"token new preset", b, "GET", "tokens/new?preset=" + permission.PresetLicenseProvisioning, nil, 200},
		{"token create bad", b, "POST", "tokens/new", url.Values{"name": {"x"}, "owner": {f.acme.UserID}, "cidrs": {"nope"}}, 400},
		{"credential", b, "POST", "tokens/new", url.Values{"name": {"ci"}, "owner": {f.acme.UserID}, "perm": {"users:view"}}, 200},
		{"token", b, "GET", "tokens/" + ct.Token.ID, nil, 200},
		{"token deactivated", b, "GET", "tokens/" + off.Token.ID, nil, 200},
		{"user deactivated", b, "GET", "users/" + gone.ID, nil, 200},
		{"tenant suspended", globex, "GET", "tenant", nil, 200},
		{"own password here", b, "POST", "users/" + f.acme.UserID + "/password", url.Values{"password": {"long enough password"}}, 403},
		{"user password bad", b, "POST", "users/" + member.ID + "/password", url.Values{"password": {"short"}, "confirm_password": {adminPassword}}, 400},
		{"user password unconfirmed", b, "POST", "users/" + member.ID + "/password", url.Values{"password": {"long enough password"}, "confirm_password": {"wrong wrong wrong"}}, 400},
		{"user edit bad", b, "POST", "users/" + member.ID, url.Values{"name": {""}, "role": {"member"}}, 400},
		{"user promote unconfirmed", b, "POST", "users/" + member.ID, url.Values{"name": {"x"}, "role": {"admin"}, "confirm_password": {"wrong wrong wrong"}}, 400},
		{"token rotate confirm", b, "GET", "tokens/" + ct.Token.ID + "/rotate", nil, 200},
		{"token delete confirm", b, "GET", "tokens/" + ct.Token.ID + "/delete", nil, 200},
		{"users", b, "GET", "users", nil, 200},
		{"user new", b, "GET", "users/new", nil, 200},
		{"user new bad", b, "POST", "users/new", url.Values{"email": {"not an email"}, "name": {"x"}, "role": {"member"}}, 400},
		{"user new unconfirmed", b, "POST", "users/new", url.Values{"email": {"x@acme.test"}, "name": {"x"}, "role": {"admin"}}, 400},
		{"user", b, "GET", "users/" + member.ID, nil, 200},
		{"user self", b, "GET", "users/" + f.acme.UserID, nil, 200},
		{"review", b, "GET", "review", nil, 200},
		{"audit", b, "GET", "audit", nil, 200},
		{"audit filtered", b, "GET", "audit?type=token.created&from=2026-01-01&to=2027-01-01T00:00", nil, 200},
		{"audit bad", b, "GET", "audit?from=yesterday", nil, 400},
		{"tenant", b, "GET", "tenant", nil, 200},
		{"account", b, "GET", "account", nil, 200},
		{"account bad", b, "POST", "account/password", url.Values{"current": {"wrong wrong wrong"}, "password": {"new password 123"}}, 400},
		{"not found", b, "GET", "tokens/00000000-0000-0000-0000-000000000000", nil, 404},
		{"csrf refused", b, "POST", "tokens/" + ct.Token.ID + "/deactivate", url.Values{"csrf": {"forged"}}, 403},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if p.method == "GET" {
				rec = p.b.get(prefix + p.path)
			} else {
				rec = p.b.post(prefix+p.path, p.form)
			}
			require.Equal(t, p.status, rec.Code, rec.Body.String())
			requireSecurityHeaders(t, rec)
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
			requireCleanHTML(t, p.name, rec.Body.String())
		})
	}
	// The pages that show conditional parts did show them.
	require.Contains(t, b.get(prefix+"review").Body.String(), `id="remove-unused-`+ct.Token.ID+`"`)
	require.Contains(t, b.get(prefix+"tokens/"+off.Token.ID).Body.String(), `id="reactivate-token"`)
	require.Contains(t, b.get(prefix+"users/"+gone.ID).Body.String(), `id="reactivate-user"`)
	require.Contains(t, globex.get(prefix+"tenant").Body.String(), `id="license-problem"`)
}
