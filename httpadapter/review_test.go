package httpadapter_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/licensekit/licensekit/permission"
	"github.com/stretchr/testify/require"
)

// GET /v1/review answers the engine's review (audit:view), with the day
// parameters checked.
func TestReviewOverHTTP(t *testing.T) {
	f := newFixture(t)
	user := f.userToken(f.admin, permission.NewSet(permission.ViewUsers, permission.ViewProducts))
	rec := f.do(req{method: "GET", path: "/v1/users", token: f.access(user).AccessToken.Reveal()})
	require.Equal(t, 200, rec.Code)
	f.clock.Advance(3 * 24 * time.Hour)
	auditor := f.bearer(permission.ViewAudit)

	rec = f.do(req{method: "GET", path: "/v1/review?stale_days=2&window_days=30&expiring_days=7", token: auditor})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var r struct {
		TenantID    string    `json:"tenant_id"`
		WindowStart time.Time `json:"window_start"`
		Tokens      []struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
			LastUsedAt           time.Time `json:"last_used_at"`
			LastUsedAddr         string    `json:"last_used_addr"`
			Requests             int64     `json:"requests"`
			SuggestedPermissions []string  `json:"suggested_permissions"`
			UnusedPermissions    []string  `json:"unused_permissions"`
			Findings             []string  `json:"findings"`
		} `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
	require.Equal(t, "acme", r.TenantID)
	require.Equal(t, fixtureStart.Add(3*24*time.Hour-30*24*time.Hour), r.WindowStart)
	require.Len(t, r.Tokens, 2)
	found := false
	for _, tr := range r.Tokens {
		if tr.Token.ID != user.Token.ID {
			continue
		}
		found = true
		require.Equal(t, fixtureStart, tr.LastUsedAt)
		require.Equal(t, fixtureAddr.String(), tr.LastUsedAddr)
		require.EqualValues(t, 2, tr.Requests, "the exchange and the request")
		require.Equal(t, []string{"users:view"}, tr.SuggestedPermissions)
		require.Equal(t, []string{"products:view"}, tr.UnusedPermissions)
		require.Equal(t, []string{"stale", "unused_permissions", "no_expiry"}, tr.Findings)
	}
	require.True(t, found)

	rec = f.do(req{method: "GET", path: "/v1/review", token: auditor})
	require.Equal(t, 200, rec.Code)
	for _, q := range []string{"stale_days=0", "window_days=-1", "expiring_days=x", "stale_days=3651"} {
		rec = f.do(req{method: "GET", path: "/v1/review?" + q, token: auditor})
		require.Equal(t, 400, rec.Code, q)
		require.Contains(t, rec.Body.String(), "must be an integer from 1 to 3650", q)
	}
	rec = f.do(req{method: "GET", path: "/v1/review", token: f.bearer(permission.ViewUsers)})
	require.Equal(t, 403, rec.Code)
}
