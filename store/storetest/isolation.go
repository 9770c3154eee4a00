package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

func isolationCases() []Case {
	return []Case{
		{"Isolation/SameIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			// The same IDs of users, groups, products, plans, customers,
			// licenses, audit events, usage and quotas, and the same
			// emails, in two tenants with different contents.
			fa, fb := newFixture(tenantA, 1), newFixture(tenantB, 2)
			fa.write(t, s)
			fb.write(t, s)
			requireSame(t, fa.expect(), dumpTenant(t, s, fa))
			requireSame(t, fb.expect(), dumpTenant(t, s, fb))
			// Everything of A changes or goes; B stays as it was.
			update(t, s, func(tx store.Tx) error {
				for _, o := range writeOps(fa) {
					require.NoError(t, o.fn(bg, tx), o.name)
				}
				tt := tx.Tenant(tenantA)
				deleteAll(t, tt)
				for _, u := range fa.Usage {
					require.NoError(t, tt.Usage().Put(bg, store.UsageRecord{TokenID: u.TokenID}))
				}
				for name := range fa.Quotas {
					require.NoError(t, tt.Quotas().Put(bg, name, tenant.LimiterState{TAT: at(50, 0)}))
				}
				n, err := tt.Audit().Prune(bg, at(1000, 0), 1000)
				require.NoError(t, err)
				require.Zero(t, n, "writeOps pruned A's events already")
				return nil
			})
			requireSame(t, fb.expect(), dumpTenant(t, s, fb), "changes in tenant A reached tenant B")
			da := dumpTenant(t, s, fa)
			require.Empty(t, da.Users)
			require.Empty(t, da.Customers)
			require.Empty(t, da.Licenses)
			require.Empty(t, da.Events)
			for email, id := range da.Emails {
				require.Empty(t, id, "email %q still resolves in A", email)
			}
		}},
		{"Isolation/OtherTenantIsNotFound", func(t *testing.T, b Backend) {
			s := open(t, b)
			fb := newFixture(tenantB, 2)
			fb.write(t, s)
			// Through tenant C, which holds nothing, B's IDs do not exist.
			tc := func(tx store.Tx) store.TenantTx { return tx.Tenant(tenantC) }
			notFound := []op{
				{"Users.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Users().Get(bg, "u1"); return err }},
				{"Users.GetByEmail", func(_ context.Context, tx store.Tx) error {
					_, err := tc(tx).Users().GetByEmail(bg, fb.Users[0].Email)
					return err
				}},
				{"Users.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).Users().Update(bg, fb.Users[0]) }},
				{"Users.Delete", func(_ context.Context, tx store.Tx) error { return tc(tx).Users().Delete(bg, "u1") }},
				{"Groups.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Groups().Get(bg, "g1"); return err }},
				{"Groups.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).Groups().Update(bg, fb.Groups[0]) }},
				{"Groups.Delete", func(_ context.Context, tx store.Tx) error { return tc(tx).Groups().Delete(bg, "g1") }},
				{"Groups.AddMember", func(_ context.Context, tx store.Tx) error { return tc(tx).Groups().AddMember(bg, "g1", "u3") }},
				{"Groups.RemoveMember", func(_ context.Context, tx store.Tx) error { return tc(tx).Groups().RemoveMember(bg, "g1", "u1") }},
				{"Products.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Products().Get(bg, "prod1"); return err }},
				{"Products.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).Products().Update(bg, fb.Products[0]) }},
				{"Products.Delete", func(_ context.Context, tx store.Tx) error { return tc(tx).Products().Delete(bg, "prod1") }},
				{"Plans.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Plans().Get(bg, "plan1"); return err }},
				{"Plans.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).Plans().Update(bg, fb.Plans[0]) }},
				{"Plans.Delete", func(_ context.Context, tx store.Tx) error { return tc(tx).Plans().Delete(bg, "plan1") }},
				{"Customers.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Customers().Get(bg, "c1"); return err }},
				{"Customers.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).Customers().Update(bg, fb.Customers[0]) }},
				{"Customers.Delete", func(_ context.Context, tx store.Tx) error { return tc(tx).Customers().Delete(bg, "c1") }},
				{"Licenses.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Licenses().Get(bg, "l1"); return err }},
				{"Licenses.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).Licenses().Update(bg, fb.Licenses[0]) }},
				{"Licenses.Delete", func(_ context.Context, tx store.Tx) error { return tc(tx).Licenses().Delete(bg, "l1") }},
				{"UserTokens.Get", func(_ context.Context, tx store.Tx) error {
					_, err := tc(tx).UserTokens().Get(bg, fb.Tokens[0].ID)
					return err
				}},
				{"UserTokens.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).UserTokens().Update(bg, fb.Tokens[0]) }},
				{"RefreshFamilies.Get", func(_ context.Context, tx store.Tx) error {
					_, err := tc(tx).RefreshFamilies().Get(bg, fb.Families[0].ID)
					return err
				}},
				{"RefreshFamilies.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).RefreshFamilies().Update(bg, fb.Families[0]) }},
				{"ConsoleSessions.Get", func(_ context.Context, tx store.Tx) error {
					_, err := tc(tx).ConsoleSessions().Get(bg, fb.Sessions[0].ID)
					return err
				}},
				{"ConsoleSessions.Update", func(_ context.Context, tx store.Tx) error { return tc(tx).ConsoleSessions().Update(bg, fb.Sessions[0]) }},
				{"Usage.Get", func(_ context.Context, tx store.Tx) error {
					_, err := tc(tx).Usage().Get(bg, fb.Usage[0].TokenID)
					return err
				}},
				{"Quotas.Get", func(_ context.Context, tx store.Tx) error { _, err := tc(tx).Quotas().Get(bg, "api"); return err }},
			}
			for _, o := range notFound {
				// The fixture's records carry no TenantID, so C's is
				// filled in and the update looks for C's record.
				t.Run(o.name, func(t *testing.T) {
					require.ErrorIs(t, attempt(t, s, func(tx store.Tx) error { return o.fn(bg, tx) }), store.ErrNotFound)
				})
			}
			view(t, s, func(tx store.Tx) error {
				tt := tc(tx)
				gs, err := tt.Groups().GroupsOf(bg, "u1")
				require.NoError(t, err)
				require.Empty(t, gs)
				evs, _, err := tt.Audit().List(bg, store.AuditQuery{}, store.Page{})
				require.NoError(t, err)
				require.Empty(t, evs)
				us, _, err := tt.Users().List(bg, store.Page{})
				require.NoError(t, err)
				require.Empty(t, us)
				ps, _, err := tt.Plans().ListByProduct(bg, "prod1", store.Page{})
				require.NoError(t, err)
				require.Empty(t, ps)
				return nil
			})
			update(t, s, func(tx store.Tx) error {
				n, err := tc(tx).Audit().Prune(bg, at(1000, 0), 1000)
				require.NoError(t, err)
				require.Zero(t, n, "Prune in C deleted events")
				return nil
			})
			requireSame(t, fb.expect(), dumpTenant(t, s, fb))
			require.Empty(t, dumpTenant(t, s, newFixture(tenantC, 3)).Users)
		}},
		{"Isolation/PrefixTenantIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			// Tenant IDs that are prefixes of each other, or differ only
			// in a character a key layout may use as a separator.
			ids := []string{"t", "t/", "t/u", "t:u", "t|u", "tt", "t u", "t\u00a0", "t/u/v"}
			var fs []*fixture
			for i, id := range ids {
				f := newFixture(id, 2*i+1)
				f.write(t, s)
				fs = append(fs, f)
			}
			for _, f := range fs {
				requireSame(t, f.expect(), dumpTenant(t, s, f), "tenant %q", f.TenantID)
			}
			require.Equal(t, sortedCopy(ids), tenantIDs(t, s))
		}},
		{"Isolation/Property", runProperty},
	}
}

// deleteAll deletes every record of the deletable kinds of a tenant.
func deleteAll(t tb, tt store.TenantTx) {
	t.Helper()
	users, _, err := tt.Users().List(bg, store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	for _, r := range users {
		require.NoError(t, tt.Users().Delete(bg, r.ID))
	}
	groups, _, err := tt.Groups().List(bg, store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	for _, r := range groups {
		require.NoError(t, tt.Groups().Delete(bg, r.ID))
	}
	products, _, err := tt.Products().List(bg, store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	for _, r := range products {
		require.NoError(t, tt.Products().Delete(bg, r.ID))
	}
	plans, _, err := tt.Plans().List(bg, store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	for _, r := range plans {
		require.NoError(t, tt.Plans().Delete(bg, r.ID))
	}
	customers, _, err := tt.Customers().List(bg, store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	for _, r := range customers {
		require.NoError(t, tt.Customers().Delete(bg, r.ID))
	}
	licenses, _, err := tt.Licenses().List(bg, store.Page{Limit: store.MaxPageLimit})
	require.NoError(t, err)
	for _, r := range licenses {
		require.NoError(t, tt.Licenses().Delete(bg, r.ID))
	}
}
