package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// requireStoredTime checks that got is in, kept with microsecond precision
// in UTC.
func requireStoredTime(t tb, in, got time.Time, what string) {
	t.Helper()
	want := in.UTC().Truncate(time.Microsecond)
	require.True(t, want.Equal(got), "%s: stored %s, read back %s, want %s", what, in, got, want)
	require.Equal(t, time.UTC, got.Location(), "%s: read back in %s, want UTC", what, got.Location())
}

func timeCases() []Case {
	return []Case{
		{"Times/MicrosecondsUTC", func(t *testing.T, b Backend) {
			s := open(t, b)
			zone := time.FixedZone("UTC-7", -7*3600)
			// Nanoseconds, another zone, and a monotonic clock reading.
			t1 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone)
			t2 := time.Now()
			c := newCustomer("c1", 1)
			c.CreatedAt, c.UpdatedAt = t1, t2
			l := newLicense("l1", 1)
			l.ExpiresAt = t1
			ev := newEvent("ev1", 1)
			ev.Time = t1
			u := newUsage("tok", 1)
			u.LastUsedAt = t2
			u.PermissionLastUsed = map[string]time.Time{"users:view": t1}
			update(t, s, func(tx store.Tx) error {
				tt := tx.Tenant(tenantA)
				require.NoError(t, tt.Customers().Create(bg, c))
				require.NoError(t, tt.Licenses().Create(bg, l))
				require.NoError(t, tt.Audit().Append(bg, ev))
				require.NoError(t, tt.Usage().Put(bg, u))
				require.NoError(t, tt.Quotas().Put(bg, "api", tenant.LimiterState{TAT: t1}))
				return nil
			})
			view(t, s, func(tx store.Tx) error {
				tt := tx.Tenant(tenantA)
				gc, err := tt.Customers().Get(bg, "c1")
				require.NoError(t, err)
				requireStoredTime(t, t1, gc.CreatedAt, "Customer.CreatedAt")
				requireStoredTime(t, t2, gc.UpdatedAt, "Customer.UpdatedAt")
				gl, err := tt.Licenses().Get(bg, "l1")
				require.NoError(t, err)
				requireStoredTime(t, t1, gl.ExpiresAt, "License.ExpiresAt")
				evs, _, err := tt.Audit().List(bg, store.AuditQuery{}, store.Page{})
				require.NoError(t, err)
				require.Len(t, evs, 1)
				requireStoredTime(t, t1, evs[0].Time, "AuditEvent.Time")
				gu, err := tt.Usage().Get(bg, "tok")
				require.NoError(t, err)
				requireStoredTime(t, t2, gu.LastUsedAt, "UsageRecord.LastUsedAt")
				requireStoredTime(t, t1, gu.PermissionLastUsed["users:view"], "UsageRecord.PermissionLastUsed")
				st, err := tt.Quotas().Get(bg, "api")
				require.NoError(t, err)
				requireStoredTime(t, t1, st.TAT, "LimiterState.TAT")
				// The audit filter works on the stored instant.
				evs, _, err = tt.Audit().List(bg, store.AuditQuery{From: t1.Truncate(time.Microsecond)}, store.Page{})
				require.NoError(t, err)
				require.Len(t, evs, 1, "From equal to the stored time is inclusive")
				return nil
			})
		}},
	}
}
