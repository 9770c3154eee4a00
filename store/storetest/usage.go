package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

func putUsage(tid string, rec store.UsageRecord) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenant(tid).Usage().Put(bg, rec) }
}

func getUsage(tid, tokenID string) func(tx store.Tx) (store.UsageRecord, error) {
	return func(tx store.Tx) (store.UsageRecord, error) { return tx.Tenant(tid).Usage().Get(bg, tokenID) }
}

func usageLister(tid string) lister[store.UsageRecord] {
	return func(tx store.Tx, p store.Page) ([]store.UsageRecord, string, error) {
		return tx.Tenant(tid).Usage().List(bg, p)
	}
}

func wantUsage(tid, tokenID string, v int) store.UsageRecord {
	u := newUsage(tokenID, v)
	u.TenantID = tid
	return u
}

func usageCases() []Case {
	return []Case{
		{"Usage/GetMissing", func(t *testing.T, b Backend) {
			s := open(t, b)
			_, err := read(t, s, getUsage(tenantA, tokenID1))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, putUsage(tenantA, newUsage(tokenID1, 1)))
			_, err = read(t, s, getUsage(tenantA, tokenID2))
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Usage/PutGet", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, putUsage(tenantA, newUsage(tokenID1, 1)))
			requireSame(t, wantUsage(tenantA, tokenID1, 1), mustRead(t, s, getUsage(tenantA, tokenID1)), "TenantID filled in, every field kept")
			update(t, s, putUsage(tenantA, wantUsage(tenantA, tokenID2, 2)))
			requireSame(t, wantUsage(tenantA, tokenID2, 2), mustRead(t, s, getUsage(tenantA, tokenID2)))
		}},
		{"Usage/PutOverwrites", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, putUsage(tenantA, newUsage(tokenID1, 1)))
			update(t, s, putUsage(tenantA, newUsage(tokenID1, 3)))
			requireSame(t, wantUsage(tenantA, tokenID1, 3), mustRead(t, s, getUsage(tenantA, tokenID1)),
				"Put replaces the record: maps are not merged")
			update(t, s, putUsage(tenantA, newUsage(tokenID1, 2)))
			requireSame(t, wantUsage(tenantA, tokenID1, 2), mustRead(t, s, getUsage(tenantA, tokenID1)), "Put clears fields")
			all, _ := listAll(t, s, 0, usageLister(tenantA))
			requireSame(t, []store.UsageRecord{wantUsage(tenantA, tokenID1, 2)}, all)
		}},
		{"Usage/List", func(t *testing.T, b Backend) {
			s := open(t, b)
			require.Empty(t, mustListAll(t, s, usageLister(tenantA)))
			ids := []string{"t3", "t1", "T2", "t10", "é"}
			for i, id := range ids {
				update(t, s, putUsage(tenantA, newUsage(id, i+1)))
			}
			all, _ := listAll(t, s, 2, usageLister(tenantA))
			requireSame(t, []store.UsageRecord{
				wantUsage(tenantA, "T2", 3), wantUsage(tenantA, "t1", 2), wantUsage(tenantA, "t10", 4),
				wantUsage(tenantA, "t3", 1), wantUsage(tenantA, "é", 5),
			}, all, "token-ID byte order")
		}},
		{"Usage/InvalidIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				require.ErrorIs(t, attempt(t, s, putUsage(tenantA, newUsage(bad.id, 1))), store.ErrInvalid, "Put, token ID %s", bad.name)
				_, err := read(t, s, getUsage(tenantA, bad.id))
				require.ErrorIs(t, err, store.ErrInvalid, "Get, token ID %s", bad.name)
				require.ErrorIs(t, attempt(t, s, putUsage(bad.id, newUsage(tokenID1, 1))), store.ErrInvalid, "Put, tenant ID %s", bad.name)
			}
			require.Empty(t, mustListAll(t, s, usageLister(tenantA)))
		}},
		{"Usage/ForeignTenantID", func(t *testing.T, b Backend) {
			s := open(t, b)
			require.ErrorIs(t, attempt(t, s, putUsage(tenantA, wantUsage(tenantB, tokenID1, 1))), store.ErrInvalid)
			_, err := read(t, s, getUsage(tenantA, tokenID1))
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = read(t, s, getUsage(tenantB, tokenID1))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, putUsage(tenantA, newUsage(tokenID1, 1)))
			require.ErrorIs(t, attempt(t, s, putUsage(tenantA, wantUsage(tenantB, tokenID1, 3))), store.ErrInvalid)
			requireSame(t, wantUsage(tenantA, tokenID1, 1), mustRead(t, s, getUsage(tenantA, tokenID1)))
		}},
		{"Usage/RecordsAreValues", func(t *testing.T, b Backend) {
			s := open(t, b)
			rec := newUsage(tokenID1, 1)
			update(t, s, putUsage(tenantA, rec))
			for k := range rec.Daily {
				rec.Daily[k] = -1
			}
			rec.PermissionLastUsed["users:view"] = time.Time{}
			want := wantUsage(tenantA, tokenID1, 1)
			requireSame(t, want, mustRead(t, s, getUsage(tenantA, tokenID1)), "record passed to Put aliases the store")
			got := mustRead(t, s, getUsage(tenantA, tokenID1))
			got.Daily["2000-01-01"] = 1
			got.PermissionLastUsed["tokens:edit"] = base
			requireSame(t, want, mustRead(t, s, getUsage(tenantA, tokenID1)), "record returned by Get aliases the store")
			all := mustListAll(t, s, usageLister(tenantA))
			require.Len(t, all, 1)
			all[0].Daily["2000-01-01"] = 1
			requireSame(t, want, mustRead(t, s, getUsage(tenantA, tokenID1)), "record returned by List aliases the store")
		}},
	}
}

func putQuota(tid, name string, st tenant.LimiterState) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenant(tid).Quotas().Put(bg, name, st) }
}

func getQuota(tid, name string) func(tx store.Tx) (tenant.LimiterState, error) {
	return func(tx store.Tx) (tenant.LimiterState, error) { return tx.Tenant(tid).Quotas().Get(bg, name) }
}

func quotaCases() []Case {
	return []Case{
		{"Quotas/GetMissing", func(t *testing.T, b Backend) {
			s := open(t, b)
			_, err := read(t, s, getQuota(tenantA, "api"))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, putQuota(tenantA, "api", newLimiterState(1)))
			_, err = read(t, s, getQuota(tenantA, "validate"))
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = read(t, s, getQuota(tenantA, "ap"))
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Quotas/PutGet", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, putQuota(tenantA, "api", newLimiterState(1)))
			update(t, s, putQuota(tenantA, "validate", tenant.LimiterState{TAT: at(3, 1)}))
			update(t, s, putQuota(tenantA, "zero", tenant.LimiterState{}))
			require.Equal(t, newLimiterState(1), mustRead(t, s, getQuota(tenantA, "api")))
			require.Equal(t, tenant.LimiterState{TAT: at(3, 1)}, mustRead(t, s, getQuota(tenantA, "validate")))
			require.Equal(t, tenant.LimiterState{}, mustRead(t, s, getQuota(tenantA, "zero")), "a zero state is kept, not missing")
		}},
		{"Quotas/PutOverwrites", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, putQuota(tenantA, "api", newLimiterState(1)))
			update(t, s, putQuota(tenantA, "api", newLimiterState(3)))
			require.Equal(t, newLimiterState(3), mustRead(t, s, getQuota(tenantA, "api")))
			update(t, s, putQuota(tenantA, "api", tenant.LimiterState{}))
			require.Equal(t, tenant.LimiterState{}, mustRead(t, s, getQuota(tenantA, "api")))
		}},
		{"Quotas/InvalidNames", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				require.ErrorIs(t, attempt(t, s, putQuota(tenantA, bad.id, newLimiterState(1))), store.ErrInvalid, "Put, name %s", bad.name)
				_, err := read(t, s, getQuota(tenantA, bad.id))
				require.ErrorIs(t, err, store.ErrInvalid, "Get, name %s", bad.name)
				require.ErrorIs(t, attempt(t, s, putQuota(bad.id, "api", newLimiterState(1))), store.ErrInvalid, "Put, tenant ID %s", bad.name)
			}
		}},
		{"Quotas/UnusualNames", func(t *testing.T, b Backend) {
			s := open(t, b)
			for i, name := range goodIDs {
				update(t, s, putQuota(tenantA, name, tenant.LimiterState{TAT: at(1, i)}))
			}
			for i, name := range goodIDs {
				require.Equal(t, tenant.LimiterState{TAT: at(1, i)}, mustRead(t, s, getQuota(tenantA, name)), "name %q", name)
			}
		}},
	}
}

// mustListAll lists everything with the default page size.
func mustListAll[T any](t tb, s store.Store, list lister[T]) []T {
	t.Helper()
	all, _ := listAll(t, s, 0, list)
	return all
}
