package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/licensekit/licensekit/client"
	"github.com/licensekit/licensekit/permission"
	"github.com/licensekit/licensekit/tenant"
	"github.com/stretchr/testify/require"
)

// Review reads GET /v1/review: every token with its usage and findings.
func TestIntegrationReview(t *testing.T) {
	r := newRealAPI(t, tenant.Limits{})
	ctx := context.Background()
	used := r.token(permission.NewSet(permission.ViewUsers, permission.ViewLicenses))
	uc := r.client(used)
	_, _, err := uc.ListUsers(ctx, client.ListOptions{})
	require.NoError(t, err)
	idle := r.token(permission.NewSet(permission.ViewUsers))
	r.clock.Advance(40 * 24 * time.Hour)

	auditor := r.client(r.token(permission.NewSet(permission.ViewAudit)))
	rev, err := auditor.Review(ctx, client.ReviewOptions{StaleDays: 30, WindowDays: 60, ExpiringDays: 10})
	require.NoError(t, err)
	require.Equal(t, "acme", rev.TenantID)
	require.Equal(t, r.clock.Now().Add(-60*24*time.Hour), rev.WindowStart)
	require.Len(t, rev.Tokens, 3)
	byID := map[string]client.TokenReview{}
	for _, tr := range rev.Tokens {
		byID[tr.Token.ID] = tr
	}
	u := byID[used.Token.ID]
	require.Equal(t, []client.Finding{client.FindingStale, client.FindingUnusedPermissions, client.FindingNoExpiry}, u.Findings)
	require.Equal(t, permission.NewSet(permission.ViewUsers), u.SuggestedPermissions)
	require.Equal(t, permission.NewSet(permission.ViewLicenses), u.UnusedPermissions)
	require.Equal(t, "127.0.0.1", u.LastUsedAddr)
	require.EqualValues(t, 2, u.Requests)
	require.True(t, byID[idle.Token.ID].Has(client.FindingNeverUsed))
	require.Len(t, rev.With(client.FindingStale), 2)

	_, err = auditor.Review(ctx, client.ReviewOptions{StaleDays: -1})
	require.Error(t, err)
	_, err = uc.Review(ctx, client.ReviewOptions{})
	require.ErrorIs(t, err, client.ErrAccessDenied)
}
