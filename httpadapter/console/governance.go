package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/licensekit/licensekit/engine"
	"github.com/licensekit/licensekit/store"
)

// sortedUsers orders users for display: by name, then email.
func sortedUsers(m map[string]*store.User) []*store.User {
	out := make([]*store.User, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *store.User) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Email, b.Email), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// reviewSection is one finding of the review and the tokens it holds.
type reviewSection struct {
	ID, Heading, Help string
	Tokens            []reviewRow
}

type reviewRow struct {
	engine.TokenReview
	Owner *store.User
}

type reviewData struct {
	Review   engine.Review
	Sections []reviewSection
	// Unused is the unused-permissions section, shown with its forms.
	Unused reviewSection
}

func (c *Console) reviewPage(w http.ResponseWriter, r *http.Request, q *request) {
	rev, err := c.eng.Review(r.Context(), q.admin(), q.tenant(), engine.ReviewOptions{})
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	users, err := c.allUsers(r, q)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	rows := func(f engine.Finding) []reviewRow {
		var out []reviewRow
		for _, t := range rev.With(f) {
			out = append(out, reviewRow{TokenReview: t, Owner: users[t.Token.UserID]})
		}
		return out
	}
	data := reviewData{
		Review: rev,
		Unused: reviewSection{
			ID: "unused-permissions", Heading: "Unused permissions",
			Help:   "Tokens that were used within the review window without exercising some of their permissions. Removing them keeps exactly what the token used.",
			Tokens: rows(engine.FindingUnusedPermissions),
		},
		Sections: []reviewSection{
			{ID: "stale", Heading: "Stale tokens", Help: "Not used for longer than " + formatDuration(engine.DefaultReviewStaleAfter) + " (counted from creation if never used). Deactivate or delete what nothing needs.", Tokens: rows(engine.FindingStale)},
			{ID: "never-used", Heading: "Never used", Help: "Tokens that have never been exchanged or used.", Tokens: rows(engine.FindingNeverUsed)},
			{ID: "no-expiry", Heading: "Without expiry", Help: "Tokens that never expire. Prefer an expiry, and rotate long-lived tokens regularly.", Tokens: rows(engine.FindingNoExpiry)},
			{ID: "expiring", Heading: "Expiring soon", Help: "Tokens expiring within " + formatDuration(engine.DefaultReviewExpiringWithin) + ".", Tokens: rows(engine.FindingExpiringSoon)},
			{ID: "expired", Heading: "Expired", Help: "Tokens past their expiry: they no longer work.", Tokens: rows(engine.FindingExpired)},
			{ID: "rotation-due", Heading: "Rotation due", Help: "Tokens whose secret is older than the tenant's rotation policy allows.", Tokens: rows(engine.FindingRotationDue)},
		},
	}
	c.render(w, r, q, http.StatusOK, "review", &page{Title: "Token review", Nav: "review", Data: data})
}

func (c *Console) removeUnused(w http.ResponseWriter, r *http.Request, q *request) {
	// The engine audits the change (a permission change, reason
	// unused_permissions) and applies the review's own window.
	if _, err := c.eng.RemoveUnusedPermissions(r.Context(), q.admin(), q.tenant(), r.PathValue("id"), 0); err != nil {
		c.fail(w, r, q, err)
		return
	}
	c.redirect(w, r, "review?done=narrowed")
}

// auditTypes are the event types the audit filter offers.
func auditTypes() []string {
	return []string{
		engine.EventTokenCreated, engine.EventTokenExchanged, engine.EventTokenRefreshed, engine.EventTokenRotated,
		engine.EventTokenDeactivated, engine.EventTokenReactivated, engine.EventTokenDeleted, engine.EventTokenRevoked,
		engine.EventTokenPermissions, engine.EventRefreshReuse, engine.EventAuthFailed, engine.EventAccessDenied,
		engine.EventLimitReached, engine.EventAlertFired,
		engine.EventSignedIn, engine.EventSignInFailed, engine.EventSignedOut, engine.EventPasswordChanged,
		engine.EventUserCreated, engine.EventUserUpdated, engine.EventUserDeleted,
		engine.EventGroupCreated, engine.EventGroupUpdated, engine.EventGroupDeleted,
		engine.EventGroupMemberAdded, engine.EventGroupMemberRemoved,
		engine.EventProductCreated, engine.EventProductUpdated, engine.EventProductDeleted,
		engine.EventPlanCreated, engine.EventPlanUpdated, engine.EventPlanDeleted,
		engine.EventCustomerCreated, engine.EventCustomerUpdated, engine.EventCustomerDeleted,
		engine.EventLicenseCreated, engine.EventLicenseUpdated, engine.EventLicenseReissued,
		engine.EventLicenseStatus, engine.EventLicenseDeleted, engine.EventValidationFailedPublic,
		engine.EventTenantCreated, engine.EventTenantUpdated,
	}
}

type auditFilter struct {
	Type, Token, From, To string
}

type auditData struct {
	Filter auditFilter
	Types  []string
	Events []engine.Event
	// NextURL is the next page's link (the filter and the cursor), or "".
	NextURL string
	// Filtered says whether any filter is set.
	Filtered bool
}

// auditPageSize is how many events a page of the audit log shows.
const auditPageSize = 50

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, q *request) {
	v := r.URL.Query()
	f := auditFilter{
		Type: strings.TrimSpace(v.Get("type")), Token: strings.TrimSpace(v.Get("token")),
		From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
	}
	data := auditData{Filter: f, Types: auditTypes(), Filtered: f != auditFilter{}}
	if f.Type != "" && !slices.Contains(data.Types, f.Type) {
		data.Types = append(data.Types, f.Type)
	}
	query := store.AuditQuery{Type: f.Type, TokenID: f.Token}
	var ok bool
	if query.From, ok = parseFilterTime(f.From, false); !ok {
		c.render(w, r, q, http.StatusBadRequest, "audit", &page{Title: "Audit log", Nav: "audit", Error: "The “from” time must be a date or a date and time.", Data: data})
		return
	}
	if query.To, ok = parseFilterTime(f.To, true); !ok {
		c.render(w, r, q, http.StatusBadRequest, "audit", &page{Title: "Audit log", Nav: "audit", Error: "The “to” time must be a date or a date and time.", Data: data})
		return
	}
	events, next, err := c.eng.ListAudit(r.Context(), q.admin(), q.tenant(), query,
		store.Page{After: v.Get("after"), Limit: auditPageSize})
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	data.Events = events
	if next != "" {
		nv := url.Values{}
		for k, s := range map[string]string{"type": f.Type, "token": f.Token, "from": f.From, "to": f.To} {
			if s != "" {
				nv.Set(k, s)
			}
		}
		nv.Set("after", next)
		data.NextURL = c.abs("audit?" + nv.Encode())
	}
	c.render(w, r, q, http.StatusOK, "audit", &page{Title: "Audit log", Nav: "audit", Data: data})
}

// parseFilterTime reads a time filter, UTC: a datetime-local value
// ("2006-01-02T15:04", seconds optional) or a date. A date as the upper
// bound means the end of that day, so "to 2026-03-01" includes the 1st.
func parseFilterTime(s string, upper bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if upper {
			t = t.Add(24 * time.Hour)
		}
		return t, true
	}
	return time.Time{}, false
}

type tenantData struct {
	Status engine.TenantStatus
	// LicenseProblem is why the platform license refuses requests, or "".
	LicenseProblem string
}

func (c *Console) tenantPage(w http.ResponseWriter, r *http.Request, q *request) {
	st, err := c.eng.TenantStatus(r.Context(), q.admin(), q.tenant())
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	data := tenantData{Status: st}
	if st.LicenseError != nil {
		data.LicenseProblem = licenseProblem(st)
	}
	c.render(w, r, q, http.StatusOK, "tenant", &page{Title: "Tenant", Nav: "tenant", Data: data})
}

// licenseProblem says in words why the platform license refuses
// requests (the engine's error is a sentinel, not a sentence).
func licenseProblem(st engine.TenantStatus) string {
	l := st.Tenant.License
	switch {
	case l.Status != "" && l.Status != "active":
		return "The platform license is " + string(l.Status) + ": every API request and license validation of the tenant is refused with “Invalid license”. Contact the platform's operator."
	case !l.ExpiresAt.IsZero():
		return "The platform license expired on " + formatTime(l.ExpiresAt) + ": every API request and license validation of the tenant is refused with “Invalid license”. Contact the platform's operator."
	}
	return "The platform license refuses requests: every API request and license validation of the tenant is refused with “Invalid license”."
}
