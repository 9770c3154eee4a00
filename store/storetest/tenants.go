package storetest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/tenant"
)

func createTenant(tn tenant.Tenant) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenants().Create(bg, tn) }
}

func updateTenant(tn tenant.Tenant) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.Tenants().Update(bg, tn) }
}

func getTenant(id string) func(tx store.Tx) (tenant.Tenant, error) {
	return func(tx store.Tx) (tenant.Tenant, error) { return tx.Tenants().Get(bg, id) }
}

func listTenants(tx store.Tx, p store.Page) ([]tenant.Tenant, string, error) {
	return tx.Tenants().List(bg, p)
}

func tenantIDs(t tb, s store.Store) []string {
	t.Helper()
	all, _ := listAll(t, s, 0, listTenants)
	var ids []string
	for _, tn := range all {
		ids = append(ids, tn.ID)
	}
	return ids
}

func tenantCases() []Case {
	return []Case{
		{"Tenants/CreateGet", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, createTenant(newTenant(tenantA, 1)))
			update(t, s, createTenant(newTenant(tenantB, 2)))
			requireSame(t, newTenant(tenantA, 1), mustRead(t, s, getTenant(tenantA)))
			requireSame(t, newTenant(tenantB, 2), mustRead(t, s, getTenant(tenantB)))
		}},
		{"Tenants/GetMissing", func(t *testing.T, b Backend) {
			s := open(t, b)
			_, err := read(t, s, getTenant(tenantA))
			require.ErrorIs(t, err, store.ErrNotFound)
			update(t, s, createTenant(newTenant(tenantA, 1)))
			_, err = read(t, s, getTenant(tenantA+"x"))
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"Tenants/CreateDuplicate", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, createTenant(newTenant(tenantA, 1)))
			require.ErrorIs(t, attempt(t, s, createTenant(newTenant(tenantA, 3))), store.ErrAlreadyExists)
			requireSame(t, newTenant(tenantA, 1), mustRead(t, s, getTenant(tenantA)))
		}},
		{"Tenants/UpdateReplaces", func(t *testing.T, b Backend) {
			s := open(t, b)
			update(t, s, createTenant(newTenant(tenantA, 1)))
			update(t, s, updateTenant(newTenant(tenantA, 2)))
			requireSame(t, newTenant(tenantA, 2), mustRead(t, s, getTenant(tenantA)))
			update(t, s, updateTenant(newTenant(tenantA, 3)))
			requireSame(t, newTenant(tenantA, 3), mustRead(t, s, getTenant(tenantA)))
		}},
		{"Tenants/UpdateMissing", func(t *testing.T, b Backend) {
			s := open(t, b)
			require.ErrorIs(t, attempt(t, s, updateTenant(newTenant(tenantA, 1))), store.ErrNotFound)
			_, err := read(t, s, getTenant(tenantA))
			require.ErrorIs(t, err, store.ErrNotFound, "Update of a missing tenant must not create it")
		}},
		{"Tenants/List", func(t *testing.T, b Backend) {
			s := open(t, b)
			require.Empty(t, tenantIDs(t, s))
			ids := []string{"t3", "t1", "T2", "t10", "é"}
			for i, id := range ids {
				update(t, s, createTenant(newTenant(id, i+1)))
			}
			all, _ := listAll(t, s, 2, listTenants)
			var want []tenant.Tenant
			sorted := slices.Clone(ids)
			slices.Sort(sorted)
			for _, id := range sorted {
				want = append(want, newTenant(id, slices.Index(ids, id)+1))
			}
			requireSame(t, want, all)
		}},
		{"Tenants/InvalidIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			for _, bad := range badIDs {
				t.Run(bad.name, func(t *testing.T) {
					require.ErrorIs(t, attempt(t, s, createTenant(newTenant(bad.id, 1))), store.ErrInvalid, "Create")
					require.ErrorIs(t, attempt(t, s, updateTenant(newTenant(bad.id, 1))), store.ErrInvalid, "Update")
					_, err := read(t, s, getTenant(bad.id))
					require.ErrorIs(t, err, store.ErrInvalid, "Get")
				})
			}
			require.Empty(t, tenantIDs(t, s))
		}},
		{"Tenants/UnusualIDs", func(t *testing.T, b Backend) {
			s := open(t, b)
			for i, id := range goodIDs {
				update(t, s, createTenant(newTenant(id, i+1)))
			}
			for i, id := range goodIDs {
				requireSame(t, newTenant(id, i+1), mustRead(t, s, getTenant(id)))
			}
			want := slices.Clone(goodIDs)
			slices.Sort(want)
			require.Equal(t, want, tenantIDs(t, s))
		}},
		{"Tenants/NoDelete", func(t *testing.T, b Backend) {
			s := open(t, b)
			view(t, s, func(tx store.Tx) error {
				_, ok := any(tx.Tenants()).(store.Deleter)
				require.False(t, ok, "Tenants must not offer Delete: tenants are suspended, never deleted")
				return nil
			})
		}},
		{"Tenants/TenantID", func(t *testing.T, b Backend) {
			s := open(t, b)
			view(t, s, func(tx store.Tx) error {
				require.Equal(t, tenantA, tx.Tenant(tenantA).TenantID())
				require.Equal(t, "a/b", tx.Tenant("a/b").TenantID())
				return nil
			})
		}},
	}
}
