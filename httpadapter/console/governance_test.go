package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// The review lists a token that used less than it holds, and its
// one-click form narrows it to what it used; the engine audits the
// change.
func TestReviewRemoveUnused(t *testing.T) {
	f := newFixture(t)
	b := f.admin()
	wide := f.token(f.acme, "too wide", permission.NewSet(permission.ViewUsers, permission.ViewLicenses, permission.EditLicenses))
	resp, err := f.eng.Exchange(f.ctx, wide.Token.ID, wide.Credential.Reveal(), apiAddr)
	require.NoError(t, err)
	p, err := f.eng.Authenticate(f.ctx, resp.AccessToken.Reveal(), apiAddr)
	require.NoError(t, err)
	_, _, err = f.eng.ListUsers(f.ctx, p, "acme", store.Page{})
	require.NoError(t, err)
	f.token(f.acme, "never used", permission.NewSet(permission.ViewUsers))
	f.clock.Advance(40 * 24 * time.Hour)
	// The sign-in above has gone idle long ago.
	b = f.admin()

	body := b.get(prefix + "review").Body.String()
	unused := section(t, body, "unused-permissions")
	require.Contains(t, unused, "too wide")
	require.NotContains(t, unused, "never used")
	require.Contains(t, unused, `<form method="post" action="/console/review/`+wide.Token.ID+`/remove-unused"`)
	require.Contains(t, unused, `id="remove-unused-`+wide.Token.ID+`"`)
	require.Contains(t, section(t, body, "never-used"), "never used")
	require.Contains(t, section(t, body, "stale"), "never used")
	require.Contains(t, section(t, body, "stale"), "too wide")
	require.Contains(t, section(t, body, "no-expiry"), "too wide")

	loc := requireRedirect(t, b.post(prefix+"review/"+wide.Token.ID+"/remove-unused", nil), "review")
	require.Equal(t, "narrowed", loc.Query().Get("done"))
	tok, err := f.eng.GetUserToken(f.ctx, f.acme, "acme", wide.Token.ID)
	require.NoError(t, err)
	require.True(t, tok.Permissions.Equal(permission.NewSet(permission.ViewUsers)), tok.Permissions.String())

	events, _, err := f.eng.ListAudit(f.ctx, f.acme, "acme", store.AuditQuery{Type: engine.EventTokenPermissions, TokenID: wide.Token.ID}, store.Page{})
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "unused_permissions", events[0].Reason)
	require.Equal(t, "admin:"+f.acme.UserID, events[0].Actor)

	body = b.get(loc.String()).Body.String()
	require.Contains(t, body, "only the permissions it used")
	require.NotContains(t, section(t, body, "unused-permissions"), "too wide")
}

// section returns the <section id=…> of a page.
func section(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `id="`+id+`">`)
	require.GreaterOrEqual(t, start, 0, "no section %s", id)
	end := strings.Index(body[start:], "</section>")
	require.Positive(t, end)
	return body[start : start+end]
}

// The audit log filters by type, token and time, and pages with a
// cursor that keeps the filter.
func TestAuditFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	start := f.clock.Now()
	a := f.token(f.acme, "a", permission.NewSet(permission.ViewUsers))
	f.clock.Advance(2 * time.Hour)
	mid := f.clock.Now()
	bt := f.token(f.acme, "b", permission.NewSet(permission.ViewUsers))
	for i := range 55 {
		f.user(f.acme, "user"+string(rune('a'+i/26))+string(rune('a'+i%26))+"@acme.test", store.RoleMember, "")
	}
	f.token(f.other, "globex", permission.Set{})
	require.NoError(t, f.eng.Flush(f.ctx))
	// Signed in last, so that the session has not gone idle and its
	// sign-in is not among the events counted.
	b := f.admin()

	rows := func(body string) int { return strings.Count(body, `<tr class="sev-`) }

	// By type, paged.
	body := b.get(prefix + "audit?type=" + engine.EventUserCreated).Body.String()
	require.Equal(t, 50, rows(body))
	require.NotContains(t, body, engine.EventTokenCreated+"</code>")
	next := linkOf(t, body, "next-page")
	nu, err := url.Parse(next)
	require.NoError(t, err)
	require.Equal(t, engine.EventUserCreated, nu.Query().Get("type"))
	require.NotEmpty(t, nu.Query().Get("after"))
	body = b.get(next).Body.String()
	require.Equal(t, 6, rows(body), "55 users and the admin")
	require.NotContains(t, body, `id="next-page"`)
	require.Contains(t, body, `<option value="user.created" selected>`)

	// By token.
	body = b.get(prefix + "audit?token=" + a.Token.ID).Body.String()
	require.Equal(t, 1, rows(body))
	require.Contains(t, body, a.Token.ID)
	require.NotContains(t, body, bt.Token.ID)

	// By time: datetime-local and date forms, "to" exclusive.
	q := url.Values{"type": {engine.EventTokenCreated}, "from": {mid.Format("2006-01-02T15:04")}}
	body = b.get(prefix + "audit?" + q.Encode()).Body.String()
	require.Equal(t, 1, rows(body))
	require.Contains(t, body, bt.Token.ID)
	q = url.Values{"type": {engine.EventTokenCreated}, "to": {mid.Format("2006-01-02T15:04")}}
	body = b.get(prefix + "audit?" + q.Encode()).Body.String()
	require.Equal(t, 1, rows(body))
	require.Contains(t, body, a.Token.ID)
	q = url.Values{"type": {engine.EventTokenCreated}, "from": {start.Format(time.DateOnly)}, "to": {start.Format(time.DateOnly)}}
	body = b.get(prefix + "audit?" + q.Encode()).Body.String()
	require.Equal(t, 2, rows(body), "a date as the upper bound includes that day")
	q = url.Values{"from": {start.Add(24 * time.Hour).Format(time.DateOnly)}}
	body = b.get(prefix + "audit?" + q.Encode()).Body.String()
	require.Zero(t, rows(body))
	require.Contains(t, body, "No events match the filter.")

	// Bad times are a 400 with the filter kept.
	rec := b.get(prefix + "audit?from=soon&type=token.created")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, textOf(t, rec.Body.String(), "error"), "from")
	require.Contains(t, rec.Body.String(), `value="soon"`)

	// Never another tenant's events.
	body = b.get(prefix + "audit?type=" + engine.EventTokenCreated).Body.String()
	require.Equal(t, 2, rows(body))
}

// The tenant page shows the platform license, its quotas and usage
// against its limits, and says when the license refuses requests.
func TestTenantPage(t *testing.T) {
	f := newFixture(t)
	expires := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
	lic := tenant.License{Plan: "enterprise", Status: tenant.StatusActive, ExpiresAt: expires, Limits: tenant.Limits{
		APIRequests: 600, APIWindow: time.Minute, APIBurst: 100,
		Validations: 10000, ValidationWindow: time.Hour,
		MaxUsers: 25, MaxLicenses: 500,
	}}
	_, err := f.eng.SetTenantLicense(f.ctx, engine.System(), "acme", lic)
	require.NoError(t, err)
	cu, err := f.eng.CreateCustomer(f.ctx, f.acme, "acme", engine.NewCustomer{Name: "Initech"})
	require.NoError(t, err)
	pr, err := f.eng.CreateProduct(f.ctx, f.acme, "acme", engine.NewProduct{Name: "Widget"})
	require.NoError(t, err)
	for range 3 {
		_, err := f.eng.CreateLicense(f.ctx, f.acme, "acme", engine.NewLicense{CustomerID: cu.ID, ProductID: pr.ID})
		require.NoError(t, err)
	}
	f.user(f.acme, "m@acme.test", store.RoleMember, "")
	b := f.admin()

	body := b.get(prefix + "tenant").Body.String()
	require.Equal(t, "enterprise", textOf(t, body, "tenant-plan"))
	require.Contains(t, body, "2026-09-30 00:00 UTC")
	require.Contains(t, body, "600 per minute")
	require.Contains(t, body, "<td>100</td>")
	require.Contains(t, body, "10000 per hour")
	require.Equal(t, "2", textOf(t, body, "tenant-users"))
	require.Equal(t, "3", textOf(t, body, "tenant-licenses"))
	require.Contains(t, body, "<td>25</td>")
	require.Contains(t, body, "<td>500</td>")
	require.NotContains(t, body, `id="license-problem"`)

	for _, tc := range []struct {
		name string
		lic  tenant.License
		want string
	}{
		{"suspended", tenant.License{Plan: "pro", Status: tenant.StatusSuspended}, "suspended"},
		{"expired", tenant.License{Plan: "pro", Status: tenant.StatusActive, ExpiresAt: fixtureStart.Add(-time.Hour)}, "expired on 2026-03-01 11:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.eng.SetTenantLicense(f.ctx, engine.System(), "acme", tc.lic)
			require.NoError(t, err)
			body := b.get(prefix + "tenant").Body.String()
			problem := textOf(t, body, "license-problem")
			require.Contains(t, problem, tc.want)
			require.Contains(t, problem, "Invalid license")
			// The console still works for the admin: they need it most now.
			require.Equal(t, http.StatusOK, b.get(prefix+"tokens").Code)
		})
	}
}
