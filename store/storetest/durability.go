package storetest

import (
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

// modify changes a stored fixture in every way that moves an index, and
// returns what the tenant then holds.
func modify(t tb, s store.Store, f *fixture) dump {
	t.Helper()
	tid := f.TenantID
	require.Equal(t, []string{"u1", "u2"}, f.Members["g1"], "modify expects a fixture of an odd variant")
	want := f.expect()

	u1 := f.Users[0]
	oldEmail := u1.Email
	u1.Email = "u1-new@example.com"
	l1 := f.Licenses[0]
	oldDigest := l1.KeyDigest
	l1.KeyDigest = digest("reissued", tid)
	l1.KeyID = "key-next"
	tk := f.Tokens[0]
	tk.Status = store.TokenDeleted
	fam := f.Families[0]
	fam.Status = store.FamilyRevoked
	fam.RevokeReason = "reuse"
	fam.RevokedAt = at(5, 5)
	usage := newUsage(f.Usage[0].TokenID, 77)
	tn := newTenant(tid, 8)
	quota := tenant.LimiterState{TAT: at(9, 9)}

	update(t, s, func(tx store.Tx) error {
		tt := tx.Tenant(tid)
		require.NoError(t, tx.Tenants().Update(bg, tn))
		require.NoError(t, tt.Users().Update(bg, u1))
		require.NoError(t, tt.Customers().Delete(bg, "c2"))
		require.NoError(t, tt.Licenses().Update(bg, l1))
		require.NoError(t, tt.Licenses().Delete(bg, "l2"))
		require.NoError(t, tt.UserTokens().Update(bg, tk))
		require.NoError(t, tt.RefreshFamilies().Update(bg, fam))
		require.NoError(t, tt.Groups().RemoveMember(bg, "g1", "u2"))
		require.NoError(t, tt.Groups().Delete(bg, "g2"))
		require.NoError(t, tt.Plans().Delete(bg, "plan3"))
		require.NoError(t, tt.Products().Delete(bg, "prod2"))
		n, err := tt.Audit().Prune(bg, f.Events[2].Time, 100)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.NoError(t, tt.Usage().Put(bg, usage))
		require.NoError(t, tt.Quotas().Put(bg, "api", quota))
		return nil
	})
	// And a transaction that rolls back a lot.
	require.ErrorIs(t, s.Update(bg, func(tx store.Tx) error {
		tt := tx.Tenant(tid)
		deleteAll(t, tt)
		require.NoError(t, tt.Customers().Create(bg, newCustomer("rolled-back", 1)))
		require.NoError(t, tt.UserTokens().Create(bg, newToken(tid+"-rolled-back", 1)))
		return errSentinel
	}), errSentinel)

	want.Tenant = tn
	u1.TenantID = tid
	want.Users[0] = u1
	want.Emails[oldEmail] = store.User{}
	want.Emails[u1.Email] = u1
	want.Customers = want.Customers[:1]
	l1.TenantID = tid
	want.Licenses = []store.License{l1}
	want.ByDigest[hex.EncodeToString(oldDigest)] = store.License{}
	want.ByDigest[hex.EncodeToString(f.Licenses[1].KeyDigest)] = store.License{}
	want.ByDigest[hex.EncodeToString(l1.KeyDigest)] = l1
	tk.TenantID = tid
	want.Tokens[0] = tk
	want.TokenByID[tk.ID] = tk
	fam.TenantID = tid
	want.Families[0] = fam
	want.FamByID[fam.ID] = fam
	want.Members = map[string][]string{"g1": {"u1"}}
	want.Groups = want.Groups[:1]
	want.GroupsOf = map[string][]string{"u1": {"g1"}, "u2": nil, "u3": nil, "ghost": nil}
	want.Plans = want.Plans[:2]
	want.Products = want.Products[:1]
	want.ByProduct = map[string][]store.Plan{"prod1": want.Plans, "prod2": nil}
	want.Events = want.Events[2:]
	usage.TenantID = tid
	for i := range want.Usage {
		if want.Usage[i].TokenID == usage.TokenID {
			want.Usage[i] = usage
		}
	}
	want.UsageByID[usage.TokenID] = usage
	want.Quotas["api"] = quota
	got := dumpTenant(t, s, f)
	requireSame(t, want, got, "after modify")
	return want
}

// reopen closes s and opens its directory again.
func reopen(t *testing.T, b Backend, s store.Store, dir string) store.Store {
	t.Helper()
	require.NoError(t, s.Close())
	return openDir(t, b, dir)
}

func durabilityCases() []Case {
	return []Case{
		{"Durability/Everything", func(t *testing.T, b Backend) {
			dir := t.TempDir()
			s := openDir(t, b, dir)
			fa, fb := newFixture(tenantA, 1), newFixture(tenantB, 2)
			fa.write(t, s)
			fb.write(t, s)
			s = reopen(t, b, s, dir)
			requireSame(t, fa.expect(), dumpTenant(t, s, fa), "tenant A after reopening")
			requireSame(t, fb.expect(), dumpTenant(t, s, fb), "tenant B after reopening")
			require.Equal(t, []string{tenantA, tenantB}, tenantIDs(t, s))
		}},
		{"Durability/ChangesAndIndexes", func(t *testing.T, b Backend) {
			dir := t.TempDir()
			s := openDir(t, b, dir)
			fa, fb := newFixture(tenantA, 1), newFixture(tenantB, 2)
			fa.write(t, s)
			fb.write(t, s)
			wantA := modify(t, s, fa)
			s = reopen(t, b, s, dir)
			requireSame(t, wantA, dumpTenant(t, s, fa), "changed tenant A after reopening")
			requireSame(t, fb.expect(), dumpTenant(t, s, fb), "tenant B after reopening")
			// The old email and digest are free again, and stay so.
			update(t, s, userKind.create(tenantA, userWithEmail("u7", fa.Users[0].Email, 1)))
			update(t, s, licenseKind.create(tenantB, licenseWithDigest("l7", fa.Licenses[0].KeyDigest, 1)))
			s = reopen(t, b, s, dir)
			requireEmail(t, s, tenantA, fa.Users[0].Email, "u7")
			requireDigest(t, s, fa.Licenses[0].KeyDigest, tenantB, "l7")
			requireDigest(t, s, digest("reissued", tenantA), tenantA, "l1")
		}},
		{"Durability/DeletesStayDeleted", func(t *testing.T, b Backend) {
			dir := t.TempDir()
			s := openDir(t, b, dir)
			const n = 300
			update(t, s, func(tx store.Tx) error {
				for i := range n {
					id := fmt.Sprintf("c%04d", i)
					if err := tx.Tenant(tenantA).Customers().Create(bg, newCustomer(id, 1)); err != nil {
						return err
					}
					l := licenseWithDigest(id, digest("del", i), 1)
					if err := tx.Tenant(tenantA).Licenses().Create(bg, l); err != nil {
						return err
					}
				}
				return nil
			})
			s = reopen(t, b, s, dir)
			update(t, s, func(tx store.Tx) error {
				for i := range n {
					id := fmt.Sprintf("c%04d", i)
					if err := tx.Tenant(tenantA).Customers().Delete(bg, id); err != nil {
						return err
					}
					if i%2 == 0 {
						if err := tx.Tenant(tenantA).Licenses().Delete(bg, id); err != nil {
							return err
						}
					}
				}
				return nil
			})
			for range 2 {
				s = reopen(t, b, s, dir)
				require.Empty(t, customerKind.all(t, s, tenantA), "deleted customers came back")
				ls := licenseKind.ids(t, s, tenantA)
				require.Len(t, ls, n/2)
				for i := range n {
					id := fmt.Sprintf("c%04d", i)
					if i%2 == 0 {
						requireDigest(t, s, digest("del", i), "", "")
						require.NotContains(t, ls, id)
					} else {
						requireDigest(t, s, digest("del", i), tenantA, id)
					}
				}
			}
		}},
		{"Durability/ManyReopens", func(t *testing.T, b Backend) {
			dir := t.TempDir()
			s := openDir(t, b, dir)
			var fs []*fixture
			for i, tid := range []string{tenantA, tenantB, tenantC} {
				f := newFixture(tid, i+1)
				f.write(t, s)
				fs = append(fs, f)
				s = reopen(t, b, s, dir)
				for _, f := range fs {
					requireSame(t, f.expect(), dumpTenant(t, s, f), "tenant %q after reopen %d", f.TenantID, i+1)
				}
			}
			// Counters written one Update at a time survive as well.
			c := newCustomer("ctr", 1)
			c.Name = "0"
			update(t, s, customerKind.create(tenantA, c))
			for i := 1; i <= 50; i++ {
				c.Name = fmt.Sprint(i)
				update(t, s, customerKind.update(tenantA, c))
			}
			s = reopen(t, b, s, dir)
			require.Equal(t, "50", mustRead(t, s, customerKind.get(tenantA, "ctr")).Name)
			require.Equal(t, slices.Sorted(slices.Values([]string{tenantA, tenantB, tenantC})), tenantIDs(t, s))
		}},
		{"Durability/ClosedAfterReopenCycle", func(t *testing.T, b Backend) {
			dir := t.TempDir()
			s := openDir(t, b, dir)
			update(t, s, customerKind.create(tenantA, newCustomer("c1", 1)))
			require.NoError(t, s.Close())
			require.ErrorIs(t, s.Update(bg, customerKind.create(tenantA, newCustomer("c2", 1))), store.ErrClosed)
			s = openDir(t, b, dir)
			requireSame(t, []store.Customer{customerKind.want(tenantA, "c1", 1)}, customerKind.all(t, s, tenantA))
		}},
	}
}
